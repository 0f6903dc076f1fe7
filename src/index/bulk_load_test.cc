// A bulk load on its own thread builds the same index as customers upserted one by one, events
// added in pieces index as the same events upserted at once, and events summed by (type, day)
// match a plain map of cells.
#include "index/bulk_load.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace siyu::index {
namespace {

const char* const kTypes[] = {"view", "login", "order_paid", "share"};
const char* const kCities[] = {"上海", "杭州", "成都", ""};

IndexedCustomer random_customer(uint32_t id, std::mt19937& rng) {
  IndexedCustomer c;
  c.id = id;
  c.layer = rng() % 2 ? "member" : "fan";
  c.city = kCities[rng() % 4];
  c.created_at = 1'700'000'000'000 + static_cast<EpochMs>(rng() % 400) * 86'400'000;
  if (rng() % 3 == 0) c.groups = {"g" + std::to_string(rng() % 5)};
  if (rng() % 2) c.custom_text.emplace_back("custom.level", rng() % 2 ? "gold" : "silver");
  if (rng() % 2) c.custom_numbers.emplace_back("custom.age", 18 + rng() % 40);
  std::vector<EventOnDay> events;
  for (uint32_t e = 0, n = static_cast<uint32_t>(rng() % 30); e < n; ++e) {
    events.push_back({kTypes[rng() % 4], 19'600 + static_cast<int32_t>(rng() % 60),
                      static_cast<int64_t>(rng() % 5000)});
  }
  c.activity = sum_by_type_and_day(std::move(events));
  c.purchases.orders = static_cast<int32_t>(rng() % 3);
  c.purchases.spend = c.purchases.orders * 1000;
  return c;
}

/// Everything a query can see of an index, written out in a fixed order.
std::string contents(const CustomerIndex& ix) {
  return ix.read([](const IndexView& v) {
    std::ostringstream out;
    const auto bitmap = [&](const Bitmap& b) {
      out << '[';
      for (uint32_t id : b) out << id << ' ';
      out << "] ";
    };
    bitmap(v.live());
    bitmap(v.buyers());
    v.each_tag([&](const std::string& name, const Bitmap& b) {
      if (!b.isEmpty()) out << name, bitmap(b);
    });
    for (const char* attr : {"layer", "city", "custom.level", "group"}) {
      if (const auto* values = v.values(attr)) {
        for (const auto& [value, b] : *values) {
          if (!b.isEmpty()) out << attr << '=' << value, bitmap(b);
        }
      }
    }
    if (const NumberColumn* age = v.numbers("custom.age")) {
      bitmap(age->present());
      for (uint32_t id : age->present()) out << age->at(id) << ' ';
    }
    for (const auto& [day, b] : v.created_days()) out << day, bitmap(b);
    std::map<uint32_t, std::string> names;
    for (const char* type : kTypes) {
      if (const auto t = v.event_type(type)) names[*t] = type;
    }
    for (uint32_t id : v.live()) {
      std::map<std::pair<std::string, uint32_t>, std::pair<int64_t, int64_t>> sums;
      for (const ActivityCell& cell : v.activity(id)) {
        auto& [count, amount] = sums[{names.at(cell.type), cell.day}];
        count += cell.count;
        amount += cell.amount;
      }
      out << id << '@' << v.last_active(id) << ':';
      for (const auto& [at, sum] : sums) {
        out << at.first << at.second << '=' << sum.first << '/' << sum.second << ' ';
      }
    }
    for (const char* type : kTypes) {
      const auto t = v.event_type(type);
      if (!t) continue;
      for (const LevelBuckets* levels : {&v.day_levels(*t), &v.week_levels(*t)}) {
        for (const auto& [key, bucket] : *levels) {
          out << type << key;
          for (const Bitmap& b : bucket) bitmap(b);
        }
      }
    }
    return out.str();
  });
}

using TaggedCustomers = std::vector<std::pair<IndexedCustomer, std::vector<std::string>>>;

/// Customers with gaps in their ids, up to `last_id`, some tagged.
TaggedCustomers random_customers(uint32_t last_id, uint32_t max_gap, std::mt19937& rng) {
  TaggedCustomers customers;
  for (uint32_t id = 1; id < last_id; id += 1 + static_cast<uint32_t>(rng() % max_gap)) {
    std::vector<std::string> tags;
    if (rng() % 2) tags.push_back("vip");
    if (rng() % 5 == 0) tags.push_back("t" + std::to_string(rng() % 7));
    customers.emplace_back(random_customer(id, rng), tags);
  }
  return customers;
}

std::string upserted_one_by_one(const TaggedCustomers& customers) {
  CustomerIndex ix;
  for (const auto& [c, tags] : customers) {
    ix.upsert(c);
    ix.set_tags(c.id, tags);
  }
  return contents(ix);
}

TEST(BulkLoadTest, BuildsWhatUpsertsOneByOneBuild) {
  std::mt19937 rng(11);
  // Across three 65,536-id blocks and several of the load's batches.
  const TaggedCustomers customers = random_customers(150'000, 60, rng);
  ASSERT_GT(customers.size(), 4'000u);
  CustomerIndex loaded;
  {
    BulkLoad load(loaded);
    for (const auto& [c, tags] : customers) load.add(0, c, tags);
    load.finish();
  }
  EXPECT_EQ(loaded.size(), customers.size());
  EXPECT_EQ(contents(loaded), upserted_one_by_one(customers));
}

TEST(BulkLoadTest, LanesOnTheirOwnThreadsBuildTheSameIndex) {
  std::mt19937 rng(17);
  // Ten blocks; with three lanes one block in three goes to each, and with eleven lanes one
  // lane gets nothing.
  const TaggedCustomers customers = random_customers(10 * 65'536, 400, rng);
  const std::string want = upserted_one_by_one(customers);
  for (int lanes : {2, 3, 11}) {
    CustomerIndex loaded;
    {
      BulkLoad load(loaded, lanes);
      std::vector<std::thread> readers;
      for (int lane = 0; lane < lanes; ++lane) {
        readers.emplace_back([&, lane] {
          for (const auto& [c, tags] : customers) {
            if (static_cast<int>(c.id / 65'536 % static_cast<uint32_t>(lanes)) == lane) load.add(lane, c, tags);
          }
          load.done(lane);
        });
      }
      for (std::thread& t : readers) t.join();
      load.finish();
    }
    EXPECT_EQ(loaded.size(), customers.size()) << lanes << " lanes";
    EXPECT_EQ(contents(loaded), want) << lanes << " lanes";
  }
}

TEST(BulkLoadTest, ALaneWithNothingLeftDoesNotHoldUpTheOthers) {
  // Lane 1 owns block 1, which is empty, and nothing after it; lane 0 owns blocks 0, 2 and 4,
  // more customers than it may queue while the builder waits at block 1.
  CustomerIndex ix;
  uint64_t added = 0;
  {
    BulkLoad load(ix, 2);
    std::thread empty_lane([&] { load.done(1); });
    for (uint32_t block : {0U, 2U, 4U}) {
      for (uint32_t id = std::max(1U, block * 65'536); id < (block + 1) * 65'536; ++id, ++added) {
        IndexedCustomer c;
        c.id = id;
        load.add(0, std::move(c), {});
      }
    }
    load.done(0);
    empty_lane.join();
    load.finish();
  }
  EXPECT_EQ(ix.size(), added);
}

TEST(BulkLoadTest, EndsTheLoadWhenTheReaderStopsEarly) {
  std::mt19937 rng(3);
  CustomerIndex ix;
  {
    BulkLoad load(ix, 2);
    for (uint32_t id = 1; id <= 2'500; ++id) load.add(0, random_customer(id, rng), {});
  }  // no finish(): as when reading the store fails half way
  EXPECT_EQ(ix.size(), 2'500u);
}

TEST(AddActivityTest, EventsAddedInPiecesIndexAsTheSameEventsUpsertedAtOnce) {
  std::mt19937 rng(23);
  CustomerIndex whole, pieces;
  for (uint32_t id = 1; id <= 300; ++id) {
    IndexedCustomer c = random_customer(id, rng);
    // Pieces of up to 100 events and amounts up to 2^32 cents: a day may need several cells.
    std::map<std::pair<std::string, int32_t>, std::pair<uint32_t, int64_t>> sums;
    std::vector<std::vector<DayActivity>> added(1 + rng() % 4);
    for (auto& piece : added) {
      for (uint32_t n = static_cast<uint32_t>(rng() % 6); n > 0; --n) {
        DayActivity a{kTypes[rng() % 4], 19'640 + static_cast<int32_t>(rng() % 30),
                      1 + static_cast<uint32_t>(rng() % 100),
                      static_cast<int64_t>(rng() % 3 == 0 ? rng() : rng() % 5000)};
        auto& [count, amount] = sums[{a.type, a.day}];
        count += a.count;
        amount += a.amount;
        piece.push_back(std::move(a));
      }
    }
    pieces.upsert(c);
    for (const DayActivity& a : c.activity) {
      auto& [count, amount] = sums[{a.type, a.day}];
      count += a.count;
      amount += a.amount;
    }
    c.activity.clear();
    for (const auto& [key, sum] : sums)
      c.activity.push_back({key.first, key.second, sum.first, sum.second});
    whole.upsert(c);
    for (auto& piece : added) pieces.add_activity({{id, piece}});
  }
  EXPECT_EQ(contents(pieces), contents(whole));
}

TEST(SumByTypeAndDayTest, MatchesAMapOfCells) {
  std::mt19937 rng(5);
  for (int round = 0; round < 50; ++round) {
    std::vector<EventOnDay> events;
    std::map<std::pair<std::string, int32_t>, std::pair<uint32_t, int64_t>> want;
    for (uint32_t e = 0, n = static_cast<uint32_t>(rng() % 200); e < n; ++e) {
      const EventOnDay event{kTypes[rng() % 4], static_cast<int32_t>(rng() % 9),
                             static_cast<int64_t>(rng() % 100)};
      events.push_back(event);
      auto& [count, amount] = want[{std::string(event.type), event.day}];
      ++count;
      amount += event.amount;
    }
    const auto got = sum_by_type_and_day(events);
    ASSERT_EQ(got.size(), want.size());
    auto w = want.begin();
    for (const DayActivity& cell : got) {
      EXPECT_EQ(cell.type, w->first.first);
      EXPECT_EQ(cell.day, w->first.second);
      EXPECT_EQ(cell.count, w->second.first);
      EXPECT_EQ(cell.amount, w->second.second);
      ++w;
    }
  }
}

}  // namespace
}  // namespace siyu::index
