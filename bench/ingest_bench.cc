// End-to-end ingest benchmark: JSON batches of 1,000 events over HTTP on loopback into the
// real server and its durable SQLite store (synchronous=FULL). Writes the same rows as CSV
// (--csv FILE) so scripts/bench can COPY them into PostgreSQL with the same indexes.
//
// usage: siyu_ingest_bench [--events 200000] [--clients 2] [--csv FILE] [--durable on|off]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/server.h"
#include "core/json.h"
#include "core/time_format.h"

using namespace siyu;

namespace {

constexpr int64_t kCustomers = 50'000;
constexpr const char* kTypes[] = {"view", "login", "order_paid", "share", "message"};

struct Row {
  std::string event_id, type, phone, channel;
  EpochMs ts;
  int64_t amount;
};

/// The customer (0 … kCustomers-1) of event i: drawn at random, as in a real stream, so that
/// neither side sees the events of one customer together or customers in the order created.
int64_t customer_of(int64_t i) {
  uint64_t z = static_cast<uint64_t>(i) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<int64_t>((z ^ (z >> 31)) % kCustomers);
}

Row make_row(int64_t i) {
  Row r;
  r.event_id = "b-" + std::to_string(i);
  r.type = kTypes[i % 5];
  r.phone = "139" + std::to_string(10'000'000 + customer_of(i));
  r.channel = "ch" + std::to_string(i % 8);
  r.ts = 1'767'225'600'000 + i * 1000;
  r.amount = r.type == "order_paid" ? 1000 + i % 5000 : 0;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t total = 200'000;
  int clients = 2;
  std::string csv;
  bool durable = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events") total = std::atoll(argv[i + 1]);
    if (flag == "--clients") clients = std::atoi(argv[i + 1]);
    if (flag == "--csv") csv = argv[i + 1];
    if (flag == "--durable") durable = std::string(argv[i + 1]) != "off";
  }
  (void)security::init();
  const std::string dir = "/tmp/siyu-ingest-bench-" + std::to_string(::getpid());
  store::StoreConfig cfg;
  cfg.data_dir = dir;
  cfg.durable = durable;
  auto st = store::open_store(cfg);
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
    return 1;
  }
  auto& db = **st;
  auto ws = db.create_workspace({WorkspaceId(), "bench", "Bench", "Asia/Shanghai", 0});
  const std::string key = api::issue_api_key(db, ws->id, "bench", store::Role::kAdmin, 0)->second;
  const auto vault = security::Vault::from_key({});
  api::Server server({db, vault, SystemClock::instance(), ""});
  const int port = *server.bind("127.0.0.1", 0);
  std::thread serving([&] { (void)server.serve(); });

  // Build the batches up front: the benchmark measures the server, not the client's JSON.
  const int64_t batch_size = 1000;
  std::vector<std::string> batches;
  std::ofstream out_csv;
  if (!csv.empty()) out_csv.open(csv);
  for (int64_t first = 0; first < total; first += batch_size) {
    Json arr = Json::array();
    for (int64_t i = first; i < std::min(total, first + batch_size); ++i) {
      const Row r = make_row(i);
      arr.push_back({{"event_id", r.event_id},
                     {"type", r.type},
                     {"timestamp", r.ts},
                     {"amount", r.amount},
                     {"channel", r.channel},
                     {"customer", {{"type", "phone"}, {"value", r.phone}}},
                     {"properties", {{"page", "menu"}}}});
      if (out_csv) {
        out_csv << "1," << r.event_id << "," << (1 + customer_of(i)) << "," << r.type << "," << r.ts
                << "," << r.amount << "," << r.channel << ",\"{\"\"page\"\":\"\"menu\"\"}\","
                << r.ts << "\n";
      }
    }
    batches.push_back(arr.dump());
  }
  if (out_csv) out_csv.close();

  std::atomic<size_t> next{0};
  std::atomic<int64_t> accepted{0};
  std::atomic<bool> failed{false};
  std::vector<double> latency_ms(batches.size());  // each batch's request, by batch
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int c = 0; c < clients; ++c) {
    workers.emplace_back([&] {
      httplib::Client cl("127.0.0.1", port);
      cl.set_bearer_token_auth(key);
      cl.set_read_timeout(60, 0);
      for (size_t b = next++; b < batches.size(); b = next++) {
        const auto sent = std::chrono::steady_clock::now();
        auto r = cl.Post("/v1/events", batches[b], "application/json");
        latency_ms[b] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent)
                .count();
        if (!r || r->status != 200) {
          failed = true;
          return;
        }
        accepted += parse_json(r->body).value_or(Json::object()).value("accepted", int64_t{0});
      }
    });
  }
  for (auto& w : workers) w.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  const double p99_ms = latency_ms[latency_ms.size() * 99 / 100];
  const double max_ms = latency_ms.back();
  server.stop();
  serving.join();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (failed || accepted != total) {
    std::fprintf(stderr, "ingest failed: accepted %lld of %lld\n", static_cast<long long>(accepted.load()),
                 static_cast<long long>(total));
    return 1;
  }
  const store::StoreStats stats = db.stats();
  std::printf(
      "{\"events\":%lld,\"seconds\":%.3f,\"events_per_second\":%.0f,\"clients\":%d,"
      "\"commits\":%lld,\"writer_busy_seconds\":%.3f,\"batch_p99_ms\":%.1f,"
      "\"batch_max_ms\":%.1f}\n",
      static_cast<long long>(total), secs, static_cast<double>(total) / secs, clients,
      static_cast<long long>(stats.commits), static_cast<double>(stats.commit_micros) / 1e6, p99_ms,
      max_ms);
  return 0;
}
