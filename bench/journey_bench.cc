// Scheduling and delivery at scale (issue #5), on a durable SQLite store, with PostgreSQL
// doing the same job-queue work side by side when --pg is given.
//
// (a) Scheduling: `touches` (10,000,000) sends scheduled over 7 days as journey runs of 1,000
//     customers each; `due` (1,000,000) of them fall within the next minute. Measured: the time
//     to store every schedule durably (runs and the entries that record who entered), then
//     the rate at which the engine fires the due ones: each touch checked against the
//     frequency caps and written to the outbox in the same transaction as its run moves on.
//     Cap violations afterwards (customers over 2 a day) must be 0.
// (b) Delivery: the `due` customer sends plus `groups` (10,000) group posts drained by the
//     outbox dispatcher to a local webhook sink that accepts batches and checks signatures:
//     time to drain, deliveries per second, distinct idempotency keys at the sink.
// Also: the timing wheel's memory per pending run and per pending touch, and how long a
// restarted engine takes to pick its due runs up again.
//
// PostgreSQL (15, fsync on): the schedules as a jobs table (COPY), then the due jobs fired in
// batches of 5,000 with one statement each (SKIP LOCKED claim, cap-count upsert, outbox
// insert), the usual shape of a PostgreSQL job queue.
//
// usage: siyu_journey_bench [--customers 1000000] [--touches 10000000] [--due 1000000]
//                           [--groups 10000] [--dir /tmp] [--pg CONNINFO]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "bench_store.h"
#include "core/time_format.h"
#include "index/registry.h"
#include "journey/engine.h"
#include "outbox/dispatcher.h"
#include "pg.h"
#include "security/crypto.h"
#include "support/webhook_sink.h"

using namespace siyu;

namespace {

constexpr int64_t kRunSize = 1000;
constexpr const char* kSecret = "bench-webhook-secret-0123";

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "journey bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T ok(Result<T> r) {
  if (!r) die(r.error().to_string());
  return std::move(*r);
}

struct PgFigures {
  double insert_s = 0;
  double fire_s = 0;
  uint64_t outbox = 0;
};

PgFigures run_pg(const std::string& conninfo, int64_t customers, int64_t touches, int64_t due,
                 EpochMs now) {
  bench::Pg pg(conninfo);
  pg.exec("DROP TABLE IF EXISTS jobs, outbox, cap_counts");
  pg.exec("CREATE TABLE jobs (id bigserial PRIMARY KEY, due_at bigint NOT NULL, customer int NOT "
          "NULL, journey int NOT NULL)");
  pg.exec("CREATE TABLE outbox (id bigserial PRIMARY KEY, job_id bigint UNIQUE, customer int, "
          "state text, created_at bigint)");
  pg.exec("CREATE TABLE cap_counts (customer int, day int, n int, PRIMARY KEY (customer, day))");
  PgFigures f;
  std::mt19937_64 rng(7);
  auto start = std::chrono::steady_clock::now();
  pg.copy_begin("COPY jobs (due_at, customer, journey) FROM STDIN");
  std::string buf;
  for (int64_t i = 0; i < touches; ++i) {
    const int64_t customer = i % customers + 1;
    const EpochMs at = i < due ? now + static_cast<int64_t>(rng() % 60'000)
                               : now + 60'000 + static_cast<int64_t>(rng() % (7 * kMsPerDay));
    buf += std::to_string(at) + "\t" + std::to_string(customer) + "\t1\n";
    if (buf.size() > (1 << 20)) {
      pg.put(buf);
      buf.clear();
    }
  }
  pg.put(buf);
  pg.copy_end();
  pg.exec("CREATE INDEX jobs_due ON jobs (due_at)");
  f.insert_s = seconds_since(start);
  const int64_t day = (now + 480 * 60'000) / kMsPerDay;
  start = std::chrono::steady_clock::now();
  while (true) {
    const uint64_t before = pg.count("SELECT count(*) FROM outbox");
    pg.exec("WITH due AS (DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE due_at <= " +
            std::to_string(now + 60'000) +
            " ORDER BY due_at LIMIT 5000 FOR UPDATE SKIP LOCKED) RETURNING id, customer), "
            "caps AS (INSERT INTO cap_counts (customer, day, n) SELECT customer, " +
            std::to_string(day) +
            ", count(*) FROM due GROUP BY customer ON CONFLICT (customer, day) DO UPDATE SET "
            "n = cap_counts.n + excluded.n RETURNING customer, n) "
            "INSERT INTO outbox (job_id, customer, state, created_at) SELECT d.id, d.customer, "
            "CASE WHEN c.n <= 2 THEN 'pending' ELSE 'capped' END, " +
            std::to_string(now) + " FROM due d JOIN caps c USING (customer)");
    if (pg.count("SELECT count(*) FROM outbox") == before) break;
  }
  f.fire_s = seconds_since(start);
  f.outbox = pg.count("SELECT count(*) FROM outbox");
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 1'000'000;
  int64_t touches = 10'000'000;
  int64_t due = 1'000'000;
  int64_t groups = 10'000;
  std::string dir = "/tmp";
  std::string pg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--touches") touches = std::atoll(argv[i + 1]);
    if (flag == "--due") due = std::atoll(argv[i + 1]);
    if (flag == "--groups") groups = std::atoll(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--pg") pg = argv[i + 1];
  }
  (void)security::init();
  const EpochMs start_ms = SystemClock::instance().now_ms();
  ManualClock clock(start_ms);
  bench::BenchStore bs(dir, "journeys");
  store::Store& db = bs.db();
  const WorkspaceId ws = bs.workspace();

  // Staff enough that no account passes its 600-a-minute limit; customers owned round-robin.
  const int64_t staff_count = std::max<int64_t>(1, due / 500);
  std::vector<UserId> staff;
  for (int64_t i = 0; i < staff_count; ++i) {
    store::User u;
    u.workspace = ws;
    u.email = "staff" + std::to_string(i) + "@bench.example";
    u.display_name = "导购" + std::to_string(i);
    staff.push_back(ok(db.create_user(u)).id);
  }
  int64_t serial = 0;
  auto t0 = std::chrono::steady_clock::now();
  bs.add_customers(customers, start_ms, [&](store::Customer& c) {
    c.name = "客户" + std::to_string(serial);
    c.owner_staff = staff[static_cast<size_t>(serial++ % staff_count)];
  });
  std::fprintf(stderr, "customers: %.1f s\n", seconds_since(t0));
  std::vector<store::Group> made_groups;
  for (int64_t g = 0; g < groups; ++g) {
    store::Group group;
    group.name = "群" + std::to_string(g);
    group.owner_staff = staff[static_cast<size_t>(g % staff_count)];
    made_groups.push_back(ok(db.create_group(ws, group)));
  }
  testing::WebhookSink sink(kSecret);
  if (!db.put_setting(ws, "delivery",
                      Json{{"channel", "webhook"}, {"webhook_url", sink.url()},
                           {"webhook_secret", kSecret}, {"allow_private_webhooks", true},
                           {"quiet_start", "00:00"}, {"quiet_end", "00:00"},
                           {"staff_per_minute", 600}}
                          .dump(),
                      start_ms)
           .is_ok()) {
    die("settings");
  }
  // One journey: a marketing message to each entrant; another posting to every group.
  const Json send = {{"trigger", {{"type", "event"}, {"event", "bench"}}},
                     {"reentry", "always"},
                     {"steps", {{{"type", "send"}, {"content", {{"text", "{name}，本周新品"}}}}}}};
  Json group_ids = Json::array();
  for (const auto& g : made_groups) group_ids.push_back(g.id.value);
  const Json posts = {{"trigger", {{"type", "event"}, {"event", "bench_posts"}}},
                      {"steps", {{{"type", "send"}, {"to", "group"}, {"groups", group_ids},
                                  {"content", {{"text", "【{group}】今晚 8 点分享"}}}}}}};
  store::Journey j;
  j.name = "bench send";
  j.definition_json = send.dump();
  j.created_at = start_ms;
  const int64_t send_id = ok(db.create_journey(ws, j)).id;
  j.name = "bench posts";
  j.definition_json = posts.dump();
  const int64_t posts_id = ok(db.create_journey(ws, j)).id;
  for (int64_t id : {send_id, posts_id}) {
    if (!db.set_journey_status(ws, id, "active", start_ms).is_ok()) die("status");
  }

  // (a) Insert every schedule: runs of kRunSize customers, due within the minute or later.
  std::mt19937_64 rng(11);
  t0 = std::chrono::steady_clock::now();
  const int64_t runs = touches / kRunSize;
  const int64_t due_runs = due / kRunSize;
  std::vector<store::RunStart> batch;
  for (int64_t r = 0; r < runs; ++r) {
    index::Bitmap members;
    // Due touches reach each of their customers three times in the minute, so the daily cap
    // of 2 stops exactly a third of them; later touches spread over everyone.
    const int64_t span = r < due_runs ? std::max<int64_t>(kRunSize, due / 3 / kRunSize * kRunSize)
                                      : customers;
    const int64_t first = (r * kRunSize) % span + 1;
    members.addRange(static_cast<uint64_t>(first), static_cast<uint64_t>(first + kRunSize));
    store::RunStart s;
    s.run.journey_id = send_id;
    s.run.version = 1;
    s.run.due_at = r < due_runs ? start_ms + static_cast<int64_t>(rng() % 60'000)
                                : start_ms + 60'000 + static_cast<int64_t>(rng() % (7 * kMsPerDay));
    s.run.members_blob = index::to_bytes(members);
    s.run.size = kRunSize;
    s.run.trigger_key = "bench:" + std::to_string(r);
    s.run.entered_at = start_ms;
    for (uint32_t id : members) s.entrants.emplace_back(id);
    batch.push_back(std::move(s));
    if (batch.size() == 200 || r + 1 == runs) {
      ok(db.start_runs(ws, batch, {}, {}));
      batch.clear();
    }
  }
  const double insert_s = seconds_since(t0);
  // The group posts: one run posting to every group, due now.
  store::RunStart gp;
  gp.run.journey_id = posts_id;
  gp.run.version = 1;
  gp.run.due_at = start_ms;
  gp.run.members_blob = index::to_bytes(index::Bitmap());
  gp.run.trigger_key = "bench:posts";
  gp.run.entered_at = start_ms;
  ok(db.start_runs(ws, {gp}, {}, {}));

  // A restarted engine: time until its wheel holds the due runs and the first step has run.
  index::IndexRegistry indexes(db, clock);
  journey::JourneyEngine engine(journey::EngineDeps{db, indexes, clock, nullptr, nullptr});
  clock.set(start_ms + 60'000);
  t0 = std::chrono::steady_clock::now();
  if (Status st = engine.load_due(); !st.is_ok()) die(st.to_string());
  const double resume_s = seconds_since(t0);
  const auto [pending_runs, wheel_bytes] = engine.wheel_stats();

  // Fire everything due in the minute.
  int64_t fired = 0;
  int64_t capped = 0;
  t0 = std::chrono::steady_clock::now();
  for (;;) {
    auto r = ok(engine.tick());
    fired += r.outbox_rows;
    capped += r.capped;
    if (r.steps_run == 0) break;
  }
  const double fire_s = seconds_since(t0);
  auto stats = ok(db.outbox_counts(ws));
  int64_t outbox_rows = 0;
  int64_t pending = 0;
  for (const auto& [state, n] : stats) {
    outbox_rows += n;
    if (state == "pending") pending = n;
  }
  // Each due customer may get 2 of its 3 touches: more would be a cap violation.
  const int64_t due_customers = std::max<int64_t>(kRunSize, due / 3 / kRunSize * kRunSize);
  const int64_t violations = std::max<int64_t>(0, pending - groups - 2 * due_customers);

  // (b) Drain the outbox to the sink.
  outbox::Dispatcher dispatcher(db, clock, dir + "/bench-deliveries.log");
  t0 = std::chrono::steady_clock::now();
  int64_t delivered = 0;
  for (;;) {
    auto r = ok(dispatcher.run_once(5000));
    delivered += r.delivered;
    if (r.delivered + r.retried + r.dead + r.deferred + r.skipped == 0) break;
  }
  const double drain_s = seconds_since(t0);
  const auto [distinct, total] = sink.counts();

  std::printf("{\"customers\":%lld,\"touches\":%lld,\"due\":%lld,\"groups\":%lld,"
              "\"siyu\":{\"insert_s\":%.2f,\"insert_per_s\":%.0f,\"resume_s\":%.3f,"
              "\"fire_s\":%.2f,\"fired\":%lld,\"fires_per_s\":%.0f,\"capped\":%lld,"
              "\"pending_runs_in_wheel\":%zu,\"wheel_bytes_per_run\":%.1f,"
              "\"wheel_bytes_per_touch\":%.3f,\"drain_s\":%.2f,\"delivered\":%lld,"
              "\"deliveries_per_s\":%.0f,\"sink_distinct\":%zu,\"sink_total\":%lld,"
              "\"outbox_rows\":%lld,\"cap_violations\":%lld}",
              static_cast<long long>(customers), static_cast<long long>(touches),
              static_cast<long long>(due), static_cast<long long>(groups), insert_s,
              static_cast<double>(touches) / insert_s, resume_s, fire_s,
              static_cast<long long>(fired), static_cast<double>(fired) / fire_s,
              static_cast<long long>(capped), pending_runs,
              pending_runs ? static_cast<double>(wheel_bytes) / static_cast<double>(pending_runs) : 0.0,
              pending_runs ? static_cast<double>(wheel_bytes) / static_cast<double>(pending_runs * kRunSize) : 0.0,
              drain_s, static_cast<long long>(delivered), static_cast<double>(delivered) / drain_s,
              distinct, static_cast<long long>(total), static_cast<long long>(outbox_rows),
              static_cast<long long>(violations));
  if (!pg.empty()) {
    const PgFigures f = run_pg(pg, customers, touches, due, start_ms);
    std::printf(",\"postgres\":{\"insert_s\":%.2f,\"insert_per_s\":%.0f,\"fire_s\":%.2f,"
                "\"fired\":%llu,\"fires_per_s\":%.0f}",
                f.insert_s, static_cast<double>(touches) / f.insert_s, f.fire_s,
                static_cast<unsigned long long>(f.outbox),
                static_cast<double>(f.outbox) / f.fire_s);
  }
  std::printf("}\n");
  return 0;
}
