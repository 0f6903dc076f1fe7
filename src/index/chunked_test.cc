// Counting and intersecting across bitmaps chunk by chunk gives what a plain pass over every
// id does, for array, bitset and run containers alike, on one thread and split into ranges.
#include "index/chunked.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>

namespace siyu::index {
namespace {

uint32_t below(std::mt19937& rng, uint32_t n) { return static_cast<uint32_t>(rng() % n); }

/// A bitmap over a few 65,536-id chunks, each sparse (array), dense (bitset) or in runs.
Bitmap random_bitmap(std::mt19937& rng) {
  Bitmap b;
  for (uint32_t chunk = 0; chunk < 6; ++chunk) {
    const uint32_t base = chunk << 16;
    switch (below(rng, 4)) {
      case 0:
        break;  // nothing in this chunk
      case 1:
        for (int i = 0; i < 300; ++i) b.add(base + below(rng, 65'536));
        break;
      case 2:
        for (int i = 0; i < 20'000; ++i) b.add(base + below(rng, 65'536));
        break;
      default: {
        const uint32_t from = base + below(rng, 60'000);
        b.addRange(from, from + 1 + below(rng, 5'000));
        break;
      }
    }
  }
  b.runOptimize();
  return b;
}

constexpr uint32_t kIds = 6 << 16;

/// How many of `bitmaps` hold each id, counted plainly.
std::vector<int> plain_counts(const std::vector<Bitmap>& bitmaps) {
  std::vector<int> seen(kIds, 0);
  for (const Bitmap& b : bitmaps) {
    for (uint32_t id : b) ++seen[id];
  }
  return seen;
}

/// The ids counted at least `k` times (and in `within`, when given).
Bitmap reference(const std::vector<int>& seen, int k, const Bitmap* within) {
  Bitmap out;
  for (uint32_t id = 0; id < kIds; ++id) {
    if (seen[id] >= k && (within == nullptr || within->contains(id))) out.add(id);
  }
  return out;
}

/// Splits every input into ranges of chunks (on this machine's cores) while alive.
class SplitEverything {
 public:
  SplitEverything() : saved_(min_chunks_to_split.exchange(1)) {}
  ~SplitEverything() { min_chunks_to_split = saved_; }
  SplitEverything(const SplitEverything&) = delete;
  SplitEverything& operator=(const SplitEverything&) = delete;

 private:
  uint32_t saved_;
};

class ChunkedTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) split_.emplace();
  }

 private:
  std::optional<SplitEverything> split_;
};

INSTANTIATE_TEST_SUITE_P(OneThreadAndSplit, ChunkedTest, testing::Bool());

TEST_P(ChunkedTest, MatchesAPlainCountOnRandomBitmaps) {
  std::mt19937 rng(7);
  for (int round = 0; round < 25; ++round) {
    std::vector<Bitmap> bitmaps;
    for (uint32_t i = 0, n = 1 + below(rng, 8); i < n; ++i) bitmaps.push_back(random_bitmap(rng));
    bitmaps.push_back(bitmaps.front());  // the same customers twice count twice
    std::vector<const Bitmap*> parts;
    for (const Bitmap& b : bitmaps) parts.push_back(&b);
    const Bitmap within = random_bitmap(rng);
    Bitmap few_within;  // at most 64 candidates a chunk: each is looked up, not the chunk counted
    for (uint32_t chunk = 0; chunk < 6; ++chunk) {
      for (uint32_t i = 0, n = below(rng, 64); i < n; ++i) few_within.add((chunk << 16) + below(rng, 65'536));
    }
    const std::vector<int> seen = plain_counts(bitmaps);
    for (int k : {1, 2, 3, 5}) {
      SCOPED_TRACE("round " + std::to_string(round) + ", k = " + std::to_string(k));
      const Bitmap all = at_least_k_of(parts, k);
      EXPECT_EQ(all, reference(seen, k, nullptr));
      EXPECT_EQ(all.cardinality(), reference(seen, k, nullptr).cardinality());
      EXPECT_EQ(at_least_k_of(parts, k, &within), reference(seen, k, &within));
      EXPECT_EQ(at_least_k_of(parts, k, &few_within), reference(seen, k, &few_within));
    }
  }
}

TEST_P(ChunkedTest, NothingToCountIsEmpty) {
  EXPECT_TRUE(at_least_k_of({}, 1).isEmpty());
  const Bitmap one = Bitmap::bitmapOf(2, 5, 70'000);
  const Bitmap* parts[] = {&one};
  EXPECT_EQ(at_least_k_of(parts, 1), one);
  EXPECT_TRUE(at_least_k_of(parts, 2).isEmpty());
  const Bitmap none;
  EXPECT_TRUE(at_least_k_of(parts, 1, &none).isEmpty());
}

TEST_P(ChunkedTest, AConjunctionMatchesAPlainPassOnRandomBitmaps) {
  std::mt19937 rng(11);
  for (int round = 0; round < 40; ++round) {
    std::vector<Bitmap> bitmaps;
    for (int i = 0; i < 12; ++i) bitmaps.push_back(random_bitmap(rng));
    // A base of every kind, including chunks of a few customers checked one by one.
    Bitmap base = random_bitmap(rng);
    for (int i = 0; i < 40; ++i) base.add((5U << 16) + below(rng, 65'536));
    std::vector<UnionTerm> terms(below(rng, 5));
    for (UnionTerm& t : terms) {
      for (uint32_t i = 0, n = below(rng, 4); i < n; ++i)
        t.parts.push_back(&bitmaps[below(rng, 12)]);
      t.negated = below(rng, 3) == 0;
    }
    Bitmap want;
    for (uint32_t id : base) {
      const bool kept = std::all_of(terms.begin(), terms.end(), [&](const UnionTerm& t) {
        const bool in = std::any_of(t.parts.begin(), t.parts.end(),
                                    [&](const Bitmap* b) { return b->contains(id); });
        return in != t.negated;
      });
      if (kept) want.add(id);
    }
    SCOPED_TRACE("round " + std::to_string(round));
    const Bitmap got = all_of(base, terms);
    EXPECT_EQ(got, want);
    EXPECT_EQ(got.cardinality(), want.cardinality());
  }
}

TEST_P(ChunkedTest, AConjunctionWithoutTermsIsItsBase) {
  const Bitmap base = Bitmap::bitmapOf(3, 1, 70'000, 300'000);
  EXPECT_EQ(all_of(base, {}), base);
  const UnionTerm nothing;  // a union of no bitmaps holds nobody
  EXPECT_TRUE(all_of(base, {&nothing, 1}).isEmpty());
  const UnionTerm not_nothing{{}, true};
  EXPECT_EQ(all_of(base, {&not_nothing, 1}), base);
  EXPECT_TRUE(all_of(Bitmap(), {&not_nothing, 1}).isEmpty());
}

}  // namespace
}  // namespace siyu::index
