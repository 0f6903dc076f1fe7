#include "io/csv.h"

#include <gtest/gtest.h>

namespace siyu::io {
namespace {

TEST(CsvTest, ParsesQuotesCommasAndNewlines) {
  auto rows = parse_csv("name,note\r\n\"王, 伟\",\"说 \"\"好\"\"\nok\"\r\nb,\n");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1][0], "王, 伟");
  EXPECT_EQ((*rows)[1][1], "说 \"好\"\nok");
  EXPECT_EQ((*rows)[2][1], "");
}

TEST(CsvTest, UnterminatedQuoteNamesTheLine) {
  auto rows = parse_csv("a\n\"x\n");
  ASSERT_FALSE(rows.has_value());
  EXPECT_NE(rows.error().message().find("line 2"), std::string::npos);
}

TEST(CsvTest, DecodesGb18030AndStripsBom) {
  // "茶" in GB18030 is B2 E8.
  auto text = to_utf8("\xB2\xE8,1\n");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "茶,1\n");
  EXPECT_EQ(*to_utf8("\xEF\xBB\xBFname"), "name");
}

TEST(CsvTest, WritesQuotedAndDefusesFormulas) {
  std::string out;
  append_csv_row(out, {"a,b", "=cmd()", "-12.50", "say \"hi\""});
  EXPECT_EQ(out, "\"a,b\",'=cmd(),-12.50,\"say \"\"hi\"\"\"\r\n");
}

}  // namespace
}  // namespace siyu::io
