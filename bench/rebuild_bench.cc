// The segment index rebuilt by the product's own path: a durable Siyu store (the real schema,
// migrations and all) holding the workspace of the segment benchmark — 20 attributes with the
// fourteen custom fields in the customer's JSON, 200 skewed tags, about ten events a customer
// over a year — read back by IndexRegistry the way the server does at start. The rows are
// written with plain SQL in the store's own layout (loading 100 million events through the
// API would take longer than the rest of the run). The rebuilt index must answer the ten
// queries of the segment benchmark with the same members as an index built straight from the
// generator.
//
// usage: siyu_rebuild_bench [--customers 1000000] [--dir /tmp] [--keep PATH]
// With --keep the store is written to PATH and kept, or reused when PATH already holds one
// (the same --customers, for repeated runs at 10 million).
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "core/time_format.h"
#include "index/registry.h"
#include "segment/evaluate.h"
#include "segment_queries.h"
#include "store/store.h"
#include "workspace_gen.h"

using namespace siyu;
using namespace siyu::bench;

namespace {

/// CPU seconds this process has used, all threads.
double cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "rebuild bench: %s\n", what.c_str());
  std::exit(1);
}

// The custom fields as a workspace declares them; dates are stored as "YYYY-MM-DD".
const store::FieldDef kFields[] = {
    {"level", "string", false, ""},      {"province", "string", false, ""},
    {"source_app", "string", false, ""}, {"interest", "string", false, ""},
    {"store", "string", false, ""},      {"vip", "boolean", false, ""},
    {"opted_in", "boolean", false, ""},  {"age", "number", false, ""},
    {"birthday", "date", false, ""},     {"points", "number", false, ""},
    {"visits", "number", false, ""},     {"survey", "number", false, ""},
    {"member_since", "date", false, ""}, {"balance", "number", false, ""},
};

/// The customer's custom fields as the store keeps them: one JSON object.
std::string custom_json(const GenCustomer& g) {
  Json j = Json::object();
  if (!g.level.empty()) j["level"] = g.level;
  j["province"] = g.province;
  j["source_app"] = g.source_app;
  j["interest"] = g.interest;
  j["store"] = std::to_string(g.store);
  j["vip"] = g.vip;
  j["opted_in"] = g.opted_in;
  if (g.age) j["age"] = *g.age;
  if (g.birthday) j["birthday"] = format_date(civil_from_days(*g.birthday));
  j["points"] = g.points;
  j["visits"] = g.visits;
  j["survey"] = g.survey;
  j["member_since"] = format_date(civil_from_days(g.member_since));
  j["balance"] = g.balance;
  return j.dump();
}

/// Writes generated customers into the store's tables with plain SQL, in customer order.
class RowWriter {
 public:
  RowWriter(const std::string& path, WorkspaceId ws) : ws_(ws.value) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) die(sqlite3_errmsg(db_));
    exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-2000000; BEGIN");
    customer_ = prepare(
        "INSERT INTO customers (workspace_id, id, gender, city, custom, owner_staff, channel_id, "
        "layer, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
    tag_ = prepare("INSERT INTO customer_tags (workspace_id, customer_id, tag, added_by, added_at) "
                   "VALUES (?,?,?,'bench',?)");
    event_ = prepare("INSERT INTO events (seq, workspace_id, event_id, customer_id, type, ts, "
                     "amount, received_at) VALUES (?,?,?,?,?,?,?,?)");
  }
  ~RowWriter() {
    exec("UPDATE store_counters SET value=" + std::to_string(seq_) +
         " WHERE name='next_event_seq'; COMMIT");
    for (sqlite3_stmt* s : {customer_, tag_, event_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;

  void add(const GenCustomer& g) {
    const std::string custom = custom_json(g);
    sqlite3_bind_int64(customer_, 1, ws_);
    sqlite3_bind_int64(customer_, 2, g.id);
    sqlite3_bind_text(customer_, 3, g.gender.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(customer_, 4, g.city.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(customer_, 5, custom.c_str(), -1, SQLITE_STATIC);
    if (g.owner != 0) {
      sqlite3_bind_int64(customer_, 6, g.owner);
    } else {
      sqlite3_bind_null(customer_, 6);
    }
    sqlite3_bind_int64(customer_, 7, g.channel);
    sqlite3_bind_text(customer_, 8, g.layer.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(customer_, 9, g.created_at);
    sqlite3_bind_int64(customer_, 10, g.created_at);
    step(customer_);
    for (int t : g.tags) {
      const std::string name = "t" + std::to_string(t);
      sqlite3_bind_int64(tag_, 1, ws_);
      sqlite3_bind_int64(tag_, 2, g.id);
      sqlite3_bind_text(tag_, 3, name.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(tag_, 4, g.created_at);
      step(tag_);
    }
    for (const GenEvent& e : g.events) {
      char event_id[24];
      std::snprintf(event_id, sizeof event_id, "e%012lld", static_cast<long long>(seq_));
      sqlite3_bind_int64(event_, 1, seq_);
      sqlite3_bind_int64(event_, 2, ws_);
      sqlite3_bind_text(event_, 3, event_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64(event_, 4, g.id);
      sqlite3_bind_text(event_, 5, kEventTypes[e.type], -1, SQLITE_STATIC);
      sqlite3_bind_int64(event_, 6, e.ts);
      sqlite3_bind_int64(event_, 7, e.amount);
      sqlite3_bind_int64(event_, 8, e.ts);
      step(event_);
      ++seq_;
    }
    if (g.id % 200'000 == 0) exec("COMMIT; BEGIN");
  }

 private:
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) die(err);
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db_));
    return s;
  }
  void step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) die(sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* customer_ = nullptr;
  sqlite3_stmt* tag_ = nullptr;
  sqlite3_stmt* event_ = nullptr;
  int64_t ws_;
  int64_t seq_ = 1;
};

std::unique_ptr<store::Store> open(const std::string& dir) {
  store::StoreConfig cfg;
  cfg.data_dir = dir;
  auto opened = store::open_store(cfg);
  if (!opened) die(opened.error().to_string());
  return std::move(*opened);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 1'000'000;
  std::string dir = "/tmp";
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--keep") keep = argv[i + 1];
  }
  const std::string data = keep.empty() ? dir + "/siyu-rebuild-bench-" + std::to_string(::getpid()) : keep;
  const bool reuse = !keep.empty() && std::filesystem::exists(data + "/siyu.db");
  WorkspaceId ws;
  if (!reuse) {
    auto db = open(data);
    auto made = db->create_workspace({WorkspaceId(), "rebuild", "rebuild", "Asia/Shanghai", 0});
    if (!made) die(made.error().to_string());
    ws = made->id;
    for (const store::FieldDef& f : kFields) {
      if (Status st = db->put_field_def(ws, f); !st.is_ok()) die(st.to_string());
    }
  }

  const double load_start = now_s();
  if (!reuse) {
    RowWriter rows(data + "/siyu.db", ws);
    WorkspaceGen gen(42, kNow);
    for (int64_t id = 1; id <= customers; ++id) rows.add(gen.next(static_cast<uint32_t>(id)));
  }
  const double loaded = now_s();

  auto db = open(data);
  if (reuse) {
    auto all = db->workspaces();
    if (!all || all->empty()) die("no workspace in " + data);
    ws = all->front().id;
  }
  ManualClock clock(kNow);
  index::IndexRegistry registry(*db, clock);
  std::fprintf(stderr, "rows written in %.0f s; rebuilding\n", loaded - load_start);
  const double r0 = now_s();
  const double c0 = cpu_s();
  auto rebuilt = registry.get(ws);
  if (!rebuilt) die(rebuilt.error().to_string());
  const double rebuild_s = now_s() - r0;
  const double rebuild_cpu_s = cpu_s() - c0;

  // The reference, built afterwards so that it does not take page cache from the rebuild: an
  // index built straight from the generator, as the segment benchmark does.
  index::CustomerIndex reference(480);
  {
    WorkspaceGen gen(42, kNow);
    reference.begin_bulk();
    for (int64_t id = 1; id <= customers; ++id) {
      const GenCustomer g = gen.next(static_cast<uint32_t>(id));
      reference.upsert(indexed(g, reference));
      for (int t : g.tags) reference.add_tag(g.id, "t" + std::to_string(t));
    }
    reference.end_bulk();
  }

  const segment::FieldTypes fields = [](const std::string& name) -> Result<std::optional<std::string>> {
    for (const store::FieldDef& f : kFields) {
      if (f.name == name) return std::optional<std::string>(f.type);
    }
    return std::optional<std::string>();
  };
  bool same = true;
  for (const Query& q : kQueries) {
    auto expr = segment::parse_expr(Json::parse(q.expression), {.field_types = fields});
    if (!expr) die(std::string(q.name) + ": " + expr.error().to_string());
    const uint64_t want = segment::count(reference, *expr, kNow);
    const uint64_t got = segment::count(**rebuilt, *expr, kNow);
    if (want != got) {
      std::fprintf(stderr, "%s: %llu members from the generator, %llu rebuilt from the store\n",
                   q.name, static_cast<unsigned long long>(want), static_cast<unsigned long long>(got));
      same = false;
    }
  }
  std::printf("{\"customers\":%lld,\"load_s\":%.0f,\"store_bytes\":%llu,\"rebuild_from_store_s\":%.1f,\"rebuild_cpu_s\":%.1f,"
              "\"index_bytes_per_customer\":%.1f,\"same_members\":%s}\n",
              static_cast<long long>(customers), loaded - load_start,
              static_cast<unsigned long long>(std::filesystem::file_size(data + "/siyu.db")),
              rebuild_s, rebuild_cpu_s, static_cast<double>((*rebuilt)->memory_bytes()) / static_cast<double>(customers),
              same ? "true" : "false");
  db.reset();
  if (keep.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data, ec);
  }
  return same ? 0 : 1;
}
