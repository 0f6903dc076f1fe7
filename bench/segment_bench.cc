// Segment counts side by side on the same data: Siyu's bitmap engine and SQLite with the
// schema an experienced engineer would write (customers with an index per attribute, a
// customer_tags table keyed by (tag, customer_id)). Ten queries from one tag to a nested
// expression of eight terms; p50 and p99 of each, and the ratio.
//
// usage: siyu_segment_bench [--customers 1000000] [--runs 21]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "segment/evaluate.h"

using namespace siyu;

namespace {

constexpr int kTags = 200;
const char* kLayers[] = {"none", "fan", "community", "friend", "member"};
const char* kGenders[] = {"male", "female", "unknown"};
const char* kCities[] = {"上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉",
                         "苏州", "西安", "长沙", "重庆", "厦门", "宁波", "天津"};

struct Query {
  const char* name;
  const char* expression;  // segment JSON
  const char* sql;         // the same question for SQLite
};

// Tag t0 is on about half the customers; t150 on well under 1%.
const Query kQueries[] = {
    {"one popular tag", R"({"tag":"t0"})",
     "SELECT count(*) FROM customer_tags WHERE tag='t0'"},
    {"one rare tag", R"({"tag":"t150"})",
     "SELECT count(*) FROM customer_tags WHERE tag='t150'"},
    {"layer in two", R"({"layer":["friend","member"]})",
     "SELECT count(*) FROM customers WHERE layer IN ('friend','member')"},
    {"tag and city", R"({"and":[{"tag":"t1"},{"attr":"city","op":"eq","value":"上海"}]})",
     "SELECT count(*) FROM customers c JOIN customer_tags t ON t.customer_id=c.id AND "
     "t.tag='t1' WHERE c.city='上海'"},
    {"two tags or", R"({"or":[{"tag":"t2"},{"tag":"t3"}]})",
     "SELECT count(*) FROM (SELECT customer_id FROM customer_tags WHERE tag='t2' UNION "
     "SELECT customer_id FROM customer_tags WHERE tag='t3')"},
    {"not a tag", R"({"not":{"tag":"t0"}})",
     "SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM customer_tags "
     "WHERE tag='t0')"},
    {"channel in three and gender",
     R"({"and":[{"attr":"channel_id","op":"in","values":[1,3,5]},{"attr":"gender","op":"eq","value":"female"}]})",
     "SELECT count(*) FROM customers WHERE channel IN ('1','3','5') AND gender='female'"},
    {"joined in a quarter and layer",
     R"({"and":[{"attr":"created_at","op":"range","from":1790000000000,"to":1797776000000},{"layer":["member"]}]})",
     "SELECT count(*) FROM customers WHERE created_at >= 1790000000000 AND created_at < "
     "1797776000000 AND layer='member'"},
    {"three tags and", R"({"and":[{"tag":"t0"},{"tag":"t4"},{"tag":"t9"}]})",
     "SELECT count(*) FROM (SELECT customer_id FROM customer_tags WHERE tag='t0' INTERSECT "
     "SELECT customer_id FROM customer_tags WHERE tag='t4' INTERSECT SELECT customer_id FROM "
     "customer_tags WHERE tag='t9')"},
    {"nested, eight terms",
     R"({"and":[{"or":[{"tag":"t1"},{"tag":"t5"},{"tag":"t20"}]},{"layer":["community","friend","member"]},{"not":{"tag":"t2"}},{"or":[{"attr":"city","op":"in","values":["上海","杭州"]},{"attr":"channel_id","op":"eq","value":2}]},{"attr":"gender","op":"ne","value":"unknown"}]})",
     "SELECT count(*) FROM customers c WHERE c.id IN (SELECT customer_id FROM customer_tags "
     "WHERE tag IN ('t1','t5','t20')) AND c.layer IN ('community','friend','member') AND c.id "
     "NOT IN (SELECT customer_id FROM customer_tags WHERE tag='t2') AND (c.city IN "
     "('上海','杭州') OR c.channel='2') AND c.gender<>'unknown'"},
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", err);
    std::exit(1);
  }
}

struct Timing {
  double p50 = 0, p99 = 0;
  uint64_t count = 0;
};

template <typename F>
Timing measure(int runs, F&& f) {
  std::vector<double> t;
  Timing out;
  for (int i = 0; i < runs; ++i) {
    const double start = now_ms();
    out.count = f();
    t.push_back(now_ms() - start);
  }
  std::sort(t.begin(), t.end());
  out.p50 = t[t.size() / 2];
  out.p99 = t[std::min(t.size() - 1, (t.size() * 99 + 99) / 100 - 1)];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 1'000'000;
  int runs = 21;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--runs") runs = std::atoi(argv[i + 1]);
  }
  const std::string path = "/tmp/siyu-segment-bench-" + std::to_string(::getpid()) + ".db";
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
  exec(db,
       "CREATE TABLE customers (id INTEGER PRIMARY KEY, layer TEXT, gender TEXT, city TEXT, "
       "channel TEXT, created_at INTEGER);"
       "CREATE TABLE customer_tags (tag TEXT, customer_id INTEGER, PRIMARY KEY (tag, "
       "customer_id)) WITHOUT ROWID;");

  // The same random customers into both.
  std::mt19937_64 rng(42);
  auto unit = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  index::CustomerIndex ix;
  const double t0 = now_ms();
  exec(db, "BEGIN");
  sqlite3_stmt* ins = nullptr;
  sqlite3_stmt* tag = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO customers VALUES (?,?,?,?,?,?)", -1, &ins, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO customer_tags VALUES (?,?)", -1, &tag, nullptr);
  int64_t tag_rows = 0;
  for (int64_t id = 1; id <= customers; ++id) {
    index::IndexedCustomer c;
    c.id = static_cast<uint32_t>(id);
    c.layer = kLayers[rng() % 5];
    c.gender = kGenders[rng() % 3];
    c.city = kCities[rng() % 15];
    c.channel_id = std::to_string(1 + rng() % 8);
    c.created_at = 1'767'225'600'000 + static_cast<int64_t>(rng() % 365) * 86'400'000;
    ix.upsert(c);
    sqlite3_bind_int64(ins, 1, id);
    sqlite3_bind_text(ins, 2, c.layer.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, c.gender.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 4, c.city.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 5, c.channel_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 6, c.created_at);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    std::vector<std::string> tags;
    for (int k = 0; k < kTags; ++k) {
      // Zipf-like skew: t0 on ~50%, t10 on ~5%, t150 on ~0.3%.
      if (unit() < 0.5 / (1.0 + k * 0.9)) tags.push_back("t" + std::to_string(k));
    }
    ix.set_tags(c.id, tags);
    for (const auto& t : tags) {
      sqlite3_bind_text(tag, 1, t.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(tag, 2, id);
      sqlite3_step(tag);
      sqlite3_reset(tag);
      ++tag_rows;
    }
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(tag);
  exec(db, "COMMIT");
  exec(db,
       "CREATE INDEX c_layer ON customers(layer); CREATE INDEX c_gender ON customers(gender);"
       "CREATE INDEX c_city ON customers(city); CREATE INDEX c_channel ON customers(channel);"
       "CREATE INDEX c_created ON customers(created_at); CREATE INDEX t_customer ON "
       "customer_tags(customer_id); ANALYZE;");
  std::printf("{\"customers\":%lld,\"tag_rows\":%lld,\"load_s\":%.1f,\"index_bytes_per_customer\":%.1f}\n",
              static_cast<long long>(customers), static_cast<long long>(tag_rows),
              (now_ms() - t0) / 1000, static_cast<double>(ix.memory_bytes()) / static_cast<double>(customers));

  std::printf("%-32s %10s %10s %10s %10s %9s %9s\n", "query", "members", "siyu p50", "siyu p99",
              "sqlite p50", "sqlite p99", "ratio");
  std::vector<double> ratios;
  for (const Query& q : kQueries) {
    auto expr = segment::parse_expr(Json::parse(q.expression));
    if (!expr) {
      std::fprintf(stderr, "%s: %s\n", q.name, expr.error().to_string().c_str());
      return 1;
    }
    const Timing engine = measure(runs, [&] { return segment::count(ix, *expr, 0); });
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, q.sql, -1, &st, nullptr);
    const Timing lite = measure(std::max(3, runs / 4), [&] {
      sqlite3_step(st);
      const auto n = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
      sqlite3_reset(st);
      return n;
    });
    sqlite3_finalize(st);
    if (engine.count != lite.count) {
      std::fprintf(stderr, "%s: engine %llu vs sqlite %llu members\n", q.name,
                   static_cast<unsigned long long>(engine.count),
                   static_cast<unsigned long long>(lite.count));
      return 1;
    }
    const double ratio = lite.p50 / std::max(engine.p50, 1e-3);
    ratios.push_back(ratio);
    std::printf("%-32s %10llu %8.3fms %8.3fms %8.1fms %8.1fms %8.0fx\n", q.name,
                static_cast<unsigned long long>(engine.count), engine.p50, engine.p99, lite.p50,
                lite.p99, ratio);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("median ratio (SQLite p50 / Siyu p50): %.0fx\n", ratios[ratios.size() / 2]);
  sqlite3_close(db);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  return 0;
}
