// Journey definitions, content variables, schedules, the holiday calendar, the timing wheel,
// variant assignment and delivery settings (quiet hours), without a store.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/time_format.h"
#include "journey/content.h"
#include "journey/definition.h"
#include "journey/holidays.h"
#include "journey/schedule.h"
#include "journey/step_runner.h"
#include "journey/templates.h"
#include "journey/timing_wheel.h"
#include "outbox/delivery_settings.h"

namespace siyu::journey {
namespace {

constexpr int kBeijing = 480;

EpochMs at(const char* local) { return *parse_timestamp(local, kBeijing); }

Result<JourneyDef> parse(const std::string& text) {
  const ExprCheck check = [](const Json& e, const std::string& path) -> Status {
    if (!e.is_object()) return invalid(path + " must be an object", path);
    return Status::ok();
  };
  return parse_journey(Json::parse(text), check, kBeijing);
}

TEST(ContentTest, RendersVariablesAndRefusesMissingOnes) {
  const VariableSource values = [](const std::string& n) -> std::optional<std::string> {
    if (n == "name") return "李雷";
    if (n == "coupon") return "";
    return std::nullopt;
  };
  EXPECT_EQ(*render("{name}，您好 {{ok}}", values), "李雷，您好 {ok}");
  auto missing = render("券码 {coupon}", values);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kUnprocessable);
  EXPECT_NE(missing.error().message().find("{coupon}"), std::string::npos);
  EXPECT_FALSE(render("{city", values));
  EXPECT_FALSE(variables_in("a } b"));
  EXPECT_FALSE(variables_in("{ }"));
  EXPECT_EQ(*variables_in("{a}{ b }{{c}}"), (std::vector<std::string>{"a", "b"}));
}

TEST(DefinitionTest, CompilesNestedBranchesIntoAFlatProgram) {
  auto d = parse(R"({
    "trigger": {"type": "event", "event": "join_group"},
    "steps": [
      {"id": "hello", "type": "send", "class": "key", "content": {"text": "{name} 欢迎"}},
      {"id": "b", "type": "branch", "if": {"tag": "vip"},
       "then": [{"id": "vip", "type": "send", "content": {"text": "VIP"}}],
       "else": [{"id": "wait", "type": "wait", "duration": "1d"},
                {"id": "other", "type": "send", "content": {"text": "普通"}}]},
      {"id": "done", "type": "tag", "add": "onboarded"}
    ]})");
  ASSERT_TRUE(d) << d.error().message();
  // hello, b, vip, jump, wait, other, done
  ASSERT_EQ(d->program.size(), 7u);
  EXPECT_EQ(d->program[1].kind, StepKind::kBranch);
  EXPECT_EQ(d->program[1].target, 4);  // else starts at "wait"
  EXPECT_EQ(d->program[3].kind, StepKind::kJump);
  EXPECT_EQ(d->program[3].target, 6);  // then skips the else block
  EXPECT_EQ(d->program[0].message_class, "key");
  EXPECT_EQ(d->program[4].wait_ms, kMsPerDay);
}

TEST(DefinitionTest, ErrorsNameTheExactPath) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"({"steps":[]})", "trigger"},
      {R"({"trigger":{"type":"event"},"steps":[]})", "trigger.event"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[]})", "steps"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"send","content":{"text":"{cupon}"}}]})",
       "steps[0].content.text"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"branch","if":{"tag":"a"},"then":[{"type":"wait","duration":"5y"}]}]})",
       "steps[0].then[0].duration"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"branch","if":3}]})",
       "steps[0].if"},
      {R"({"trigger":{"type":"schedule","every":"week","at":"20:00","days":["saturday"]},"steps":[{"type":"wait","duration":"1h"}]})",
       "trigger.days"},
      {R"({"trigger":{"type":"schedule","every":"day","at":"25:00"},"steps":[{"type":"wait","duration":"1h"}]})",
       "trigger.at"},
      {R"({"trigger":{"type":"schedule","every":"day","at":"08:00"},"steps":[{"type":"send","content":{"text":"hi"}}]})",
       "audience"},
      {R"({"trigger":{"type":"holiday","holiday":"腊八","at":"10:00"},"steps":[]})",
       "trigger.holiday"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"send","to":"group","content":{"text":"hi"}}]})",
       "steps[0].groups"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"send","variants":[{"name":"A","content":{"text":"a"}}]}]})",
       "steps[0].variants"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"id":"a","type":"tag","add":"t"},{"id":"a","type":"tag","add":"u"}]})",
       "steps[1].id"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"webhook","url":"ftp://x"}]})",
       "steps[0].url"},
      {R"({"trigger":{"type":"event","event":"x"},"vars":{"name":"x"},"steps":[{"type":"tag","add":"t"}]})",
       "vars.name"},
      {R"({"trigger":{"type":"event","event":"x"},"steps":[{"type":"tag","add":"t"}],"colour":1})",
       "colour"},
  };
  for (const Case& c : cases) {
    auto d = parse(c.json);
    ASSERT_FALSE(d) << c.json;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument) << c.json;
    EXPECT_EQ(d.error().field(), c.field) << c.json << " → " << d.error().message();
  }
}

TEST(DefinitionTest, EveryTemplateIsAValidJourney) {
  TemplateParams p;
  p.groups = {1, 2};
  p.segment = 3;
  p.start = "2026-12-05T20:00:00";
  for (const SopTemplate& t : sop_templates()) {
    auto def = template_definition(t.key, p);
    ASSERT_TRUE(def) << t.key << ": " << def.error().message();
    auto parsed = parse(def->dump());
    EXPECT_TRUE(parsed) << t.key << ": " << (parsed ? "" : parsed.error().message());
  }
  TemplateParams none;
  EXPECT_EQ(template_definition("briefing", none).error().field(), "groups");
  EXPECT_EQ(template_definition("nope", p).error().code(), ErrorCode::kNotFound);
}

TEST(ScheduleTest, DailyWeeklyAndOnceFireAtLocalTimes) {
  auto daily = parse(R"({"trigger":{"type":"schedule","every":"day","at":"08:30"},
                         "steps":[{"type":"send","to":"group","groups":[1],"content":{"text":"早"}}]})");
  ASSERT_TRUE(daily);
  const Trigger& t = daily->trigger;
  EXPECT_EQ(*next_fire(t, at("2026-11-27T08:00:00"), kBeijing), at("2026-11-27T08:30:00"));
  EXPECT_EQ(*next_fire(t, at("2026-11-27T08:30:00"), kBeijing), at("2026-11-28T08:30:00"));
  EXPECT_EQ(*latest_fire(t, at("2026-11-25T00:00:00"), at("2026-11-27T09:00:00"), kBeijing),
            at("2026-11-27T08:30:00"));
  EXPECT_FALSE(latest_fire(t, at("2026-11-27T08:30:00"), at("2026-11-28T08:00:00"), kBeijing));

  auto weekly = parse(R"({"trigger":{"type":"schedule","every":"week","days":["sat"],"at":"20:00"},
                          "steps":[{"type":"send","to":"group","groups":[1],"content":{"text":"分享"}}]})");
  ASSERT_TRUE(weekly);
  // 2026-11-27 is a Friday.
  EXPECT_EQ(weekday_of(days_from_civil({2026, 11, 27})), 5);
  EXPECT_EQ(*next_fire(weekly->trigger, at("2026-11-27T21:00:00"), kBeijing),
            at("2026-11-28T20:00:00"));
  EXPECT_EQ(*next_fire(weekly->trigger, at("2026-11-28T20:00:00"), kBeijing),
            at("2026-12-05T20:00:00"));

  auto once = parse(R"({"trigger":{"type":"schedule","every":"once","when":"2026-12-01T20:00:00"},
                        "steps":[{"type":"send","to":"group","groups":[1],"content":{"text":"x"}}]})");
  ASSERT_TRUE(once);
  EXPECT_EQ(*next_fire(once->trigger, at("2026-11-27T00:00:00"), kBeijing),
            at("2026-12-01T20:00:00"));
  EXPECT_FALSE(next_fire(once->trigger, at("2026-12-01T20:00:00"), kBeijing));
  // Waiting until a time of day lands on the next such time.
  EXPECT_EQ(next_time_of_day(at("2026-11-27T21:00:00"), 20 * 60, kBeijing),
            at("2026-11-28T20:00:00"));
  EXPECT_EQ(next_time_of_day(at("2026-11-27T19:00:00"), 20 * 60, kBeijing),
            at("2026-11-27T20:00:00"));
}

TEST(ScheduleTest, HolidayTriggersCountDaysBefore) {
  EXPECT_EQ(format_date(*holiday_date("中秋", 2026)), "2026-09-25");
  EXPECT_EQ(format_date(*holiday_date("Spring Festival", 2027)), "2027-02-06");
  EXPECT_FALSE(holiday_date("中秋", 2031));
  auto d = parse(R"({"trigger":{"type":"holiday","holiday":"春节","days_before":3,"at":"10:00"},
                     "audience":{"tag":"vip"},
                     "steps":[{"type":"send","content":{"text":"新春快乐"}}]})");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*next_fire(d->trigger, at("2026-11-27T00:00:00"), kBeijing),
            at("2027-02-03T10:00:00"));
  const auto year = holidays_between(2026, 2026);
  EXPECT_EQ(year.size(), 16u);
  EXPECT_TRUE(std::is_sorted(year.begin(), year.end(), [](const Holiday& a, const Holiday& b) {
    return days_from_civil(a.date) < days_from_civil(b.date);
  }));
}

TEST(ScheduleTest, PlannedGroupPostsFollowWaits) {
  TemplateParams p;
  p.groups = {7};
  auto def = parse(template_definition("weekly_share", p)->dump());
  ASSERT_TRUE(def);
  const auto posts = planned_group_posts(*def, at("2026-11-26T20:00:00"), kBeijing);
  ASSERT_EQ(posts.size(), 4u);
  EXPECT_EQ(posts[0].at, at("2026-11-26T20:00:00"));  // Thursday poll
  EXPECT_EQ(posts[1].at, at("2026-11-28T12:00:00"));  // Saturday warm-up
  EXPECT_EQ(posts[2].at, at("2026-11-28T20:00:00"));  // the share
  EXPECT_EQ(posts[3].at, at("2026-11-28T21:30:00"));  // summary
}

TEST(TimingWheelTest, TakesWhatIsDueInOrderAndRefusesBeyondTheHorizon) {
  const EpochMs start = 1'000'000;
  TimingWheel wheel(start, 8);
  EXPECT_TRUE(wheel.add(start + 1500, 2));
  EXPECT_TRUE(wheel.add(start + 1200, 1));
  EXPECT_TRUE(wheel.add(start - 5000, 0));  // overdue: next take
  EXPECT_TRUE(wheel.add(start + 7000, 3));
  EXPECT_FALSE(wheel.add(start + 9000, 4));
  EXPECT_EQ(wheel.size(), 4u);
  EXPECT_EQ(wheel.take_due(start), (std::vector<int64_t>{0}));
  EXPECT_EQ(wheel.take_due(start + 1300), (std::vector<int64_t>{1}));
  EXPECT_EQ(wheel.take_due(start + 1600), (std::vector<int64_t>{2}));
  EXPECT_TRUE(wheel.take_due(start + 6000).empty());
  // Jumping far ahead empties everything that was filed.
  EXPECT_EQ(wheel.take_due(start + 100'000), (std::vector<int64_t>{3}));
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_TRUE(wheel.add(start + 100'500, 5));
}

TEST(TimingWheelTest, MatchesASortedListOnRandomSchedules) {
  std::mt19937 rng(7);
  const EpochMs start = 5'000'000;
  TimingWheel wheel(start, 64);
  std::multimap<EpochMs, int64_t> reference;
  EpochMs now = start;
  for (int64_t id = 0; id < 2000; ++id) {
    const EpochMs due = now + static_cast<EpochMs>(rng() % 70'000) - 5'000;
    if (wheel.add(due, id)) reference.emplace(due, id);
    if (id % 10 == 0) {
      now += static_cast<EpochMs>(rng() % 3'000);
      std::vector<int64_t> got = wheel.take_due(now);
      std::vector<int64_t> want;
      while (!reference.empty() && reference.begin()->first <= now) {
        want.push_back(reference.begin()->second);
        reference.erase(reference.begin());
      }
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      ASSERT_EQ(got, want) << "at " << now;
    }
  }
}

TEST(VariantTest, AssignmentIsStableAndFollowsWeights) {
  std::vector<Variant> v(2);
  v[0].name = "A";
  v[0].weight = 3;
  v[1].name = "B";
  v[1].weight = 1;
  int a = 0;
  for (uint32_t c = 1; c <= 10'000; ++c) {
    const size_t pick = pick_variant(v, c, "s1");
    EXPECT_EQ(pick, pick_variant(v, c, "s1"));
    if (pick == 0) ++a;
  }
  EXPECT_NEAR(a, 7500, 300);
}

TEST(DeliverySettingsTest, QuietHoursAcrossMidnightDeferToTheirEnd) {
  outbox::DeliverySettings s;  // 22:00–08:00
  EXPECT_TRUE(outbox::in_quiet_hours(s, at("2026-11-27T23:10:00"), kBeijing));
  EXPECT_TRUE(outbox::in_quiet_hours(s, at("2026-11-28T07:59:00"), kBeijing));
  EXPECT_FALSE(outbox::in_quiet_hours(s, at("2026-11-28T08:00:00"), kBeijing));
  EXPECT_FALSE(outbox::in_quiet_hours(s, at("2026-11-27T21:59:00"), kBeijing));
  EXPECT_EQ(outbox::after_quiet_hours(s, at("2026-11-27T23:10:30"), kBeijing),
            at("2026-11-28T08:00:00"));
  EXPECT_EQ(outbox::after_quiet_hours(s, at("2026-11-28T03:00:00"), kBeijing),
            at("2026-11-28T08:00:00"));
  EXPECT_EQ(outbox::after_quiet_hours(s, at("2026-11-28T12:00:00"), kBeijing),
            at("2026-11-28T12:00:00"));
  auto day = outbox::parse_delivery_settings(
      Json{{"quiet_start", "12:00"}, {"quiet_end", "13:30"}}, s);
  ASSERT_TRUE(day);
  EXPECT_EQ(outbox::after_quiet_hours(*day, at("2026-11-28T12:15:00"), kBeijing),
            at("2026-11-28T13:30:00"));
  EXPECT_EQ(outbox::parse_delivery_settings(Json{{"quiet_end", "8:00"}}, s).error().field(),
            "quiet_end");
  EXPECT_EQ(outbox::parse_delivery_settings(Json{{"channel", "webhook"}}, s).error().field(),
            "webhook_url");
  EXPECT_EQ(outbox::parse_delivery_settings(Json{{"webhook_secret", "short"}}, s).error().field(),
            "webhook_secret");
  const Json shown = outbox::delivery_settings_json(s, false);
  EXPECT_FALSE(shown.contains("webhook_secret"));
}

}  // namespace
}  // namespace siyu::journey
