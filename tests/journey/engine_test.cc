// The journey engine and the outbox dispatcher on a real SQLite store with a manual clock:
// triggers, steps, versions, caps and quiet hours (also under concurrency and across
// journeys), do-not-disturb and opt-outs, restarts without second effects, and delivery
// through the log and webhook channels with retries, dead letters and signatures.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "core/time_format.h"
#include "index/registry.h"
#include "journey/engine.h"
#include "outbox/dispatcher.h"
#include "outbox/webhook.h"
#include "security/crypto.h"
#include "store/store.h"
#include "support/temp_dir.h"
#include "support/test_store.h"
#include "support/webhook_sink.h"

namespace siyu::journey {
namespace {

EpochMs at(const char* local) { return *parse_timestamp(local, 480); }

class JourneyEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(security::init().is_ok());
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "tea", "Tea", "Asia/Shanghai", 0})->id;
    store::User u;
    u.workspace = ws_;
    u.email = "amy@tea.example";
    u.display_name = "Amy";
    u.role = store::Role::kStaff;
    staff_ = store_->create_user(u)->id;
    store::Group g;
    g.name = "奶茶福利群1";
    g.owner_staff = staff_;
    group_ = store_->create_group(ws_, g)->id;
    indexes_ = std::make_unique<index::IndexRegistry>(*store_, clock_);
    make_engine();
  }

  void make_engine() {
    engine_ = std::make_unique<JourneyEngine>(EngineDeps{
        *store_, *indexes_, clock_,
        [this](WorkspaceId ws, const std::vector<CustomerId>& ids) {
          (void)indexes_->refresh(ws, ids);
        },
        nullptr});
  }

  CustomerId customer(const std::string& name, bool owned = true, std::string birthday = "",
                      std::string custom = "{}") {
    store::Customer c;
    c.workspace = ws_;
    c.name = name;
    c.birthday = std::move(birthday);
    c.custom_json = std::move(custom);
    c.created_at = clock_.now_ms();
    c.updated_at = c.created_at;
    if (owned) c.owner_staff = staff_;
    const CustomerId id = store_->create_customer(c, {})->id;
    EXPECT_TRUE(indexes_->refresh(ws_, {id}).is_ok());
    return id;
  }

  void tag(CustomerId c, const std::string& name) {
    store::Tag t;
    t.customer = c;
    t.tag = name;
    t.added_by = "test";
    t.added_at = clock_.now_ms();
    ASSERT_TRUE(store_->add_tag(ws_, t).is_ok());
    ASSERT_TRUE(indexes_->refresh(ws_, {c}).is_ok());
  }

  void event(CustomerId c, const std::string& type, const std::string& props = "{}") {
    std::vector<store::PendingEvent> batch(1);
    batch[0].customer = c;
    batch[0].event.event_id = "e" + std::to_string(++events_);
    batch[0].event.type = type;
    batch[0].event.ts = clock_.now_ms();
    batch[0].event.properties_json = props;
    ASSERT_TRUE(store_->ingest_events(ws_, batch, clock_.now_ms()));
    ASSERT_TRUE(indexes_->refresh(ws_, {c}).is_ok());
  }

  int64_t journey(const std::string& name, const std::string& definition,
                  const std::string& status = "active") {
    auto parsed = parse_in_workspace(*store_, ws_, Json::parse(definition));
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message());
    store::Journey j;
    j.name = name;
    j.definition_json = definition;
    j.created_by = "test";
    j.created_at = clock_.now_ms();
    const int64_t id = store_->create_journey(ws_, j)->id;
    EXPECT_TRUE(store_->set_journey_status(ws_, id, status, clock_.now_ms()).is_ok());
    engine_->journeys_changed(ws_);
    return id;
  }

  TickReport tick() {
    auto r = engine_->tick();
    EXPECT_TRUE(r) << r.error().message();
    for (const auto& p : r ? r->problems : std::vector<std::string>{}) ADD_FAILURE() << p;
    return r ? *r : TickReport{};
  }

  std::vector<store::OutboxItem> outbox(std::optional<std::string> state = std::nullopt) {
    store::OutboxFilter f;
    f.limit = 10'000;
    f.state = std::move(state);
    auto rows = store_->outbox_items(ws_, f);
    EXPECT_TRUE(rows);
    std::vector<store::OutboxItem> out = rows ? *rows : std::vector<store::OutboxItem>{};
    std::reverse(out.begin(), out.end());
    return out;
  }

  static std::string text(const store::OutboxItem& o) {
    return Json::parse(o.payload_json).value("/content/text"_json_pointer, "");
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  WorkspaceId ws_;
  UserId staff_;
  GroupId group_;
  ManualClock clock_{at("2026-11-27T10:00:00")};  // a Friday morning in Beijing
  std::unique_ptr<index::IndexRegistry> indexes_;
  std::unique_ptr<JourneyEngine> engine_;
  int events_ = 0;
};

constexpr const char* kWelcome = R"({
  "trigger": {"type": "event", "event": "join_group"},
  "steps": [{"id": "welcome", "type": "send", "class": "key",
             "content": {"text": "{name}，欢迎！我是 {staff}"}}]})";

TEST_F(JourneyEngineTest, EventTriggerSendsOnceWithRenderedContent) {
  const CustomerId li = customer("李雷");
  journey("welcome", kWelcome);
  tick();  // the events cursor starts at the newest event
  event(li, "join_group");
  event(li, "view");
  EXPECT_EQ(tick().runs_started, 1);
  auto rows = outbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_EQ(rows[0].customer, li);
  EXPECT_EQ(rows[0].staff, "amy@tea.example");
  EXPECT_EQ(text(rows[0]), "李雷，欢迎！我是 Amy");
  EXPECT_EQ(rows[0].not_before, clock_.now_ms());
  // Ticking again changes nothing; a second join after the first run ended enters again.
  tick();
  EXPECT_EQ(outbox().size(), 1u);
  event(li, "join_group");
  tick();
  EXPECT_EQ(outbox().size(), 2u);
  EXPECT_NE(outbox()[0].idem_key, outbox()[1].idem_key);
}

TEST_F(JourneyEngineTest, EventsBeforeActivationDoNotTrigger) {
  const CustomerId li = customer("李雷");
  event(li, "join_group");
  tick();
  journey("welcome", kWelcome);
  tick();
  EXPECT_TRUE(outbox().empty());
}

TEST_F(JourneyEngineTest, ReentryOnceAndWherePropertiesFilterEntrants) {
  const CustomerId li = customer("李雷");
  journey("once", R"({"trigger":{"type":"event","event":"join_group","where":{"group":"g1"}},
                      "reentry":"once",
                      "steps":[{"type":"send","class":"key","content":{"text":"hi {event.group}"}}]})");
  tick();
  event(li, "join_group", R"({"group":"g2"})");
  tick();
  EXPECT_TRUE(outbox().empty());
  event(li, "join_group", R"({"group":"g1"})");
  event(li, "join_group", R"({"group":"g1"})");
  tick();
  ASSERT_EQ(outbox().size(), 1u);
  EXPECT_EQ(text(outbox()[0]), "hi g1");
  event(li, "join_group", R"({"group":"g1"})");
  tick();
  EXPECT_EQ(outbox().size(), 1u);
}

TEST_F(JourneyEngineTest, MissingVariablesAndMissingStaffAreRecordedNotSent) {
  const CustomerId li = customer("李雷");
  const CustomerId orphan = customer("韩梅梅", false);
  journey("coupon", R"({"trigger":{"type":"event","event":"order_paid"},
    "vars":{"coupon":{"value":"NEW50","from":"2026-12-01T00:00:00"}},
    "steps":[{"type":"send","content":{"text":"{name} 您的券 {coupon}"}}]})");
  tick();
  event(li, "order_paid");
  event(orphan, "order_paid");
  tick();
  auto rows = outbox();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "invalid");
  EXPECT_NE(rows[0].reason.find("{coupon}"), std::string::npos) << rows[0].reason;
  EXPECT_EQ(rows[1].state, "skipped");
  EXPECT_NE(rows[1].reason.find("owner staff"), std::string::npos);
  // Invalid and skipped rows never reach a channel and do not count toward caps.
  outbox::Dispatcher d(*store_, clock_, dir_.str() + "/deliveries.log");
  EXPECT_EQ(d.run_once()->delivered, 0);
}

TEST_F(JourneyEngineTest, QuietHoursDeferMarketingButNotKeyMoments) {
  clock_.set(at("2026-11-27T23:10:00"));
  const CustomerId li = customer("李雷");
  journey("promo", R"({"trigger":{"type":"event","event":"view"},
                       "steps":[{"type":"send","content":{"text":"夜宵优惠"}}]})");
  journey("welcome", kWelcome);
  tick();
  event(li, "view");
  event(li, "join_group");
  tick();
  auto deferred = outbox("deferred");
  ASSERT_EQ(deferred.size(), 1u);
  EXPECT_EQ(deferred[0].not_before, at("2026-11-28T08:00:00"));
  EXPECT_NE(deferred[0].reason.find("22:00"), std::string::npos);
  ASSERT_EQ(outbox("pending").size(), 1u);
  EXPECT_EQ(outbox("pending")[0].message_class, "key");
  // The dispatcher delivers the key moment now and the promotion at 08:00.
  outbox::Dispatcher d(*store_, clock_, dir_.str() + "/deliveries.log");
  EXPECT_EQ(d.run_once()->delivered, 1);
  clock_.set(at("2026-11-28T07:59:00"));
  EXPECT_EQ(d.run_once()->delivered, 0);
  clock_.set(at("2026-11-28T08:00:00"));
  EXPECT_EQ(d.run_once()->delivered, 1);
  EXPECT_EQ(outbox("sent").size(), 2u);
}

TEST_F(JourneyEngineTest, FrequencyCapsHoldAcrossJourneysAndDays) {
  const CustomerId li = customer("李雷");
  for (int i = 0; i < 3; ++i) {
    journey("promo" + std::to_string(i),
            R"({"trigger":{"type":"event","event":"view"},"reentry":"always",
                "steps":[{"type":"send","content":{"text":"优惠"}}]})");
  }
  tick();
  // Day 1: three journeys react to one view; the workspace allows 2 a day.
  event(li, "view");
  tick();
  EXPECT_EQ(outbox("pending").size(), 2u);
  EXPECT_EQ(outbox("capped").size(), 1u);
  EXPECT_NE(outbox("capped")[0].reason.find("2 a day"), std::string::npos);
  // Days 2 and 3: two more each would make 6 in 7 days; the weekly cap of 5 stops the sixth.
  for (int day = 1; day <= 2; ++day) {
    clock_.advance(kMsPerDay);
    event(li, "view");
    tick();
  }
  EXPECT_EQ(outbox("pending").size(), 5u);
  EXPECT_EQ(outbox("capped").size(), 4u);
  // A week after the first day the window has room again.
  clock_.set(at("2026-12-04T10:00:00"));
  event(li, "view");
  tick();
  EXPECT_EQ(outbox("pending").size(), 7u);
}

TEST_F(JourneyEngineTest, CapsHoldUnderConcurrentWritersForEveryWindow) {
  // Eight writers race to send one customer marketing messages on random days; every 7-day
  // window and every day stays within the caps, exactly as a serial reference decides.
  const CustomerId li = customer("李雷");
  std::vector<store::RunStart> starts;
  for (int i = 0; i < 8; ++i) {
    store::JourneyRun r;
    r.journey_id = 100 + i;
    r.version = 1;
    r.due_at = clock_.now_ms();
    r.trigger_key = "t" + std::to_string(i);
    r.entered_at = clock_.now_ms();
    starts.push_back({r, {}});
  }
  ASSERT_TRUE(store_->start_runs(ws_, starts, {}, {}));
  auto runs = store_->due_runs(clock_.now_ms(), 100);
  ASSERT_EQ(runs->size(), 8u);
  std::vector<std::thread> writers;
  for (size_t w = 0; w < runs->size(); ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int i = 0; i < 40; ++i) {
        store::RunAdvance a;
        a.run_id = (*runs)[w].id;
        a.expected_pc = 0;
        a.pc = 0;
        store::OutboxItem o;
        o.workspace = ws_;
        o.idem_key = "k" + std::to_string(w) + "-" + std::to_string(i);
        o.journey_id = (*runs)[w].journey_id;
        o.customer = li;
        o.cap_day = 20'000 + static_cast<int64_t>(rng() % 20);
        o.not_before = o.cap_day * kMsPerDay;  // lets the check below recover the day
        a.outbox.push_back(o);
        ASSERT_TRUE(store_->advance_run(ws_, a));
      }
    });
  }
  for (auto& t : writers) t.join();
  store::OutboxFilter f;
  f.limit = 1000;
  auto rows = *store_->outbox_items(ws_, f);
  ASSERT_EQ(rows.size(), 320u);
  std::map<int64_t, int> sent;  // day → messages counted
  for (const auto& r : rows) {
    if (r.state == "pending") ++sent[r.not_before / kMsPerDay];
  }
  auto window = [&](int64_t first) {
    int n = 0;
    for (int64_t d = first; d < first + 7; ++d) n += sent.count(d) ? sent[d] : 0;
    return n;
  };
  for (int64_t d = 20'000 - 6; d < 20'020; ++d) {
    EXPECT_LE(sent.count(d) ? sent[d] : 0, 2) << "day " << d;
    EXPECT_LE(window(d), 5) << "window from " << d;
  }
  // Nothing was capped needlessly: every capped day has no room left at the end.
  for (const auto& r : rows) {
    if (r.state != "capped") continue;
    const int64_t d = r.not_before / kMsPerDay;
    bool room = (sent.count(d) ? sent[d] : 0) < 2;
    for (int64_t first = d - 6; first <= d; ++first) room = room && window(first) < 5;
    EXPECT_FALSE(room) << "day " << d << " was capped with room left";
  }
}

TEST_F(JourneyEngineTest, DoNotDisturbSegmentAndOptOutsSkipMarketing) {
  const CustomerId quiet = customer("静静");
  const CustomerId li = customer("李雷");
  tag(quiet, "勿扰");
  store::Segment seg;
  seg.name = "勿扰名单";
  seg.expression_json = R"({"tag":"勿扰"})";
  const int64_t dnd = store_->create_segment(ws_, seg)->id;
  ASSERT_TRUE(store_->put_setting(ws_, "delivery", Json{{"dnd_segment", dnd}}.dump(), 0).is_ok());
  ASSERT_TRUE(store_->set_opt_out(ws_, li, true, "test", clock_.now_ms()).is_ok());
  journey("promo", R"({"trigger":{"type":"event","event":"view"},
                       "steps":[{"type":"send","content":{"text":"优惠"}}]})");
  journey("welcome", kWelcome);
  tick();
  for (CustomerId c : {quiet, li}) {
    event(c, "view");
    event(c, "join_group");
  }
  tick();
  const auto skipped = outbox("skipped");
  ASSERT_EQ(skipped.size(), 3u);  // quiet's promotion, li's promotion and li's welcome
  const auto pending = outbox("pending");
  ASSERT_EQ(pending.size(), 1u);  // the key moment for the do-not-disturb customer
  EXPECT_EQ(pending[0].customer, quiet);
  EXPECT_EQ(pending[0].message_class, "key");
  // Opting out after a message was queued still stops it at delivery.
  ASSERT_TRUE(store_->set_opt_out(ws_, quiet, true, "test", clock_.now_ms()).is_ok());
  outbox::Dispatcher d(*store_, clock_, dir_.str() + "/deliveries.log");
  auto report = d.run_once();
  EXPECT_EQ(report->delivered, 0);
  EXPECT_EQ(report->skipped, 1);
}

TEST_F(JourneyEngineTest, WaitsBranchesAndTagsSplitRuns) {
  const CustomerId vip = customer("贵宾");
  const CustomerId li = customer("李雷");
  tag(vip, "vip");
  journey("nurture", R"({"trigger":{"type":"event","event":"join_group"},
    "steps":[
      {"id":"wait","type":"wait","duration":"1d"},
      {"id":"vip?","type":"branch","if":{"tag":"vip"},
       "then":[{"id":"vip-offer","type":"send","class":"key","content":{"text":"VIP"}}],
       "else":[{"id":"plain-offer","type":"send","class":"key","content":{"text":"普通"}},
               {"id":"follow","type":"task","title":"回访 {name}","due":"2h"}]},
      {"id":"done","type":"tag","add":"nurtured"}]})");
  tick();
  event(vip, "join_group");
  event(li, "join_group");
  tick();
  EXPECT_TRUE(outbox().empty());
  clock_.advance(kMsPerDay - 1000);
  tick();
  EXPECT_TRUE(outbox().empty());
  clock_.advance(1000);
  tick();
  tick();
  auto rows = outbox();
  ASSERT_EQ(rows.size(), 2u);
  std::map<int64_t, std::string> by_customer;
  for (const auto& r : rows) by_customer[r.customer.value] = r.step;
  EXPECT_EQ(by_customer[vip.value], "vip-offer");
  EXPECT_EQ(by_customer[li.value], "plain-offer");
  auto tasks = store_->staff_tasks(ws_, true, std::nullopt, 10);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].title, "回访 李雷");
  EXPECT_EQ((*tasks)[0].staff, staff_);
  EXPECT_EQ((*tasks)[0].due_at, clock_.now_ms() + 2 * 3'600'000);
  for (CustomerId c : {vip, li}) {
    auto tags = store_->tags(ws_, c);
    ASSERT_EQ(tags->size(), c == vip ? 2u : 1u);
  }
  EXPECT_TRUE(store_->due_runs(INT64_MAX, 10)->empty());  // everyone finished
}

TEST_F(JourneyEngineTest, EditingARunningJourneyKeepsPeopleOnTheirVersion) {
  const CustomerId early = customer("早到");
  const CustomerId late = customer("晚到");
  const std::string v1 = R"({"trigger":{"type":"event","event":"join_group"},
    "steps":[{"type":"wait","duration":"1h"},
             {"id":"hello","type":"send","class":"key","content":{"text":"v1"}}]})";
  const int64_t id = journey("edit", v1);
  tick();
  event(early, "join_group");
  tick();
  const std::string v2 = R"({"trigger":{"type":"event","event":"join_group"},
    "steps":[{"id":"first","type":"send","class":"key","content":{"text":"v2 first"}},
             {"type":"wait","duration":"1h"},
             {"id":"hello","type":"send","class":"key","content":{"text":"v2"}}]})";
  ASSERT_EQ(*store_->save_journey_version(ws_, id, "edit", v2, "test", clock_.now_ms()), 2);
  engine_->journeys_changed(ws_);
  event(late, "join_group");
  tick();
  clock_.advance(3'600'000);
  tick();
  std::map<int64_t, std::vector<std::string>> texts;
  for (const auto& r : outbox()) texts[r.customer.value].push_back(text(r));
  EXPECT_EQ(texts[early.value], (std::vector<std::string>{"v1"}));
  EXPECT_EQ(texts[late.value], (std::vector<std::string>{"v2 first", "v2"}));
}

TEST_F(JourneyEngineTest, SchedulesPostToGroupsOncePerFire) {
  clock_.set(at("2026-11-27T08:00:00"));
  make_engine();  // the wheel starts at the clock's (earlier) time
  journey("briefing", R"({"trigger":{"type":"schedule","every":"day","at":"08:30"},
    "steps":[{"id":"morning","type":"send","to":"group","groups":[)" +
                              std::to_string(group_.value) + R"(],
              "content":{"text":"【{group}】{today} 早报"}}]})");
  tick();
  EXPECT_TRUE(outbox().empty());
  clock_.set(at("2026-11-27T08:30:05"));
  tick();
  tick();
  ASSERT_EQ(outbox().size(), 1u);
  EXPECT_EQ(outbox()[0].kind, "group_post");
  EXPECT_EQ(outbox()[0].group, group_);
  EXPECT_EQ(outbox()[0].staff, "amy@tea.example");
  EXPECT_EQ(text(outbox()[0]), "【奶茶福利群1】2026-11-27 早报");
  // A restarted engine does not fire the same morning again; the next morning it does.
  make_engine();
  tick();
  EXPECT_EQ(outbox().size(), 1u);
  clock_.set(at("2026-11-28T08:31:00"));
  tick();
  EXPECT_EQ(outbox().size(), 2u);
}

TEST_F(JourneyEngineTest, BirthdaysAndSegmentEntriesStartRuns) {
  const CustomerId today = customer("寿星", true, "1990-11-27");
  customer("别人", true, "1990-11-28");
  const CustomerId joiner = customer("新人");
  journey("birthday", R"({"trigger":{"type":"date","field":"birthday","at":"10:30"},
    "steps":[{"type":"send","class":"key","content":{"text":"{name} 生日快乐"}}]})");
  store::Segment seg;
  seg.name = "高价值";
  seg.expression_json = R"({"tag":"vip"})";
  const int64_t seg_id = store_->create_segment(ws_, seg)->id;
  journey("vip", R"({"trigger":{"type":"segment","segment":)" + std::to_string(seg_id) +
                     R"(,"on":"enter"},"steps":[{"type":"send","class":"key","content":{"text":"升级啦"}}]})");
  tick();
  store::SegmentSweep sweep;
  sweep.segment_id = seg_id;
  sweep.entered = {joiner};
  sweep.day = "2026-11-27";
  sweep.at = clock_.now_ms();
  ASSERT_TRUE(store_->record_segment_sweeps(ws_, {sweep}).is_ok());
  clock_.set(at("2026-11-27T10:31:00"));
  tick();
  std::map<int64_t, std::string> got;
  for (const auto& r : outbox()) got[r.customer.value] = text(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[today.value], "寿星 生日快乐");
  EXPECT_EQ(got[joiner.value], "升级啦");
}

TEST_F(JourneyEngineTest, ARestartedEngineFinishesRunsWithoutSecondEffects) {
  std::vector<CustomerId> people;
  for (int i = 0; i < 50; ++i) people.push_back(customer("客户" + std::to_string(i)));
  journey("welcome", kWelcome);
  tick();
  for (CustomerId c : people) event(c, "join_group");
  tick();
  ASSERT_EQ(outbox().size(), 50u);
  // Replaying a step that already ran (as after a crash before the run moved) adds nothing.
  store::RunAdvance replay;
  replay.run_id = 999'999;
  EXPECT_EQ(store_->advance_run(ws_, replay).error().code(), ErrorCode::kConflict);
  make_engine();
  tick();
  EXPECT_EQ(outbox().size(), 50u);
  std::set<std::string> keys;
  for (const auto& r : outbox()) keys.insert(r.idem_key);
  EXPECT_EQ(keys.size(), 50u);
}

TEST_F(JourneyEngineTest, DispatcherDeliversToTheLogOnceAndRetriesFailures) {
  const CustomerId li = customer("李雷");
  journey("welcome", kWelcome);
  tick();
  event(li, "join_group");
  tick();
  const std::string log = dir_.str() + "/deliveries.log";
  outbox::Dispatcher d(*store_, clock_, log);
  EXPECT_EQ(d.run_once()->delivered, 1);
  EXPECT_EQ(d.run_once()->delivered, 0);
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  const Json delivered = Json::parse(line);
  EXPECT_EQ(delivered["idempotency_key"], outbox()[0].idem_key);
  EXPECT_EQ(delivered["content"]["text"], "李雷，欢迎！我是 Amy");
  EXPECT_EQ(outbox()[0].state, "sent");

  // A webhook channel pointing at a closed port: retries with backoff, then a dead letter.
  ASSERT_TRUE(store_->put_setting(ws_, "delivery",
                                  Json{{"channel", "webhook"},
                                       {"webhook_url", "http://127.0.0.1:9/hook"},
                                       {"allow_private_webhooks", true},
                                       {"max_attempts", 3}}
                                      .dump(),
                                  0)
                  .is_ok());
  outbox::Dispatcher hooks(*store_, clock_, log);
  event(li, "join_group");
  tick();
  EXPECT_EQ(hooks.run_once()->retried, 1);
  EXPECT_EQ(outbox("retry")[0].not_before, clock_.now_ms() + 30'000);
  clock_.advance(30'000);
  EXPECT_EQ(hooks.run_once()->retried, 1);
  EXPECT_EQ(outbox("retry")[0].not_before, clock_.now_ms() + 60'000);
  clock_.advance(60'000);
  EXPECT_EQ(hooks.run_once()->dead, 1);
  EXPECT_NE(outbox("dead")[0].reason.find("gave up after 3 attempts"), std::string::npos);
}

TEST_F(JourneyEngineTest, StaffRateLimitDefersTheOverflowToTheNextMinute) {
  ASSERT_TRUE(store_->put_setting(ws_, "delivery", Json{{"staff_per_minute", 5}}.dump(), 0).is_ok());
  std::vector<CustomerId> people;
  for (int i = 0; i < 8; ++i) people.push_back(customer("客户" + std::to_string(i)));
  journey("welcome", kWelcome);
  tick();
  for (CustomerId c : people) event(c, "join_group");
  tick();
  outbox::Dispatcher d(*store_, clock_, dir_.str() + "/deliveries.log");
  auto first = d.run_once();
  EXPECT_EQ(first->delivered, 5);
  EXPECT_EQ(first->deferred, 3);
  EXPECT_NE(outbox("deferred")[0].reason.find("5 messages a minute"), std::string::npos);
  clock_.advance(60'000);
  EXPECT_EQ(d.run_once()->delivered, 3);
}

TEST_F(JourneyEngineTest, WebhooksAreSignedAndPrivateAddressesRefusedByDefault) {
  clock_.set(SystemClock::instance().now_ms());  // signatures carry real time
  const std::string secret = "0123456789abcdef0123";
  testing::WebhookSink sink(secret);
  const CustomerId li = customer("李雷");
  journey("hook", R"({"trigger":{"type":"event","event":"order_paid"},
    "steps":[{"type":"webhook","url":")" + sink.url() + R"(","body":{"action":"crm.sync"}},
             {"type":"send","class":"key","content":{"text":"谢谢惠顾"}}]})");
  tick();
  event(li, "order_paid");
  tick();
  // Loopback is refused until the workspace allows private webhooks.
  ASSERT_TRUE(store_->put_setting(ws_, "delivery",
                                  Json{{"channel", "webhook"}, {"webhook_url", sink.url()},
                                       {"webhook_secret", secret}}
                                      .dump(),
                                  0)
                  .is_ok());
  {
    outbox::Dispatcher d(*store_, clock_, "");
    EXPECT_EQ(d.run_once()->dead, 2);
    EXPECT_NE(outbox("dead")[0].reason.find("private address"), std::string::npos);
  }
  ASSERT_TRUE(store_->put_setting(ws_, "delivery",
                                  Json{{"channel", "webhook"}, {"webhook_url", sink.url()},
                                       {"webhook_secret", secret}, {"allow_private_webhooks", true}}
                                      .dump(),
                                  0)
                  .is_ok());
  event(li, "order_paid");
  tick();
  outbox::Dispatcher d(*store_, clock_, "");
  EXPECT_EQ(d.run_once()->delivered, 2);
  EXPECT_EQ(sink.counts().first, 2u);
  EXPECT_EQ(sink.refused(), 0);
  // The receiver refuses a tampered body and a replayed (stale) signature.
  const int64_t now_s = SystemClock::instance().now_ms() / 1000;
  const std::string body = R"({"deliveries":[]})";
  EXPECT_TRUE(outbox::verify_webhook(secret, std::to_string(now_s), body,
                                     outbox::webhook_signature(secret, now_s, body),
                                     now_s * 1000)
                  .is_ok());
  EXPECT_FALSE(outbox::verify_webhook(secret, std::to_string(now_s), body + " ",
                                      outbox::webhook_signature(secret, now_s, body), now_s * 1000)
                   .is_ok());
  EXPECT_FALSE(outbox::verify_webhook(secret, std::to_string(now_s - 600), body,
                                      outbox::webhook_signature(secret, now_s - 600, body),
                                      now_s * 1000)
                   .is_ok());
}

}  // namespace
}  // namespace siyu::journey
