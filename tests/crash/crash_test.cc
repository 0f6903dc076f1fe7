// Kills the real `siyu serve` process with SIGKILL while events and orders are being ingested,
// restarts it, and checks that every acknowledged event and order is present exactly once.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "core/json.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace siyu {
namespace {

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out;
}

class Server {
 public:
  Server(const std::string& data, int port) : data_(data), port_(port) {}
  ~Server() { kill9(); }

  bool start() {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      freopen("/dev/null", "w", stderr);
      execl(SIYU_BINARY, "siyu", "serve", "--data", data_.c_str(), "--listen", listen.c_str(),
            "--static", "", static_cast<char*>(nullptr));
      _exit(127);
    }
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 200; ++i) {
      if (auto r = c.Get("/healthz"); r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  void kill9() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  std::string data_;
  int port_;
  pid_t pid_ = -1;
};

std::string event_batch(int round, int batch, int size) {
  Json events = Json::array();
  for (int i = 0; i < size; ++i) {
    const std::string id = "r" + std::to_string(round) + "-b" + std::to_string(batch) + "-" + std::to_string(i);
    events.push_back({{"event_id", id},
                      {"type", "view"},
                      {"timestamp", 1767225600000 + i},
                      {"customer", {{"type", "app_user_id"}, {"value", "user-" + std::to_string(i % 50)}}}});
  }
  return events.dump();
}

std::string order_of(int round, int batch) {
  return Json{{"order_id", "o-" + std::to_string(round) + "-" + std::to_string(batch)},
              {"status", "paid"},
              {"amount", 100 + batch},
              {"ordered_at", 1767225600000},
              {"customer", {{"type", "app_user_id"}, {"value", "user-1"}}}}
      .dump();
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  run_capture(std::string(SIYU_BINARY) + " workspace create --data " + dir.str() + " --slug crash --name C");
  auto key_json = parse_json(run_capture(std::string(SIYU_BINARY) + " keys create --data " + dir.str() +
                                         " --workspace crash --role admin --json"));
  ASSERT_TRUE(key_json.has_value());
  const std::string key = key_json->at("key").get<std::string>();
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  std::set<std::string> acked_events, acked_orders;
  std::vector<std::pair<std::string, std::string>> sent;  // (events body, order body)

  for (int round = 0; round < 3; ++round) {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start()) << "server did not start on port " << port;
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_bearer_token_auth(key);
      for (int batch = 0; !stop; ++batch) {
        const std::string events = event_batch(round, batch, 200);
        const std::string order = order_of(round, batch);
        sent.emplace_back(events, order);
        auto r = c.Post("/v1/events", events, "application/json");
        if (!r || r->status != 200) break;
        const Json parsed = parse_json(events).value_or(Json::array());
        for (const auto& e : parsed) acked_events.insert(e["event_id"].get<std::string>());
        auto o = c.Post("/v1/orders", order, "application/json");
        if (!o || (o->status != 201 && o->status != 200)) break;
        const Json parsed_order = parse_json(order).value_or(Json::object());
        acked_orders.insert(parsed_order["order_id"].get<std::string>());
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    server.kill9();
    stop = true;
    writer.join();
  }
  ASSERT_GT(acked_events.size(), 0u);

  {
    store::StoreConfig cfg;
    cfg.data_dir = dir.str();
    auto st = store::open_store(cfg);
    ASSERT_TRUE(st.has_value()) << st.error().to_string();
    auto ws = (*st)->workspace_by_slug("crash");
    std::set<std::string> stored;
    int64_t rows = 0;
    for (int u = 0; u < 50; ++u) {
      auto id = (*st)->find_identity(ws->id, "app_user_id", "", "user-" + std::to_string(u));
      ASSERT_TRUE(id.has_value() && id->has_value());
      auto evs = (*st)->events(ws->id, (*id)->customer, std::nullopt, 1'000'000);
      for (const auto& e : *evs) stored.insert(e.event_id);
      rows += static_cast<int64_t>(evs->size());
    }
    EXPECT_EQ(rows, static_cast<int64_t>(stored.size())) << "an event was stored twice";
    for (const auto& id : acked_events) ASSERT_TRUE(stored.contains(id)) << "lost acknowledged event " << id;
    for (const auto& id : acked_orders) ASSERT_TRUE((*st)->order(ws->id, id).has_value()) << "lost order " << id;
  }

  // Replaying everything after restart stores nothing twice.
  Server server(dir.str(), port);
  ASSERT_TRUE(server.start());
  httplib::Client c("127.0.0.1", port);
  c.set_bearer_token_auth(key);
  int64_t accepted = 0, duplicates = 0;
  for (const auto& [events, order] : sent) {
    auto r = c.Post("/v1/events", events, "application/json");
    ASSERT_TRUE(r && r->status == 200);
    const Json body = parse_json(r->body).value_or(Json::object());
    accepted += body["accepted"].get<int64_t>();
    duplicates += body["duplicates"].get<int64_t>();
  }
  EXPECT_EQ(duplicates + accepted, static_cast<int64_t>(sent.size()) * 200);
  EXPECT_GE(duplicates, static_cast<int64_t>(acked_events.size()));
}

}  // namespace
}  // namespace siyu
