// Set operations over many bitmaps evaluated one 65,536-id chunk at a time. The segment
// engine's terms are unions of bitmaps (three tags, twenty ages, 90 days of orders) combined
// by "and"; pairwise Roaring operations allocate and clone a container per chunk per step and
// write every intermediate result out, while these keep one chunk's bits in cache, read the
// containers in place and skip the chunks that cannot hold a result. Large inputs are split
// into ranges of chunks evaluated on the machine's cores at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "index/bitmap.h"

namespace siyu::index {

/// Inputs spanning fewer chunks than this (4 M ids) are evaluated on one thread, where
/// starting threads costs more than it saves — and waits for a core the writer holds (tests
/// lower it to check the splitting).
inline std::atomic<uint32_t> min_chunks_to_split{64};

/// The customers present in at least `k` of `bitmaps` (1 ≤ k ≤ 255; k = 1 is their union),
/// limited to `within` when given. A bitmap listed twice counts twice.
Bitmap at_least_k_of(std::span<const Bitmap* const> bitmaps, int k, const Bitmap* within = nullptr);

/// One term of a conjunction: the customers in any of `parts`, or with `negated`, those in
/// none of them.
struct UnionTerm {
  std::vector<const Bitmap*> parts;
  bool negated = false;
};

/// The customers of `base` in every one of `terms`. Terms are applied in the order given and a
/// chunk stops at the first that leaves nobody, so the most selective should come first.
Bitmap all_of(const Bitmap& base, std::span<const UnionTerm> terms);

}  // namespace siyu::index
