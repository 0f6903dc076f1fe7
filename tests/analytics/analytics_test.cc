// The analytics engine against independent evaluations: SQL over the SQLite store for sales
// and acquisition, plain loops over the same facts for funnels, retention, layers and RFM,
// and for the lifetime-value models the paper's formulas, published fits on CDNOW and the
// recovery of known parameters from simulated customers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "analytics/acquisition.h"
#include "analytics/funnel.h"
#include "analytics/layers.h"
#include "analytics/ltv.h"
#include "analytics/parallel.h"
#include "analytics/retention.h"
#include "analytics/rfm_grid.h"
#include "analytics/sales.h"
#include "core/time_format.h"
#include "index/registry.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::analytics {
namespace {

constexpr uint32_t kDay = 86400;
constexpr uint32_t kStart = 1'700'000'000;  // 2023-11-14, epoch seconds
constexpr int kOffset = 480;

/// 32-bit random numbers.
class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  uint32_t operator()() { return static_cast<uint32_t>(g_()); }
  using result_type = uint32_t;
  static constexpr uint32_t min() { return 0; }
  static constexpr uint32_t max() { return UINT32_MAX; }

 private:
  std::mt19937 g_;
};

SalesQuery sales_query(Period p, Grain g = Grain::kDay, Dimension by = Dimension::kNone,
                       int repurchase_days = 30) {
  SalesQuery q;
  q.period = p;
  q.grain = g;
  q.by = by;
  q.repurchase_days = repurchase_days;
  return q;
}

/// A random workspace written through the store, so SQL can check the engine's figures.
class StoreData : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = siyu::testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "a", "A", "Asia/Shanghai", 0})->id;
    Rng rng(7);
    std::vector<std::pair<store::Customer, std::vector<store::Identity>>> batch;
    for (int i = 0; i < 400; ++i) {
      store::Customer c;
      c.workspace = ws_;
      c.created_at = ms(kStart + rng() % (80 * kDay));
      c.updated_at = c.created_at;
      if (rng() % 4 != 0) c.channel = ChannelId(1 + rng() % 3);
      c.city = std::vector<std::string>{"上海", "北京", ""}[rng() % 3];
      c.campaign = rng() % 2 ? "双十一" : "";
      batch.push_back({c, {}});
    }
    ids_ = *store_->create_customers(ws_, batch);
    const char* types[] = {"view", "add_to_cart", "login", "invite", "add_friend"};
    std::vector<store::PendingEvent> events;
    for (int i = 0; i < 6000; ++i) {
      store::PendingEvent p;
      p.customer = ids_[rng() % ids_.size()];
      p.event.event_id = "e" + std::to_string(i);
      p.event.type = types[rng() % 5];
      p.event.ts = ms(kStart + rng() % (90 * kDay)) + static_cast<EpochMs>(rng() % 1000);
      p.event.channel = std::vector<std::string>{"c1", "c2", ""}[rng() % 3];
      p.event.content = std::vector<std::string>{"话术A", "话术B", ""}[rng() % 3];
      events.push_back(std::move(p));
    }
    ASSERT_TRUE(store_->ingest_events(ws_, events, ms(kStart)).has_value());
    std::vector<store::PendingOrder> orders;
    for (int i = 0; i < 1500; ++i) {
      store::PendingOrder p;
      p.guest = rng() % 10 == 0;
      if (!p.guest) p.customer = ids_[rng() % ids_.size()];
      store::Order& o = p.order;
      o.order_id = "o" + std::to_string(i);
      o.ordered_at = ms(kStart + rng() % (90 * kDay)) + static_cast<EpochMs>(rng() % 1000);
      o.amount = 100 + static_cast<int64_t>(rng() % 50'000);
      o.store = std::vector<std::string>{"徐汇店", "静安店", ""}[rng() % 3];
      o.status = "created";
      if (rng() % 5 != 0) {
        o.status = "paid";
        o.paid_at = o.ordered_at + static_cast<EpochMs>(rng() % 7200'000);
        if (rng() % 6 == 0) {
          o.status = "refunded";
          o.refund_amount = rng() % 2 ? o.amount : o.amount / 3;
          o.refunded_at = *o.paid_at + static_cast<EpochMs>(rng() % (5 * kDay)) * 1000;
        }
      }
      orders.push_back(std::move(p));
    }
    auto results = store_->upsert_orders(ws_, orders, ms(kStart));
    ASSERT_TRUE(results.has_value());
    for (const auto& r : *results) ASSERT_TRUE(r.status.is_ok()) << r.status.message();
    ASSERT_TRUE(store_->erase_customer(ws_, ids_[3], ms(kStart)).is_ok());
    data_ = *load_dataset(*store_, ws_, kOffset, {});
    ASSERT_EQ(sqlite3_open_v2((dir_.str() + "/siyu.db").c_str(), &db_, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
  }
  void TearDown() override { sqlite3_close(db_); }

  static EpochMs ms(uint32_t s) { return static_cast<EpochMs>(s) * 1000; }

  /// Rows of an SQL query with every column as text; ?1 is the workspace, ?2 and ?3 the period.
  std::vector<std::vector<std::string>> sql(const std::string& q, Period p) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, q.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    sqlite3_bind_int64(s, 1, ws_.value);
    sqlite3_bind_int64(s, 2, p.from);
    sqlite3_bind_int64(s, 3, p.to);
    std::vector<std::vector<std::string>> rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const auto* t = sqlite3_column_text(s, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return rows;
  }
  int64_t sql_int(const std::string& q, Period p) {
    auto rows = sql(q, p);
    return rows.empty() || rows[0][0].empty() ? 0 : std::stoll(rows[0][0]);
  }

  siyu::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  WorkspaceId ws_;
  std::vector<CustomerId> ids_;
  Dataset data_;
  sqlite3* db_ = nullptr;
};

// Live customers, as the engine counts them.
constexpr const char* kLive =
    "(SELECT id FROM customers WHERE workspace_id=?1 AND merged_into IS NULL AND erased_at IS NULL)";

TEST_F(StoreData, SalesByDayEqualSqlOverTheStore) {
  // Split in parts as a large workspace is (the repurchase test runs in one part).
  min_customers_to_split = 1;
  const Period p{kStart + 10 * kDay, kStart + 70 * kDay};
  const int32_t today = data_.day(kStart + 90 * kDay);
  const SalesReport r = sales(data_, sales_query(p), CustomerMask::all(), today);
  const std::string buyer = std::string("CASE WHEN customer_id IN ") + kLive + " THEN customer_id END";
  const std::string paid = " FROM orders WHERE workspace_id=?1 AND paid_at>=?2*1000 AND paid_at<?3*1000";
  EXPECT_EQ(r.total.totals.gmv, sql_int("SELECT sum(amount)" + paid, p));
  EXPECT_EQ(r.total.totals.orders, sql_int("SELECT count(*)" + paid, p));
  EXPECT_EQ(r.total.totals.buyers, sql_int("SELECT count(DISTINCT " + buyer + ")" + paid, p));
  EXPECT_EQ(r.total.totals.refund_amount,
            sql_int("SELECT sum(refund_amount) FROM orders WHERE workspace_id=?1 AND refund_amount>0 "
                    "AND refunded_at>=?2*1000 AND refunded_at<?3*1000", p));
  ASSERT_GT(r.total.totals.gmv, 0);
  // Day by day.
  std::map<std::string, std::vector<std::string>> days;
  for (auto& row : sql("SELECT date((paid_at/1000+28800), 'unixepoch'), sum(amount), count(*), "
                       "count(DISTINCT " + buyer + ")" + paid + " GROUP BY 1", p)) {
    days[row[0]] = row;
  }
  ASSERT_EQ(r.total.points.size(), static_cast<size_t>(data_.day(p.to - 1) - data_.day(p.from) + 1));
  for (const SalesPoint& pt : r.total.points) {
    auto it = days.find(pt.period);
    if (it == days.end()) {
      EXPECT_EQ(pt.figures.orders, 0) << pt.period;
      continue;
    }
    EXPECT_EQ(pt.figures.gmv, std::stoll(it->second[1])) << pt.period;
    EXPECT_EQ(pt.figures.orders, std::stoll(it->second[2])) << pt.period;
    EXPECT_EQ(pt.figures.buyers, std::stoll(it->second[3])) << pt.period;
  }
  // Visitors and conversion, also over short periods most customers' events fall before,
  // after or around.
  const std::string visitors = std::string(" FROM events WHERE workspace_id=?1 AND ts>=?2*1000 AND ts<?3*1000 AND customer_id IN ") + kLive;
  for (const Period v : {p, Period{kStart, kStart + kDay}, Period{kStart + 40 * kDay, kStart + 41 * kDay},
                         Period{kStart + 89 * kDay, kStart + 95 * kDay}}) {
    const SalesReport in_v = sales(data_, sales_query(v), CustomerMask::all(), today);
    EXPECT_EQ(in_v.total.visitors, sql_int("SELECT count(DISTINCT customer_id)" + visitors, v));
    EXPECT_EQ(in_v.total.converted,
              sql_int("SELECT count(DISTINCT customer_id)" + visitors +
                      " AND customer_id IN (SELECT customer_id" + paid + ")", v));
  }
  min_customers_to_split = 200'000;
}

TEST_F(StoreData, SalesByChannelAndMonthEqualSql) {
  const Period p{kStart, kStart + 90 * kDay};
  min_customers_to_split = 1;
  const SalesReport r = sales(data_, sales_query(p, Grain::kMonth, Dimension::kChannel),
                              CustomerMask::all(), 0);
  min_customers_to_split = 200'000;
  std::map<std::string, int64_t> gmv;
  for (auto& row : sql(std::string("SELECT coalesce(c.channel_id,''), sum(o.amount) FROM orders o LEFT JOIN ") +
                           "customers c ON c.workspace_id=o.workspace_id AND c.id=o.customer_id AND "
                           "c.id IN " + kLive + " WHERE o.workspace_id=?1 AND o.paid_at>=?2*1000 AND "
                           "o.paid_at<?3*1000 GROUP BY 1", p)) {
    gmv[row[0]] = std::stoll(row[1]);
  }
  ASSERT_EQ(r.groups.size(), gmv.size());
  for (const SalesGroup& g : r.groups) {
    EXPECT_EQ(g.totals.gmv, gmv[g.key]) << g.key;
    int64_t points = 0;
    for (const SalesPoint& pt : g.points) points += pt.figures.gmv;
    EXPECT_EQ(points, g.totals.gmv);
  }
  EXPECT_EQ(r.total.points.front().period, "2023-11");
}

TEST_F(StoreData, RepurchaseEqualsAPlainLoopOverTheOrders) {
  const Period p{kStart + 5 * kDay, kStart + 50 * kDay};
  const SalesReport r = sales(data_, sales_query(p, Grain::kDay, Dimension::kNone, 14), CustomerMask::all(), 0);
  std::map<int64_t, std::vector<int64_t>> paid;  // customer → paid seconds
  for (auto& row : sql(std::string("SELECT customer_id, paid_at/1000 FROM orders WHERE workspace_id=?1 AND "
                       "paid_at IS NOT NULL AND customer_id IN ") + kLive, p)) {
    paid[std::stoll(row[0])].push_back(std::stoll(row[1]));
  }
  int64_t first_buyers = 0, repeaters = 0;
  for (auto& [c, times] : paid) {
    std::sort(times.begin(), times.end());
    auto first = std::find_if(times.begin(), times.end(), [&](int64_t t) { return t >= p.from && t < p.to; });
    if (first == times.end()) continue;
    ++first_buyers;
    auto next = std::next(first);
    if (next != times.end() && *next - *first <= 14 * kDay) ++repeaters;
  }
  EXPECT_EQ(r.total.first_buyers, first_buyers);
  EXPECT_EQ(r.total.repeat_buyers, repeaters);
  EXPECT_GT(repeaters, 0);
}

TEST_F(StoreData, AcquisitionEqualsSql) {
  const Period p{kStart + 20 * kDay, kStart + 60 * kDay};
  AcquisitionQuery q;
  q.period = p;
  q.by = Dimension::kChannel;
  q.channel_codes = {{"c1", "1"}, {"c2", "2"}};
  const AcquisitionReport r = acquisition(data_, q, CustomerMask::all());
  std::map<std::string, int64_t> fresh, invites;
  for (auto& row : sql(std::string("SELECT coalesce(channel_id,''), count(*) FROM customers WHERE id IN ") + kLive +
                       " AND workspace_id=?1 AND created_at>=?2*1000 AND created_at<?3*1000 GROUP BY 1", p)) {
    fresh[row[0]] = std::stoll(row[1]);
  }
  for (auto& row : sql(std::string("SELECT CASE channel WHEN 'c1' THEN '1' WHEN 'c2' THEN '2' ELSE coalesce(channel,'') END, "
                       "count(*) FROM events WHERE workspace_id=?1 AND type='invite' AND ts>=?2*1000 AND ts<?3*1000 AND customer_id IN ") +
                       kLive + " GROUP BY 1", p)) {
    invites[row[0]] = std::stoll(row[1]);
  }
  for (const AcquisitionRow& row : r.rows) {
    EXPECT_EQ(row.new_customers, fresh[row.key]) << row.key;
    EXPECT_EQ(row.invitations, invites[row.key]) << row.key;
  }
  EXPECT_EQ(r.total.new_customers,
            sql_int(std::string("SELECT count(*) FROM customers WHERE id IN ") + kLive +
                    " AND workspace_id=?1 AND created_at>=?2*1000 AND created_at<?3*1000", p));
  EXPECT_EQ(r.total.revenue,
            sql_int(std::string("SELECT sum(o.amount-o.refund_amount) FROM orders o JOIN customers c ON "
                    "c.workspace_id=o.workspace_id AND c.id=o.customer_id WHERE o.workspace_id=?1 AND c.id IN ") +
                    kLive + " AND c.created_at>=?2*1000 AND c.created_at<?3*1000 AND o.paid_at IS NOT NULL "
                    "AND o.paid_at/1000>=c.created_at/1000", p));
}

TEST_F(StoreData, RfmGridUsesTheIndexScores) {
  ManualClock clock(ms(kStart + 91 * kDay));
  index::IndexRegistry registry(*store_, clock);
  const index::CustomerIndex* ix = *registry.get(ws_);
  std::map<std::pair<int, int>, int64_t> expected;
  ix->read([&](const index::IndexView& v) {
    const auto& scores = v.rfm();
    for (uint32_t c : v.buyers()) expected[{scores[c].r, scores[c].f}] += 1;
    return 0;
  });
  const RfmGrid g = rfm_grid(data_, CustomerMask::all());
  int64_t buyers = 0;
  for (const RfmGridCell& cell : g.cells) {
    EXPECT_EQ(cell.customers, expected[std::pair(cell.r, cell.f)]) << cell.r << "," << cell.f;
    buyers += cell.customers;
  }
  EXPECT_EQ(buyers, g.buyers);
  EXPECT_GT(g.buyers, 100);
}

// ------------------------------------------------------------------ built directly

/// A dataset of random events for `customers` customers of types 1..types.
Dataset random_events(Rng& rng, uint32_t customers, int types, int per_customer) {
  DatasetBuilder b(kOffset, {"sku"});
  for (uint32_t c = 1; c <= customers; ++c) {
    store::CustomerProfile p;
    p.id = CustomerId(c);
    p.created_at = static_cast<EpochMs>(kStart) * 1000;
    p.layer = c % 2 ? "fan" : "member";
    b.customer(p);
    const int n = static_cast<int>(rng() % static_cast<uint32_t>(per_customer));
    for (int i = 0; i < n; ++i) {
      store::EventFact e;
      e.customer = CustomerId(c);
      e.ts = static_cast<EpochMs>(kStart + rng() % (20 * kDay)) * 1000;
      const std::string type = "t" + std::to_string(1 + rng() % static_cast<uint32_t>(types));
      e.type = type;
      const std::string props = rng() % 2 ? R"({"sku":"x"})" : R"({"sku":"y"})";
      e.properties_json = props;
      b.event(e);
    }
  }
  return b.finish();
}

/// Does step `k` match event `e` (type "tN", optional sku filter)?
struct RefStep {
  uint32_t type;
  int sku;  // -1: any, else the attribute set holding {"sku": "x"} or "y"
};

bool ref_matches(const Dataset& d, const RefStep& s, const EventRow& e) {
  if (e.type != s.type) return false;
  if (s.sku < 0) return true;
  const auto& props = d.attrs[e.attrs].properties;
  return !props.empty() && props[0].second == (s.sku == 0 ? "x" : "y");
}

/// The furthest step and the seconds to each step by the definitions in funnel.h, by
/// exhaustive search over chains.
std::pair<size_t, std::vector<uint32_t>> ref_reach(const Dataset& d, std::span<const EventRow> ev,
                                                   const std::vector<RefStep>& steps,
                                                   const FunnelQuery& q) {
  const size_t n = steps.size();
  std::vector<uint32_t> seconds(n, 0);
  size_t level = 0;
  if (q.order == FunnelOrder::kStrict) {
    // chain(i0, k, x): can a chain from entry i0 reach step k exactly at event x?
    std::function<bool(size_t, size_t, size_t)> chain = [&](size_t i0, size_t k, size_t x) {
      if (!ref_matches(d, steps[k], ev[x]) || ev[x].t - ev[i0].t > q.window_seconds) return false;
      if (k == 0) return x == i0 && q.period.contains(ev[x].t);
      for (size_t y = i0; y < x; ++y) {
        if (chain(i0, k - 1, y)) return true;
      }
      return false;
    };
    for (size_t k = 0; k < n; ++k) {
      bool found = false;
      for (size_t x = 0; x < ev.size() && !found; ++x) {
        for (size_t i0 = x + 1; i0-- > 0;) {  // latest entry first
          if (chain(i0, k, x)) {
            found = true;
            seconds[k] = ev[x].t - ev[i0].t;
            break;
          }
        }
      }
      if (!found) break;
      level = k + 1;
    }
    seconds[0] = 0;
    return {level, seconds};
  }
  for (size_t i0 = 0; i0 < ev.size(); ++i0) {
    if (!ref_matches(d, steps[0], ev[i0]) || !q.period.contains(ev[i0].t)) continue;
    level = std::max<size_t>(level, 1);
    uint32_t latest = 0;
    for (size_t k = 1; k < n; ++k) {
      size_t j = i0 + 1;
      while (j < ev.size() && !ref_matches(d, steps[k], ev[j])) ++j;
      if (j == ev.size() || ev[j].t - ev[i0].t > q.window_seconds) break;
      latest = std::max(latest, ev[j].t - ev[i0].t);
      if (k + 1 > level) {
        level = k + 1;
        seconds[k] = latest;
      }
    }
  }
  return {level, seconds};
}

TEST(FunnelTest, EqualsExhaustiveSearchOnRandomData) {
  Rng rng(11);
  const Dataset d = random_events(rng, 300, 2, 14);
  for (int trial = 0; trial < 120; ++trial) {
    // Every other trial splits the customers in parts, as large workspaces are.
    min_customers_to_split = trial % 2 ? 1 : 200'000;
    FunnelQuery q;
    q.period = {kStart + static_cast<uint32_t>(rng() % 5) * kDay, kStart + 15 * kDay};
    q.window_seconds = (1 + static_cast<uint32_t>(rng() % 6)) * kDay;
    q.order = trial % 2 ? FunnelOrder::kStrict : FunnelOrder::kAnyOrder;
    std::vector<RefStep> ref;
    // 2 to 6 steps; every tenth trial 9 or 10, as many as a funnel has.
    const size_t n = trial % 10 == 9 ? 9 + (trial / 10) % 2 : 2 + rng() % 5;
    for (size_t k = 0; k < n; ++k) {
      FunnelStep s;
      s.type = "t" + std::to_string(1 + rng() % 2);
      int sku = -1;
      if (rng() % 3 == 0) {
        sku = static_cast<int>(rng() % 2);
        s.filters.push_back({"props.sku", {sku == 0 ? "x" : "y"}});
      }
      q.steps.push_back(s);
      ref.push_back({*d.event_types.find(s.type), sku});
    }
    std::vector<int64_t> reached(n, 0);
    std::vector<std::vector<uint32_t>> seconds(n);
    for (uint32_t c = 1; c < d.size(); ++c) {
      auto [level, secs] = ref_reach(d, d.events.of(c), ref, q);
      for (size_t k = 0; k < level; ++k) {
        reached[k] += 1;
        if (k > 0) seconds[k].push_back(secs[k]);
      }
    }
    const FunnelReport r = funnel(d, q, CustomerMask::all(), 0);
    for (size_t k = 0; k < n; ++k) {
      EXPECT_EQ(r.total.steps[k].customers, reached[k]) << "trial " << trial << " step " << k;
      double sum = 0;
      for (uint32_t s : seconds[k]) sum += s;
      if (!seconds[k].empty()) {
        EXPECT_NEAR(r.total.steps[k].mean_seconds, sum / static_cast<double>(seconds[k].size()), 1e-6)
            << "trial " << trial << " step " << k;
        auto sorted = seconds[k];
        std::sort(sorted.begin(), sorted.end());
        const size_t h = sorted.size() / 2;
        const double median = sorted.size() % 2 ? sorted[h] : (static_cast<double>(sorted[h - 1]) + sorted[h]) / 2;
        EXPECT_EQ(r.total.steps[k].median_seconds, median) << "trial " << trial << " step " << k;
      }
    }
    // Drop-outs at each step are those who reached it and not the next.
    const auto dropped = funnel_dropouts(d, q, CustomerMask::all(), 1);
    EXPECT_EQ(static_cast<int64_t>(dropped.size()), reached[0] - reached[1]);
  }
  min_customers_to_split = 200'000;
}

TEST(FunnelTest, BreaksDownByLayerAndHonoursTheWindow) {
  DatasetBuilder b(kOffset, {});
  for (uint32_t c = 1; c <= 3; ++c) {
    store::CustomerProfile p;
    p.id = CustomerId(c);
    p.layer = c == 3 ? "member" : "fan";
    b.customer(p);
  }
  const auto ev = [&](uint32_t c, const char* type, uint32_t t) {
    store::EventFact e;
    e.customer = CustomerId(c);
    e.type = type;
    e.ts = static_cast<EpochMs>(t) * 1000;
    b.event(e);
  };
  ev(1, "view", kStart), ev(1, "cart", kStart + 100), ev(1, "pay", kStart + 200);
  ev(2, "view", kStart), ev(2, "pay", kStart + 50), ev(2, "cart", kStart + 8 * kDay);  // cart too late
  ev(3, "cart", kStart), ev(3, "view", kStart + 10), ev(3, "pay", kStart + 20);        // out of order
  const Dataset d = b.finish();
  FunnelQuery q;
  q.period = {kStart, kStart + kDay};
  q.steps = {{"view", {}}, {"cart", {}}, {"pay", {}}};
  q.by = Dimension::kLayer;
  FunnelReport strict = funnel(d, q, CustomerMask::all(), 0);
  EXPECT_EQ(strict.total.steps[0].customers, 3);
  EXPECT_EQ(strict.total.steps[1].customers, 1);
  EXPECT_EQ(strict.total.steps[2].customers, 1);
  EXPECT_EQ(strict.total.steps[2].median_seconds, 200);
  ASSERT_EQ(strict.groups.size(), 2u);
  EXPECT_EQ(strict.groups[0].key, "fan");
  EXPECT_EQ(strict.groups[0].steps[1].customers, 1);
  q.order = FunnelOrder::kAnyOrder;
  FunnelReport any = funnel(d, q, CustomerMask::all(), 0);
  EXPECT_EQ(any.total.steps[1].customers, 1);  // 3's cart came before the entry
  EXPECT_EQ(funnel_dropouts(d, q, CustomerMask::all(), 1), (std::vector<uint32_t>{2, 3}));
}

TEST(FunnelTest, TenStepsReachTheirEnd) {
  DatasetBuilder b(kOffset, {});
  for (uint32_t c = 1; c <= 3; ++c) {
    store::CustomerProfile p;
    p.id = CustomerId(c);
    b.customer(p);
  }
  const auto ev = [&](uint32_t c, int step, uint32_t t) {
    const std::string type = "s" + std::to_string(step);
    store::EventFact e;
    e.customer = CustomerId(c);
    e.type = type;
    e.ts = static_cast<EpochMs>(t) * 1000;
    b.event(e);
  };
  for (int k = 1; k <= 10; ++k) {
    ev(1, k, kStart + 60 * static_cast<uint32_t>(k));                     // every step, a minute apart
    ev(2, k, kStart + (k == 10 ? 2 * kDay : 60 * static_cast<uint32_t>(k)));  // the last one too late
    if (k != 5) ev(3, k, kStart + 60 * static_cast<uint32_t>(k));         // no step 5
  }
  const Dataset d = b.finish();
  FunnelQuery q;
  q.period = {kStart, kStart + kDay};
  q.window_seconds = kDay;
  for (int k = 1; k <= 10; ++k) q.steps.push_back({"s" + std::to_string(k), {}});
  for (FunnelOrder order : {FunnelOrder::kStrict, FunnelOrder::kAnyOrder}) {
    q.order = order;
    const FunnelReport r = funnel(d, q, CustomerMask::all(), 0);
    const std::vector<int64_t> want = {3, 3, 3, 3, 2, 2, 2, 2, 2, 1};
    for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(r.total.steps[k].customers, want[k]) << "step " << k + 1;
    EXPECT_EQ(r.total.steps[9].median_seconds, 540);
    EXPECT_EQ(funnel_dropouts(d, q, CustomerMask::all(), 9), (std::vector<uint32_t>{2}));
  }
}

TEST(RetentionTest, EqualsAPlainLoop) {
  Rng rng(5);
  const Dataset d = random_events(rng, 400, 2, 10);
  for (auto [grain, back] : {std::pair{Grain::kWeek, "t2"}, {Grain::kDay, "t2"}, {Grain::kDay, "t1"}}) {
    min_customers_to_split = grain == Grain::kWeek ? 1 : 200'000;  // in parts, and in one
    RetentionQuery q;
    q.period = {kStart, kStart + 12 * kDay};
    q.grain = grain;
    q.first_event = "t1";
    q.return_event = back;
    q.periods = 4;
    const uint32_t now = kStart + 15 * kDay;
    const RetentionReport r = retention(d, q, CustomerMask::all(), now);
    std::map<std::string, std::pair<int64_t, std::vector<int64_t>>> expected;
    const uint32_t t1 = *d.event_types.find("t1"), t2 = *d.event_types.find(back);
    for (uint32_t c = 1; c < d.size(); ++c) {
      uint32_t first = UINT32_MAX;
      for (const EventRow& e : d.events.of(c)) {
        if (e.type == t1) first = std::min(first, e.t);
      }
      if (first == UINT32_MAX || !q.period.contains(first)) continue;
      const int32_t start = bucket_of(d.day(first), grain);
      auto& [size, returned] = expected[bucket_label(start, grain)];
      size += 1;
      returned.resize(5, 0);
      std::set<int> periods;
      for (const EventRow& e : d.events.of(c)) {
        if (e.type != t2 || e.t <= first) continue;
        int i = 0;
        int32_t b = start;
        while (next_bucket(b, grain) <= d.day(e.t)) b = next_bucket(b, grain), ++i;
        if (i <= 4) periods.insert(i);
      }
      for (int i : periods) returned[static_cast<size_t>(i)] += 1;
    }
    ASSERT_EQ(r.cohorts.size(), expected.size());
    for (const Cohort& k : r.cohorts) {
      const auto& [size, returned] = expected[k.label];
      EXPECT_EQ(k.size, size) << k.label;
      for (size_t i = 0; i < k.returned.size(); ++i) EXPECT_EQ(k.returned[i], returned[i]) << k.label << " " << i;
      // Periods after `now` have not happened: none is reported.
      const auto b = static_cast<int32_t>(days_from_civil(*parse_date(k.label)));
      size_t begun = 0;
      for (int32_t x = b; begun < 5 && x <= bucket_of(d.day(now), grain); x = next_bucket(x, grain)) ++begun;
      EXPECT_EQ(k.returned.size(), begun) << k.label;
    }
  }
  min_customers_to_split = 200'000;
}

TEST(LayerTest, CountsStepsAndTheirDuration) {
  DatasetBuilder b(kOffset, {});
  for (int64_t c : {1, 2}) {
    store::CustomerProfile p;
    p.id = CustomerId(c);
    p.created_at = static_cast<EpochMs>(kStart) * 1000;
    b.customer(p);
  }
  const auto move = [&](uint32_t c, const char* from, const char* to, uint32_t t) {
    b.layer_change({CustomerId(c), from, to, static_cast<EpochMs>(t) * 1000});
  };
  move(1, "none", "fan", kStart + kDay);
  move(1, "fan", "community", kStart + 3 * kDay);
  move(1, "community", "friend", kStart + 10 * kDay);
  move(2, "none", "fan", kStart + 2 * kDay);
  move(2, "fan", "member", kStart + 4 * kDay);
  move(2, "member", "fan", kStart + 5 * kDay);
  move(2, "fan", "community", kStart + 9 * kDay);
  const Dataset d = b.finish();
  const LayerReport r = layer_progression(d, {.period = {kStart, kStart + 14 * kDay}}, CustomerMask::all());
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].customers, 2);  // none → fan
  EXPECT_DOUBLE_EQ(r.steps[0].median_days, 1.5);
  EXPECT_EQ(r.steps[1].customers, 2);  // fan → community: 2 days, and 4 days after re-entering fan
  EXPECT_DOUBLE_EQ(r.steps[1].mean_days, 3);
  EXPECT_EQ(r.steps[2].customers, 1);
  EXPECT_DOUBLE_EQ(r.steps[2].median_days, 7);
  ASSERT_EQ(r.skips.size(), 1u);
  EXPECT_EQ(r.skips[0].to, "member");
}

// ------------------------------------------------------------------ lifetime value

TEST(LtvTest, LogLikelihoodEqualsThePapersFormula) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 200; ++i) {
    const BgNbd m{0.1 + 2 * u(rng), 0.5 + 20 * u(rng), 0.2 + 3 * u(rng), 0.5 + 5 * u(rng)};
    History h;
    h.T = 1 + 60 * u(rng);
    h.x = std::floor(8 * u(rng));
    h.t_x = h.x > 0 ? h.T * u(rng) : 0;
    const double direct = std::log(bgnbd_likelihood_direct(m, h));
    EXPECT_NEAR(bgnbd_log_likelihood(m, std::span(&h, 1)), direct, 1e-9 * std::abs(direct) + 1e-12);
  }
}

/// The CDNOW summaries shipped with the data sets.
std::vector<History> cdnow(bool with_money) {
  std::ifstream in(std::string(SIYU_DATASETS) + (with_money ? "/cdnow/cdnow_customers_summary_with_transactions.csv"
                                                            : "/cdnow/cdnow_customers_summary.csv"));
  std::vector<History> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream s(line);
    std::string id, x, tx, t, m;
    std::getline(s, id, ',');
    std::getline(s, x, ',');
    std::getline(s, tx, ',');
    std::getline(s, t, ',');
    History h{std::stod(x), std::stod(tx), std::stod(t), 0, 1};
    if (with_money && std::getline(s, m, ',')) h.m = std::stod(m);
    out.push_back(h);
  }
  return out;
}

TEST(LtvTest, FitsCdnowAsPublished) {
  // Fader, Hardie & Lee (2005), CDNOW in weeks: r 0.243, α 4.414, a 0.793, b 2.426.
  const auto hs = cdnow(false);
  ASSERT_EQ(hs.size(), 2357u);
  const BgNbd m = fit_bgnbd(hs);
  EXPECT_NEAR(m.r, 0.243, 0.0025);
  EXPECT_NEAR(m.alpha, 4.414, 0.045);
  EXPECT_NEAR(m.a, 0.793, 0.008);
  EXPECT_NEAR(m.b, 2.426, 0.025);
  EXPECT_NEAR(bgnbd_log_likelihood(m, hs), -9582.4, 0.5);
  // Gamma-Gamma on the 946 repeat buyers: p 6.25, q 3.74, γ 15.44 (lifetimes' documentation).
  const GammaGamma g = fit_gamma_gamma(cdnow(true));
  EXPECT_NEAR(g.p, 6.25, 0.07);
  EXPECT_NEAR(g.q, 3.74, 0.04);
  EXPECT_NEAR(g.gamma, 15.44, 0.16);
  // The paper's customer with x = 2, t_x = 30.43, T = 38.86: 1.226 purchases expected in the
  // next 39 weeks; P(alive) by equation (11) with the published parameters is 0.7266.
  const History one{2, 30.43, 38.86, 0, 1};
  EXPECT_NEAR(p_alive(m, one), 0.7266, 0.002);
  EXPECT_NEAR(expected_purchases(m, one, 39), 1.226, 0.005);
}

TEST(LtvTest, RecoversKnownParametersFromSimulatedCustomers) {
  // 40,000 customers drawn from known parameters; each estimate within 10% of the truth,
  // and the fit at least as likely as the truth.
  const BgNbd truth{0.6, 30.0, 0.8, 2.5};
  const GammaGamma spend{6.0, 4.0, 15.0};
  std::mt19937_64 rng(2024);
  std::vector<CustomerHistory> customers;
  for (uint32_t i = 0; i < 40'000; ++i) {
    const double lambda = std::gamma_distribution<double>(truth.r, 1 / truth.alpha)(rng);
    const double a = std::gamma_distribution<double>(truth.a, 1)(rng);
    const double b = std::gamma_distribution<double>(truth.b, 1)(rng);
    const double p = a / (a + b);
    const double nu = std::gamma_distribution<double>(spend.q, 1 / spend.gamma)(rng);
    const double T = 200 + static_cast<double>(rng() % 165);
    History h;
    h.T = T;
    double t = 0, total = 0;
    while (true) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > T) break;
      h.x += 1;
      h.t_x = t;
      total += std::gamma_distribution<double>(spend.p, 1 / nu)(rng);
      if (std::uniform_real_distribution<double>(0, 1)(rng) < p) break;
    }
    h.m = h.x > 0 ? total / h.x : 0;
    customers.push_back({i, h});
  }
  const LtvModel m = fit_ltv(customers);
  EXPECT_NEAR(m.bgnbd.r, truth.r, 0.1 * truth.r);
  EXPECT_NEAR(m.bgnbd.alpha, truth.alpha, 0.1 * truth.alpha);
  EXPECT_NEAR(m.bgnbd.a, truth.a, 0.1 * truth.a);
  EXPECT_NEAR(m.bgnbd.b, truth.b, 0.1 * truth.b);
  std::vector<History> hs;
  for (const auto& c : customers) hs.push_back(c.h);
  EXPECT_GE(m.bgnbd_log_likelihood, bgnbd_log_likelihood(truth, hs) - 1e-6);
  EXPECT_NEAR(m.gamma_gamma.p, spend.p, 0.1 * spend.p);
  EXPECT_NEAR(m.gamma_gamma.q, spend.q, 0.1 * spend.q);
  EXPECT_NEAR(m.gamma_gamma.gamma, spend.gamma, 0.1 * spend.gamma);
}

TEST(AbTest, MatchesTheTextbookFigures) {
  const AbResult r = ab_test({"A", 1000, 100}, {"B", 1000, 130});
  EXPECT_NEAR(r.z, -2.1027, 1e-3);
  EXPECT_NEAR(r.p_value, 0.0355, 1e-3);
  EXPECT_TRUE(r.significant);
  EXPECT_EQ(r.required_per_arm, 1774);
  EXPECT_EQ(r.still_needed, 774);
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 1e-6);
  const AbResult same = ab_test({"A", 50, 5}, {"B", 50, 5});
  EXPECT_FALSE(same.significant);
  EXPECT_EQ(same.required_per_arm, 0);
}

}  // namespace
}  // namespace siyu::analytics
