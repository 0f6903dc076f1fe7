// The per-customer event index (docs/design/event-runs.md) with tiny runs, so that every
// ingest files keys and merges levels: each customer's events, and the facts the segment
// index reads, equal a plain reference built from the events in arrival order — across
// merges of customers, erases, reopening the store, and a store from schema version 14.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "store/store.h"
#include "support/store_file.h"
#include "support/temp_dir.h"

namespace siyu::store {
namespace {

constexpr EpochMs kAt = 1'780'000'000'000;
const char* const kTypes[] = {"view", "order_paid", "login"};

/// What the index should give for one event, in a form both sides can produce.
using Seen = std::tuple<EpochMs, int64_t, std::string, int64_t, std::string>;  // ts, seq, ...

std::string no_empty_object(const std::string& json) { return json == "{}" ? "" : json; }

class EventRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    open();
    ws_ = store_->create_workspace({WorkspaceId(), "brand", "B", "Asia/Shanghai", 0})->id;
    other_ = store_->create_workspace({WorkspaceId(), "other", "O", "Asia/Shanghai", 0})->id;
  }

  void open() {
    StoreConfig cfg;
    cfg.data_dir = dir_.str();
    cfg.durable = false;
    cfg.event_keys_file_at = 5;
    cfg.event_runs_per_level = 3;
    cfg.event_merge_slice = merge_slice_;
    auto opened = open_store(cfg);
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    store_ = std::move(opened).value();
  }

  Identity user(int64_t n) {
    Identity i;
    i.type = "app_user_id";
    i.key = "u" + std::to_string(n);
    i.display = i.key;
    return i;
  }

  /// Ingests `n` events of random customers among users 1 … users (created on first sight).
  void ingest(WorkspaceId ws, int n, int users) {
    std::vector<PendingEvent> batch;
    for (int k = 0; k < n; ++k) {
      PendingEvent p;
      p.identity = user(static_cast<int64_t>(rng_() % static_cast<uint64_t>(users)) + 1);
      p.event.event_id = "e" + std::to_string(next_event_++);
      p.event.type = kTypes[rng_() % 3];
      p.event.ts = kAt - static_cast<EpochMs>(rng_() % 1000) * 60'000;
      p.event.amount = static_cast<int64_t>(rng_() % 500);
      p.event.properties_json = rng_() % 2 ? "{}" : R"({"k":)" + std::to_string(rng_() % 9) + "}";
      batch.push_back(std::move(p));
    }
    auto r = store_->ingest_events(ws, batch, kAt);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }

  /// Ingests one event of user `n`.
  void ingest_for(WorkspaceId ws, int64_t n) {
    std::vector<PendingEvent> batch(1);
    batch[0].identity = user(n);
    batch[0].event.event_id = "e" + std::to_string(next_event_++);
    batch[0].event.type = "view";
    batch[0].event.ts = kAt;
    auto r = store_->ingest_events(ws, batch, kAt);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }

  /// Each customer's events from a plain read of all events in arrival order.
  std::map<int64_t, std::vector<Seen>> reference(WorkspaceId ws) {
    std::map<int64_t, std::vector<Seen>> out;
    auto all = store_->events_after(ws, 0, 1'000'000);
    EXPECT_TRUE(all.has_value());
    for (const Event& e : *all) {
      out[e.customer.value].emplace_back(e.ts, e.seq, e.type, e.amount,
                                         no_empty_object(e.properties_json));
    }
    for (auto& [id, events] : out) std::sort(events.begin(), events.end());
    return out;
  }

  /// Checks every customer of `ws` (ids are dense from 1) through the events list, the facts
  /// of a list of ids and the facts scan.
  void expect_index_equals_reference(WorkspaceId ws) {
    const auto want = reference(ws);
    std::vector<CustomerId> ids;
    for (int64_t id = 1; store_->customer(ws, CustomerId(id)).has_value(); ++id)
      ids.emplace_back(id);
    ASSERT_FALSE(ids.empty());
    for (CustomerId id : ids) {
      const Customer c = *store_->customer(ws, id);
      const bool live = !c.merged_into && !c.erased_at;
      auto events = store_->events(ws, id, std::nullopt, 10'000);
      ASSERT_TRUE(events.has_value()) << events.error().to_string();
      std::vector<Seen> got;
      for (const Event& e : *events) {
        got.emplace_back(e.ts, e.seq, e.type, e.amount, no_empty_object(e.properties_json));
      }
      std::sort(got.begin(), got.end());
      const auto it = want.find(id.value);
      const std::vector<Seen> expected = it == want.end() ? std::vector<Seen>() : it->second;
      EXPECT_EQ(got, expected) << "customer " << id.value << (live ? "" : " (merged or erased)");
      ASSERT_TRUE(std::is_sorted(events->rbegin(), events->rend(),
                                 [](const Event& a, const Event& b) {
                                   return std::tie(a.ts, a.seq) < std::tie(b.ts, b.seq);
                                 }))
          << "newest first";
    }
    const auto activity_of = [](const CustomerFacts& f) {
      std::vector<std::tuple<EpochMs, std::string, int64_t, std::string>> out;
      for (const ActivityRow& a : f.activity) {
        out.emplace_back(a.ts, a.type, a.amount, no_empty_object(a.properties_json));
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    const auto expected_activity = [&](int64_t id) {
      std::vector<std::tuple<EpochMs, std::string, int64_t, std::string>> out;
      const auto it = want.find(id);
      if (it == want.end()) return out;
      for (const auto& [ts, seq, type, amount, props] : it->second) {
        out.emplace_back(ts, type, amount, props);
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    auto facts = store_->customer_facts(ws, ids, 0, true);
    ASSERT_TRUE(facts.has_value()) << facts.error().to_string();
    for (const CustomerFacts& f : facts->facts) {
      if (!f.live) continue;
      EXPECT_EQ(activity_of(f), expected_activity(f.id.value)) << "listed " << f.id.value;
    }
    std::map<int64_t, CustomerFacts> scanned;
    auto scan = store_->scan_customer_facts(
        ws, 0, true, 2, [&](int, const CustomerFacts& f) { scanned.emplace(f.id.value, f); },
        [](int) {});
    ASSERT_TRUE(scan.has_value()) << scan.error().to_string();
    for (const auto& [id, f] : scanned) {
      EXPECT_EQ(activity_of(f), expected_activity(id)) << "scanned " << id;
    }
  }

  /// Whether the store has a merge under way (a run still building), read from its file.
  bool merge_under_way() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_.str() + "/siyu.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM event_runs WHERE state=1", -1, &s, nullptr),
        SQLITE_OK);
    const bool building = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return building;
  }

  /// Rounds of ingests into both workspaces, merges of customers, an erase and a reopen, each
  /// followed by a check of every customer; returns the rounds that ended with a merge under way.
  int ingest_merge_and_check_in_rounds() {
    constexpr int kUsers = 30;
    size_t merges = 0;
    int mid_merge = 0;
    for (int round = 0; round < 12; ++round) {
      ingest(ws_, 1 + static_cast<int>(rng_() % 40), kUsers);
      ingest(other_, 3, kUsers);
      if (round % 3 == 1) {
        // Two people turn out to be one: the second's events move to the first.
        const int64_t a = static_cast<int64_t>(rng_() % kUsers) + 1;
        const int64_t b = static_cast<int64_t>(rng_() % kUsers) + 1;
        ingest_for(ws_, b);  // the newest event of all is the merged customer's
        auto merged = store_->identify(ws_, {user(a), user(b)}, kAt);
        EXPECT_TRUE(merged.has_value()) << merged.error().to_string();
        if (merged.has_value()) merges += merged->merged.size();
      }
      if (round == 7) {
        const auto live = *store_->find_identity(ws_, "app_user_id", "", "u3");
        if (live) {
          EXPECT_TRUE(store_->erase_customer(ws_, live->customer, kAt).is_ok());
        }
      }
      if (round == 9) {
        store_.reset();
        open();
      }
      if (merge_under_way()) ++mid_merge;
      expect_index_equals_reference(ws_);
      if (HasFailure()) return mid_merge;
    }
    expect_index_equals_reference(other_);
    EXPECT_GE(merges, 2U) << "the rounds should have merged customers";
    return mid_merge;
  }

  testing::TempDir dir_;
  size_t merge_slice_ = 65'536;
  std::unique_ptr<Store> store_;
  WorkspaceId ws_, other_;
  std::mt19937_64 rng_{21};
  int64_t next_event_ = 0;
};

TEST_F(EventRunsTest, EachCustomersEventsEqualAPlainReadThroughFilingMergesAndErases) {
  EXPECT_EQ(ingest_merge_and_check_in_rounds(), 0) << "each merge fits in one slice";
}

TEST_F(EventRunsTest, MergesInSlicesOfTwoKeysGiveTheSameEvents) {
  // Every merge takes many steps, one after each group commit: readers meet runs building
  // and runs retired, and the reopen finishes the merge under way.
  merge_slice_ = 2;
  store_.reset();
  open();
  EXPECT_GE(ingest_merge_and_check_in_rounds(), 3) << "rounds should end with a merge under way";
}

TEST_F(EventRunsTest, MergesCommittedTogetherWithIngestsLoseAndDoubleNothing) {
  // Group commit puts merges and ingests of other threads into one transaction; runs merge
  // in small slices meanwhile.
  merge_slice_ = 3;
  store_.reset();
  open();
  std::atomic<bool> stop = false;
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t));
      for (int b = 0; !stop; ++b) {
        std::vector<PendingEvent> batch;
        for (int k = 0; k < 8; ++k) {
          PendingEvent p;
          p.identity = user(static_cast<int64_t>(rng() % 12) + 1);
          p.event.event_id =
              "t" + std::to_string(t) + "-" + std::to_string(b) + "-" + std::to_string(k);
          p.event.type = kTypes[rng() % 3];
          p.event.ts = kAt - static_cast<EpochMs>(rng() % 100) * 1000;
          batch.push_back(std::move(p));
        }
        if (!store_->ingest_events(ws_, batch, kAt).has_value()) return;
      }
    });
  }
  size_t merges = 0;
  for (int i = 0; i < 40; ++i) {
    const int64_t a = static_cast<int64_t>(rng_() % 12) + 1;
    const int64_t b = static_cast<int64_t>(rng_() % 12) + 1;
    auto merged = store_->identify(ws_, {user(a), user(b)}, kAt);
    ASSERT_TRUE(merged.has_value()) << merged.error().to_string();
    merges += merged->merged.size();
  }
  stop = true;
  for (std::thread& w : writers) w.join();
  EXPECT_GE(merges, 2U);
  expect_index_equals_reference(ws_);
}

TEST_F(EventRunsTest, MergesOfCustomersKeepFewRunsALevel) {
  // Each merge of customers files its own small runs; levels must still be merged.
  for (int64_t n = 1; n <= 40; ++n) ingest_for(ws_, n);
  for (int64_t n = 2; n <= 40; ++n) {
    ASSERT_TRUE(store_->identify(ws_, {user(1), user(n)}, kAt).has_value());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.str() + "/siyu.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT level, count(*) FROM event_runs WHERE state=0 GROUP BY level",
                         -1, &s, nullptr),
      SQLITE_OK);
  int levels = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    ++levels;
    EXPECT_LT(sqlite3_column_int64(s, 1), 3) << "runs at level " << sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_GE(levels, 2);
  expect_index_equals_reference(ws_);
  EXPECT_EQ(store_->events(ws_, CustomerId(1), std::nullopt, 100)->size(), 40U);
}

TEST_F(EventRunsTest, AStoreFromSchema14FilesItsEventsWhenItOpens) {
  ingest(ws_, 200, 25);
  const auto before = reference(ws_);
  // Back to schema version 14: the B-tree per customer, nothing filed.
  store_.reset();
  const char* to_version_14 =
      "DROP TABLE event_runs; DROP TABLE event_run_blocks; DROP TABLE event_run_drops;"
      "DROP TABLE tag_log;"
      "DELETE FROM store_counters WHERE name='events_filed_through';"
      "CREATE INDEX events_by_customer ON events(workspace_id, customer_id, ts, type, amount);"
      "DELETE FROM schema_migrations WHERE version>=15;";
  ASSERT_EQ(testing::run_sql_on_store(dir_, to_version_14), "");
  open();
  EXPECT_EQ(reference(ws_), before);
  expect_index_equals_reference(ws_);
  ingest(ws_, 20, 25);
  expect_index_equals_reference(ws_);
}

}  // namespace
}  // namespace siyu::store
