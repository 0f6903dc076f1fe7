// Kills the real `siyu serve` process with SIGKILL while events and orders (or group messages)
// are being ingested, restarts it, and checks that every acknowledged write is present exactly
// once, with the figures derived in the same transactions agreeing with it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "community/service.h"
#include "core/json.h"
#include "core/time_format.h"
#include "security/crypto.h"
#include "store/store.h"
#include "support/temp_dir.h"
#include "support/webhook_sink.h"

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

/// Makes workspace `slug` in `dir` with the CLI and returns an admin API key for it, or "" when
/// either command failed.
std::string workspace_with_key(const testing::TempDir& dir, const std::string& slug,
                               const std::string& name) {
  run_capture(std::string(SIYU_BINARY) + " workspace create --data " + dir.str() + " --slug " +
              slug + " --name " + name);
  auto key_json =
      parse_json(run_capture(std::string(SIYU_BINARY) + " keys create --data " + dir.str() +
                             " --workspace " + slug + " --role admin --json"));
  if (!key_json || !key_json->contains("key")) return "";
  return key_json->at("key").get<std::string>();
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
    // Up to 30 s: a sanitizer build recovering a killed store on a loaded machine is slow.
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 1200; ++i) {
      if (auto r = c.Get("/healthz"); r && r->status == 200) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;  // the server exited
      }
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
  const std::string key = workspace_with_key(dir, "crash", "C");
  ASSERT_FALSE(key.empty());
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

/// Group messages through moderation: every acknowledged message is stored once, and the day
/// figures and the moderation log agree with the stored messages (one transaction per batch).
TEST(CrashTest, AcknowledgedGroupMessagesSurviveSigkill) {
  testing::TempDir dir;
  const std::string key = workspace_with_key(dir, "chat", "C");
  ASSERT_FALSE(key.empty());
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  std::vector<int64_t> members;
  {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start());
    httplib::Client c("127.0.0.1", port);
    c.set_bearer_token_auth(key);
    auto g = c.Post("/v1/groups", R"({"name":"压测群","capacity":500})", "application/json");
    ASSERT_TRUE(g && g->status == 201);
    auto rule = c.Post("/v1/moderation/rules", R"({"name":"广告","kind":"ads"})", "application/json");
    ASSERT_TRUE(rule && rule->status == 201);
    for (int i = 0; i < 40; ++i) {
      auto made = c.Post("/v1/customers", R"({"name":"m"})", "application/json");
      ASSERT_TRUE(made && made->status == 201);
      const int64_t id = parse_json(made->body)->at("id").get<int64_t>();
      auto joined = c.Post("/v1/groups/1/members", Json{{"customer_id", id}}.dump(), "application/json");
      ASSERT_TRUE(joined && joined->status == 201);
      members.push_back(id);
    }
  }
  std::set<std::string> acked;
  const std::string at = format_timestamp(SystemClock::instance().now_ms());
  for (int round = 0; round < 3; ++round) {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start());
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_bearer_token_auth(key);
      for (int batch = 0; !stop; ++batch) {
        Json msgs = Json::array();
        for (int i = 0; i < 500; ++i) {
          const std::string id = "r" + std::to_string(round) + "-b" + std::to_string(batch) + "-" + std::to_string(i);
          msgs.push_back({{"msg_id", id}, {"group_id", 1}, {"customer_id", members[static_cast<size_t>(i) % members.size()]},
                          {"text", i % 50 == 7 ? "加 V 信领红包" : "今天的护肤分享真好"}, {"at", at}});
        }
        auto r = c.Post("/v1/group-messages", msgs.dump(), "application/json");
        if (!r || r->status != 200) break;
        for (const auto& m : msgs) acked.insert(m["msg_id"].get<std::string>());
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));
    server.kill9();
    stop = true;
    writer.join();
  }
  ASSERT_GT(acked.size(), 0u);
  store::StoreConfig cfg;
  cfg.data_dir = dir.str();
  auto st = store::open_store(cfg);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  auto ws = (*st)->workspace_by_slug("chat");
  const auto stored_messages = *(*st)->group_messages(ws->id, GroupId(1), 0, INT64_MAX, 10'000'000);
  std::set<std::string> stored;
  int64_t spam = 0;
  for (const auto& m : stored_messages) {
    stored.insert(m.msg_id);
    spam += m.moderation ? 1 : 0;
  }
  EXPECT_EQ(stored.size(), stored_messages.size()) << "a message was stored twice";
  for (const auto& id : acked) ASSERT_TRUE(stored.contains(id)) << "lost acknowledged message " << id;
  // Figures are written behind the messages: those the kill left unwritten are counted again
  // from the stored messages, as the next start does, before they are read.
  community::CommunityService recount(**st, SystemClock::instance());
  ASSERT_TRUE(recount.settle(ws->id).is_ok());
  int64_t counted = 0, violations = 0;
  const auto days = *(*st)->group_days(ws->id, GroupId(1), 0, INT64_MAX);
  for (const auto& d : days) {
    counted += d.messages;
    violations += d.violations;
  }
  EXPECT_EQ(counted, static_cast<int64_t>(stored_messages.size()));
  EXPECT_EQ(violations, spam);
  const auto log = *(*st)->moderation_log(ws->id, 0, 1'000'000);
  EXPECT_EQ(static_cast<int64_t>(log.size()), spam);
}

/// Bulk tagging through the tag log: every acknowledged add and remove is in the customers'
/// tags after a kill and restart (the log applied at open), and nothing else is.
TEST(CrashTest, AcknowledgedTagChangesSurviveSigkill) {
  testing::TempDir dir;
  const std::string key = workspace_with_key(dir, "tags", "T");
  ASSERT_FALSE(key.empty());
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  std::vector<int64_t> customers;
  {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start());
    httplib::Client c("127.0.0.1", port);
    c.set_bearer_token_auth(key);
    for (int i = 0; i < 60; ++i) {
      auto made = c.Post("/v1/customers", R"({"name":"t"})", "application/json");
      ASSERT_TRUE(made && made->status == 201);
      customers.push_back(parse_json(made->body)->at("id").get<int64_t>());
    }
  }
  // Per tag: its holders after the acknowledged operations, or no entry while an operation on
  // it went unanswered (the kill came first: it may or may not have happened).
  std::map<std::string, std::set<int64_t>> expected;
  std::set<std::string> unsure;
  for (int round = 0; round < 3; ++round) {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start());
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_bearer_token_auth(key);
      std::mt19937 pick(static_cast<unsigned>(round));
      for (int batch = 0; !stop; ++batch) {
        const std::string tag = "k" + std::to_string(round) + "_" + std::to_string(batch % 40);
        const bool remove = batch % 3 == 2;
        std::set<int64_t> ids;
        std::string csv = "customer_id\n";
        for (int64_t id : customers) {
          if (pick() % 3 == 0 && ids.insert(id).second) csv += std::to_string(id) + "\n";
        }
        unsure.insert(tag);
        auto r = c.Post("/v1/tags:bulk?tag=" + tag + "&action=" + (remove ? "remove" : "add"), csv,
                        "text/csv");
        if (!r || r->status != 200) break;
        unsure.erase(tag);
        auto& holders = expected[tag];
        for (int64_t id : ids) {
          if (remove) {
            holders.erase(id);
          } else {
            holders.insert(id);
          }
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));
    server.kill9();
    stop = true;
    writer.join();
  }
  ASSERT_FALSE(expected.empty());
  store::StoreConfig cfg;
  cfg.data_dir = dir.str();
  auto st = store::open_store(cfg);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  auto ws = (*st)->workspace_by_slug("tags");
  std::map<std::string, std::set<int64_t>> stored;
  for (int64_t id : customers) {
    auto tags = (*st)->tags(ws->id, CustomerId(id));
    ASSERT_TRUE(tags.has_value()) << tags.error().to_string();
    for (const auto& t : *tags) stored[t.tag].insert(id);
  }
  for (const auto& [tag, holders] : expected) {
    if (unsure.contains(tag)) continue;
    EXPECT_EQ(stored[tag], holders) << "holders of " << tag;
  }
  for (const auto& [tag, holders] : stored) {
    EXPECT_TRUE(expected.contains(tag) || unsure.contains(tag))
        << "tag never acknowledged: " << tag;
  }
}

template <typename F>
bool wait_for(F done, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(CrashTest, ALargeSendSurvivesSigkillWithNoSecondEffect) {
  constexpr int kCustomers = 5000;
  const std::string secret = "crash-test-secret-0123";
  testing::WebhookSink sink(secret, std::chrono::milliseconds(40));  // slow: the kill lands mid-send
  testing::TempDir dir;
  {
    ASSERT_TRUE(security::init().is_ok());
    store::StoreConfig cfg;
    cfg.data_dir = dir.str();
    auto st = std::move(store::open_store(cfg)).value();
    const EpochMs now = SystemClock::instance().now_ms();
    const WorkspaceId ws = st->create_workspace({WorkspaceId(), "send", "S", "Asia/Shanghai", now})->id;
    std::vector<UserId> staff;
    for (int i = 0; i < 40; ++i) {
      store::User u;
      u.workspace = ws;
      u.email = "staff" + std::to_string(i) + "@s.example";
      u.display_name = "导购" + std::to_string(i);
      staff.push_back(st->create_user(u)->id);
    }
    std::vector<std::pair<store::Customer, std::vector<store::Identity>>> batch;
    for (int i = 0; i < kCustomers; ++i) {
      store::Customer c;
      c.workspace = ws;
      c.name = "客户" + std::to_string(i);
      c.owner_staff = staff[static_cast<size_t>(i) % staff.size()];
      c.created_at = now;
      c.updated_at = now;
      batch.emplace_back(c, std::vector<store::Identity>{});
    }
    ASSERT_TRUE(st->create_customers(ws, batch));
    ASSERT_TRUE(st->put_setting(ws, "delivery",
                                Json{{"channel", "webhook"}, {"webhook_url", sink.url()},
                                     {"webhook_secret", secret}, {"allow_private_webhooks", true},
                                     {"staff_per_minute", 600}}
                                    .dump(),
                                now)
                    .is_ok());
    // One run for everyone, a few seconds after the server starts.
    const Json def = {
        {"trigger", {{"type", "schedule"}, {"every", "once"}, {"when", format_local(now + 4000, 480)}}},
        {"audience", {{"not", {{"tag", "nobody"}}}}},
        {"steps", {{{"type", "send"}, {"class", "key"}, {"content", {{"text", "{name}，新品上市"}}}}}}};
    store::Journey j;
    j.name = "big send";
    j.definition_json = def.dump();
    j.created_by = "test";
    j.created_at = now;
    const int64_t id = st->create_journey(ws, j)->id;
    ASSERT_TRUE(st->set_journey_status(ws, id, "active", now).is_ok());
  }
  std::mt19937 rng(std::random_device{}());
  const int port = 20000 + static_cast<int>(rng() % 20000);
  {
    Server server(dir.str(), port);
    ASSERT_TRUE(server.start());
    ASSERT_TRUE(wait_for([&] { return sink.counts().first >= 2000; }, 60)) << "the send did not start";
    server.kill9();
  }
  const auto [before, _] = sink.counts();
  EXPECT_LT(before, static_cast<size_t>(kCustomers)) << "the kill came after the whole send";
  const auto restarted = std::chrono::steady_clock::now();
  Server server(dir.str(), port);
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(wait_for([&, seen = before] { return sink.counts().first > seen; }, 30));
  const double resumed_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - restarted)
                                .count();
  ASSERT_TRUE(wait_for([&] { return sink.counts().first == kCustomers; }, 90))
      << "after the restart the sink has " << sink.counts().first << " distinct deliveries";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // nothing more arrives
  const auto [distinct, total] = sink.counts();
  std::printf("large send: %zu delivered before the kill; first delivery %.0f ms after the "
              "restart; %zu distinct and %lld in all after\n",
              before, resumed_ms, distinct, static_cast<long long>(total));
  EXPECT_EQ(distinct, static_cast<size_t>(kCustomers));
  // A resend happens only for the batch in flight when the process died.
  EXPECT_LE(total - kCustomers, 1000) << "resends: " << total - kCustomers;
}

}  // namespace
}  // namespace siyu
