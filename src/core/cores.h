// How many cores the machine offers, for splitting a pass into parts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>

namespace siyu {

/// The machine's cores (at least one), asked once: glibc reads /sys on every call of
/// std::thread::hardware_concurrency, which a per-query split would pay each time.
inline size_t machine_cores() {
  static const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  return cores;
}

}  // namespace siyu
