#include "index/chunk_count.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <vector>

namespace siyu::index {

namespace {

constexpr size_t kWords = BITSET_CONTAINER_SIZE_IN_WORDS;  // 1,024 words: one chunk's bits
using ChunkBits = std::array<uint64_t, kWords>;

/// One container of a bitmap, read in place (CRoaring 0.2's layout: see containers/*.h).
struct Container {
  const void* data;
  uint8_t type;
};

/// Walks a bitmap's containers in key order.
class Cursor {
 public:
  explicit Cursor(const Bitmap& b) : ra_(&b.roaring.high_low_container) {}
  bool more() const { return at_ < ra_->size; }
  uint16_t key() const { return ra_->keys[at_]; }
  /// The container of `key`, if the bitmap has one; moves past `key`.
  bool seek(uint16_t key, Container* out) {
    while (at_ < ra_->size && ra_->keys[at_] < key) ++at_;
    if (at_ == ra_->size || ra_->keys[at_] != key) return false;
    uint8_t type = ra_->typecodes[at_];
    out->data = container_unwrap_shared(ra_->containers[at_], &type);
    out->type = type;
    ++at_;
    return true;
  }

 private:
  const roaring_array_t* ra_;
  int32_t at_ = 0;
};

/// Calls fn(value) for every 16-bit value of `c`, in increasing order.
template <typename F>
void each_value(const Container& c, F&& fn) {
  switch (c.type) {
    case ARRAY_CONTAINER_TYPE_CODE: {
      const auto* a = static_cast<const array_container_t*>(c.data);
      for (int32_t i = 0; i < a->cardinality; ++i) fn(a->array[i]);
      break;
    }
    case BITSET_CONTAINER_TYPE_CODE: {
      const auto* b = static_cast<const bitset_container_t*>(c.data);
      for (size_t w = 0; w < kWords; ++w) {
        for (uint64_t bits = b->array[w]; bits != 0; bits &= bits - 1) {
          fn(static_cast<uint16_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits))));
        }
      }
      break;
    }
    case RUN_CONTAINER_TYPE_CODE: {
      const auto* r = static_cast<const run_container_t*>(c.data);
      for (int32_t i = 0; i < r->n_runs; ++i) {
        const uint32_t last = uint32_t{r->runs[i].value} + r->runs[i].length;
        for (uint32_t v = r->runs[i].value; v <= last; ++v) fn(static_cast<uint16_t>(v));
      }
      break;
    }
    default:
      break;
  }
}

/// Sets the bits of `c` in `bits`.
void or_into(const Container& c, ChunkBits& bits) {
  if (c.type == BITSET_CONTAINER_TYPE_CODE) {
    const uint64_t* words = static_cast<const bitset_container_t*>(c.data)->array;
    for (size_t w = 0; w < kWords; ++w) bits[w] |= words[w];
    return;
  }
  each_value(c, [&](uint16_t v) { bits[v >> 6] |= uint64_t{1} << (v & 63); });
}

/// The number of bits set in one chunk; with the POPCNT instruction where the CPU has it (the
/// Debian baseline does not assume it, and the generic count costs as much as the union).
__attribute__((target_clones("popcnt", "default"))) int32_t count_bits(const ChunkBits& bits) {
  int32_t n = 0;
  for (uint64_t w : bits) n += __builtin_popcountll(w);
  return n;
}

/// Appends `bits` as the container of `key` (keys must arrive in increasing order).
void append_chunk(Bitmap& out, uint16_t key, const ChunkBits& bits) {
  const int32_t cardinality = count_bits(bits);
  if (cardinality == 0) return;
  roaring_array_t* ra = &out.roaring.high_low_container;
  if (cardinality > DEFAULT_MAX_SIZE) {
    bitset_container_t* b = bitset_container_create();
    std::memcpy(b->array, bits.data(), sizeof(bits));
    b->cardinality = cardinality;
    ra_append(ra, key, b, BITSET_CONTAINER_TYPE_CODE);
    return;
  }
  array_container_t* a = array_container_create_given_capacity(cardinality);
  int32_t n = 0;
  for (size_t w = 0; w < kWords; ++w) {
    for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
      a->array[n++] = static_cast<uint16_t>(w * 64 + static_cast<size_t>(std::countr_zero(word)));
    }
  }
  a->cardinality = n;
  ra_append(ra, key, a, ARRAY_CONTAINER_TYPE_CODE);
}

}  // namespace

Bitmap at_least_k_of(std::span<const Bitmap* const> bitmaps, int k, const Bitmap* within) {
  std::vector<Cursor> cursors;
  cursors.reserve(bitmaps.size());
  for (const Bitmap* b : bitmaps) cursors.emplace_back(*b);
  std::optional<Cursor> limit;
  if (within != nullptr) limit.emplace(*within);

  Bitmap out;
  ChunkBits bits;
  ChunkBits mask;
  std::vector<uint8_t> counts(k > 1 ? size_t{1} << 16 : 0);
  const auto threshold = static_cast<uint8_t>(std::clamp(k, 1, 255));
  std::vector<Container> found;
  for (;;) {
    // The next chunk any bitmap has.
    uint32_t next = UINT32_MAX;
    for (const Cursor& c : cursors) {
      if (c.more()) next = std::min<uint32_t>(next, c.key());
    }
    if (next == UINT32_MAX) break;
    const auto key = static_cast<uint16_t>(next);
    found.clear();
    for (Cursor& c : cursors) {
      Container container{};
      if (c.seek(key, &container)) found.push_back(container);
    }
    if (found.size() < threshold) continue;  // nobody in this chunk can reach k
    if (limit) {
      Container container{};
      if (!limit->seek(key, &container)) continue;
      mask.fill(0);
      or_into(container, mask);
    }
    bits.fill(0);
    if (threshold == 1) {
      for (const Container& c : found) or_into(c, bits);
    } else {
      std::fill(counts.begin(), counts.end(), 0);
      for (const Container& c : found) {
        each_value(c, [&](uint16_t v) {
          const uint8_t seen = counts[v];
          counts[v] = static_cast<uint8_t>(seen + (seen < threshold ? 1 : 0));
          bits[v >> 6] |= uint64_t{seen + 1U == threshold} << (v & 63);
        });
      }
    }
    if (limit) {
      for (size_t w = 0; w < kWords; ++w) bits[w] &= mask[w];
    }
    append_chunk(out, key, bits);
  }
  return out;
}

}  // namespace siyu::index
