// Freshness: how long after an event is acknowledged does the segment membership it causes
// show in the segment's change feed? The real server runs in-process on loopback with a
// durable SQLite store and its background tag engine; 1,000 saved segments ("at least k events
// of type x_eJ today", 100 types × k = 1…10) watch customers while clients post batches of 1,000
// events at a fixed rate. For the first event of each (customer, type) among ten probe types, the
// time from the batch's acknowledgement to the moment a poller (every 10 ms) sees that customer
// enter the probe segment is one sample. Batches leave at their slots whatever the answers to
// earlier ones (open loop), from enough connections that the arrival rate does not wait on
// the server's response time.
//
// usage: siyu_freshness_bench [--customers 200000] [--segments 1000] [--rate 50000]
//                             [--seconds 30] [--clients 4] [--dir /tmp]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "api/server.h"
#include "bench_store.h"
#include "core/json.h"
#include "core/time_format.h"

using namespace siyu;

namespace {

constexpr int kTypes = 100;
constexpr int kProbeTypes = 10;  // segments 0…9: "at least one x_eJ today", J < 10
constexpr int kBatch = 1000;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t probe_key(int64_t customer, int type) { return static_cast<uint64_t>(customer) * 128 + static_cast<uint64_t>(type); }

}  // namespace

int main(int argc, char** argv) {
  int64_t customers = 200'000;
  int segments = 1000;
  int rate = 50'000;
  int seconds = 30;
  int connections = 4;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--customers") customers = std::atoll(argv[i + 1]);
    if (flag == "--segments") segments = std::atoi(argv[i + 1]);
    if (flag == "--rate") rate = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--clients") connections = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--dir") dir = argv[i + 1];
  }
  (void)security::init();
  bench::BenchStore bench_store(dir, "freshness");
  store::Store& db = bench_store.db();
  const WorkspaceId ws = bench_store.workspace();
  const EpochMs created = SystemClock::instance().now_ms() - 86'400'000;
  bench_store.add_customers(customers, created);
  std::vector<int64_t> probe_segment(kProbeTypes);
  for (int i = 0; i < segments; ++i) {
    store::Segment s;
    s.name = "s" + std::to_string(i);
    s.expression_json = R"({"event":"x_e)" + std::to_string(i % kTypes) +
                        R"(","within_days":1,"count":{"gte":)" + std::to_string(1 + (i / kTypes) % 10) + "}}";
    s.created_by = "bench";
    s.created_at = created;
    const int64_t id = db.create_segment(ws, s)->id;
    if (i < kProbeTypes) probe_segment[static_cast<size_t>(i)] = id;
  }
  const std::string key = api::issue_api_key(db, ws, "bench", store::Role::kAdmin, 0)->second;
  const auto vault = security::Vault::from_key({});
  api::Server server({db, vault, SystemClock::instance(), ""});
  const int port = *server.bind("127.0.0.1", 0);
  std::thread serving([&] { (void)server.serve(); });
  // The first sweep sets every segment's baseline.
  while (db.segment_sizes(ws, probe_segment.back(), "2000-01-01")->empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // Batches built up front: random customers and types, timestamped when sent.
  std::mt19937_64 rng(3);
  const int batches = std::max(1, rate * seconds / kBatch);
  std::vector<std::vector<std::pair<int64_t, int>>> plan(static_cast<size_t>(batches));
  for (auto& b : plan) {
    for (int k = 0; k < kBatch; ++k) {
      b.emplace_back(1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(customers)),
                     static_cast<int>(rng() % kTypes));
    }
  }
  std::mutex mu;
  std::unordered_map<uint64_t, double> acked;  // first probe events: acknowledgement time
  std::unordered_set<uint64_t> entered;        // probes already seen entering
  std::unordered_set<uint64_t> early;          // seen entering before their batch's answer came
  std::vector<double> latencies;
  std::atomic<bool> sending{true};
  std::atomic<int64_t> sent_events{0};
  double max_lag_ms = 0;  // the latest a batch left after its slot: the rate was held if small

  std::thread poller([&] {
    std::vector<int64_t> after(kProbeTypes, 0);
    while (true) {
      const bool last = !sending.load();
      for (int t = 0; t < kProbeTypes; ++t) {
        auto changes = db.segment_changes(ws, probe_segment[static_cast<size_t>(t)], after[static_cast<size_t>(t)], 100'000);
        if (!changes) continue;
        const double seen = now_ms();
        std::lock_guard lock(mu);
        for (const auto& c : *changes) {
          after[static_cast<size_t>(t)] = c.seq;
          const uint64_t probe = probe_key(c.customer.value, t);
          auto it = acked.find(probe);
          if (c.entered && it == acked.end() && !entered.contains(probe)) early.insert(probe);
          if (!c.entered || it == acked.end()) continue;
          latencies.push_back(std::max(0.0, seen - it->second));
          entered.insert(it->first);
          acked.erase(it);
        }
      }
      if (last) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  const double start = now_ms();
  const double period_ms = 1000.0 * kBatch / rate;
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&] {
      httplib::Client cl("127.0.0.1", port);
      cl.set_bearer_token_auth(key);
      cl.set_read_timeout(60, 0);
      for (int b = next++; b < batches; b = next++) {
        // Paced: batch b leaves no earlier than its slot.
        const double due = start + b * period_ms;
        if (const double wait = due - now_ms(); wait > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(wait * 1000)));
        }
        {
          std::lock_guard lock(mu);
          max_lag_ms = std::max(max_lag_ms, now_ms() - due);
        }
        const std::string ts = format_timestamp(SystemClock::instance().now_ms());
        Json arr = Json::array();
        for (size_t k = 0; k < plan[static_cast<size_t>(b)].size(); ++k) {
          const auto [customer, type] = plan[static_cast<size_t>(b)][k];
          arr.push_back({{"event_id", "f" + std::to_string(b) + "-" + std::to_string(k)},
                         {"type", "x_e" + std::to_string(type)},
                         {"timestamp", ts},
                         {"customer", {{"id", customer}}}});
        }
        auto r = cl.Post("/v1/events", arr.dump(), "application/json");
        const double ack = now_ms();
        if (!r || r->status != 200) {
          std::fprintf(stderr, "batch %d failed: %s\n", b, r ? r->body.substr(0, 300).c_str() : "no answer");
          continue;
        }
        sent_events += kBatch;
        std::lock_guard lock(mu);
        for (const auto& [customer, type] : plan[static_cast<size_t>(b)]) {
          const uint64_t probe = probe_key(customer, type);
          if (type >= kProbeTypes || entered.contains(probe)) continue;
          if (early.erase(probe) > 0) {  // the change was out before the answer: no wait at all
            latencies.push_back(0);
            entered.insert(probe);
            continue;
          }
          acked.try_emplace(probe, ack);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  const double send_s = (now_ms() - start) / 1000;
  std::this_thread::sleep_for(std::chrono::seconds(5));  // let the last sweeps land
  sending = false;
  poller.join();
  server.stop();
  serving.join();

  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  // `never_seen`: first probe events whose customer was never seen entering (lost changes).
  // An enter read before its batch's answer arrived counts as no wait.
  std::printf("{\"customers\":%lld,\"segments\":%d,\"target_events_per_s\":%d,"
              "\"achieved_events_per_s\":%.0f,\"samples\":%zu,\"never_seen\":%zu,"
              "\"max_send_lag_ms\":%.0f,\"latency_p50_ms\":%.0f,\"latency_p99_ms\":%.0f,"
              "\"latency_max_ms\":%.0f}\n",
              static_cast<long long>(customers), segments, rate,
              static_cast<double>(sent_events.load()) / send_s, latencies.size(), acked.size(),
              max_lag_ms, pct(0.5), pct(0.99), latencies.empty() ? 0.0 : latencies.back());
  return 0;
}
