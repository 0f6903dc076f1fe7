// Durable tag churn, side by side in one run: tag adds and removes in batches of 1,000 through
// Siyu's own path — Store::bulk_tag (one durable SQLite transaction appending the batch's real
// changes to the tag log, as POST /v1/tags:bulk does; the tag tables and history follow in the
// background) and the refresh of that tag in the index that follows — while segment
// counts run at 50 a second on the index; then the same batches into PostgreSQL (one
// transaction per batch with synchronous_commit on: INSERT … ON CONFLICT or DELETE on
// customer_tags plus a history row per change). Prints updates per second for both and the
// count latencies (p50, p99) before and during the churn, how far the tag log's applier is
// behind when the churn ends, how long a page of customers filtered by a tag and the facts of
// 1,000 customers then take to read, and how long the applier takes to catch up.
//
// usage: siyu_tag_churn_bench [--customers 1000000] [--updates 1000000] [--dir /tmp]
//                             [--pg "host=127.0.0.1 port=5432 user=postgres"]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index/registry.h"
#include "bench_store.h"
#include "pg.h"
#include "segment/evaluate.h"
#include "store/store.h"

using namespace siyu;

namespace {

constexpr int kBatch = 1000;
constexpr int kTags = 50;

// Tag and layer counts, the queries of the segment benchmark that need no other data.
const char* const kQueries[] = {
    R"({"tag":"t0"})",
    R"({"tag":"t40"})",
    R"({"layer":["friend","member"]})",
    R"({"or":[{"tag":"t2"},{"tag":"t3"}]})",
    R"({"not":{"tag":"t0"}})",
    R"({"and":[{"tag":"t0"},{"tag":"t4"},{"tag":"t9"}]})",
    R"({"and":[{"or":[{"tag":"t1"},{"tag":"t5"},{"tag":"t20"}]},{"layer":["community","friend","member"]},{"not":{"tag":"t2"}}]})",
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Latency {
  double p50 = 0, p99 = 0;
  size_t samples = 0;
};

Latency summarize(std::vector<double> t) {
  if (t.empty()) return {};
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[std::min(t.size() - 1, (t.size() * 99 + 99) / 100 - 1)], t.size()};
}

/// Runs the queries round-robin at `per_second` until `stop`, returning each one's latency.
std::vector<double> run_queries(const index::CustomerIndex& ix,
                                const std::vector<segment::Expr>& queries, int per_second,
                                const std::atomic<bool>& stop) {
  std::vector<double> out;
  const auto period = std::chrono::microseconds(1'000'000 / per_second);
  auto next = std::chrono::steady_clock::now();
  for (size_t i = 0; !stop.load(); ++i) {
    const double start = now_ms();
    (void)segment::count(ix, queries[i % queries.size()], 0);
    out.push_back(now_ms() - start);
    next += period;
    std::this_thread::sleep_until(next);
  }
  return out;
}

struct Batch {
  std::vector<CustomerId> ids;
  std::string tag;
  bool remove = false;
};

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 1'000'000;
  int64_t updates = 1'000'000;
  std::string dir = "/tmp";
  std::string pg_conninfo;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--updates") updates = std::atoll(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--pg") pg_conninfo = argv[i + 1];
  }
  bench::BenchStore bench_store(dir, "churn");
  store::Store& db = bench_store.db();
  const WorkspaceId ws = bench_store.workspace();

  // Customers with a layer, then a starting set of tags (t0 on half of them, rarer after).
  std::mt19937_64 rng(7);
  const char* const layers[] = {"none", "fan", "community", "friend", "member"};
  bench_store.add_customers(customers, 1'795'000'000'000,
                            [&](store::Customer& c) { c.layer = layers[rng() % 5]; });
  std::uniform_int_distribution<int64_t> any_customer(1, customers);
  const auto batch_of = [&](int i) {
    Batch b;
    b.tag = "t" + std::to_string(i % kTags);
    b.remove = (i / kTags) % 2 == 1;  // each tag gains a batch, later loses one
    for (int k = 0; k < kBatch; ++k) b.ids.emplace_back(any_customer(rng));
    return b;
  };
  for (int t = 0; t < kTags; ++t) {
    std::vector<CustomerId> ids;
    const double share = 0.5 / (1.0 + t * 0.9);
    for (int64_t id = 1; id <= customers; ++id) {
      if (static_cast<double>(rng() >> 11) * 0x1.0p-53 < share) ids.emplace_back(id);
    }
    (void)db.bulk_tag(ws, ids, "t" + std::to_string(t), false, "seed", 1'795'000'000'000, std::nullopt);
  }
  // The starting tags are set up, not measured: their log is applied before the index builds.
  while (db.stats().tag_log_rows > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  index::IndexRegistry indexes(db, SystemClock::instance());
  const double b0 = now_ms();
  const index::CustomerIndex* ix = *indexes.get(ws);
  const double build_s = (now_ms() - b0) / 1000;

  std::vector<segment::Expr> queries;
  for (const char* q : kQueries) queries.push_back(*segment::parse_expr(Json::parse(q)));

  // Query latency with nothing else running, then during the churn.
  std::atomic<bool> stop{false};
  std::vector<double> idle;
  std::thread idle_thread([&] { idle = run_queries(*ix, queries, 50, stop); });
  std::this_thread::sleep_for(std::chrono::seconds(5));
  stop = true;
  idle_thread.join();

  const int batches = static_cast<int>(std::max<int64_t>(1, updates / kBatch));
  std::vector<Batch> plan;
  plan.reserve(static_cast<size_t>(batches));
  for (int i = 0; i < batches; ++i) plan.push_back(batch_of(i));

  stop = false;
  std::vector<double> busy;
  std::thread busy_thread([&] { busy = run_queries(*ix, queries, 50, stop); });
  const double c0 = now_ms();
  // Steady-clock seconds, for `perf report --time` over the burst alone.
  std::fprintf(stderr, "churn start %.3f\n", c0 / 1000);
  for (const Batch& b : plan) {
    auto changed = db.bulk_tag(ws, b.ids, b.tag, b.remove, "bench", 1'795'000'000'000, std::nullopt);
    if (!changed) {
      std::fprintf(stderr, "%s\n", changed.error().to_string().c_str());
      return 1;
    }
    if (Status st = indexes.refresh_tag(ws, b.tag, b.ids); !st.is_ok()) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      return 1;
    }
  }
  const double siyu_s = (now_ms() - c0) / 1000;
  std::fprintf(stderr, "churn end %.3f\n", now_ms() / 1000);
  stop = true;
  busy_thread.join();
  // The tag log's rows not yet in the tag tables when the burst ends, and the time the
  // background applier takes to apply them with the writer otherwise idle.
  const int64_t lag_rows = db.stats().tag_log_rows;
  // Readers that meet the pending log (median of five, while the applier works): a page of
  // the customer list filtered by a tag, and the facts of a batch's customers as an index
  // refresh reads them.
  store::CustomerFilter by_tag;
  by_tag.tag = "t1";
  std::vector<double> list_times, facts_times;
  for (int i = 0; i < 5; ++i) {
    const double l0 = now_ms();
    if (!db.customers(ws, by_tag)) return 1;
    list_times.push_back(now_ms() - l0);
    const double f0 = now_ms();
    if (!db.customer_facts(ws, plan[static_cast<size_t>(i) % plan.size()].ids, 0, false)) return 1;
    facts_times.push_back(now_ms() - f0);
  }
  const double list_ms = summarize(list_times).p50, facts_ms = summarize(facts_times).p50;
  const double d0 = now_ms();
  while (db.stats().tag_log_rows > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double drain_s = (now_ms() - d0) / 1000;

  double pg_s = 0;
  if (!pg_conninfo.empty()) {
    bench::Pg pg(pg_conninfo);
    pg.exec("SET client_min_messages=warning");
    pg.exec("DROP TABLE IF EXISTS customer_tags, tag_history;"
            "CREATE TABLE customer_tags (workspace_id bigint, customer_id bigint, tag text, "
            "added_by text, added_at bigint, PRIMARY KEY (workspace_id, customer_id, tag));"
            "CREATE INDEX ON customer_tags (workspace_id, tag, customer_id);"
            "CREATE TABLE tag_history (id bigserial PRIMARY KEY, workspace_id bigint, "
            "customer_id bigint, tag text, action text, by text, at bigint);"
            "CREATE INDEX ON tag_history (workspace_id, customer_id, at);");
    // The same starting tags, loaded with one statement per tag.
    for (int t = 0; t < kTags; ++t) {
      const double share = 0.5 / (1.0 + t * 0.9);
      pg.exec("INSERT INTO customer_tags SELECT 1, id, 't" + std::to_string(t) +
              "', 'seed', 0 FROM generate_series(1, " + std::to_string(customers) +
              ") id WHERE random() < " + std::to_string(share));
    }
    pg.exec("VACUUM ANALYZE customer_tags");
    const double p0 = now_ms();
    for (const Batch& b : plan) {
      std::string ids = "{";
      for (CustomerId id : b.ids) ids += std::to_string(id.value) + ",";
      ids.back() = '}';
      const std::string action = b.remove ? "remove" : "add";
      const std::string changed =
          b.remove ? "DELETE FROM customer_tags WHERE workspace_id=1 AND tag='" + b.tag +
                         "' AND customer_id = ANY('" + ids + "'::bigint[]) RETURNING customer_id"
                   : "INSERT INTO customer_tags SELECT 1, id, '" + b.tag +
                         "', 'bench', 0 FROM unnest('" + ids +
                         "'::bigint[]) id ON CONFLICT DO NOTHING RETURNING customer_id";
      pg.exec("BEGIN");
      pg.exec("WITH changed AS (" + changed + ") INSERT INTO tag_history (workspace_id, "
              "customer_id, tag, action, by, at) SELECT 1, customer_id, '" + b.tag + "', '" +
              action + "', 'bench', 0 FROM changed");
      pg.exec("COMMIT");
    }
    pg_s = (now_ms() - p0) / 1000;
  }

  const Latency before = summarize(idle), during = summarize(busy);
  const double requested = static_cast<double>(plan.size()) * kBatch;
  std::printf(
      "{\"customers\":%lld,\"tag_updates\":%.0f,\"batch\":%d,\"index_build_s\":%.1f,"
      "\"siyu_updates_per_s\":%.0f,\"postgres_updates_per_s\":%.0f,"
      "\"query_p50_idle_ms\":%.2f,\"query_p99_idle_ms\":%.2f,"
      "\"query_p50_churn_ms\":%.2f,\"query_p99_churn_ms\":%.2f,\"queries_during_churn\":%zu,"
      "\"applier_lag_rows\":%lld,\"list_by_tag_pending_ms\":%.1f,"
      "\"facts_1000_pending_ms\":%.1f,\"applier_drain_s\":%.2f,\"tag_holders_mb\":%.1f}\n",
      static_cast<long long>(customers), requested, kBatch, build_s, requested / siyu_s,
      pg_s > 0 ? requested / pg_s : 0.0, before.p50, before.p99, during.p50, during.p99,
      during.samples, static_cast<long long>(lag_rows), list_ms, facts_ms, drain_s,
      static_cast<double>(db.stats().tag_holders_bytes) / 1e6);
  return 0;
}
