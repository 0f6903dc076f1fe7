#include "store/sqlite/tag_log.h"

#include <gtest/gtest.h>

#include <random>

namespace siyu::store::sqlite::tag_log {
namespace {

TEST(TagLogIdsTest, IncreasingIdsComeBackAndTakeAboutAByteEachWhenDense) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> ids;
  int64_t id = 0;
  for (int i = 0; i < 5000; ++i) {
    id += 1 + static_cast<int64_t>(rng() % (i % 100 == 0 ? 1'000'000'000 : 100));
    ids.push_back(id);
  }
  const std::string bytes = encode_ids(ids);
  std::vector<int64_t> back;
  ASSERT_TRUE(decode_ids(bytes, back));
  EXPECT_EQ(back, ids);
  EXPECT_LT(bytes.size(), ids.size() * 2);
  ASSERT_TRUE(decode_ids(encode_ids({INT64_MAX}), back));
  EXPECT_EQ(back, std::vector<int64_t>{INT64_MAX});
}

TEST(TagLogIdsTest, BytesItCouldNotHaveWrittenAreRefused) {
  std::vector<int64_t> back;
  EXPECT_FALSE(decode_ids(std::string("\x85", 1), back));      // the last byte continues
  EXPECT_FALSE(decode_ids(std::string("\x05\x00", 2), back));  // a step of 0: ids repeat
  std::string past_max = encode_ids({INT64_MAX});
  past_max += '\x01';
  EXPECT_FALSE(decode_ids(past_max, back));  // beyond the largest id
  ASSERT_TRUE(decode_ids("", back));
  EXPECT_TRUE(back.empty());
}

}  // namespace
}  // namespace siyu::store::sqlite::tag_log
