// Segment counts side by side on the same data, in one run: Siyu's bitmap engine, PostgreSQL 15
// and SQLite. The workspace (bench/workspace_gen.h) has 20 attributes, 200 skewed tags and
// about ten events per customer over a year. PostgreSQL is tried with the two schemas an
// experienced engineer would write — tags as a text[] column with a GIN index, and a
// customer_tags table — and the faster of the two counts for each query. Ten queries, from
// one tag to a nested expression of eight terms with a behaviour predicate; p50 and p99 of
// each, the ratios and index memory per customer. The rebuild from the store is measured by
// bench/rebuild_bench.cc, on the store's own schema.
//
// usage: siyu_segment_bench [--customers 1000000] [--runs 21] [--dir /tmp]
//                           [--pg "host=127.0.0.1 port=5432 user=postgres"] [--only NAME]
//                           [--engine-only 1] [--one-thread 1]
// Without --pg only SQLite is compared. scripts/segment-bench starts a throw-away PostgreSQL.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "index/chunked.h"
#include "pg.h"
#include "segment/evaluate.h"
#include "segment_queries.h"
#include "workspace_gen.h"

using namespace siyu;
using namespace siyu::bench;

namespace {

constexpr EpochMs kDay = 86'400'000;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string with_since(std::string sql, EpochMs since) {
  for (size_t at; (at = sql.find("$SINCE")) != std::string::npos;) {
    sql.replace(at, 6, std::to_string(since));
  }
  return sql;
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

class Sqlite {
 public:
  explicit Sqlite(const std::string& path) : path_(path) {
    sqlite3_open(path.c_str(), &db_);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-4000000; "
         "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=30000000000;");
  }
  ~Sqlite() {
    sqlite3_close(db_);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite: %s\n", err);
      std::exit(1);
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite: %s: %s\n", sql.c_str(), sqlite3_errmsg(db_));
      std::exit(1);
    }
    return s;
  }
  uint64_t count(sqlite3_stmt* s) {
    sqlite3_step(s);
    const auto n = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return n;
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

const char* kSqliteSchema =
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, layer TEXT, gender TEXT, city TEXT, "
    "channel INTEGER, owner INTEGER, created_at INTEGER, level TEXT, province TEXT, "
    "source_app TEXT, interest TEXT, store INTEGER, vip INTEGER, opted_in INTEGER, age INTEGER, "
    "birthday INTEGER, points INTEGER, visits INTEGER, survey INTEGER, member_since INTEGER, "
    "balance INTEGER);"
    "CREATE TABLE customer_tags (tag TEXT, customer_id INTEGER, PRIMARY KEY (tag, customer_id)) "
    "WITHOUT ROWID;"
    "CREATE TABLE events (customer_id INTEGER, type TEXT, ts INTEGER, amount INTEGER);";

const char* kSqliteIndexes =
    "CREATE INDEX c_layer ON customers(layer); CREATE INDEX c_city ON customers(city);"
    "CREATE INDEX c_created ON customers(created_at); CREATE INDEX c_age ON customers(age);"
    "CREATE INDEX c_level ON customers(level); CREATE INDEX t_customer ON "
    "customer_tags(customer_id, tag); CREATE INDEX e_type_ts ON events(type, ts, customer_id); "
    "CREATE INDEX e_customer ON events(customer_id, type, ts, amount); ANALYZE;";

const char* kPgSchema =
    "DROP TABLE IF EXISTS customers, customer_tags, events;"
    "CREATE TABLE customers (id bigint PRIMARY KEY, layer text, gender text, city text, "
    "channel int, owner int, created_at bigint, level text, province text, source_app text, "
    "interest text, store int, vip boolean, opted_in boolean, age int, birthday int, points int, "
    "visits int, survey int, member_since int, balance bigint, tags text[] NOT NULL);"
    "CREATE TABLE customer_tags (tag text, customer_id bigint);"
    "CREATE TABLE events (customer_id bigint, type text, ts bigint, amount bigint);";

const char* kPgIndexes =
    "ALTER TABLE customer_tags ADD PRIMARY KEY (tag, customer_id);"
    "CREATE INDEX ON customer_tags(customer_id, tag);"
    "CREATE INDEX ON customers USING gin (tags);"
    "CREATE INDEX ON customers(layer); CREATE INDEX ON customers(city);"
    "CREATE INDEX ON customers(created_at); CREATE INDEX ON customers(age);"
    "CREATE INDEX ON customers(level);"
    "CREATE INDEX ON events(type, ts) INCLUDE (customer_id);"
    "CREATE INDEX ON events(customer_id, type, ts);";

/// PostgreSQL's text COPY format for one customer, its tags and its events.
void pg_rows(const GenCustomer& g, std::string& customers, std::string& tags, std::string& events) {
  const auto opt = [](const std::optional<int>& v) { return v ? std::to_string(*v) : "\\N"; };
  std::string array = "{";
  for (int t : g.tags) {
    if (array.size() > 1) array += ',';
    array += "t" + std::to_string(t);
    tags += "t" + std::to_string(t) + '\t' + std::to_string(g.id) + '\n';
  }
  array += '}';
  customers += std::to_string(g.id) + '\t' + g.layer + '\t' + g.gender + '\t' + g.city + '\t' +
               std::to_string(g.channel) + '\t' + (g.owner != 0 ? std::to_string(g.owner) : "\\N") +
               '\t' + std::to_string(g.created_at) + '\t' + (g.level.empty() ? "\\N" : g.level) +
               '\t' + g.province + '\t' + g.source_app + '\t' + g.interest + '\t' +
               std::to_string(g.store) + '\t' + (g.vip ? "t" : "f") + '\t' +
               (g.opted_in ? "t" : "f") + '\t' + opt(g.age) + '\t' + opt(g.birthday) + '\t' +
               std::to_string(g.points) + '\t' + std::to_string(g.visits) + '\t' +
               std::to_string(g.survey) + '\t' + std::to_string(g.member_since) + '\t' +
               std::to_string(g.balance) + '\t' + array + '\n';
  for (const GenEvent& e : g.events) {
    events += std::to_string(g.id) + '\t' + kEventTypes[e.type] + '\t' + std::to_string(e.ts) +
              '\t' + std::to_string(e.amount) + '\n';
  }
}

struct SqliteInserts {
  sqlite3_stmt* customer;
  sqlite3_stmt* tag;
  sqlite3_stmt* event;
};

void sqlite_rows(const GenCustomer& g, const SqliteInserts& ins) {
  sqlite3_stmt* s = ins.customer;
  int col = 0;
  const auto text = [&](const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(s, ++col);
    } else {
      sqlite3_bind_text(s, ++col, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
  };
  const auto num = [&](int64_t v) { sqlite3_bind_int64(s, ++col, v); };
  const auto opt = [&](const std::optional<int>& v) {
    if (v) {
      num(*v);
    } else {
      sqlite3_bind_null(s, ++col);
    }
  };
  num(g.id);
  text(g.layer);
  text(g.gender);
  text(g.city);
  num(g.channel);
  opt(g.owner != 0 ? std::optional<int>(g.owner) : std::nullopt);
  num(g.created_at);
  text(g.level);
  text(g.province);
  text(g.source_app);
  text(g.interest);
  num(g.store);
  num(g.vip ? 1 : 0);
  num(g.opted_in ? 1 : 0);
  opt(g.age);
  opt(g.birthday);
  num(g.points);
  num(g.visits);
  num(g.survey);
  num(g.member_since);
  num(g.balance);
  sqlite3_step(s);
  sqlite3_reset(s);
  for (int t : g.tags) {
    const std::string name = "t" + std::to_string(t);
    sqlite3_bind_text(ins.tag, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins.tag, 2, g.id);
    sqlite3_step(ins.tag);
    sqlite3_reset(ins.tag);
  }
  for (const GenEvent& e : g.events) {
    sqlite3_bind_int64(ins.event, 1, g.id);
    sqlite3_bind_text(ins.event, 2, kEventTypes[e.type], -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins.event, 3, e.ts);
    sqlite3_bind_int64(ins.event, 4, e.amount);
    sqlite3_step(ins.event);
    sqlite3_reset(ins.event);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 1'000'000;
  int runs = 21;
  std::string dir = "/tmp";
  std::string pg_conninfo;
  std::string only;  // run just the queries whose name contains this
  bool engine_only = false;  // no SQL side (for profiling the engine)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--runs") runs = std::atoi(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--pg") pg_conninfo = argv[i + 1];
    if (flag == "--only") only = argv[i + 1];
    if (flag == "--engine-only") engine_only = std::string(argv[i + 1]) == "1";
    // Queries on one core only, as when every core is busy with other requests.
    if (flag == "--one-thread" && std::string(argv[i + 1]) == "1") {
      siyu::index::min_chunks_to_split = UINT32_MAX;
    }
  }
  Sqlite lite(dir + "/siyu-segment-bench-" + std::to_string(::getpid()) + ".db");
  lite.exec(kSqliteSchema);
  std::unique_ptr<Pg> pg, pg_tags, pg_events;
  if (!pg_conninfo.empty()) {
    pg = std::make_unique<Pg>(pg_conninfo);
    pg_tags = std::make_unique<Pg>(pg_conninfo);
    pg_events = std::make_unique<Pg>(pg_conninfo);
    pg->exec("SET client_min_messages=warning");
    pg->exec(kPgSchema);
    pg->copy_begin("COPY customers FROM STDIN");
    pg_tags->copy_begin("COPY customer_tags FROM STDIN");
    pg_events->copy_begin("COPY events FROM STDIN");
  }

  // The same customers into all three, generated once.
  auto ix = std::make_unique<index::CustomerIndex>(480);
  ix->begin_bulk();
  WorkspaceGen gen(42, kNow);
  const double load_start = now_ms();
  double engine_ms = 0;
  lite.exec("BEGIN");
  const SqliteInserts ins{
      lite.prepare("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
      lite.prepare("INSERT INTO customer_tags VALUES (?,?)"),
      lite.prepare("INSERT INTO events VALUES (?,?,?,?)")};
  int64_t tag_rows = 0, event_rows = 0;
  std::string pg_customers, pg_tag_rows, pg_event_rows;
  for (int64_t id = 1; id <= customers; ++id) {
    const GenCustomer g = gen.next(static_cast<uint32_t>(id));
    tag_rows += static_cast<int64_t>(g.tags.size());
    event_rows += static_cast<int64_t>(g.events.size());
    const double e0 = now_ms();
    ix->upsert(indexed(g, *ix));
    for (int t : g.tags) ix->add_tag(g.id, "t" + std::to_string(t));
    engine_ms += now_ms() - e0;
    if (!engine_only) sqlite_rows(g, ins);
    if (pg) {
      pg_rows(g, pg_customers, pg_tag_rows, pg_event_rows);
      if (pg_event_rows.size() > (1 << 20) || id == customers) {
        pg->put(pg_customers);
        pg_tags->put(pg_tag_rows);
        pg_events->put(pg_event_rows);
        pg_customers.clear();
        pg_tag_rows.clear();
        pg_event_rows.clear();
      }
    }
  }
  {
    const double e0 = now_ms();
    ix->end_bulk();
    engine_ms += now_ms() - e0;
  }
  for (sqlite3_stmt* s : {ins.customer, ins.tag, ins.event}) sqlite3_finalize(s);
  lite.exec("COMMIT");
  const double generated = now_ms();
  if (!engine_only) lite.exec(kSqliteIndexes);
  const double sqlite_indexed = now_ms();
  double pg_index_ms = 0;
  if (pg) {
    pg->copy_end();
    pg_tags->copy_end();
    pg_events->copy_end();
    const double p0 = now_ms();
    pg->exec(kPgIndexes);
    pg->exec("VACUUM ANALYZE");
    pg_index_ms = now_ms() - p0;
  }
  std::printf("{\"customers\":%lld,\"tag_rows\":%lld,\"event_rows\":%lld,\"load_s\":%.0f,"
              "\"engine_build_s\":%.1f,\"sqlite_index_s\":%.0f,\"postgres_index_s\":%.0f,"
              "\"index_bytes_per_customer\":%.1f}\n",
              static_cast<long long>(customers), static_cast<long long>(tag_rows),
              static_cast<long long>(event_rows), (generated - load_start) / 1000,
              engine_ms / 1000, (sqlite_indexed - generated) / 1000, pg_index_ms / 1000,
              static_cast<double>(ix->memory_bytes()) / static_cast<double>(customers));

  const int32_t today = ix->day_of(kNow);
  const EpochMs since = static_cast<EpochMs>(today - 89) * kDay - 8 * 3'600'000;
  std::printf("%-34s %9s %9s %9s %10s %10s %10s %10s %8s %8s %s\n", "query", "members",
              "siyu p50", "siyu p99", "sqlite p50", "sqlite p99", "pg p50", "pg p99",
              "×sqlite", "×pg", "pg schema");
  std::vector<double> lite_ratios, pg_ratios;
  for (const Query& q : kQueries) {
    if (std::string(q.name).find(only) == std::string::npos) continue;
    const auto fields = [](const std::string& name) -> Result<std::optional<std::string>> {
      if (name == "age") return std::optional<std::string>("number");
      if (name == "vip") return std::optional<std::string>("boolean");
      return std::optional<std::string>("string");
    };
    auto expr = segment::parse_expr(Json::parse(q.expression), {.field_types = fields});
    if (!expr) {
      std::fprintf(stderr, "%s: %s\n", q.name, expr.error().to_string().c_str());
      return 1;
    }
    const Timing engine = measure(runs, [&] { return segment::count(*ix, *expr, kNow); });
    if (engine_only) {
      std::printf("%-34s %9llu %7.2fms %7.2fms\n", q.name, static_cast<unsigned long long>(engine.count),
                  engine.p50, engine.p99);
      continue;
    }
    const std::string sql = with_since(q.sql, since);
    sqlite3_stmt* st = lite.prepare(sql);
    const Timing sqlite_t = measure(std::clamp(runs / 4, 3, 11), [&] { return lite.count(st); });
    sqlite3_finalize(st);
    Timing pg_t;
    const char* pg_schema = "";
    if (pg) {
      pg_t = measure(std::clamp(runs / 4, 3, 11), [&] { return pg->count(sql); });
      pg_schema = "customer_tags";
      if (q.pg_array != nullptr) {
        const Timing array = measure(std::clamp(runs / 4, 3, 11), [&] {
          return pg->count(with_since(q.pg_array, since));
        });
        if (array.count != pg_t.count) {
          std::fprintf(stderr, "%s: postgres array %llu vs table %llu\n", q.name,
                       static_cast<unsigned long long>(array.count),
                       static_cast<unsigned long long>(pg_t.count));
          return 1;
        }
        if (array.p50 < pg_t.p50) {
          pg_t = array;
          pg_schema = "text[] + GIN";
        }
      }
    }
    if (engine.count != sqlite_t.count || (pg && engine.count != pg_t.count)) {
      std::fprintf(stderr, "%s: engine %llu, sqlite %llu, postgres %llu members\n", q.name,
                   static_cast<unsigned long long>(engine.count),
                   static_cast<unsigned long long>(sqlite_t.count),
                   static_cast<unsigned long long>(pg_t.count));
      return 1;
    }
    const double floor_ms = 1e-3;
    lite_ratios.push_back(sqlite_t.p50 / std::max(engine.p50, floor_ms));
    if (pg) pg_ratios.push_back(pg_t.p50 / std::max(engine.p50, floor_ms));
    std::printf("%-34s %9llu %7.2fms %7.2fms %8.0fms %8.0fms %8.0fms %8.0fms %7.0fx %7.0fx %s\n",
                q.name, static_cast<unsigned long long>(engine.count), engine.p50, engine.p99,
                sqlite_t.p50, sqlite_t.p99, pg_t.p50, pg_t.p99, lite_ratios.back(),
                pg ? pg_ratios.back() : 0.0, pg_schema);
    std::fflush(stdout);
  }
  const auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("median ratio: SQLite p50 / Siyu p50 %.0fx, PostgreSQL p50 / Siyu p50 %.0fx\n",
              median(lite_ratios), median(pg_ratios));
  return 0;
}
