// Analytics at scale (issue #7): `customers` (10,000,000) customers, `events` (100,000,000)
// events and `orders` (20,000,000) orders over one year, generated with a fixed seed. Shopping
// sessions give the funnel real drop-off: a view, then add_to_cart (40%), checkout (50%) and
// order_paid (60%) minutes to days apart; logins fill the rest. Orders are skewed (a few
// customers buy often), 3% are refunded, each has one of 50 stores and 8 channels.
//
// Measured on the same data, median of `runs` (5; PostgreSQL and SQLite once when a query
// takes over 10 s):
//   funnel      view → add_to_cart → checkout → order_paid, strict order, 7-day window, the
//               whole year: customers reaching each step
//   retention   weekly cohorts by first view (40 weeks, so all 12 periods have happened),
//               returning with order_paid, 12 periods
//   gmv         GMV, orders and buyers by day and acquisition channel for the year
//   rfm         the RFM grid (R × F quintile scores of all buyers, counts and value)
//   refit       the full lifetime-value refit: purchase histories, BG/NBD and Gamma-Gamma
//               maximum-likelihood fits, and predictions for every buyer (Siyu only; the
//               databases have no equivalent)
// Siyu answers from its in-memory Dataset (built here from the generated facts; its build
// time is reported). PostgreSQL (--pg) and SQLite get compact integer tables (epoch seconds,
// small-integer codes) with indexes an analyst would add — events(customer_id, type, ts),
// orders(customer_id), orders(paid_at) — and run the SQL an experienced analyst would write
// (printed with --sql). The answers of all three are compared and must agree.
//
// usage: siyu_analytics_bench [--customers 10000000] [--events 100000000] [--orders 20000000]
//                             [--runs 5] [--dir /tmp] [--pg CONNINFO] [--no-sqlite] [--sql]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "analytics/funnel.h"
#include "analytics/ltv.h"
#include "analytics/engine.h"
#include "analytics/retention.h"
#include "analytics/rfm_grid.h"
#include "analytics/sales.h"
#include "pg.h"

using namespace siyu;
using namespace siyu::analytics;

namespace {

using Steady = std::chrono::steady_clock;
double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "analytics bench: %s\n", what.c_str());
  std::exit(1);
}

constexpr uint32_t kDay = 86400;
constexpr uint32_t kStart = 1'764'000'000;  // 2025-11-24 16:00 UTC, a Monday 00:00 in UTC+8
constexpr uint32_t kYear = 365 * kDay;
constexpr int kOffset = 480;
constexpr int kChannels = 8, kStores = 50, kCities = 300;
const char* const kTypes[] = {"", "view", "add_to_cart", "checkout", "order_paid", "login"};

struct Options {
  uint64_t customers = 10'000'000, events = 100'000'000, orders = 20'000'000;
  int runs = 5;
  std::string dir = "/tmp", pg;
  bool sqlite = true, print_sql = false;
};

/// The generated facts, compact, in the order the generator makes them (by customer).
struct Data {
  std::vector<uint32_t> created;  // by customer (index = id - 1)
  std::vector<uint8_t> channel, layer, gender;
  std::vector<uint16_t> city;
  struct Event {
    uint32_t customer, ts;
    uint8_t type, channel;
  };
  std::vector<Event> events;
  struct Order {
    uint32_t customer, ts;
    int32_t amount, refund;
    uint8_t store, channel, status;  // status 1 paid, 2 refunded
  };
  std::vector<Order> orders;
};

Data generate(const Options& o) {
  Data d;
  std::mt19937_64 rng(7);
  const auto below = [&](uint64_t n) { return static_cast<uint32_t>(rng() % n); };
  const uint64_t n = o.customers;
  d.created.resize(n);
  d.channel.resize(n);
  d.layer.resize(n);
  d.gender.resize(n);
  d.city.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    d.created[i] = kStart - 365 * kDay + below(2 * kYear);
    d.channel[i] = static_cast<uint8_t>(1 + below(kChannels));
    d.layer[i] = static_cast<uint8_t>(1 + below(4));
    d.gender[i] = static_cast<uint8_t>(below(3));
    d.city[i] = static_cast<uint16_t>(below(kCities));
  }
  // Events: sessions of view → cart → checkout → paid with drop-off, and logins.
  d.events.reserve(o.events);
  const double per_customer = static_cast<double>(o.events) / static_cast<double>(n);
  uint64_t made = 0;
  for (uint64_t i = 0; i < n && made < o.events; ++i) {
    const auto c = static_cast<uint32_t>(i + 1);
    const uint64_t left = o.events - made;
    const uint64_t want = std::min<uint64_t>(left, static_cast<uint64_t>(per_customer * (0.5 + static_cast<double>(below(1000)) / 1000.0)) + (i + 1 == n ? left : 0));
    uint64_t k = 0;
    while (k < want) {
      uint32_t t = kStart + below(kYear);
      const auto ch = static_cast<uint8_t>(1 + below(kChannels));
      if (below(10) < 3) {
        d.events.push_back({c, t, 5, ch});
        ++k;
        continue;
      }
      d.events.push_back({c, t, 1, ch});
      ++k;
      for (uint8_t step = 2; step <= 4 && k < want; ++step) {
        const uint32_t pass = step == 2 ? 40 : step == 3 ? 50 : 60;
        if (below(100) >= pass) break;
        t += 60 + below(below(4) == 0 ? 10 * kDay : 3 * 3600);  // usually hours, sometimes days
        d.events.push_back({c, t, step, ch});
        ++k;
      }
    }
    made += k;
  }
  // Orders: a fifth of customers buy; some often (skewed by a squared uniform draw).
  d.orders.reserve(o.orders);
  for (uint64_t j = 0; j < o.orders; ++j) {
    const double u = static_cast<double>(rng() % 1'000'000) / 1'000'000.0;
    const auto c = static_cast<uint32_t>(1 + static_cast<uint64_t>(u * u * static_cast<double>(n / 5)) * 5 % n);
    const int32_t amount = static_cast<int32_t>(500 + below(50000));
    const bool refunded = below(100) < 3;
    d.orders.push_back({c, kStart + below(kYear), amount, refunded ? amount : 0,
                        static_cast<uint8_t>(1 + below(kStores)), static_cast<uint8_t>(1 + below(kChannels)),
                        static_cast<uint8_t>(refunded ? 2 : 1)});
  }
  std::sort(d.orders.begin(), d.orders.end(), [](const Data::Order& a, const Data::Order& b) { return a.customer < b.customer; });
  return d;
}

Dataset build_dataset(const Data& d) {
  DatasetBuilder b(kOffset, {});
  static const std::string kLayers[] = {"none", "fan", "community", "friend", "member"};
  static const std::string kGenders[] = {"unknown", "male", "female"};
  std::vector<std::string> cities(kCities);
  for (int i = 0; i < kCities; ++i) cities[static_cast<size_t>(i)] = "city" + std::to_string(i);
  for (size_t i = 0; i < d.created.size(); ++i) {
    store::CustomerProfile p;
    p.id = CustomerId(static_cast<int64_t>(i + 1));
    p.created_at = static_cast<EpochMs>(d.created[i]) * 1000;
    p.layer = kLayers[d.layer[i]];
    p.gender = kGenders[d.gender[i]];
    p.city = cities[d.city[i]];
    p.channel = d.channel[i];
    b.customer(p);
  }
  std::vector<std::string> channels(kChannels + 1), stores(kStores + 1);
  for (int i = 1; i <= kChannels; ++i) channels[static_cast<size_t>(i)] = "ch" + std::to_string(i);
  for (int i = 1; i <= kStores; ++i) stores[static_cast<size_t>(i)] = "store" + std::to_string(i);
  for (const Data::Event& e : d.events) {
    store::EventFact f;
    f.customer = CustomerId(e.customer);
    f.ts = static_cast<EpochMs>(e.ts) * 1000;
    f.type = kTypes[e.type];
    f.channel = channels[e.channel];
    b.event(f);
  }
  for (const Data::Order& o : d.orders) {
    store::OrderFact f;
    f.customer = CustomerId(o.customer);
    f.status = o.status == 2 ? "refunded" : "paid";
    f.store = stores[o.store];
    f.channel = channels[o.channel];
    f.amount = o.amount;
    f.refund_amount = o.refund;
    f.ordered_at = static_cast<EpochMs>(o.ts) * 1000;
    f.paid_at = f.ordered_at;
    if (o.refund > 0) f.refunded_at = f.ordered_at + 3'600'000;
    b.order(f);
  }
  return b.finish();
}

// ------------------------------------------------------------------ the queries in SQL

const uint32_t kRetentionEnd = kStart + 280 * kDay;
const std::string kFrom = std::to_string(kStart), kTo = std::to_string(kStart + kYear);
const std::string kLocal = "+ 28800";  // UTC+8

std::string funnel_sql() {
  // For each entry the earliest next step inside the window: the earliest match leaves the
  // most room for the steps after it, so this finds a chain whenever one exists.
  return "WITH s1 AS (SELECT customer_id, ts AS t1 FROM events WHERE type=1 AND ts>=" + kFrom +
         " AND ts<" + kTo + "),"
         " s2 AS (SELECT s1.customer_id, s1.t1, (SELECT min(e.ts) FROM events e WHERE e.customer_id=s1.customer_id"
         " AND e.type=2 AND e.ts>=s1.t1 AND e.ts<=s1.t1+604800) AS t2 FROM s1),"
         " s3 AS (SELECT s2.customer_id, s2.t1, (SELECT min(e.ts) FROM events e WHERE e.customer_id=s2.customer_id"
         " AND e.type=3 AND e.ts>=s2.t2 AND e.ts<=s2.t1+604800) AS t3 FROM s2 WHERE t2 IS NOT NULL),"
         " s4 AS (SELECT s3.customer_id, (SELECT min(e.ts) FROM events e WHERE e.customer_id=s3.customer_id"
         " AND e.type=4 AND e.ts>=s3.t3 AND e.ts<=s3.t1+604800) AS t4 FROM s3 WHERE t3 IS NOT NULL)"
         " SELECT (SELECT count(DISTINCT customer_id) FROM s1), (SELECT count(DISTINCT customer_id) FROM s2 WHERE t2 IS NOT NULL),"
         " (SELECT count(DISTINCT customer_id) FROM s3 WHERE t3 IS NOT NULL), (SELECT count(DISTINCT customer_id) FROM s4 WHERE t4 IS NOT NULL)";
}

std::string week(const std::string& ts) { return "((((" + ts + kLocal + ")/86400)+3)/7)"; }

std::string retention_sql() {
  return "WITH f AS (SELECT customer_id, min(ts) AS t0 FROM events WHERE type=1 GROUP BY customer_id),"
         " c AS (SELECT customer_id, t0, " + week("t0") + " AS wk FROM f WHERE t0>=" + kFrom + " AND t0<" +
         std::to_string(kRetentionEnd) + "),"
         " r AS (SELECT DISTINCT c.customer_id, " + week("e.ts") + " - c.wk AS k FROM c JOIN events e ON"
         " e.customer_id=c.customer_id AND e.type=4 AND e.ts>c.t0 WHERE " + week("e.ts") + " - c.wk <= 12)"
         " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM r)";
}

std::string gmv_sql() {
  return "SELECT count(*), sum(gmv), sum(orders), sum(buyers) FROM (SELECT (o.paid_at" + kLocal +
         ")/86400 AS day, c.channel, sum(o.amount) AS gmv, count(*) AS orders, count(DISTINCT o.customer_id) AS buyers"
         " FROM orders o JOIN customers c ON c.id=o.customer_id WHERE o.paid_at>=" + kFrom + " AND o.paid_at<" + kTo +
         " GROUP BY 1, 2) g";
}

std::string rfm_sql() {
  // Scores by quintile exactly as Siyu defines them: 1 + ⌊5 × (buyers strictly worse) / buyers⌋.
  return "WITH p AS (SELECT customer_id, count(*) AS f, sum(amount-refund) AS m, max((paid_at" + kLocal +
         ")/86400) AS r FROM orders WHERE amount>refund GROUP BY customer_id),"
         " s AS (SELECT m, 1 + (5 * (rank() OVER (ORDER BY r) - 1)) / count(*) OVER () AS rs,"
         " 1 + (5 * (rank() OVER (ORDER BY f) - 1)) / count(*) OVER () AS fs FROM p)"
         " SELECT count(*), sum(rs * 10 + fs), sum(m) FROM s";
}

// ------------------------------------------------------------------ loading the databases

void load_pg(bench::Pg& pg, const Data& d) {
  pg.exec("DROP TABLE IF EXISTS customers, events, orders");
  pg.exec("CREATE UNLOGGED TABLE customers (id int PRIMARY KEY, created_at int, channel smallint, layer smallint, gender smallint, city smallint)");
  pg.exec("CREATE UNLOGGED TABLE events (customer_id int, type smallint, ts int, channel smallint)");
  pg.exec("CREATE UNLOGGED TABLE orders (customer_id int, paid_at int, amount int, refund int, status smallint, store smallint, channel smallint)");
  std::string buf;
  const auto flush = [&](bool force) {
    if (buf.size() > (1 << 20) || (force && !buf.empty())) {
      pg.put(buf);
      buf.clear();
    }
  };
  pg.copy_begin("COPY customers FROM STDIN");
  for (size_t i = 0; i < d.created.size(); ++i) {
    buf += std::to_string(i + 1) + '\t' + std::to_string(d.created[i]) + '\t' + std::to_string(d.channel[i]) + '\t' +
           std::to_string(d.layer[i]) + '\t' + std::to_string(d.gender[i]) + '\t' + std::to_string(d.city[i]) + '\n';
    flush(false);
  }
  flush(true);
  pg.copy_end();
  pg.copy_begin("COPY events FROM STDIN");
  for (const auto& e : d.events) {
    buf += std::to_string(e.customer) + '\t' + std::to_string(e.type) + '\t' + std::to_string(e.ts) + '\t' + std::to_string(e.channel) + '\n';
    flush(false);
  }
  flush(true);
  pg.copy_end();
  pg.copy_begin("COPY orders FROM STDIN");
  for (const auto& o : d.orders) {
    buf += std::to_string(o.customer) + '\t' + std::to_string(o.ts) + '\t' + std::to_string(o.amount) + '\t' +
           std::to_string(o.refund) + '\t' + std::to_string(o.status) + '\t' + std::to_string(o.store) + '\t' +
           std::to_string(o.channel) + '\n';
    flush(false);
  }
  flush(true);
  pg.copy_end();
  pg.exec("CREATE INDEX events_by_customer ON events (customer_id, type, ts)");
  pg.exec("CREATE INDEX orders_by_customer ON orders (customer_id)");
  pg.exec("CREATE INDEX orders_by_time ON orders (paid_at)");
  pg.exec("VACUUM ANALYZE customers, events, orders");
}

void sq_exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) die(std::string("sqlite: ") + (err ? err : "?") + ": " + sql);
}

void load_sqlite(sqlite3* db, const Data& d) {
  sq_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4000000; PRAGMA temp_store=MEMORY");
  sq_exec(db, "CREATE TABLE customers (id INTEGER PRIMARY KEY, created_at INT, channel INT, layer INT, gender INT, city INT)");
  sq_exec(db, "CREATE TABLE events (customer_id INT, type INT, ts INT, channel INT)");
  sq_exec(db, "CREATE TABLE orders (customer_id INT, paid_at INT, amount INT, refund INT, status INT, store INT, channel INT)");
  sq_exec(db, "BEGIN");
  const auto insert = [&](const char* sql, size_t rows, const std::function<void(sqlite3_stmt*, size_t)>& bind) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
    for (size_t i = 0; i < rows; ++i) {
      bind(s, i);
      if (sqlite3_step(s) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
  };
  insert("INSERT INTO customers VALUES (?,?,?,?,?,?)", d.created.size(), [&](sqlite3_stmt* s, size_t i) {
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(i + 1));
    sqlite3_bind_int64(s, 2, d.created[i]);
    sqlite3_bind_int(s, 3, d.channel[i]);
    sqlite3_bind_int(s, 4, d.layer[i]);
    sqlite3_bind_int(s, 5, d.gender[i]);
    sqlite3_bind_int(s, 6, d.city[i]);
  });
  insert("INSERT INTO events VALUES (?,?,?,?)", d.events.size(), [&](sqlite3_stmt* s, size_t i) {
    const auto& e = d.events[i];
    sqlite3_bind_int64(s, 1, e.customer);
    sqlite3_bind_int(s, 2, e.type);
    sqlite3_bind_int64(s, 3, e.ts);
    sqlite3_bind_int(s, 4, e.channel);
  });
  insert("INSERT INTO orders VALUES (?,?,?,?,?,?,?)", d.orders.size(), [&](sqlite3_stmt* s, size_t i) {
    const auto& o = d.orders[i];
    sqlite3_bind_int64(s, 1, o.customer);
    sqlite3_bind_int64(s, 2, o.ts);
    sqlite3_bind_int(s, 3, o.amount);
    sqlite3_bind_int(s, 4, o.refund);
    sqlite3_bind_int(s, 5, o.status);
    sqlite3_bind_int(s, 6, o.store);
    sqlite3_bind_int(s, 7, o.channel);
  });
  sq_exec(db, "COMMIT");
  sq_exec(db, "CREATE INDEX events_by_customer ON events (customer_id, type, ts)");
  sq_exec(db, "CREATE INDEX orders_by_customer ON orders (customer_id)");
  sq_exec(db, "CREATE INDEX orders_by_time ON orders (paid_at)");
  sq_exec(db, "ANALYZE");
}

/// The first row of a query as numbers.
std::vector<int64_t> sq_row(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) die(std::string("sqlite: ") + sqlite3_errmsg(db) + ": " + sql);
  std::vector<int64_t> row;
  if (sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(s); ++i) row.push_back(sqlite3_column_int64(s, i));
  }
  sqlite3_finalize(s);
  return row;
}

/// Median seconds of `runs` calls (one call when the first takes over 10 s).
double timed(int runs, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto start = Steady::now();
    fn();
    t.push_back(seconds_since(start));
    if (t.back() > 10) break;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--customers") o.customers = std::stoull(next());
    else if (a == "--events") o.events = std::stoull(next());
    else if (a == "--orders") o.orders = std::stoull(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--dir") o.dir = next();
    else if (a == "--pg") o.pg = next();
    else if (a == "--no-sqlite") o.sqlite = false;
    else if (a == "--sql") o.print_sql = true;
    else die("unknown flag " + a);
  }
  if (o.print_sql) {
    for (const auto& q : {funnel_sql(), retention_sql(), gmv_sql(), rfm_sql()}) std::printf("%s;\n\n", q.c_str());
    return 0;
  }
  auto start = Steady::now();
  const Data data = generate(o);
  const double generate_s = seconds_since(start);
  start = Steady::now();
  const Dataset d = build_dataset(data);
  const double build_s = seconds_since(start);
  std::fprintf(stderr, "generated in %.1f s, dataset built in %.1f s (%.2f GB)\n", generate_s, build_s,
               static_cast<double>(d.memory_bytes()) / 1e9);

  // ---- Siyu
  const CustomerMask all = CustomerMask::all();
  const Period year{kStart, kStart + kYear};
  const int32_t today = d.day(kStart + kYear);
  FunnelQuery fq;
  fq.period = year;
  fq.steps = {{"view", {}}, {"add_to_cart", {}}, {"checkout", {}}, {"order_paid", {}}};
  fq.window_seconds = 7 * kDay;
  FunnelReport fr;
  const double funnel_s = timed(o.runs, [&] { fr = funnel(d, fq, all, today); });
  RetentionQuery rq;
  rq.period = {kStart, kRetentionEnd};
  rq.grain = Grain::kWeek;
  rq.first_event = "view";
  rq.return_event = "order_paid";
  rq.periods = 12;
  RetentionReport rr;
  const double retention_s = timed(o.runs, [&] { rr = retention(d, rq, all, kStart + kYear); });
  SalesQuery sq;
  sq.period = year;
  sq.grain = Grain::kDay;
  sq.by = Dimension::kChannel;
  SalesReport sr;
  const double gmv_s = timed(o.runs, [&] { sr = sales(d, sq, all, today); });
  RfmGrid grid;
  const double rfm_s = timed(o.runs, [&] { grid = rfm_grid(d, all); });
  LtvModel model;
  size_t predicted = 0;
  const double refit_s = timed(1, [&] {
    const auto hs = histories(d, today);
    model = fit_ltv(hs);
    predicted = predict(model, hs, 365).size();
  });

  // The answers, reduced to a few numbers each database must match.
  int64_t returned = 0, cohort_size = 0;
  for (const Cohort& k : rr.cohorts) {
    cohort_size += k.size;
    for (int64_t x : k.returned) returned += x;
  }
  int64_t buyers_by_day = 0, cells = 0;
  for (const auto& g : sr.groups) {
    for (const auto& p : g.points) {
      buyers_by_day += p.figures.buyers;
      cells += p.figures.orders > 0 ? 1 : 0;
    }
  }
  int64_t rfm_key = 0, rfm_value = 0;
  for (const auto& c : grid.cells) {
    rfm_key += c.customers * (c.r * 10 + c.f);
    rfm_value += c.value;
  }
  const std::vector<std::vector<int64_t>> siyu_answers = {
      {fr.total.steps[0].customers, fr.total.steps[1].customers, fr.total.steps[2].customers, fr.total.steps[3].customers},
      {cohort_size, returned},
      {cells, sr.total.totals.gmv, sr.total.totals.orders, buyers_by_day},
      {grid.buyers, rfm_key, rfm_value},
  };
  const char* names[] = {"funnel", "retention", "gmv", "rfm"};
  const std::string sqls[] = {funnel_sql(), retention_sql(), gmv_sql(), rfm_sql()};
  const double siyu_s[] = {funnel_s, retention_s, gmv_s, rfm_s};

  std::string json = "{\"customers\":" + std::to_string(o.customers) + ",\"events\":" + std::to_string(data.events.size()) +
                     ",\"orders\":" + std::to_string(o.orders) + ",\"dataset_build_s\":" + std::to_string(build_s) +
                     ",\"dataset_gb\":" + std::to_string(static_cast<double>(d.memory_bytes()) / 1e9) +
                     ",\"refit_s\":" + std::to_string(refit_s) + ",\"predictions\":" + std::to_string(predicted) +
                     ",\"bgnbd\":[" + std::to_string(model.bgnbd.r) + "," + std::to_string(model.bgnbd.alpha) + "," +
                     std::to_string(model.bgnbd.a) + "," + std::to_string(model.bgnbd.b) + "]";
  const auto report = [&](const char* engine, int q, double s, const std::vector<int64_t>& answer) {
    const bool same = answer == siyu_answers[static_cast<size_t>(q)];
    json += ",\"" + std::string(engine) + "_" + names[q] + "_ms\":" + std::to_string(s * 1000);
    if (!same) {
      std::string got, want;
      for (int64_t x : answer) got += std::to_string(x) + " ";
      for (int64_t x : siyu_answers[static_cast<size_t>(q)]) want += std::to_string(x) + " ";
      std::fprintf(stderr, "%s %s answered [%s], Siyu [%s]\n", engine, names[q], got.c_str(), want.c_str());
      json += ",\"" + std::string(engine) + "_" + names[q] + "_differs\":true";
    }
  };
  for (int q = 0; q < 4; ++q) report("siyu", q, siyu_s[q], siyu_answers[static_cast<size_t>(q)]);
  std::fprintf(stderr, "siyu: funnel %.0f ms, retention %.0f ms, gmv %.0f ms, rfm %.0f ms, refit %.1f s\n", funnel_s * 1000,
               retention_s * 1000, gmv_s * 1000, rfm_s * 1000, refit_s);

  if (!o.pg.empty()) {
    bench::Pg pg(o.pg);
    start = Steady::now();
    load_pg(pg, data);
    json += ",\"pg_load_s\":" + std::to_string(seconds_since(start));
    std::fprintf(stderr, "postgres loaded in %.0f s\n", seconds_since(start));
    for (int q = 0; q < 4; ++q) {
      std::vector<int64_t> answer;
      const double s = timed(std::min(o.runs, 3), [&] { answer = pg.row(sqls[q]); });
      answer.resize(siyu_answers[static_cast<size_t>(q)].size());
      report("pg", q, s, answer);
      std::fprintf(stderr, "postgres %s: %.0f ms\n", names[q], s * 1000);
    }
  }
  if (o.sqlite) {
    const std::string path = o.dir + "/analytics-bench.sqlite";
    std::remove(path.c_str());
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("sqlite open");
    start = Steady::now();
    load_sqlite(db, data);
    json += ",\"sqlite_load_s\":" + std::to_string(seconds_since(start));
    std::fprintf(stderr, "sqlite loaded in %.0f s\n", seconds_since(start));
    for (int q = 0; q < 4; ++q) {
      std::vector<int64_t> answer;
      const double s = timed(std::min(o.runs, 3), [&] { answer = sq_row(db, sqls[q]); });
      answer.resize(siyu_answers[static_cast<size_t>(q)].size());
      report("sqlite", q, s, answer);
      std::fprintf(stderr, "sqlite %s: %.0f ms\n", names[q], s * 1000);
    }
    sqlite3_close(db);
    std::remove(path.c_str());
  }
  std::printf("%s}\n", json.c_str());
  return 0;
}
