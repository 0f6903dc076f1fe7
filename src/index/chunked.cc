#include "index/chunked.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>

#include "core/cores.h"

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
  /// Starts at the first container whose key is at least `first_key`.
  Cursor(const Bitmap& b, uint16_t first_key) : ra_(&b.roaring.high_low_container) {
    at_ = static_cast<int32_t>(std::lower_bound(ra_->keys, ra_->keys + ra_->size, first_key) -
                               ra_->keys);
  }
  /// Whether a container with a key up to `last_key` is left.
  bool more(uint16_t last_key) const { return at_ < ra_->size && ra_->keys[at_] <= last_key; }
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
  switch (c.type) {
    case BITSET_CONTAINER_TYPE_CODE: {
      const uint64_t* words = static_cast<const bitset_container_t*>(c.data)->array;
      for (size_t w = 0; w < kWords; ++w) bits[w] |= words[w];
      return;
    }
    case RUN_CONTAINER_TYPE_CODE: {
      const auto* r = static_cast<const run_container_t*>(c.data);
      for (int32_t i = 0; i < r->n_runs; ++i) {
        const uint32_t first = r->runs[i].value;
        bitset_set_range(bits.data(), first, first + r->runs[i].length + 1U);
      }
      return;
    }
    case ARRAY_CONTAINER_TYPE_CODE: {
      const auto* a = static_cast<const array_container_t*>(c.data);
      bitset_set_list(bits.data(), a->array, static_cast<uint64_t>(a->cardinality));
      return;
    }
    default:
      return;
  }
}

/// Clears the bits of `c` in `bits`.
void clear_from(const Container& c, ChunkBits& bits) {
  if (c.type == BITSET_CONTAINER_TYPE_CODE) {
    const uint64_t* words = static_cast<const bitset_container_t*>(c.data)->array;
    for (size_t w = 0; w < kWords; ++w) bits[w] &= ~words[w];
    return;
  }
  each_value(c, [&](uint16_t v) { bits[v >> 6] &= ~(uint64_t{1} << (v & 63)); });
}

bool any_bit(const ChunkBits& bits) {
  uint64_t any = 0;
  for (uint64_t w : bits) any |= w;
  return any != 0;
}

/// The number of bits set in one chunk; with the POPCNT instruction where the CPU has it (the
/// Debian baseline does not assume it, and the generic count costs as much as the union).
__attribute__((target_clones("popcnt", "default"))) int32_t count_bits(const ChunkBits& bits) {
  int32_t n = 0;
  for (uint64_t w : bits) n += __builtin_popcountll(w);
  return n;
}

/// A container of the result, built by one range of chunks.
struct Chunk {
  uint16_t key;
  void* container;
  uint8_t type;
};

/// Adds `bits` as the container of `key` to `out`, unless it is empty.
void make_chunk(std::vector<Chunk>& out, uint16_t key, const ChunkBits& bits) {
  const int32_t cardinality = count_bits(bits);
  if (cardinality == 0) return;
  if (cardinality > DEFAULT_MAX_SIZE) {
    bitset_container_t* b = bitset_container_create();
    std::memcpy(b->array, bits.data(), sizeof(bits));
    b->cardinality = cardinality;
    out.push_back({key, b, BITSET_CONTAINER_TYPE_CODE});
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
  out.push_back({key, a, ARRAY_CONTAINER_TYPE_CODE});
}

/// Runs fn(first_key, last_key, chunks) over consecutive ranges covering the chunk keys
/// [first, last], on one thread per core when the span is large, and joins their chunks.
template <typename F>
Bitmap by_key_ranges(uint32_t first, uint32_t last, F&& fn) {
  if (first > last) return {};
  const uint32_t span = last - first + 1;
  const size_t cores = std::min<size_t>(machine_cores(), 8);
  const size_t parts = span < min_chunks_to_split.load() ? 1 : std::min<size_t>(cores, span);
  std::vector<std::vector<Chunk>> chunks(parts);
  const auto range = [&](size_t p) {
    fn(static_cast<uint16_t>(first + span * p / parts),
       static_cast<uint16_t>(first + span * (p + 1) / parts - 1), chunks[p]);
  };
  std::vector<std::thread> threads;
  for (size_t p = 1; p < parts; ++p) {
    try {
      threads.emplace_back(range, p);
    } catch (const std::system_error&) {
      range(p);  // no thread to be had: this one does the part
    }
  }
  range(0);
  for (std::thread& t : threads) t.join();
  Bitmap out;
  for (const auto& part : chunks) {
    for (const Chunk& c : part)
      ra_append(&out.roaring.high_low_container, c.key, c.container, c.type);
  }
  return out;
}

uint32_t first_key(const Bitmap& b) {
  const roaring_array_t& ra = b.roaring.high_low_container;
  return ra.size == 0 ? UINT32_MAX : ra.keys[0];
}

uint32_t last_key(const Bitmap& b) {
  const roaring_array_t& ra = b.roaring.high_low_container;
  return ra.size == 0 ? 0 : ra.keys[ra.size - 1];
}

/// Chunks of the base with at most this many customers check them one by one against the
/// terms' containers instead of combining whole chunks.
constexpr int32_t kFewInChunk = 64;

bool few(const Container& c) {
  return c.type == ARRAY_CONTAINER_TYPE_CODE &&
         static_cast<const array_container_t*>(c.data)->cardinality <= kFewInChunk;
}

/// How many of `found` hold `v`.
size_t holding(const std::vector<Container>& found, uint16_t v) {
  return static_cast<size_t>(std::count_if(found.begin(), found.end(), [&](const Container& c) {
    return container_contains(c.data, v, c.type);
  }));
}

/// at_least_k_of over the chunks [lo, hi].
void at_least_k_in(std::span<const Bitmap* const> bitmaps, int k, const Bitmap* within, uint16_t lo,
                   uint16_t hi, std::vector<Chunk>& out) {
  std::vector<Cursor> cursors;
  cursors.reserve(bitmaps.size());
  for (const Bitmap* b : bitmaps) cursors.emplace_back(*b, lo);
  std::optional<Cursor> limit;
  if (within != nullptr) limit.emplace(*within, lo);

  ChunkBits bits;
  ChunkBits mask;
  std::vector<uint8_t> counts(k > 1 ? size_t{1} << 16 : 0);
  const auto threshold = static_cast<uint8_t>(std::clamp(k, 1, 255));
  std::vector<Container> found;
  for (;;) {
    // The next chunk any bitmap has.
    uint32_t next = UINT32_MAX;
    for (const Cursor& c : cursors) {
      if (c.more(hi)) next = std::min<uint32_t>(next, c.key());
    }
    if (next == UINT32_MAX) break;
    const auto key = static_cast<uint16_t>(next);
    found.clear();
    for (Cursor& c : cursors) {
      Container container{};
      if (c.seek(key, &container)) found.push_back(container);
    }
    if (found.size() < threshold) continue;  // nobody in this chunk can reach k
    bits.fill(0);
    if (limit) {
      Container container{};
      if (!limit->seek(key, &container)) continue;
      if (few(container)) {
        each_value(container, [&](uint16_t v) {
          if (holding(found, v) >= threshold) bits[v >> 6] |= uint64_t{1} << (v & 63);
        });
        make_chunk(out, key, bits);
        continue;
      }
      mask.fill(0);
      or_into(container, mask);
    }
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
    make_chunk(out, key, bits);
  }
}

/// Narrows `acc` to one term given the term's containers in this chunk; false when nobody is
/// left.
bool narrow(const UnionTerm& term, const std::vector<Container>& found, ChunkBits& acc,
            ChunkBits& scratch) {
  if (term.negated) {
    for (const Container& c : found) clear_from(c, acc);
    return any_bit(acc);
  }
  if (found.empty()) return false;
  const uint64_t* with = scratch.data();
  if (found.size() == 1 && found.front().type == BITSET_CONTAINER_TYPE_CODE) {
    with = static_cast<const bitset_container_t*>(found.front().data)->array;
  } else {
    scratch.fill(0);
    for (const Container& c : found) or_into(c, scratch);
  }
  uint64_t any = 0;
  for (size_t w = 0; w < kWords; ++w) {
    acc[w] &= with[w];
    any |= acc[w];
  }
  return any != 0;
}

/// Whether `v` is in any of `found`.
bool in_any(const std::vector<Container>& found, uint16_t v) {
  return std::any_of(found.begin(), found.end(),
                     [&](const Container& c) { return container_contains(c.data, v, c.type); });
}

/// all_of over the chunks [lo, hi].
void all_of_in(const Bitmap& base, std::span<const UnionTerm> terms, uint16_t lo, uint16_t hi,
               std::vector<Chunk>& out) {
  Cursor base_cursor(base, lo);
  std::vector<std::vector<Cursor>> cursors(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    for (const Bitmap* b : terms[t].parts) cursors[t].emplace_back(*b, lo);
  }
  std::vector<std::vector<Container>> found(terms.size());
  ChunkBits acc;
  ChunkBits scratch;
  while (base_cursor.more(hi)) {
    const uint16_t key = base_cursor.key();
    Container from{};
    base_cursor.seek(key, &from);
    for (size_t t = 0; t < terms.size(); ++t) {
      found[t].clear();
      for (Cursor& c : cursors[t]) {
        Container container{};
        if (c.seek(key, &container)) found[t].push_back(container);
      }
    }
    acc.fill(0);
    if (few(from)) {
      each_value(from, [&](uint16_t v) {
        for (size_t t = 0; t < terms.size(); ++t) {
          if (in_any(found[t], v) == terms[t].negated) return;
        }
        acc[v >> 6] |= uint64_t{1} << (v & 63);
      });
      make_chunk(out, key, acc);
      continue;
    }
    or_into(from, acc);
    bool left = true;
    for (size_t t = 0; t < terms.size() && left; ++t)
      left = narrow(terms[t], found[t], acc, scratch);
    if (left) make_chunk(out, key, acc);
  }
}

}  // namespace

Bitmap at_least_k_of(std::span<const Bitmap* const> bitmaps, int k, const Bitmap* within) {
  uint32_t first = UINT32_MAX, last = 0;
  for (const Bitmap* b : bitmaps) {
    first = std::min(first, first_key(*b));
    last = std::max(last, last_key(*b));
  }
  if (within != nullptr) {
    first = std::max(first, first_key(*within));
    last = std::min(last, last_key(*within));
  }
  return by_key_ranges(first, last, [&](uint16_t lo, uint16_t hi, std::vector<Chunk>& out) {
    at_least_k_in(bitmaps, k, within, lo, hi, out);
  });
}

Bitmap all_of(const Bitmap& base, std::span<const UnionTerm> terms) {
  return by_key_ranges(first_key(base), last_key(base),
                       [&](uint16_t lo, uint16_t hi, std::vector<Chunk>& out) {
                         all_of_in(base, terms, lo, hi, out);
                       });
}

}  // namespace siyu::index
