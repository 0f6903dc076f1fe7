// Identity → customer (and customer id → live customer) lookups kept in memory for the
// writer, so ingesting events of known people skips an index seek per event. Transactional:
// entries staged in a transaction become visible to later transactions only after commit; a
// transaction that moves or deletes identities (merge, erase) invalidates the whole cache at
// commit, which starts a new epoch.
// Callers outside the writer may look owners up ahead (find_all_shared); the writer takes such an
// answer only if the epoch is unchanged (unchanged_since).
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"

namespace siyu::store::sqlite {

/// Owned by the writer and used under its lock, except find_all_shared and epoch_shared.
class IdentityCache {
 public:
  static std::string key_of(WorkspaceId ws, const std::string& type, const std::string& app_id,
                            const std::string& key) {
    std::string k = std::to_string(ws.value);
    k.reserve(k.size() + type.size() + app_id.size() + key.size() + 3);
    k.append(1, '\x1f').append(type).append(1, '\x1f').append(app_id).append(1, '\x1f').append(key);
    return k;
  }

  /// The key under which a customer id maps to the live customer it names (itself, or the
  /// survivor of a merge).
  static std::string customer_key(WorkspaceId ws, int64_t id) {
    return std::to_string(ws.value) + "\x1f#\x1f" + std::to_string(id);
  }

  /// The committed owner, unless this transaction invalidated the cache.
  std::optional<int64_t> find(const std::string& k) const {
    if (invalidated_) return std::nullopt;
    auto it = committed_.find(k);
    if (it == committed_.end()) return std::nullopt;
    return it->second;
  }
  /// For any thread: the committed owner of each key (0 if unknown or the key is empty), valid
  /// while epoch_shared() is unchanged. One hold of the lock for all: a hold per key makes
  /// request threads bounce the lock's cache line between cores.
  std::vector<int64_t> find_all_shared(const std::vector<std::string>& keys) const {
    std::vector<int64_t> owners(keys.size(), 0);
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].empty()) continue;
      auto it = committed_.find(keys[i]);
      if (it != committed_.end()) owners[i] = it->second;
    }
    return owners;
  }
  /// The cache's epoch, for any thread: it changes whenever committed owners are dropped.
  uint64_t epoch_shared() const {
    std::shared_lock lock(mu_);
    return epoch_;
  }
  /// Whether owners found by find_all_shared at `epoch` still hold in the open transaction.
  bool unchanged_since(uint64_t epoch) const { return epoch == epoch_ && !invalidated_; }
  /// Records an identity inserted (or read from the store) in the open transaction.
  void stage(std::string k, int64_t customer) { staged_.emplace_back(std::move(k), customer); }
  /// The open transaction moved or deleted identities.
  void invalidate() { invalidated_ = true; }

  void commit() {
    std::unique_lock lock(mu_);
    if (invalidated_ || committed_.size() > kMaxEntries) {
      committed_.clear();
      ++epoch_;
    } else {
      for (auto& [k, v] : staged_) committed_.insert_or_assign(std::move(k), v);
    }
    staged_.clear();
    invalidated_ = false;
  }
  void rollback() {
    staged_.clear();
    invalidated_ = false;
  }

 private:
  static constexpr size_t kMaxEntries = 4'000'000;
  mutable std::shared_mutex
      mu_;  // other threads read committed_ and epoch_; the writer changes them under it
  std::unordered_map<std::string, int64_t> committed_;
  uint64_t epoch_ = 0;
  std::vector<std::pair<std::string, int64_t>> staged_;
  bool invalidated_ = false;
};

}  // namespace siyu::store::sqlite
