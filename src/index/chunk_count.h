// Counting customers across many bitmaps one 65,536-id chunk at a time. The segment
// engine's slow terms are unions of dozens of small bitmaps (90 days of orders, ten ages)
// limited to a few candidates; pairwise Roaring operations allocate and clone a bitset
// container per chunk per step, while this keeps one chunk's counters in cache, reads the
// containers in place and skips the chunks `within` does not reach.
#pragma once

#include <span>

#include "index/bitmap.h"

namespace siyu::index {

/// The customers present in at least `k` of `bitmaps` (1 ≤ k ≤ 255; k = 1 is their union),
/// limited to `within` when given. A bitmap listed twice counts twice.
Bitmap at_least_k_of(std::span<const Bitmap* const> bitmaps, int k, const Bitmap* within = nullptr);

}  // namespace siyu::index
