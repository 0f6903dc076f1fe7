// Splits the per-customer passes of the analytics queries across the machine's cores: each
// part takes a contiguous range of customer ids and accumulates its own partial result,
// which the caller merges.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/cores.h"

namespace siyu::analytics {

/// Passes over fewer customers than this run in one part, where threads cost more than they
/// save (tests lower it to check the merging).
inline std::atomic<uint32_t> min_customers_to_split{200'000};

/// How many parts a pass over `customers` customers is split into: one per core.
inline size_t parts_for(uint32_t customers) {
  const size_t cores = std::clamp<size_t>(machine_cores(), 2, 8);
  return customers < min_customers_to_split.load() ? 1 : cores;
}

/// Runs fn(first, last, part) for `parts` contiguous ranges covering customer ids [1, size),
/// each on its own thread (the first on the caller's), and returns when all are done.
template <typename F>
void for_customer_ranges(uint32_t size, size_t parts, F&& fn) {
  const uint32_t first = 1, count = size > first ? size - first : 0;
  std::vector<std::thread> threads;
  for (size_t p = 1; p < parts; ++p) {
    const auto lo = static_cast<uint32_t>(first + count * p / parts);
    const auto hi = static_cast<uint32_t>(first + count * (p + 1) / parts);
    threads.emplace_back([&fn, lo, hi, p] { fn(lo, hi, p); });
  }
  fn(first, static_cast<uint32_t>(first + count / parts), size_t{0});
  for (std::thread& t : threads) t.join();
}

}  // namespace siyu::analytics
