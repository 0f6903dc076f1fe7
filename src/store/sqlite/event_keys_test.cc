#include "store/sqlite/event_keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace siyu::store::sqlite::event_keys {
namespace {

const char* const kTypes[] = {"view", "order_paid", "login", "浏览", ""};

/// Random keys: few customers with many events and many with one, negative and large values.
std::vector<EventKey> random_keys(std::mt19937_64& rng, size_t n) {
  std::vector<EventKey> keys(n);
  for (EventKey& k : keys) {
    k.customer = rng() % 4 == 0 ? static_cast<int64_t>(rng() % 5) + 1
                                : static_cast<int64_t>(rng() % 1'000'000'000) + 1;
    k.ts = static_cast<int64_t>(rng() % 4'000'000'000'000) - 1'000'000'000'000;
    k.seq = static_cast<int64_t>(rng() >> 2);
    k.amount = rng() % 3 == 0 ? -static_cast<int64_t>(rng() % 100'000)
                              : static_cast<int64_t>(rng() % 1000);
    k.type = kTypes[rng() % 5];
  }
  std::sort(keys.begin(), keys.end(), key_less);
  return keys;
}

TEST(EventKeysTest, BlocksDecodeToTheKeysAndKeepEachCustomerInOneBlock) {
  std::mt19937_64 rng(11);
  for (size_t target : {1u, 64u, 4096u}) {
    const std::vector<EventKey> keys = random_keys(rng, 5000);
    const std::vector<Block> blocks = encode_blocks(keys, target);
    std::vector<EventKey> back;
    int64_t previous_last = 0;
    for (const Block& b : blocks) {
      auto decoded = decode_block(b.bytes);
      ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
      ASSERT_FALSE(decoded->empty());
      EXPECT_EQ(decoded->front().customer, b.first_customer);
      EXPECT_EQ(decoded->back().customer, b.last_customer);
      EXPECT_GT(b.first_customer, previous_last) << "a customer split over two blocks";
      previous_last = b.last_customer;
      back.insert(back.end(), decoded->begin(), decoded->end());
    }
    EXPECT_EQ(back, keys);
    if (target == 1) {
      // Every customer closes a block once the block has anything in it.
      const auto customers = std::unique(back.begin(), back.end(),
                                         [](const EventKey& a, const EventKey& b) {
                                           return a.customer == b.customer;
                                         }) -
                             back.begin();
      EXPECT_EQ(blocks.size(), static_cast<size_t>(customers));
    }
  }
}

TEST(EventKeysTest, DamagedBlocksAreRefused) {
  std::mt19937_64 rng(12);
  const std::vector<Block> blocks = encode_blocks(random_keys(rng, 200), 1 << 20);
  ASSERT_EQ(blocks.size(), 1u);
  const std::string& bytes = blocks[0].bytes;
  EXPECT_FALSE(decode_block(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(decode_block(bytes + "x").has_value());
  EXPECT_FALSE(decode_block("\xff").has_value());
  EXPECT_TRUE(encode_blocks({}, 10).empty());
  auto nothing = decode_block(std::string("\0\0", 2));  // no types, no keys
  ASSERT_TRUE(nothing.has_value());
  EXPECT_TRUE(nothing->empty());
}

TEST(EventKeysTest, MergedRunsEqualOneSortOfAllTheirKeys) {
  std::mt19937_64 rng(13);
  std::vector<std::vector<EventKey>> runs;
  std::vector<EventKey> all;
  for (size_t n : {0u, 1u, 700u, 3000u, 50u}) {
    runs.push_back(random_keys(rng, n));
    all.insert(all.end(), runs.back().begin(), runs.back().end());
  }
  std::sort(all.begin(), all.end(), key_less);
  EXPECT_EQ(merge_runs(runs), all);
}

}  // namespace
}  // namespace siyu::store::sqlite::event_keys
