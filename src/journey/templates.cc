#include "journey/templates.h"

#include "core/time_format.h"

namespace siyu::journey {
namespace {

Json group_post(const std::string& id, const std::vector<int64_t>& groups, const std::string& text) {
  return {{"id", id}, {"type", "send"}, {"to", "group"}, {"groups", groups},
          {"content", {{"text", text}}}};
}

Json customer_send(const std::string& id, const std::string& text, const char* cls = "marketing") {
  return {{"id", id}, {"type", "send"}, {"class", cls}, {"content", {{"text", text}}}};
}

Json wait_for(const std::string& id, const std::string& duration) {
  return {{"id", id}, {"type", "wait"}, {"duration", duration}};
}

Json wait_until(const std::string& id, const std::string& time) {
  return {{"id", id}, {"type", "wait"}, {"until", time}};
}

Json briefing(const TemplateParams& p) {
  return {{"description", "早报 08:30、晚报 20:30 推送到所选社群，每天两次。"},
          {"trigger", {{"type", "schedule"}, {"every", "day"}, {"at", "08:30"}}},
          {"steps",
           {group_post("morning", p.groups,
                       "【{group} 早报 {today}】早上好！今日福利与活动预告已更新，点击菜单查看。"),
            wait_until("until-evening", "20:30"),
            group_post("evening", p.groups,
                       "【{group} 晚报】今天的好物与群友分享回顾，明早 8:30 见～")}}};
}

Json weekly_share(const TemplateParams& p) {
  return {{"description",
           "每周四 20:00 话题投票 → 周六 12:00 预热 → 周六 20:00 分享 → 21:30 总结回帖。"},
          {"trigger", {{"type", "schedule"}, {"every", "week"}, {"days", {"thu"}}, {"at", "20:00"}}},
          {"steps",
           {group_post("topic-poll", p.groups,
                       "本周六 20:00 群分享，想听什么？回复 1 护肤心得 / 2 穿搭 / 3 好物测评，票多者胜！"),
            wait_for("to-saturday-noon", "40h"),
            group_post("warm-up", p.groups,
                       "今晚 20:00 本周分享准时开讲，提前准备好问题，现场互动有小礼物～"),
            wait_until("until-share", "20:00"),
            group_post("share", p.groups, "分享开始啦！今天的主题已经置顶，欢迎边听边提问。"),
            wait_for("after-share", "90m"),
            group_post("summary", p.groups,
                       "今晚分享总结已整理好（见群公告），没赶上的群友可以回看，下周四继续投票选题！"),
            {{"id", "collect-feedback"}, {"type", "task"},
             {"title", "整理本周分享总结与群友反馈"}, {"due", "1d"}}}}};
}

Json onboarding(const TemplateParams& p) {
  Json d = {{"description",
             "入群 1 分钟内欢迎 → 第 1 天介绍群规与福利 → 第 3 天回访并提醒员工跟进。"},
            {"trigger", {{"type", "event"}, {"event", "join_group"}}},
            {"reentry", "once"},
            {"steps",
             {customer_send("welcome",
                            "{name}，欢迎加入！我是你的专属顾问 {staff}，有任何问题随时找我～",
                            "key"),
              wait_for("day-1", "1d"),
              customer_send("introduction",
                            "{name}，给你介绍一下我们的群：每天 8:30 早报、周六 20:00 "
                            "主题分享，群内专属价每周更新。"),
              wait_for("day-3", "2d"),
              customer_send("check-in", "{name}，入群三天啦，用得怎么样？有想了解的产品尽管问我。"),
              {{"id", "follow-up"}, {"type", "task"}, {"title", "回访新群友 {name}"},
               {"note", "入群第 3 天：了解需求，邀请参加周六分享。"}, {"due", "1d"}}}},
            {"goal", {{"event", "order_paid"}, {"within_days", 14}}}};
  if (p.segment) d["audience"] = {{"segment", *p.segment}};
  return d;
}

Result<Json> launch_sale(const TemplateParams& p) {
  if (!p.start) return invalid("start is required: when the sale begins", "start");
  SIYU_ASSIGN_OR_RETURN(EpochMs start, parse_timestamp(*p.start, p.offset_minutes));
  const std::string coupon = p.coupon.value_or("LAUNCH50");
  // The sequence starts three days ahead of the sale, at the same time of day.
  const EpochMs invite_at = start - 3 * kMsPerDay;
  const std::string when = format_local(invite_at, p.offset_minutes);
  const std::string ends = format_local(start + 3 * 3'600'000, p.offset_minutes);
  return Json{
      {"description", "群发售：邀请入群 → 成功案例 → 预热 → 限时开售（券仅活动期间有效）→ "
                      "跟进未下单的人。"},
      {"trigger", {{"type", "schedule"}, {"every", "once"}, {"when", when}}},
      {"audience", {{"segment", *p.segment}}},
      {"vars",
       {{"coupon", {{"value", coupon}, {"from", format_local(start, p.offset_minutes)}, {"to", ends}}}}},
      {"steps",
       {customer_send("invite",
                      "{name}，我们 3 天后有一场群内专属发售，入群即可参加，名额有限～"),
        wait_for("to-stories", "1d"),
        group_post("success-stories", p.groups,
                   "上一期群友的真实反馈：用了两周皮肤明显改善，已回购三次！后天开售，别错过。"),
        wait_for("to-warm-up", "1d"),
        group_post("warm-up", p.groups, "明晚开售！提前加购，开售后凭券立减，数量有限先到先得。"),
        wait_for("to-sale", "1d"),
        group_post("sale", p.groups,
                   "开售啦！专属券 {coupon} 仅在今晚 3 小时内有效，下单立减。"),
        wait_for("decide", "2h"),
        {{"id", "bought?"},
         {"type", "branch"},
         {"if", {{"event", "order_paid"}, {"within_days", 1}}},
         {"then", {{{"id", "tag-buyer"}, {"type", "tag"}, {"add", "群发售已购"}}}},
         {"else",
          {customer_send("follow-up",
                         "{name}，还在犹豫吗？专属券 {coupon} 还剩 1 小时有效，有问题随时问我。"),
           {{"id", "call-undecided"}, {"type", "task"}, {"title", "跟进未下单的 {name}"},
            {"due", "1d"}}}}}}},
      {"goal", {{"event", "order_paid"}, {"within_days", 3}}}};
}

}  // namespace

const std::vector<SopTemplate>& sop_templates() {
  static const std::vector<SopTemplate> all = {
      {"briefing", "早晚报", "Morning and evening briefing",
       "每天 08:30 早报、20:30 晚报推送到社群", "Two group posts a day, 08:30 and 20:30", true,
       false, false},
      {"weekly_share", "每周分享", "Weekly share",
       "周四话题投票 → 周六预热 → 周六 20:00 分享 → 总结回帖",
       "Thursday topic poll, Saturday warm-up, the 20:00 share and its summary", true, false,
       false},
      {"onboarding", "新人入群", "New-member onboarding",
       "入群 1 分钟内欢迎，第 1 天介绍，第 3 天回访",
       "Welcome within a minute of joining, day-1 introduction, day-3 check-in", false, false,
       false},
      {"launch_sale", "群发售", "Group launch sale",
       "邀请 → 成功案例 → 预热 → 限时开售（券仅活动期间有效）→ 跟进未下单",
       "Invite, success stories, warm-up, the sale with a coupon valid only during it, "
       "follow-up on the undecided",
       true, true, true},
  };
  return all;
}

Result<Json> template_definition(const std::string& key, const TemplateParams& p) {
  const SopTemplate* t = nullptr;
  for (const SopTemplate& candidate : sop_templates()) {
    if (candidate.key == key) t = &candidate;
  }
  if (t == nullptr) return not_found("no SOP template \"" + key + "\"");
  if (t->needs_groups && p.groups.empty()) {
    return invalid("groups is required: the groups this SOP posts to", "groups");
  }
  if (t->needs_segment && !p.segment) {
    return invalid("segment is required: the saved segment to invite", "segment");
  }
  if (key == "briefing") return briefing(p);
  if (key == "weekly_share") return weekly_share(p);
  if (key == "onboarding") return onboarding(p);
  return launch_sale(p);
}

}  // namespace siyu::journey
