// Journeys through the API: validation with exact paths, versions and status, SOP templates,
// the calendar of group posts, the delivery log and its figures, staff tasks, opt-outs,
// delivery settings, roles and workspace isolation.
#include <chrono>

#include "api/api_fixture.h"
#include "core/time_format.h"

namespace siyu::api {
namespace {

class JourneyApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    store::Group g;
    g.name = "福利群";
    group_ = store_->create_group(a_, g)->id.value;
  }

  /// Waits until `fn` holds (the engine and dispatcher run in the background).
  template <typename F>
  bool eventually(F fn) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
      if (fn()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int64_t group_ = 0;
};

TEST_F(JourneyApiTest, ValidationNamesThePathAndChangesNothing) {
  auto bad = call("POST", "/v1/journeys", key_a_,
                  R"({"name":"x","definition":{"trigger":{"type":"event","event":"join_group"},
                      "steps":[{"type":"branch","if":{"tag":""}}]}})");
  EXPECT_EQ(bad.status, 400) << bad.raw;
  EXPECT_EQ(bad.body["error"]["field"], "steps[0].if.tag");
  auto no_group = call("POST", "/v1/journeys", key_a_,
                       R"({"name":"x","definition":{"trigger":{"type":"schedule","every":"day","at":"08:00"},
                           "steps":[{"type":"send","to":"group","groups":[999],"content":{"text":"hi"}}]}})");
  EXPECT_EQ(no_group.status, 400);
  EXPECT_NE(no_group.body["error"]["message"].get<std::string>().find("group 999"), std::string::npos);
  auto unknown_var = call("POST", "/v1/journeys", key_a_,
                          R"({"name":"x","definition":{"trigger":{"type":"event","event":"a"},
                              "steps":[{"type":"send","content":{"text":"{cupon}"}}]}})");
  EXPECT_EQ(unknown_var.body["error"]["field"], "steps[0].content.text");
  EXPECT_EQ(call("GET", "/v1/journeys", key_a_).body["items"].size(), 0u);
}

TEST_F(JourneyApiTest, JourneysLiveInTheirWorkspaceAndRolesGateChanges) {
  auto made = call("POST", "/v1/journeys", key_a_,
                   R"({"name":"欢迎","definition":{"trigger":{"type":"event","event":"join_group"},
                       "steps":[{"type":"send","class":"key","content":{"text":"{name} 欢迎"}}]}})");
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string path = "/v1/journeys/" + std::to_string(made.body["id"].get<int64_t>());
  EXPECT_EQ(made.body["status"], "draft");
  EXPECT_EQ(call("GET", path, key_b_).status, 404);
  EXPECT_EQ(call("POST", path + "/status", key_b_, R"({"status":"active"})").status, 404);
  EXPECT_EQ(call("POST", path + "/status", analyst_a_, R"({"status":"active"})").status, 403);
  EXPECT_EQ(call("POST", path + "/status", key_a_, R"({"status":"paused"})").status, 409);
  auto active = call("POST", path + "/status", key_a_, R"({"status":"active"})");
  ASSERT_EQ(active.status, 200) << active.raw;
  EXPECT_EQ(active.body["status"], "active");
  auto edited = call("PATCH", path, key_a_,
                     R"({"definition":{"trigger":{"type":"event","event":"join_group"},
                         "steps":[{"type":"send","class":"key","content":{"text":"{name} 你好"}}]}})");
  ASSERT_EQ(edited.status, 200) << edited.raw;
  EXPECT_EQ(edited.body["version"], 2);
  EXPECT_EQ(call("GET", "/v1/journeys", key_b_).body["items"].size(), 0u);
  EXPECT_EQ(call("POST", path + "/status", key_a_, R"({"status":"archived"})").status, 200);
  EXPECT_EQ(call("PATCH", path, key_a_, R"({"name":"y"})").status, 409);
}

TEST_F(JourneyApiTest, AnEventReachesTheLogThroughTheEngineAndDispatcher) {
  auto made = call("POST", "/v1/journeys", key_a_,
                   R"({"name":"欢迎","definition":{"trigger":{"type":"event","event":"join_group"},
                       "steps":[{"type":"send","class":"key","content":{"text":"欢迎 {name}"}},
                                {"type":"task","title":"回访 {name}","due":"1d"}]}})");
  ASSERT_EQ(made.status, 201);
  const std::string path = "/v1/journeys/" + std::to_string(made.body["id"].get<int64_t>());
  ASSERT_EQ(call("POST", path + "/status", key_a_, R"({"status":"active"})").status, 200);
  // The customer has an owner staff member to send through.
  store::User u;
  u.workspace = a_;
  u.email = "amy@a.example";
  u.display_name = "Amy";
  const int64_t staff = store_->create_user(u)->id.value;
  auto c = call("POST", "/v1/customers", key_a_,
                R"({"name":"李雷","owner_staff_id":)" + std::to_string(staff) + "}");
  ASSERT_EQ(c.status, 201) << c.raw;
  const int64_t id = c.body["id"].get<int64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the engine's cursor starts
  auto ev = call("POST", "/v1/events", key_a_,
                 R"([{"event_id":"j1","type":"join_group","customer":{"id":)" + std::to_string(id) + "}," +
                     R"("timestamp":")" + format_timestamp(SystemClock::instance().now_ms()) +
                     R"(","properties":{"group_id":")" + std::to_string(group_) + R"("}}])");
  ASSERT_EQ(ev.status, 200) << ev.raw;
  ASSERT_TRUE(eventually([&] {
    auto log = call("GET", "/v1/outbox?state=sent", key_a_);
    return log.body["items"].size() == 1;
  }));
  auto log = call("GET", "/v1/outbox", key_a_);
  EXPECT_EQ(log.body["items"][0]["text"], "欢迎 李雷");
  EXPECT_EQ(log.body["items"][0]["staff"], "amy@a.example");
  // Analysts do not see rendered messages (they greet people by name).
  auto hidden = call("GET", "/v1/outbox", analyst_a_);
  EXPECT_FALSE(hidden.body["items"][0].contains("text"));
  EXPECT_EQ(call("GET", "/v1/outbox", key_b_).body["items"].size(), 0u);
  auto detail = call("GET", path, key_a_);
  EXPECT_EQ(detail.body["stats"]["entered"], 1);
  EXPECT_EQ(detail.body["stats"]["steps"]["s1"]["sent"], 1);
  auto tasks = call("GET", "/v1/tasks", key_a_);
  ASSERT_EQ(tasks.body["items"].size(), 1u);
  EXPECT_EQ(tasks.body["items"][0]["title"], "回访 李雷");
  const std::string task = "/v1/tasks/" + std::to_string(tasks.body["items"][0]["id"].get<int64_t>());
  EXPECT_EQ(call("POST", task + "/done", key_b_, "{}").status, 404);
  EXPECT_EQ(call("POST", task + "/done", key_a_, "{}").status, 204);
  EXPECT_EQ(call("GET", "/v1/tasks", key_a_).body["items"].size(), 0u);
  EXPECT_EQ(call("GET", "/v1/tasks?status=all", key_a_).body["items"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/outbox/summary", key_a_).body["states"]["sent"], 1);
}

TEST_F(JourneyApiTest, TemplatesBecomeJourneysAndFillTheCalendar) {
  auto list = call("GET", "/v1/sop-templates", analyst_a_);
  ASSERT_EQ(list.body["items"].size(), 4u);
  auto missing = call("POST", "/v1/sop-templates/briefing/use", key_a_, "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body["error"]["field"], "groups");
  EXPECT_EQ(call("POST", "/v1/sop-templates/nope/use", key_a_, "{}").status, 404);
  auto made = call("POST", "/v1/sop-templates/weekly_share/use", key_a_,
                   R"({"name":"周六分享","groups":[)" + std::to_string(group_) + "]}");
  ASSERT_EQ(made.status, 201) << made.raw;
  EXPECT_EQ(made.body["template"], "weekly_share");
  const std::string path = "/v1/journeys/" + std::to_string(made.body["id"].get<int64_t>());
  ASSERT_EQ(call("POST", path + "/status", key_a_, R"({"status":"active"})").status, 200);
  auto cal = call("GET", "/v1/journey-calendar?days=14", analyst_a_);
  ASSERT_EQ(cal.status, 200) << cal.raw;
  // Two weeks hold at least one whole cycle: poll, warm-up, share and summary.
  EXPECT_GE(cal.body["items"].size(), 4u);
  EXPECT_LE(cal.body["items"].size(), 8u);
  for (const Json& item : cal.body["items"]) {
    EXPECT_EQ(item["group_names"][0], "福利群");
  }
  EXPECT_NE(call("GET", path, key_a_).body["next_fire"], nullptr);
  EXPECT_EQ(call("GET", "/v1/journey-calendar", key_b_).body["items"].size(), 0u);
}

TEST_F(JourneyApiTest, DeliverySettingsAreValidatedAuditedAndKeepTheSecret) {
  EXPECT_EQ(call("GET", "/v1/settings/delivery", analyst_a_).body["daily_cap"], 2);
  EXPECT_EQ(call("PUT", "/v1/settings/delivery", analyst_a_, R"({"daily_cap":3})").status, 403);
  auto bad = call("PUT", "/v1/settings/delivery", key_a_, R"({"quiet_start":"23:61"})");
  EXPECT_EQ(bad.body["error"]["field"], "quiet_start");
  EXPECT_EQ(call("PUT", "/v1/settings/delivery", key_a_, R"({"dnd_segment":77})").body["error"]["field"],
            "dnd_segment");
  auto ok = call("PUT", "/v1/settings/delivery", key_a_,
                 R"({"daily_cap":3,"channel":"webhook","webhook_url":"https://hooks.example/siyu",
                     "webhook_secret":"0123456789abcdefXYZ"})");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_FALSE(ok.body.contains("webhook_secret"));
  EXPECT_EQ(ok.body["webhook_secret_set"], true);
  auto after = call("GET", "/v1/settings/delivery", key_a_);
  EXPECT_EQ(after.body["daily_cap"], 3);
  EXPECT_EQ(after.body["weekly_cap"], 5);  // untouched fields keep their values
  EXPECT_EQ(call("GET", "/v1/settings/delivery", key_b_).body["daily_cap"], 2);
  auto audit = call("GET", "/v1/audit", key_a_);
  EXPECT_EQ(audit.body["items"][0]["action"], "settings.delivery");
}

TEST_F(JourneyApiTest, OptOutsAreRecordedPerWorkspace) {
  auto c = call("POST", "/v1/customers", key_a_, R"({"name":"李雷"})");
  const std::string path = "/v1/customers/" + std::to_string(c.body["id"].get<int64_t>()) + "/opt-out";
  EXPECT_EQ(call("POST", path, key_b_, R"({"opted_out":true})").status, 404);
  EXPECT_EQ(call("POST", path, key_a_, R"({})").body["error"]["field"], "opted_out");
  auto ok = call("POST", path, key_a_, R"({"opted_out":true,"source":"客服"})");
  EXPECT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(store_->opted_out(a_, {CustomerId(c.body["id"].get<int64_t>())})->size(), 1u);
  auto holidays = call("GET", "/v1/holidays?year=2027", analyst_a_);
  EXPECT_EQ(holidays.body["items"].size(), 16u);
}

}  // namespace
}  // namespace siyu::api
