// Which live customers hold each tag, per workspace, kept in memory for the store's writer
// (docs/design/tag-log.md). Bulk tagging learns from it which customers an operation really
// changes without reading customer_tags, so the tag log holds real changes only; the index
// reads the committed holders of a batch's customers from it after the write.
// Transactional like IdentityCache: changes made in a write transaction are staged, become the
// committed state at commit and vanish at rollback. Customer ids are 32-bit, as in the index.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <roaring/roaring.hh>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ids.h"

namespace siyu::store::sqlite {

/// Owned by the writer and used under its lock, except holders_among and memory_bytes.
class TagHolders {
 public:
  /// Whether the holders of `ws` are here (committed, or loaded in this transaction).
  bool loaded(WorkspaceId ws) const;
  /// Starts loading `ws` from the store, as read in this transaction: then load_held for
  /// every tag a live customer holds, best grouped by tag, and load_live for every live
  /// customer, best in increasing order.
  void start_load(WorkspaceId ws);
  void load_held(WorkspaceId ws, std::string_view tag, uint32_t id, bool expiring);
  void load_live(WorkspaceId ws, uint32_t id);

  /// As of this transaction: whether `id` holds `tag`, and whether with an expiry.
  bool holds(WorkspaceId ws, const std::string& tag, uint32_t id) const;
  bool expiring(WorkspaceId ws, const std::string& tag, uint32_t id) const;
  /// Changes, only in a loaded workspace:
  /// `id` holds `tag` (gaining it or keeping it) with or without an expiry.
  void add(WorkspaceId ws, const std::string& tag, uint32_t id, bool with_expiry);
  void remove(WorkspaceId ws, const std::string& tag, uint32_t id);
  /// Nobody holds `tag` any more.
  void drop_tag(WorkspaceId ws, const std::string& tag);
  /// The tags `id` holds as of this transaction, in no particular order.
  std::vector<std::string> tags_of(WorkspaceId ws, uint32_t id) const;

  /// Customers of `ws` known live: live at the load (load_live) or found so later
  /// (mark_live), not merged away or erased since (mark_gone). Every holder is one. A
  /// customer not known may still be live.
  bool known_live(WorkspaceId ws, uint32_t id) const;
  void mark_live(WorkspaceId ws, uint32_t id);
  /// `id` is merged away or erased: holds nothing and is not live.
  void mark_gone(WorkspaceId ws, uint32_t id);

  void commit();
  void rollback();

  /// For any thread: the committed holders of `tag` among `ids`, increasing; nullopt when the
  /// holders of `ws` are not loaded.
  std::optional<std::vector<CustomerId>> holders_among(WorkspaceId ws, const std::string& tag,
                                                       const std::vector<CustomerId>& ids) const;
  /// For any thread: bytes of the committed bitmaps.
  size_t memory_bytes() const;

 private:
  /// A set of ids with this transaction's changes kept apart from the committed ones.
  class StagedBits {
   public:
    bool contains(uint32_t id) const {
      return added_.contains(id) || (committed_.contains(id) && !removed_.contains(id));
    }
    void add(uint32_t id);
    void remove(uint32_t id);
    void clear();
    void commit();
    void rollback();
    const Roaring& committed() const { return committed_; }
    Roaring& committed() { return committed_; }

   private:
    Roaring committed_, added_, removed_;
  };
  struct Bits {
    StagedBits holders, expiring;
    bool touched = false;  // listed in touched_
  };
  struct Space {
    std::unordered_map<std::string, std::unique_ptr<Bits>> tags;
    Bits live;  // holders: the customers known live
  };

  Space* space(WorkspaceId ws) const;
  const Bits* bits(WorkspaceId ws, const std::string& tag) const;
  /// The tag's bits, made when missing, listed as touched by this transaction.
  Bits& staged(WorkspaceId ws, const std::string& tag);
  void touch(Bits& b);

  mutable std::shared_mutex mu_;  // committed bits and the maps' shape, against readers
  std::unordered_map<int64_t, std::unique_ptr<Space>> spaces_;   // committed
  std::unordered_map<int64_t, std::unique_ptr<Space>> loading_;  // loaded in this transaction
  std::vector<Bits*> touched_;
};

}  // namespace siyu::store::sqlite
