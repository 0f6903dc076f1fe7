#include "demo/demo.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::demo {
namespace {

TEST(DemoTest, BuildsOnceAndSetsAnInterruptedBuildAside) {
  ASSERT_TRUE(security::init().is_ok());
  testing::TempDir dir;
  auto st = testing::open_test_store(dir);
  const auto vault = security::Vault::from_key({});
  ManualClock clock(1'795'000'000'000);
  // What a killed `siyu demo` leaves behind.
  ASSERT_TRUE(st->create_workspace({WorkspaceId(), "demo.building", "half", "Asia/Shanghai", 0}).has_value());

  DemoOptions opt;
  opt.customers = 300;
  auto first = build_demo(*st, vault, opt, clock);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->customers, 300);
  EXPECT_GT(first->events, 300);
  EXPECT_GT(first->orders, 0);
  EXPECT_EQ(st->workspace_by_slug("demo")->id, first->workspace);
  EXPECT_FALSE(st->workspace_by_slug("demo.building").has_value());
  EXPECT_EQ(st->users(first->workspace)->size(), 20u);
  EXPECT_EQ(st->groups(first->workspace)->size(), 120u);
  EXPECT_EQ(st->channels(first->workspace)->size(), 8u);

  auto again = build_demo(*st, vault, opt, clock);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->workspace, first->workspace);
  EXPECT_EQ(*st->count_customers(first->workspace), 300);
}

}  // namespace
}  // namespace siyu::demo
