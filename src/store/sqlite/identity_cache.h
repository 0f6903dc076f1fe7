// Identity → customer (and customer id → live customer) lookups kept in memory for the
// writer, so ingesting events of known people skips an index seek per event. Transactional:
// entries staged in a transaction become visible to later transactions only after commit; a
// transaction that moves or deletes identities (merge, erase) invalidates the whole cache at
// commit, which starts a new epoch.
// Callers outside the writer may look owners up ahead (find_all_shared); the writer takes such an
// answer only if the epoch is unchanged (unchanged_since).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"

namespace siyu::store::sqlite {

/// Owned by the writer and used under its lock, except find_all_shared and epoch_shared.
class IdentityCache {
 public:
  /// What the cache is keyed by: a 128-bit keyed hash (SipHash-2-4 with a secret drawn per
  /// cache) of a workspace and an identity or a customer id. Two subjects share a key as
  /// rarely as two random 128-bit values coincide, and no input can be made to.
  struct Key {
    uint64_t a = 0, b = 0;  // {0, 0}: no subject
    bool empty() const { return a == 0 && b == 0; }
    bool operator==(const Key&) const = default;
  };

  IdentityCache();

  /// The key of an identity of workspace `ws`.
  Key key_of(WorkspaceId ws, std::string_view type, std::string_view app_id,
             std::string_view key) const;
  /// The key under which a customer id maps to the live customer it names (itself, or the
  /// survivor of a merge).
  Key customer_key(WorkspaceId ws, int64_t id) const;

  /// The committed owner, unless this transaction invalidated the cache.
  std::optional<int64_t> find(const Key& k) const {
    if (invalidated_) return std::nullopt;
    auto it = committed_.find(k);
    if (it == committed_.end()) return std::nullopt;
    return it->second;
  }
  /// For any thread: the committed owner of each key (0 if unknown or the key is empty), valid
  /// while epoch_shared() is unchanged. One hold of the lock for all: a hold per key makes
  /// request threads bounce the lock's cache line between cores.
  std::vector<int64_t> find_all_shared(const std::vector<Key>& keys) const {
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
  void stage(const Key& k, int64_t customer) { staged_.emplace_back(k, customer); }
  /// The open transaction moved or deleted identities.
  void invalidate() { invalidated_ = true; }

  void commit() {
    std::unique_lock lock(mu_);
    if (invalidated_ || committed_.size() > kMaxEntries) {
      committed_.clear();
      ++epoch_;
    } else {
      for (const auto& [k, v] : staged_) committed_.insert_or_assign(k, v);
    }
    staged_.clear();
    invalidated_ = false;
  }
  void rollback() {
    staged_.clear();
    invalidated_ = false;
  }

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.a); }
  };
  /// The keyed hash of `bytes`.
  Key hash(std::string_view bytes) const;

  static constexpr size_t kMaxEntries = 4'000'000;
  std::array<unsigned char, 16> secret_{};
  mutable std::shared_mutex
      mu_;  // other threads read committed_ and epoch_; the writer changes them under it
  std::unordered_map<Key, int64_t, KeyHash> committed_;
  uint64_t epoch_ = 0;
  std::vector<std::pair<Key, int64_t>> staged_;
  bool invalidated_ = false;
};

}  // namespace siyu::store::sqlite
