#include "index/cell_pool.h"

#include <algorithm>

namespace siyu::index {

void CellPool::assign(uint32_t id, std::span<const ActivityCell> cells) {
  if (id >= slots_.size()) slots_.resize(id + 1);
  Slot& s = slots_[id];
  const auto n = static_cast<uint32_t>(cells.size());
  if (n > s.capacity) {
    // A customer whose cells grow gets room for a few more days of activity, so the next
    // events fit in place; a first assignment (the build) is tight.
    abandoned_ += s.capacity;
    s.capacity = s.capacity == 0 ? n : n + n / 4 + 2;
    s.offset = static_cast<uint32_t>(cells_.size());
    cells_.resize(cells_.size() + s.capacity);
  }
  std::copy(cells.begin(), cells.end(), cells_.begin() + s.offset);
  s.size = n;
  if (abandoned_ > (1U << 20) && abandoned_ > cells_.size() / 2) compact();
}

void CellPool::compact() {
  std::vector<ActivityCell> packed;
  size_t live = 0;
  for (const Slot& s : slots_) live += s.size;
  packed.reserve(live);
  for (Slot& s : slots_) {
    const uint32_t offset = static_cast<uint32_t>(packed.size());
    packed.insert(packed.end(), cells_.begin() + s.offset, cells_.begin() + s.offset + s.size);
    s.offset = offset;
    s.capacity = s.size;
  }
  cells_ = std::move(packed);
  abandoned_ = 0;
}

void CellPool::shrink() {
  compact();
  cells_.shrink_to_fit();
  slots_.shrink_to_fit();
}

size_t CellPool::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + cells_.capacity() * sizeof(ActivityCell);
}

}  // namespace siyu::index
