#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/json.h"
#include "core/text.h"
#include "core/time_format.h"
#include "core/work_slots.h"

namespace siyu {
namespace {

TEST(TimeFormatTest, ParsesOffsetsAndFormatsUtc) {
  auto t = parse_timestamp("2026-01-31T20:00:00+08:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_timestamp(*t), "2026-01-31T12:00:00.000Z");
  EXPECT_EQ(*parse_timestamp("2026-01-31T12:00:00Z"), *t);
  EXPECT_EQ(*parse_timestamp("2026-01-31 20:00:00", 480), *t);
  EXPECT_EQ(*parse_timestamp("2026-01-31T12:00:00.250Z") - *t, 250);
}

TEST(TimeFormatTest, RejectsImpossibleDates) {
  EXPECT_FALSE(parse_date("2023-02-29").has_value());
  EXPECT_TRUE(parse_date("2024-02-29").has_value());
  EXPECT_FALSE(parse_timestamp("2026-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2026-01-01T00:00:00Zjunk").has_value());
  EXPECT_FALSE(parse_timestamp("yesterday").has_value());
}

TEST(TimeFormatTest, CivilDaysRoundTrip) {
  for (int64_t d = -1000; d < 40000; d += 37) {
    EXPECT_EQ(days_from_civil(civil_from_days(d)), d);
  }
  EXPECT_EQ(format_local(0, 480), "1970-01-01 08:00:00");
}

TEST(TextTest, RejectsBrokenUtf8) {
  EXPECT_TRUE(is_valid_utf8("茶语时光"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xE8\x8C"));          // truncated
  EXPECT_FALSE(is_valid_utf8(std::string_view("a\0b", 3)));
  EXPECT_EQ(utf8_length("茶a"), 2u);
}

TEST(JsonFieldsTest, NamesThePathOfAWrongType) {
  Json j = {{"amount", "12"}};
  JsonFields f(j, "events[3]");
  (void)f.opt_int("amount", 0, 100);
  Status s = f.finish();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "events[3].amount");
}

TEST(JsonFieldsTest, RejectsUnknownFields) {
  Json j = {{"name", "x"}, {"nmae", "y"}};
  JsonFields f(j, "");
  (void)f.opt_string("name", 10);
  Status s = f.finish();
  EXPECT_EQ(s.field(), "nmae");
}

TEST(JsonFieldsTest, RejectsControlCharactersAndLongText) {
  Json j = {{"a", std::string("x\x01y")}, {"b", std::string(20, 'z')}};
  JsonFields f1(j, "");
  (void)f1.opt_string("a", 10);
  EXPECT_FALSE(f1.ok());
  JsonFields f2(j, "");
  f2.allow("a");
  (void)f2.opt_string("b", 10);
  EXPECT_FALSE(f2.finish().is_ok());
}

TEST(JsonTest, MalformedJsonIsInvalidArgument) {
  auto r = parse_json("{\"a\":");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(parse_json("\"\xff\"").has_value());
  // Found by fuzz/order_batch_fuzz: a number too large for a double threw out_of_range.
  EXPECT_EQ(parse_json("{\"amount\":4e443}").error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
TEST(WorkSlotsTest, NoMoreThreadsInsideThanSlotsAndResultsComeBack) {
  WorkSlots slots(2);
  std::atomic<int> inside = 0, most = 0, sum = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        sum += slots.run([&] {
          const int now = ++inside;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          --inside;
          return t;
        });
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(sum.load(), 3 * (0 + 1 + 2 + 3 + 4 + 5));
}

}  // namespace siyu
