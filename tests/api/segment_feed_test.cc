// The segment change feed in the store: a sweep's changes to a segment are stored together,
// yet read back one by one under dense, growing ids — by segment, across segments, after an
// erase, and from rows written before the sets existed.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "store/store.h"
#include "support/store_file.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::store {
namespace {

constexpr EpochMs kAt = 1'780'000'000'000;

class SegmentFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "brand", "B", "Asia/Shanghai", 0})->id;
  }

  int64_t segment(const std::string& name) {
    Segment seg;
    seg.name = name;
    seg.expression_json = R"({"attr":"city","op":"eq","value":"上海"})";
    seg.created_by = "t";
    seg.created_at = kAt;
    return store_->create_segment(ws_, seg)->id;
  }

  static std::vector<CustomerId> ids(int64_t from, int64_t n) {
    std::vector<CustomerId> out;
    for (int64_t i = 0; i < n; ++i) out.emplace_back(from + i);
    return out;
  }

  void sweep(int64_t seg, std::vector<CustomerId> entered, std::vector<CustomerId> exited,
             EpochMs at) {
    SegmentSweep sw;
    sw.segment_id = seg;
    sw.entered = std::move(entered);
    sw.exited = std::move(exited);
    sw.at = at;
    sw.day = "2026-05-28";
    ASSERT_TRUE(store_->record_segment_sweeps(ws_, {sw}).is_ok());
  }

  /// Every change of a segment (or all, with 0), read `page` at a time.
  std::vector<SegmentChange> read_all(int64_t seg, int page) {
    std::vector<SegmentChange> out;
    int64_t after = 0;
    while (true) {
      auto got = seg != 0 ? *store_->segment_changes(ws_, seg, after, page)
                          : *store_->segment_changes_after(ws_, after, page);
      if (got.empty()) return out;
      EXPECT_LE(got.size(), static_cast<size_t>(page));
      after = got.back().seq;
      out.insert(out.end(), got.begin(), got.end());
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  WorkspaceId ws_;
};

TEST_F(SegmentFeedTest, ASweepsChangesReadBackOneByOneUnderDenseIds) {
  const int64_t a = segment("a"), b = segment("b");
  // More changes than one stored set holds, so the sweep spans several.
  sweep(a, ids(1, 70'000), ids(200'000, 3), kAt);
  sweep(b, {CustomerId(7)}, {}, kAt + 1);
  sweep(a, {}, ids(1, 2), kAt + 2);
  const auto of_a = read_all(a, 997);
  ASSERT_EQ(of_a.size(), 70'005U);
  for (size_t i = 0; i < of_a.size(); ++i) {
    EXPECT_EQ(of_a[i].segment_id, a);
    if (i > 0 && i < 70'003) {
      EXPECT_EQ(of_a[i].seq, of_a[i - 1].seq + 1) << i;
    }
  }
  EXPECT_EQ(of_a[0].customer, CustomerId(1));
  EXPECT_TRUE(of_a[69'999].entered);
  EXPECT_EQ(of_a[69'999].customer, CustomerId(70'000));
  EXPECT_FALSE(of_a[70'000].entered);
  EXPECT_EQ(of_a[70'000].customer, CustomerId(200'000));
  EXPECT_EQ(of_a[70'002].at, kAt);
  EXPECT_EQ(of_a[70'003].customer, CustomerId(1));
  EXPECT_FALSE(of_a[70'003].entered);
  EXPECT_EQ(of_a[70'003].at, kAt + 2);
  // Across segments the feed is in the order the sweeps recorded it, b's change between.
  const auto all = read_all(0, 1'000);
  ASSERT_EQ(all.size(), 70'006U);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].seq, all[i - 1].seq + 1) << i;
  EXPECT_EQ(all[70'003].segment_id, b);
  EXPECT_EQ(all[70'003].customer, CustomerId(7));
  // A page that starts inside a set starts right after the cursor.
  const auto tail = *store_->segment_changes(ws_, a, of_a[69'998].seq, 2);
  ASSERT_EQ(tail.size(), 2U);
  EXPECT_EQ(tail[0].customer, CustomerId(70'000));
  EXPECT_EQ(tail[1].customer, CustomerId(200'000));
}

TEST_F(SegmentFeedTest, AnErasedCustomerLeavesTheFeedAndNoOtherIdMoves) {
  std::vector<CustomerId> people;
  for (int i = 0; i < 3; ++i) {
    Customer c;
    c.workspace = ws_;
    c.created_at = c.updated_at = kAt;
    people.push_back(store_->create_customer(c, {})->id);
  }
  const int64_t a = segment("a");
  sweep(a, {people[0], people[1], people[2]}, {}, kAt);
  sweep(a, {}, {people[1]}, kAt + 1);
  const auto before = read_all(a, 10);
  ASSERT_EQ(before.size(), 4U);
  ASSERT_TRUE(store_->erase_customer(ws_, people[1], kAt + 2).is_ok());
  const auto after = read_all(a, 10);
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after[0].seq, before[0].seq);
  EXPECT_EQ(after[0].customer, people[0]);
  EXPECT_EQ(after[1].seq, before[2].seq);
  EXPECT_EQ(after[1].customer, people[2]);
  EXPECT_EQ(store_->segment_members(ws_, a)->since.size(), 2U);
}

TEST_F(SegmentFeedTest, ADeletedSegmentTakesItsChangesAlong) {
  const int64_t a = segment("a"), b = segment("b");
  sweep(a, ids(1, 5), {}, kAt);
  sweep(b, ids(1, 2), {}, kAt);
  ASSERT_TRUE(store_->delete_segment(ws_, a).is_ok());
  const auto all = read_all(0, 100);
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].segment_id, b);
  // A sweep that raced the deletion records nothing for it.
  sweep(a, ids(10, 3), {}, kAt + 1);
  EXPECT_EQ(read_all(0, 100).size(), 2U);
}

TEST_F(SegmentFeedTest, IdsAreNeverGivenOutTwice) {
  const int64_t a = segment("a"), b = segment("b");
  sweep(a, ids(1, 2), {}, kAt);
  sweep(b, ids(1, 3), {}, kAt);  // the newest changes
  const int64_t cursor = read_all(0, 100).back().seq;
  ASSERT_TRUE(store_->delete_segment(ws_, b).is_ok());
  // A reader at the deleted changes' end still sees what comes next.
  sweep(a, {}, ids(1, 1), kAt + 1);
  const auto next = *store_->segment_changes_after(ws_, cursor, 10);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].seq, cursor + 1);
}

TEST_F(SegmentFeedTest, ChangesStoredOneRowEachBeforeTheSetsKeepTheirIds) {
  const int64_t a = segment("a"), b = segment("b");
  sweep(a, {CustomerId(11)}, {}, kAt);
  sweep(b, {}, {CustomerId(12)}, kAt + 1);
  sweep(a, {}, {CustomerId(11)}, kAt + 2);
  const auto before = read_all(0, 100);
  ASSERT_EQ(before.size(), 3U);
  // Back to schema version 13: one row per change, ids as they were.
  store_.reset();
  const char* to_version_13 =
      "CREATE TABLE segment_changes (id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL, "
      "segment_id INTEGER NOT NULL, customer_id INTEGER NOT NULL, entered INTEGER NOT NULL, "
      "at INTEGER NOT NULL);"
      "CREATE INDEX segment_changes_by_segment ON segment_changes(workspace_id, segment_id, id);"
      "CREATE INDEX segment_changes_by_id ON segment_changes(workspace_id, id);"
      "INSERT INTO segment_changes SELECT first_id, workspace_id, segment_id, "
      "CAST(customers AS INTEGER), entered, at FROM segment_change_sets;"
      "DROP TABLE segment_change_sets;"
      "DROP TABLE segment_change_head;"
      "DELETE FROM schema_migrations WHERE version=14;";
  ASSERT_EQ(testing::run_sql_on_store(dir_, to_version_13), "");
  store_ = testing::open_test_store(dir_);
  const auto after = read_all(0, 100);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].seq, before[i].seq);
    EXPECT_EQ(after[i].segment_id, before[i].segment_id);
    EXPECT_EQ(after[i].customer, before[i].customer);
    EXPECT_EQ(after[i].entered, before[i].entered);
    EXPECT_EQ(after[i].at, before[i].at);
  }
  // New changes follow the old ones.
  sweep(b, {CustomerId(13)}, {}, kAt + 3);
  const auto more = *store_->segment_changes_after(ws_, before.back().seq, 10);
  ASSERT_EQ(more.size(), 1U);
  EXPECT_EQ(more[0].seq, before.back().seq + 1);
}

}  // namespace
}  // namespace siyu::store
