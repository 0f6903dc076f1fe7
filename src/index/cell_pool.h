// Every customer's behaviour cells in one flat array: a customer owns a slot (offset, size,
// capacity) and replacing its cells reuses the slot when they fit, or moves them to the end.
// Abandoned slots are reclaimed by compaction once they outweigh the live cells.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace siyu::index {

/// A customer's events of one type on one day, packed in 8 bytes. A day with more than 63
/// events of a type, or amounts beyond ±2^31 cents, takes several cells: readers sum cells.
struct ActivityCell {
  static constexpr uint32_t kMaxCount = 63;
  static constexpr uint32_t kMaxType = 1023;
  uint32_t day : 16;   // days since 1970-01-01 in the workspace's time zone
  uint32_t type : 10;  // the workspace's number for the event type
  uint32_t count : 6;
  int32_t amount;  // cents, summed
};
static_assert(sizeof(ActivityCell) == 8);

/// Orders cells by (type, day): a window of one type is a contiguous run.
inline bool cell_before(const ActivityCell& a, const ActivityCell& b) {
  return a.type != b.type ? a.type < b.type : a.day < b.day;
}

/// Not thread-safe; the owning index serialises writers against readers.
class CellPool {
 public:
  /// The customer's cells, sorted by (type, day); empty for unknown ids.
  std::span<const ActivityCell> cells(uint32_t id) const {
    if (id >= slots_.size()) return {};
    const Slot& s = slots_[id];
    return {cells_.data() + s.offset, s.size};
  }
  /// Makes `cells` (sorted) exactly the customer's cells.
  void assign(uint32_t id, std::span<const ActivityCell> cells);
  /// Packs every slot tightly and returns spare memory (after a build).
  void shrink();
  /// Bytes held, slots and abandoned space included.
  size_t memory_bytes() const;

 private:
  struct Slot {
    uint32_t offset = 0;
    uint32_t size = 0;
    uint32_t capacity = 0;
  };
  void compact();

  std::vector<Slot> slots_;  // by customer id
  std::vector<ActivityCell> cells_;
  size_t abandoned_ = 0;  // cells in slots nobody owns any more
};

}  // namespace siyu::index
