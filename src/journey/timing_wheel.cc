#include "journey/timing_wheel.h"

#include <algorithm>

namespace siyu::journey {
namespace {

int64_t second_of(EpochMs t) { return t >= 0 ? t / 1000 : (t - 999) / 1000; }

}  // namespace

TimingWheel::TimingWheel(EpochMs start, size_t slots)
    : slots_(slots), cursor_second_(second_of(start)) {}

bool TimingWheel::add(EpochMs due, int64_t id) {
  const int64_t second = std::max(second_of(due), cursor_second_);
  if (second - cursor_second_ >= static_cast<int64_t>(slots_.size())) return false;
  slots_[static_cast<size_t>(second) % slots_.size()].emplace_back(due, id);
  ++size_;
  return true;
}

std::vector<int64_t> TimingWheel::take_due(EpochMs now) {
  std::vector<int64_t> out;
  const int64_t now_second = second_of(now);
  const int64_t last = std::min(now_second, cursor_second_ + static_cast<int64_t>(slots_.size()) - 1);
  for (int64_t s = cursor_second_; s <= last; ++s) {
    auto& slot = slots_[static_cast<size_t>(s) % slots_.size()];
    if (slot.empty()) continue;
    std::sort(slot.begin(), slot.end());
    // Within the current second, leave what is due later in it.
    const auto cut = s < now_second
                         ? slot.end()
                         : std::upper_bound(slot.begin(), slot.end(),
                                            std::pair<EpochMs, int64_t>(now, INT64_MAX));
    for (auto it = slot.begin(); it != cut; ++it) out.push_back(it->second);
    size_ -= static_cast<size_t>(cut - slot.begin());
    slot.erase(slot.begin(), cut);
  }
  cursor_second_ = std::max(cursor_second_, now_second);
  return out;
}

EpochMs TimingWheel::horizon() const {
  return (cursor_second_ + static_cast<int64_t>(slots_.size())) * 1000 - 1;
}

size_t TimingWheel::memory_bytes() const {
  size_t bytes = slots_.capacity() * sizeof(slots_[0]);
  for (const auto& s : slots_) bytes += s.capacity() * sizeof(s[0]);
  return bytes;
}

}  // namespace siyu::journey
