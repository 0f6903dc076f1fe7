// The live count an operator sees while editing a segment, end to end: the ten queries of the
// segment benchmark posted to `POST /v1/segments:count` of the real HTTP server on loopback,
// over a durable Siyu store holding the segment benchmark's workspace (the store
// scripts/rebuild-bench writes and keeps). Each request is timed from the client's send to its
// parsed answer: HTTP, authentication, JSON, parsing and validating the expression and the
// engine. The server's clock stands at the benchmark's instant, so the members are those of the
// segment benchmark.
//
// usage: siyu_live_count_bench --data DIR [--runs 21]
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "api/server.h"
#include "core/clock.h"
#include "core/json.h"
#include "segment_queries.h"

using namespace siyu;
using namespace siyu::bench;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "live count bench: %s\n", what.c_str());
  std::exit(1);
}

/// Posts one count; returns the answer's JSON.
Json post_count(httplib::Client& client, const std::string& body) {
  auto r = client.Post("/v1/segments:count", body, "application/json");
  if (!r) die("no answer from the server");
  if (r->status != 200) die("HTTP " + std::to_string(r->status) + ": " + r->body);
  auto j = parse_json(r->body);
  if (!j) die("answer is not JSON: " + r->body);
  return *j;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data;
  int runs = 21;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") data = argv[i + 1];
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  if (data.empty()) die("--data DIR is required (a store written by scripts/rebuild-bench)");
  (void)security::init();
  store::StoreConfig cfg;
  cfg.data_dir = data;
  auto opened = store::open_store(cfg);
  if (!opened) die(opened.error().to_string());
  store::Store& db = **opened;
  auto all = db.workspaces();
  if (!all || all->empty()) die("no workspace in " + data);
  const WorkspaceId ws = all->front().id;
  auto issued = api::issue_api_key(db, ws, "live count bench", store::Role::kAnalyst, 0);
  if (!issued) die(issued.error().to_string());
  const auto vault = security::Vault::from_key({});
  ManualClock clock(kNow);
  api::Server server({db, vault, clock, ""});
  auto port = server.bind("127.0.0.1", 0);
  if (!port) die(port.error().to_string());
  std::thread serving([&] { (void)server.serve(); });

  httplib::Client client("127.0.0.1", *port);
  client.set_bearer_token_auth(issued->second);
  client.set_read_timeout(600, 0);
  // The first request builds the workspace's index from the store, as `siyu serve` does at
  // start; it is not a live count and is reported apart.
  const double build_start = now_ms();
  const Json first =
      post_count(client, Json{{"expression", Json::parse(kQueries[0].expression)}}.dump());
  std::printf("{\"customers\":%lld,\"index_build_s\":%.1f}\n",
              static_cast<long long>(first.value("of", int64_t{0})),
              (now_ms() - build_start) / 1000);

  std::printf("%-36s %10s %10s %10s %10s\n", "query", "members", "http p50", "http p99",
              "engine p50");
  for (const Query& q : kQueries) {
    const std::string body = Json{{"expression", Json::parse(q.expression)}}.dump();
    std::vector<double> http, engine;
    uint64_t members = 0;
    for (int r = 0; r < runs; ++r) {
      const double start = now_ms();
      const Json answer = post_count(client, body);
      http.push_back(now_ms() - start);
      engine.push_back(answer.value("engine_ms", 0.0));
      members = answer.value("count", uint64_t{0});
    }
    std::sort(http.begin(), http.end());
    std::sort(engine.begin(), engine.end());
    const auto p99 = [](const std::vector<double>& t) {
      return t[std::min(t.size() - 1, (t.size() * 99 + 99) / 100 - 1)];
    };
    std::printf("%-36s %10llu %8.2fms %8.2fms %8.2fms\n", q.name,
                static_cast<unsigned long long>(members), http[http.size() / 2], p99(http),
                engine[engine.size() / 2]);
  }
  server.stop();
  serving.join();
  return 0;
}
