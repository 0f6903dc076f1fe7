// The index registry's two update paths — event notices from the store and refreshes that
// read customers back — meet exactly under concurrent writers: the index ends as a fresh
// build from the store would be.
#include "index/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "core/clock.h"
#include "customer/identity.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::index {
namespace {

const std::vector<std::string> kTypes = {"view", "login", "order_paid"};

/// A customer's behaviour as (type or property key, day) → (count, amount), by name.
using Behaviour = std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>>;

Behaviour behaviour_of(const IndexView& v, uint32_t id) {
  std::map<uint16_t, std::string> names;
  for (const std::string& type : kTypes) {
    for (const std::string& key :
         {type, event_key(type, "sku", "a"), event_key(type, "sku", "b")}) {
      if (auto n = v.event_type(key)) names[*n] = key;
    }
  }
  Behaviour out;
  for (const ActivityCell& cell : v.activity(id)) {
    auto& [count, amount] =
        out[{names.at(static_cast<uint16_t>(cell.type)), static_cast<int32_t>(cell.day)}];
    count += cell.count;
    amount += cell.amount;
  }
  return out;
}

/// The non-empty count-level bitmaps of every type and property key, by (key, week, day or
/// week number, level), so two indexes compare whatever numbers they gave the types.
using Levels = std::map<std::tuple<std::string, bool, int32_t, size_t>, Bitmap>;

Levels levels_of(const IndexView& v) {
  Levels out;
  for (const std::string& type : kTypes) {
    for (const std::string& key :
         {type, event_key(type, "sku", "a"), event_key(type, "sku", "b")}) {
      const auto n = v.event_type(key);
      if (!n) continue;
      for (const bool week : {false, true}) {
        for (const auto& [at, bitmaps] : week ? v.week_levels(*n) : v.day_levels(*n)) {
          for (size_t l = 0; l < bitmaps.size(); ++l) {
            if (!bitmaps[l].isEmpty()) out[{key, week, at, l}] = bitmaps[l];
          }
        }
      }
    }
  }
  return out;
}

/// A workspace in a fresh store; `sku` is a declared event property.
class IndexRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(security::init().is_ok());
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "a", "A", "Asia/Shanghai", 0})->id;
    ASSERT_TRUE(store_->put_event_property(ws_, {"sku", "SKU", 0}).is_ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  WorkspaceId ws_;
  const ManualClock clock_{1'790'000'000'000};
  const EpochMs now_ = clock_.now_ms();
};

TEST_F(IndexRegistryTest, EventNoticesAndRefreshesMeetExactlyUnderConcurrentWriters) {
  store::Store& st = *store_;
  const security::Vault vault = security::Vault::from_key({});
  const customer::IdentityCodec codec(vault, ws_);

  IndexRegistry registry(st, clock_);
  st.on_events_committed(
      [&](store::EventsCommitted n) { registry.events_committed(std::move(n)); });
  std::atomic<int> next_event{0};
  // A batch of events of random customers among `people` (unknown ones are created).
  const auto ingest = [&](std::mt19937& rng, int n, int people) {
    std::vector<store::PendingEvent> batch;
    for (int i = 0; i < n; ++i) {
      store::PendingEvent p;
      p.event.event_id = "e" + std::to_string(next_event++);
      p.event.type = kTypes[rng() % kTypes.size()];
      p.event.ts = now_ - static_cast<EpochMs>(rng() % (30 * 86'400'000LL));
      p.event.amount = p.event.type == "order_paid" ? static_cast<int64_t>(rng() % 5000) : 0;
      p.event.properties_json =
          rng() % 3 == 0 ? "{}" : (rng() % 2 == 0 ? R"({"sku":"a"})" : R"({"sku":["a","b"]})");
      p.identity = *codec.make("app_user_id", "u" + std::to_string(rng() % people), "", "u");
      batch.push_back(std::move(p));
    }
    ASSERT_TRUE(st.ingest_events(ws_, batch, now_).has_value());
    // A duplicate changes nothing, in the store or the index.
    ASSERT_TRUE(st.ingest_events(ws_, batch, now_).has_value());
  };
  std::mt19937 seed_rng(1);
  ingest(seed_rng, 40, 20);
  ASSERT_TRUE(registry.get(ws_).has_value());
  registry.apply_committed();

  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      // Notices wait now and then, so refreshes read events whose notices come later.
      for (int b = 0; b < 60; ++b) {
        ingest(rng, 15, 60);
        if (b % 3 == 0) registry.apply_committed();
      }
    });
  }
  // Meanwhile tags change and every customer is read back, over and over.
  std::thread refresher([&] {
    std::mt19937 rng(7);
    while (!done) {
      const auto id = CustomerId(1 + static_cast<int64_t>(rng() % 20));
      const auto dice = rng() % 8;
      if (dice == 0) (void)st.add_tag(ws_, {id, "vip", "test", now_, std::nullopt});
      if (dice == 1) (void)st.remove_tag(ws_, id, "vip", "test", now_);
      std::vector<CustomerId> all;
      for (int64_t c = 1; c <= 80; ++c) all.emplace_back(c);
      ASSERT_TRUE(registry.refresh(ws_, all).is_ok());
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  refresher.join();
  // The last notices are still queued, one of them with customers it made, and the newest
  // customer is erased: a refresh reads all that first, then the notices arrive.
  ingest(seed_rng, 40, 90);
  ingest(seed_rng, 40, 90);
  const int64_t customers = *st.count_customers(ws_);
  ASSERT_GT(customers, 60);
  const auto erased_events =
      static_cast<int64_t>(st.events(ws_, CustomerId(customers), std::nullopt, 10'000)->size());
  ASSERT_TRUE(st.erase_customer(ws_, CustomerId(customers), now_).is_ok());
  std::vector<CustomerId> all;
  for (int64_t c = 1; c <= 100; ++c) all.emplace_back(c);
  ASSERT_TRUE(registry.refresh(ws_, all).is_ok());
  registry.apply_committed();

  IndexRegistry rebuilt(st, clock_);
  const CustomerIndex& fresh = **rebuilt.get(ws_);
  const CustomerIndex& kept = **registry.get(ws_);
  int64_t events = 0;
  kept.read([&](const IndexView& k) {
    fresh.read([&](const IndexView& f) {
      EXPECT_EQ(k.live().cardinality(), f.live().cardinality());
      EXPECT_EQ(k.tag("vip").cardinality(), f.tag("vip").cardinality());
      EXPECT_TRUE(levels_of(k) == levels_of(f)) << "count levels differ from a fresh build";
      for (int64_t c = 1; c <= customers; ++c) {
        const auto id = static_cast<uint32_t>(c);
        ASSERT_EQ(k.live().contains(id), f.live().contains(id)) << c;
        if (!f.live().contains(id)) continue;
        EXPECT_EQ(k.last_active(id), f.last_active(id)) << c;
        const Behaviour expected = behaviour_of(f, id);
        EXPECT_EQ(behaviour_of(k, id), expected) << "customer " << c;
        for (const auto& [key, sums] : expected) {
          if (key.first.find('[') == std::string::npos) events += sums.first;
        }
      }
    });
  });
  EXPECT_EQ(events, next_event.load() - erased_events);  // every distinct event counted once
}


TEST_F(IndexRegistryTest, TagRefreshesStayExactUnderConcurrentBulkTags) {
  store::Store& st = *store_;
  constexpr int64_t kPeople = 200;
  std::vector<std::pair<store::Customer, std::vector<store::Identity>>> people;
  for (int64_t i = 0; i < kPeople; ++i) {
    store::Customer c;
    c.workspace = ws_;
    c.created_at = c.updated_at = now_;
    people.push_back({c, {}});
  }
  ASSERT_TRUE(st.create_customers(ws_, people).has_value());
  IndexRegistry registry(st, clock_);
  ASSERT_TRUE(registry.get(ws_).has_value());

  // Writers add and remove two tags on overlapping random customers, each refreshing only
  // the tag it changed; meanwhile customers are erased and refreshed whole.
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(300 + t);
      for (int b = 0; b < 150; ++b) {
        // Mostly the same few customers, so writers race on them; now and then any.
        const int64_t among = b % 10 == 0 ? kPeople : 12;
        std::vector<CustomerId> ids;
        for (int k = 0; k < 8; ++k) ids.emplace_back(1 + static_cast<int64_t>(rng() % among));
        const std::string tag = rng() % 3 == 0 ? "u" : "t";
        const bool remove = rng() % 2 == 0;
        ASSERT_TRUE(st.bulk_tag(ws_, ids, tag, remove, "test", now_, std::nullopt).has_value());
        ASSERT_TRUE(registry.refresh_tag(ws_, tag, ids).is_ok());
      }
    });
  }
  std::thread eraser([&] {
    for (int64_t c = kPeople - 20; c < kPeople; c += 2) {
      ASSERT_TRUE(st.erase_customer(ws_, CustomerId(c), now_).is_ok());
      ASSERT_TRUE(registry.refresh(ws_, {CustomerId(c)}).is_ok());
      std::this_thread::yield();
    }
  });
  for (auto& w : writers) w.join();
  eraser.join();

  IndexRegistry rebuilt(st, clock_);
  const CustomerIndex& fresh = **rebuilt.get(ws_);
  const CustomerIndex& kept = **registry.get(ws_);
  kept.read([&](const IndexView& k) {
    fresh.read([&](const IndexView& f) {
      EXPECT_EQ(k.live().cardinality(), f.live().cardinality());
      for (const char* tag : {"t", "u"}) {
        EXPECT_GT(f.tag(tag).cardinality(), 0u) << tag;
        EXPECT_EQ(k.tag(tag), f.tag(tag)) << tag;
      }
    });
  });
}

TEST_F(IndexRegistryTest, AScanInPartsReadsEveryCustomerOnceInBlockOrder) {
  store::Store& st = *store_;
  // Three blocks of ids and part of a fourth; some customers of the second block erased.
  constexpr int64_t kPeople = 3 * store::kFactBlockIds + 500;
  for (int64_t first = 0; first < kPeople; first += 20'000) {
    std::vector<std::pair<store::Customer, std::vector<store::Identity>>> people;
    for (int64_t i = first; i < std::min(kPeople, first + 20'000); ++i) {
      store::Customer c;
      c.workspace = ws_;
      c.city = i % 3 == 0 ? "上海" : "杭州";
      c.created_at = c.updated_at = now_;
      people.push_back({c, {}});
    }
    ASSERT_TRUE(st.create_customers(ws_, people).has_value());
  }
  std::vector<CustomerId> tagged;
  for (int64_t id = 1; id <= kPeople; id += 7) tagged.emplace_back(id);
  ASSERT_TRUE(st.bulk_tag(ws_, tagged, "t", false, "test", now_, std::nullopt).has_value());
  std::set<int64_t> erased;
  for (int64_t id = store::kFactBlockIds + 5; id < 2 * store::kFactBlockIds; id += 9'000) {
    ASSERT_TRUE(st.erase_customer(ws_, CustomerId(id), now_).is_ok());
    erased.insert(id);
  }

  /// What a scan in `parts` parts saw: each customer's city and tags, by id.
  const auto scan = [&](int parts) -> std::map<int64_t, std::string> {
    std::vector<std::vector<int64_t>> seen(static_cast<size_t>(parts));
    std::vector<int> done(static_cast<size_t>(parts), 0);
    std::map<int64_t, std::string> facts;
    std::mutex mu;
    auto generation = st.scan_customer_facts(
        ws_, 0, false, parts,
        [&](int part, const store::CustomerFacts& f) {
          std::lock_guard lock(mu);
          seen[static_cast<size_t>(part)].push_back(f.id.value);
          std::string tags;
          for (const std::string& t : f.tags) tags += t + ",";
          facts[f.id.value] = f.city + "|" + tags;
        },
        [&](int part) { ++done[static_cast<size_t>(part)]; });
    EXPECT_TRUE(generation.has_value());
    for (int part = 0; part < parts; ++part) {
      EXPECT_EQ(done[static_cast<size_t>(part)], 1) << "part " << part << " of " << parts;
      const std::vector<int64_t>& ids = seen[static_cast<size_t>(part)];
      EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
      for (int64_t id : ids) EXPECT_EQ(id / store::kFactBlockIds % parts, part) << id;
    }
    return facts;
  };
  const auto whole = scan(1);
  ASSERT_EQ(whole.size(), static_cast<size_t>(kPeople) - erased.size());
  for (int64_t id : erased) EXPECT_EQ(whole.count(id), 0u);
  EXPECT_EQ(whole.at(1), "上海|t,");
  EXPECT_EQ(whole.at(kPeople), "杭州|");
  EXPECT_EQ(scan(2), whole);
  EXPECT_EQ(scan(3), whole);
  EXPECT_EQ(scan(5), whole);  // more parts than blocks: one part reads nothing

  auto refused = st.scan_customer_facts(ws_, 0, false, 0, [](int, const store::CustomerFacts&) {}, [](int) {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace siyu::index
