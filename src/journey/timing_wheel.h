// A hashed timing wheel: run ids in one-second slots over a fixed horizon. Adding is O(1) and
// taking what is due touches only the slots whose seconds passed. Runs due beyond the horizon
// stay in the store until they come within reach (the engine refills the wheel).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/ids.h"

namespace siyu::journey {

/// Not thread-safe (the engine's thread owns it).
class TimingWheel {
 public:
  /// Slots of one second from `start`; the horizon is `slots` seconds ahead of the cursor.
  explicit TimingWheel(EpochMs start, size_t slots = 4096);

  /// Files `id` under `due`; due times already past are taken by the next take_due(). Returns
  /// false (and keeps nothing) when `due` lies beyond the horizon.
  bool add(EpochMs due, int64_t id);
  /// Removes and returns the ids due at or before `now`, soonest first within a second.
  std::vector<int64_t> take_due(EpochMs now);
  /// The latest due time add() accepts now.
  EpochMs horizon() const;
  size_t size() const { return size_; }
  /// Bytes held by the slots (for the memory-per-pending-job figure).
  size_t memory_bytes() const;

 private:
  std::vector<std::vector<std::pair<EpochMs, int64_t>>> slots_;
  int64_t cursor_second_;  // slots before this second have been emptied
  size_t size_ = 0;
};

}  // namespace siyu::journey
