#include "demo/demo.h"

#include <map>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string_view>

#include "core/time_format.h"
#include "community/service.h"
#include "customer/identity.h"
#include "journey/engine.h"
#include "journey/templates.h"

namespace siyu::demo {
namespace {

constexpr std::array<std::string_view, 30> kFamily = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹"};
constexpr std::array<std::string_view, 40> kGiven = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟",
    "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "婷", "雪", "慧", "晨", "欣怡", "子涵",
    "浩然", "雨桐", "梓萱", "思远", "一诺", "佳琪", "俊杰", "诗涵", "宇轩", "若曦", "嘉怡", "博文"};
constexpr std::array<std::string_view, 15> kCities = {
    "上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉",
    "苏州", "西安", "长沙", "重庆", "厦门", "宁波", "天津"};
constexpr std::array<std::string_view, 12> kProducts = {
    "杨枝甘露", "多肉葡萄", "芝芝莓莓", "生椰拿铁", "茉莉奶绿", "烤黑糖波波",
    "满杯红柚", "桂花乌龙", "柠檬茶", "芋泥波波", "月饼礼盒", "新春茶礼"};
constexpr std::array<int64_t, 12> kPrices = {1900, 2200, 2500, 1800, 1600, 1900,
                                             2100, 1700, 1500, 2000, 16800, 12800};

struct ChannelSpec {
  const char* kind;
  const char* name;
  const char* code;
  int weight;           // share of new customers
  int64_t daily_cost;   // cents
};
constexpr std::array<ChannelSpec, 8> kChannels = {{
    {"store", "门店扫码", "store-qr", 30, 20000},
    {"paid_ads", "朋友圈广告", "moments-ads", 12, 300000},
    {"content", "公众号文章", "mp-articles", 14, 30000},
    {"employee", "店员企微", "staff-wecom", 12, 10000},
    {"product", "杯套二维码", "cup-sleeve", 10, 15000},
    {"brand", "品牌联名", "brand-collab", 5, 80000},
    {"fission", "老带新裂变", "referral", 12, 40000},
    {"partner", "KOC 合伙人", "koc-partner", 5, 50000},
}};

/// Small deterministic generator helpers over mt19937_64.
class Dice {
 public:
  explicit Dice(uint64_t seed) : rng_(seed) {}
  double unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  int64_t below(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(n)); }
  int weighted(const std::vector<int>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int64_t r = below(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return static_cast<int>(i);
      r -= weights[i];
    }
    return 0;
  }
  /// Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(1.0 - unit()); }

 private:
  std::mt19937_64 rng_;
};

/// Relative demand on a day: weekends and the weeks before Spring Festival and Mid-Autumn.
double day_weight(int64_t day) {
  const int64_t weekday = (day + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
  double w = (weekday == 0 || weekday == 5 || weekday == 6) ? 1.4 : 1.0;
  const int64_t spring = days_from_civil({2026, 2, 17});
  const int64_t mid_autumn = days_from_civil({2026, 9, 25});
  if (day >= spring - 12 && day <= spring) w *= 2.2;
  if (day > spring && day <= spring + 6) w *= 0.5;  // shops close for the holiday
  if (day >= mid_autumn - 10 && day <= mid_autumn) w *= 3.0;
  return w;
}

/// The slug a demo workspace has while it is being built.
std::string building_slug(const std::string& slug) { return slug + ".building"; }

std::string pad(int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  return buf;
}

class Builder {
 public:
  Builder(store::Store& store, const security::Vault& vault, const DemoOptions& opt, EpochMs now)
      : store_(store), vault_(vault), opt_(opt), now_(now), dice_(opt.seed),
        end_day_(now / kMsPerDay), start_day_(end_day_ - 365) {}

  Result<DemoResult> run() {
    DemoResult out;
    // Built under a temporary slug and renamed when complete, so an interrupted build is
    // never mistaken for a finished demo.
    store::Workspace w{WorkspaceId(), building_slug(opt_.slug), "茶语时光 Tea Time",
                       "Asia/Shanghai", start_day_ * kMsPerDay};
    SIYU_ASSIGN_OR_RETURN(auto ws, store_.create_workspace(w));
    ws_ = ws.id;
    out.workspace = ws_;
    out.created = true;
    out.owner_email = "owner@" + opt_.slug + ".siyu.local";
    out.owner_password = kDemoPassword;
    SIYU_RETURN_IF_ERROR(make_staff(out.owner_email));
    SIYU_RETURN_IF_ERROR(make_channels());
    SIYU_RETURN_IF_ERROR(make_groups());
    SIYU_RETURN_IF_ERROR(make_fields());
    const customer::IdentityCodec codec(vault_, ws_);
    for (int64_t first = 0; first < opt_.customers; first += kChunk) {
      const int64_t n = std::min(kChunk, opt_.customers - first);
      SIYU_RETURN_IF_ERROR(make_customers(codec, first, n, out));
    }
    SIYU_RETURN_IF_ERROR(flush_events(out));
    SIYU_RETURN_IF_ERROR(flush_orders(out));
    SIYU_RETURN_IF_ERROR(make_tag_catalogue());
    SIYU_RETURN_IF_ERROR(make_journeys());
    SIYU_RETURN_IF_ERROR(make_community(out));
    SIYU_RETURN_IF_ERROR(store_.rename_workspace(ws_, opt_.slug));
    return out;
  }

 private:
  static constexpr int64_t kChunk = 2000;
  static constexpr int kGroups = 120;

  Status make_staff(const std::string& owner_email) {
    SIYU_ASSIGN_OR_RETURN(std::string hash, security::hash_password(kDemoPassword));
    const EpochMs at = start_day_ * kMsPerDay;
    struct Spec { std::string email; std::string name; store::Role role; };
    std::vector<Spec> specs = {{owner_email, "王店长", store::Role::kOwner},
                               {"admin@" + opt_.slug + ".siyu.local", "李运营总监", store::Role::kAdmin},
                               {"analyst@" + opt_.slug + ".siyu.local", "赵分析师", store::Role::kAnalyst},
                               {"operator@" + opt_.slug + ".siyu.local", "陈社群", store::Role::kOperator}};
    for (int i = 1; specs.size() < 20; ++i) {
      specs.push_back({"staff" + pad(i, 2) + "@" + opt_.slug + ".siyu.local",
                       std::string(kFamily[static_cast<size_t>(i) % kFamily.size()]) + "导购" + std::to_string(i),
                       i <= 2 ? store::Role::kOperator : store::Role::kStaff});
    }
    for (const auto& s : specs) {
      store::User u{UserId(), ws_, s.email, s.name, s.role, hash, false, at};
      SIYU_ASSIGN_OR_RETURN(auto made, store_.create_user(u));
      if (s.role == store::Role::kStaff || s.role == store::Role::kOperator) staff_.push_back(made.id);
    }
    return Status::ok();
  }

  /// SOPs from the templates and journeys an operations team runs: onboarding, briefings, the
  /// weekly share, first-order care with an A/B test, birthdays, win-back on a segment, and a
  /// holiday greeting and a launch sale still in draft.
  Status make_journeys() {
    const EpochMs at = now_;
    SIYU_ASSIGN_OR_RETURN(auto groups, store_.groups(ws_));
    SIYU_ASSIGN_OR_RETURN(auto segments, store_.segments(ws_));
    auto segment_id = [&](const std::string& name) -> int64_t {
      for (const auto& seg : segments) {
        if (seg.name == name) return seg.id;
      }
      return 0;
    };
    auto save = [&](const std::string& name, const std::string& tpl, const Json& def,
                    const std::string& status) -> Status {
      SIYU_RETURN_IF_ERROR(journey::parse_in_workspace(store_, ws_, def).status());
      store::Journey j;
      j.name = name;
      j.template_key = tpl;
      j.definition_json = def.dump();
      j.created_by = "demo";
      j.created_at = at;
      SIYU_ASSIGN_OR_RETURN(auto made, store_.create_journey(ws_, j));
      if (status == "draft") return Status::ok();
      return store_.set_journey_status(ws_, made.id, status, at);
    };
    journey::TemplateParams p;
    for (size_t i = 0; i < 3 && i < groups.size(); ++i) p.groups.push_back(groups[i].id.value);
    SIYU_ASSIGN_OR_RETURN(Json briefing, journey::template_definition("briefing", p));
    SIYU_RETURN_IF_ERROR(save("早晚报·首批三个群", "briefing", briefing, "active"));
    for (size_t i = 3; i < 6 && i < groups.size(); ++i) p.groups.push_back(groups[i].id.value);
    SIYU_ASSIGN_OR_RETURN(Json share, journey::template_definition("weekly_share", p));
    SIYU_RETURN_IF_ERROR(save("每周六 20:00 主题分享", "weekly_share", share, "active"));
    SIYU_ASSIGN_OR_RETURN(Json onboarding, journey::template_definition("onboarding", {}));
    SIYU_RETURN_IF_ERROR(save("新人入群欢迎", "onboarding", onboarding, "active"));
    const int64_t repeat = segment_id("会员复购");
    const Json first_order = {
        {"description", "首单后感谢，3 天后按是否已复购分流；未复购的人 A/B 测试两种话术。"},
        {"trigger", {{"type", "event"}, {"event", "order_paid"}}},
        {"reentry", "once"},
        {"steps",
         {{{"id", "thanks"}, {"type", "send"}, {"class", "key"},
           {"content", {{"text", "{name}，感谢第一次下单！有任何口味问题随时找我，我是 {staff}。"}}}},
          {{"id", "wait-3d"}, {"type", "wait"}, {"duration", "3d"}},
          {{"id", "repeat?"}, {"type", "branch"}, {"if", {{"segment", repeat}}},
           {"then", {{{"id", "tag-repeat"}, {"type", "tag"}, {"add", "首单后复购"}}}},
           {"else",
            {{{"id", "second-cup"}, {"type", "send"},
              {"variants",
               {{{"name", "A"}, {"content", {{"text", "{name}，第二杯半价本周有效，约上朋友一起来～"}}}},
                {{"name", "B"}, {"content", {{"text", "{name}，再来一单送 200 积分，可兑换招牌奶盖。"}}}}}}},
             {{"id", "call"}, {"type", "task"}, {"title", "回访首单客户 {name}"}, {"due", "2d"}}}}}}},
        {"goal", {{"event", "order_paid"}, {"within_days", 14}}}};
    SIYU_RETURN_IF_ERROR(save("首单关怀 A/B", "", first_order, "active"));
    const Json birthday = {
        {"trigger", {{"type", "date"}, {"field", "birthday"}, {"at", "10:00"}}},
        {"vars", {{"coupon", "BDAY-TEA"}}},
        {"steps",
         {{{"id", "greeting"}, {"type", "send"}, {"class", "key"},
           {"content", {{"text", "{name}，生日快乐！送你一张生日券 {coupon}，本周到店免费升杯。"}}}}}}};
    SIYU_RETURN_IF_ERROR(save("生日祝福", "", birthday, "active"));
    const Json win_back = {
        {"trigger", {{"type", "segment"}, {"segment", segment_id("高价值流失预警")}, {"on", "enter"}}},
        {"steps",
         {{{"id", "miss-you"}, {"type", "send"},
           {"content", {{"text", "{name}，好久不见！你常点的饮品出了新口味，这周来店里尝尝？"}}}},
          {{"id", "owner-call"}, {"type", "task"}, {"title", "高价值客户 {name} 进入流失预警，请电话回访"},
           {"due", "1d"}}}},
        {"goal", {{"event", "order_paid"}, {"within_days", 30}}}};
    SIYU_RETURN_IF_ERROR(save("高价值流失挽回", "", win_back, "active"));
    const Json mid_autumn = {
        {"trigger", {{"type", "holiday"}, {"holiday", "中秋"}, {"days_before", 3}, {"at", "10:00"}}},
        {"audience", {{"segment", segment_id("奶茶爱好者·可营销")}}},
        {"steps",
         {{{"id", "greeting"}, {"type", "send"},
           {"content", {{"text", "{name}，中秋将至，月饼奶茶礼盒已上架，老客专享 8 折。"}}}}}}};
    SIYU_RETURN_IF_ERROR(save("中秋问候", "", mid_autumn, "draft"));
    journey::TemplateParams sale = p;
    sale.segment = segment_id("社群活跃未购");
    sale.start = format_local((end_day_ + 7) * kMsPerDay + 12 * 3'600'000, 480).substr(0, 19);
    sale.coupon = "TEA50";
    SIYU_ASSIGN_OR_RETURN(Json launch, journey::template_definition("launch_sale", sale));
    return save("新品群发售", "launch_sale", launch, "draft");
  }

  /// Tag groups, auto-tag rules (applied by the server's first sweep) and saved segments an
  /// operations team would start from.
  Status make_tag_catalogue() {
    const EpochMs at = end_day_ * kMsPerDay;
    const std::string by = "demo";
    struct GroupSpec { const char* name; const char* description; };
    std::map<std::string, int64_t> group_ids;
    for (const GroupSpec& g : {GroupSpec{"价值", "消费金额与频次"}, GroupSpec{"生命周期", "新客、活跃、沉睡"},
                               GroupSpec{"兴趣偏好", "品类与口味"}, GroupSpec{"来源", "获客渠道与活动"}}) {
      SIYU_ASSIGN_OR_RETURN(auto made, store_.create_tag_group(ws_, {0, g.name, g.description, at}));
      group_ids[g.name] = made.id;
    }
    struct RuleSpec { const char* tag; const char* group; const char* name; const char* expression; };
    const RuleSpec rules[] = {
        {"高价值", "价值", "一年消费满500元", R"({"event":"order_paid","within_days":365,"sum":{"gte":50000}})"},
        {"复购客", "价值", "90天内下单3次及以上", R"({"event":"order_paid","within_days":90,"count":{"gte":3}})"},
        {"沉睡客", "生命周期", "90天无任何互动", R"({"lifecycle":["churned"]})"},
        {"流失预警", "生命周期", "30–90天未互动的老客", R"({"and":[{"lifecycle":["at_risk"]},{"attr":"paid_orders","op":"range","from":1}]})"},
    };
    for (const RuleSpec& r : rules) {
      SIYU_RETURN_IF_ERROR(store_.put_tag_def(ws_, {r.tag, group_ids[r.group], r.name, by, at}));
      store::TagRule rule;
      rule.name = r.name;
      rule.tag = r.tag;
      rule.expression_json = r.expression;
      rule.enabled = true;
      rule.created_by = by;
      rule.created_at = at;
      SIYU_RETURN_IF_ERROR(store_.create_tag_rule(ws_, rule).status());
    }
    for (const char* tag : {"抹茶控", "低糖偏好", "奶盖党"}) {
      SIYU_RETURN_IF_ERROR(store_.put_tag_def(ws_, {tag, group_ids["兴趣偏好"], "", by, at}));
    }
    struct SegmentSpec { const char* name; const char* expression; };
    for (const SegmentSpec& seg :
         {SegmentSpec{"高价值流失预警", R"({"and":[{"rfm":{"m":[4,5]}},{"lifecycle":["at_risk","churned"]}]})"},
          SegmentSpec{"会员复购", R"({"and":[{"layer":["member"]},{"event":"order_paid","within_days":90,"count":{"gte":2}}]})"},
          SegmentSpec{"社群活跃未购", R"({"and":[{"layer":["community"]},{"event":"view","within_days":30},{"attr":"paid_orders","op":"range","to":1}]})"},
          SegmentSpec{"关注联名内容", R"({"event":"view","where":{"content_tags":"联名"},"within_days":30,"count":{"gte":2}})"},
          SegmentSpec{"奶茶爱好者·可营销", R"({"and":[{"attr":"custom.favorite_drink","op":"in","values":["奶茶","果茶"]},{"attr":"custom.marketing_opt_in","op":"eq","value":true},{"attr":"custom.points","op":"range","from":1000}]})"}}) {
      store::Segment s;
      s.name = seg.name;
      s.expression_json = seg.expression;
      s.created_by = by;
      s.created_at = at;
      SIYU_RETURN_IF_ERROR(store_.create_segment(ws_, s).status());
    }
    return Status::ok();
  }

  Status make_channels() {
    for (const auto& spec : kChannels) {
      SIYU_ASSIGN_OR_RETURN(auto ch, store_.create_channel(
                                         ws_, {ChannelId(), spec.kind, spec.name, spec.code,
                                               start_day_ * kMsPerDay}));
      channels_.push_back(ch.id);
      channel_weights_.push_back(spec.weight);
      // One cost entry a month, varied ±30%.
      for (int64_t day = start_day_; day < end_day_; day += 30) {
        const double f = 0.7 + 0.6 * dice_.unit();
        store::ChannelCost cost{0, ch.id, format_date(civil_from_days(day)),
                                static_cast<int64_t>(static_cast<double>(spec.daily_cost) * 30 * f),
                                "月度投放"};
        SIYU_RETURN_IF_ERROR(store_.add_channel_cost(ws_, cost).status());
      }
    }
    return Status::ok();
  }

  Status make_groups() {
    static constexpr std::array<const char*, 3> kKinds = {"traffic", "conversion",
                                                          "organisational"};
    for (int i = 0; i < kGroups; ++i) {
      const auto city = kCities[static_cast<size_t>(i) % kCities.size()];
      store::Group g;
      g.name = "茶语时光·" + std::string(city) + std::to_string(i / 15 + 1) + "群";
      g.kind = kKinds[static_cast<size_t>(i) % 3];
      g.owner_staff = staff_[static_cast<size_t>(i) % staff_.size()];
      g.capacity = 500;
      g.slogan = "一杯好茶，一群好友";
      g.benefits = "会员价新品尝鲜 · 每周六 20:00 茶饮小课堂 · 群内专属优惠券";
      g.rules = "1. 不发广告和链接 2. 不刷屏 3. 友善交流，不提竞品";
      if (i % 3 == 0) g.welcome = "新朋友先看群公告，群内回复「优惠券」领取新人券～";
      if (g.kind == "organisational") {
        g.threshold_json = i % 2 == 0 ? R"({"type":"price","price":990,"description":"茶艺课学员群"})"
                                      : R"({"type":"identity","segment":{"layer":["member"]},"description":"仅限会员"})";
      }
      g.created_at = start_day_ * kMsPerDay;
      SIYU_RETURN_IF_ERROR(store_.create_group(ws_, g).status());
    }
    return Status::ok();
  }

  /// Moderation rules, auto-replies, a channel code and 30 days of group chat through the
  /// community service (moderated, answered and aggregated like live traffic).
  Status make_community(DemoResult& out) {
    const EpochMs at = now_;
    auto rule = [&](const char* name, const char* kind, std::vector<std::string> words,
                    const char* action) {
      store::ModerationRule r;
      r.name = name;
      r.kind = kind;
      r.words = std::move(words);
      r.action = action;
      r.updated_at = at;
      if (r.kind == "flood") {
        r.flood_messages = 6;
        r.flood_seconds = 20;
      }
      return store_.put_moderation_rule(ws_, r).status();
    };
    SIYU_RETURN_IF_ERROR(rule("广告", "ads", {}, "warn"));
    SIYU_RETURN_IF_ERROR(rule("外链", "links", {}, "warn"));
    SIYU_RETURN_IF_ERROR(rule("二维码图片", "qr_image", {}, "remove"));
    SIYU_RETURN_IF_ERROR(rule("竞品", "competitors", {"喜茶", "奈雪", "蜜雪冰城"}, "warn"));
    SIYU_RETURN_IF_ERROR(rule("刷屏", "flood", {}, "warn"));
    auto reply = [&](const char* name, const char* match, std::vector<std::string> keywords,
                     const char* text) {
      store::AutoReply r;
      r.name = name;
      r.match = match;
      r.keywords = std::move(keywords);
      r.reply = text;
      r.cooldown_seconds = 600;
      r.updated_at = at;
      return store_.put_auto_reply(ws_, r).status();
    };
    SIYU_RETURN_IF_ERROR(reply("门店地址", "contains", {"门店地址", "店在哪"}, "全部门店地址：小程序「茶语时光」→ 门店"));
    SIYU_RETURN_IF_ERROR(reply("营业时间", "contains", {"几点开门", "营业时间"}, "门店营业时间 10:00–22:00，节假日照常"));
    SIYU_RETURN_IF_ERROR(reply("优惠券", "exact", {"优惠券"}, "新人券已发到你的会员中心，7 天内有效"));
    store::GroupCode code;
    code.name = "双十一福利";
    code.token = "demo-" + opt_.slug;
    code.group_name = "茶语时光·{name}{n}群";
    code.capacity = 200;
    code.channel = channels_.front();
    code.owner_staff = staff_.front();
    code.welcome = "欢迎来到双十一福利群，11 月 11 日 20:00 开抢！";
    code.created_at = at;
    SIYU_RETURN_IF_ERROR(store_.create_group_code(ws_, code).status());

    static constexpr std::array<const char*, 20> kChat = {
        "今天的杨枝甘露真好喝", "芝士奶盖是不是换配方了", "周六的茶饮小课堂还有名额吗", "新品桂花酒酿什么时候上",
        "求推荐一款不太甜的", "第二杯半价活动还有吗", "门店地址在哪里呀", "几点开门？", "乌龙拿铁少冰最好喝",
        "会员积分怎么换杯子", "优惠券", "茉莉绿茶加椰果绝了", "今天排队的人好多", "外卖能用会员价吗",
        "上次的品鉴会太好玩了", "有没有低卡的推荐", "桂花酒酿会不会很甜", "生日当天有免费饮品吗",
        "店员小姐姐超级热情", "杨枝甘露和芝士奶盖二选一"};
    static constexpr std::array<const char*, 5> kSpam = {
        "加 V 信领红包，日结兼职", "www.free-tea.cn 免费领奶茶", "喜茶买一送一，快去", "刷单返利，私聊我",
        "蜜雪冰城更便宜"};
    static constexpr std::array<int, 24> kHourWeight = {1, 0, 0, 0, 0, 0, 1, 3, 6, 5, 4, 6,
                                                       9, 8, 4, 4, 5, 6, 7, 9, 12, 13, 9, 4};
    const std::vector<int> weights(kHourWeight.begin(), kHourWeight.end());
    ManualClock clock(now_);
    community::CommunityService service(store_, clock);
    SIYU_ASSIGN_OR_RETURN(auto groups, store_.groups(ws_));
    int64_t n = 0;
    for (const auto& g : groups) {
      SIYU_ASSIGN_OR_RETURN(auto members, store_.group_members(ws_, g.id, false));
      if (members.empty()) continue;
      // Some groups are lively, some quiet: 2–40 messages a day.
      const double per_day = 2 + 38 * dice_.unit() * dice_.unit();
      std::vector<community::IncomingMessage> batch;
      for (int64_t day = end_day_ - 30; day < end_day_; ++day) {
        const auto count = static_cast<int64_t>(dice_.exponential(per_day));
        for (int64_t k = 0; k < count; ++k) {
          // A few members do most of the talking.
          const auto& who = members[static_cast<size_t>(
              std::min<int64_t>(static_cast<int64_t>(members.size()) - 1,
                                static_cast<int64_t>(dice_.exponential(static_cast<double>(members.size()) / 8))))];
          const EpochMs t = (day * 24 + dice_.weighted(weights)) * 3'600'000 - 8 * 3'600'000 +
                            dice_.below(3'600'000);
          if (t <= who.joined_at || t >= now_) continue;
          community::IncomingMessage m;
          m.message.msg_id = "demo-" + std::to_string(++n);
          m.message.group = g.id;
          m.message.customer = who.customer;
          m.message.at = t;
          m.message.text = dice_.chance(0.01) ? kSpam[static_cast<size_t>(dice_.below(static_cast<int64_t>(kSpam.size())))]
                                              : kChat[static_cast<size_t>(dice_.below(static_cast<int64_t>(kChat.size())))];
          batch.push_back(std::move(m));
        }
      }
      std::sort(batch.begin(), batch.end(),
                [](const auto& a, const auto& b) { return a.message.at < b.message.at; });
      // A quarter of the messages answer the one before them.
      for (size_t i = 1; i < batch.size(); ++i) {
        if (dice_.chance(0.25)) batch[i].message.reply_to = batch[i - 1].message.msg_id;
      }
      out.group_messages += static_cast<int64_t>(batch.size());
      if (!batch.empty()) SIYU_RETURN_IF_ERROR(service.ingest(ws_, std::move(batch)).status());
    }
    SIYU_RETURN_IF_ERROR(service.settle(ws_));
    // Joins of the last minutes get their greeting like live ones.
    return service.greet(now_ + community::kWelcomeGatherMs).status();
  }

  /// A day after `from` drawn with seasonal weights, or -1 past the end.
  int64_t next_day(int64_t from, double mean_gap) {
    int64_t day = from + 1 + static_cast<int64_t>(dice_.exponential(mean_gap));
    // Thin by seasonality: move forward until accepted.
    while (day < end_day_ && !dice_.chance(day_weight(day) / 3.0)) ++day;
    return day < end_day_ ? day : -1;
  }

  EpochMs at_time(int64_t day) {
    // Tea shops are busiest 11:00–21:00 Beijing time (UTC+8).
    const int64_t local_minute = 10 * 60 + dice_.below(11 * 60);
    return day * kMsPerDay + (local_minute - 480) * 60'000 + dice_.below(60'000);
  }

  void event(CustomerId c, const std::string& type, EpochMs ts, std::string props = "{}",
             std::optional<store::RelationChange> rel = std::nullopt, std::string staff = "",
             int64_t amount = 0, std::string channel = "", std::string content = "") {
    store::PendingEvent p;
    p.customer = c;
    p.event.event_id = "demo-" + pad(c.value, 8) + "-" + std::to_string(++event_seq_);
    p.event.type = type;
    p.event.ts = ts;
    p.event.properties_json = std::move(props);
    p.event.staff = std::move(staff);
    p.event.amount = amount;
    p.event.channel = std::move(channel);
    p.event.content = std::move(content);
    p.relation = std::move(rel);
    events_.push_back(std::move(p));
  }

  /// Custom fields a tea chain keeps (taste preferences, marketing consent, points), and the
  /// topics of its content pages as an event property.
  Status make_fields() {
    const store::FieldDef defs[] = {{"favorite_drink", "string", false, "最爱饮品"},
                                    {"sweetness", "string", false, "甜度偏好"},
                                    {"marketing_opt_in", "boolean", false, "接收营销"},
                                    {"points", "number", false, "积分"}};
    for (const auto& d : defs) SIYU_RETURN_IF_ERROR(store_.put_field_def(ws_, d));
    return store_.put_event_property(ws_, {"content_tags", "内容标签", start_day_ * kMsPerDay});
  }

  /// Values of the custom fields for one customer; some are left unset, as in real data.
  std::string custom_fields() {
    static constexpr std::array<std::string_view, 5> kDrinks = {"乌龙", "果茶", "奶茶", "抹茶", "柠檬茶"};
    static constexpr std::array<std::string_view, 4> kSweetness = {"无糖", "少糖", "半糖", "全糖"};
    Json custom = Json::object();
    if (dice_.chance(0.6)) custom["favorite_drink"] = kDrinks[static_cast<size_t>(dice_.below(kDrinks.size()))];
    if (dice_.chance(0.5)) custom["sweetness"] = kSweetness[static_cast<size_t>(dice_.below(kSweetness.size()))];
    custom["marketing_opt_in"] = dice_.chance(0.8);
    custom["points"] = dice_.below(5000);
    return custom.dump();
  }

  Status make_customers(const customer::IdentityCodec& codec, int64_t first, int64_t n,
                        DemoResult& out) {
    std::vector<std::pair<store::Customer, std::vector<store::Identity>>> batch;
    struct Plan { int64_t created_day; size_t channel; };
    std::vector<Plan> plans;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t serial = first + i;
      store::Customer c;
      // Growth: more customers joined recently (square-root spread over the year).
      const int64_t created_day = start_day_ + static_cast<int64_t>(std::sqrt(dice_.unit()) * 364.0);
      const size_t ch = static_cast<size_t>(dice_.weighted(channel_weights_));
      c.created_at = c.updated_at = at_time(created_day);
      c.name = std::string(kFamily[static_cast<size_t>(dice_.below(kFamily.size()))]) +
               std::string(kGiven[static_cast<size_t>(dice_.below(kGiven.size()))]);
      c.gender = dice_.chance(0.62) ? "female" : (dice_.chance(0.9) ? "male" : "unknown");
      c.city = std::string(kCities[static_cast<size_t>(dice_.below(kCities.size()))]);
      if (dice_.chance(0.7)) {
        c.birthday = format_date({static_cast<int>(1970 + dice_.below(38)),
                                  static_cast<int>(1 + dice_.below(12)),
                                  static_cast<int>(1 + dice_.below(28))});
      }
      c.channel = channels_[ch];
      c.campaign = ch == 6 ? "老带新-第" + std::to_string(1 + dice_.below(4)) + "期" : "";
      c.content = ch == 2 ? "文章-" + std::to_string(1 + dice_.below(40)) : "";
      if (ch == 3 || dice_.chance(0.35)) c.owner_staff = staff_[static_cast<size_t>(dice_.below(static_cast<int64_t>(staff_.size())))];
      if (ch == 3) c.referrer_staff = c.owner_staff;
      if (ch == 7) c.referrer_partner = "KOC-" + pad(1 + dice_.below(50), 3);
      std::vector<store::Identity> ids;
      if (dice_.chance(0.72)) {
        // 1 + 3-digit carrier prefix + serial: unique within the workspace.
        const std::string phone = "1" + std::to_string(3 + dice_.below(7)) +
                                  std::to_string(dice_.below(10)) + pad(serial, 8);
        auto id = codec.make("phone", phone, "", "phone");
        if (id) {
          c.phone_sealed = codec.seal(phone, "phone");
          c.phone_masked = customer::mask_phone(phone);
          ids.push_back(*id);
        }
      }
      if (dice_.chance(0.85)) {
        ids.push_back(*codec.make("wechat_unionid", "oU_demo_" + pad(serial, 9), "", "u"));
        ids.push_back(*codec.make("wechat_openid", "oM_demo_" + pad(serial, 9), "wx_demo_mp", "o"));
      }
      if (c.owner_staff) ids.push_back(*codec.make("wecom_external_userid", "wm_demo_" + pad(serial, 9), "", "w"));
      c.custom_json = custom_fields();
      c.anonymous = false;
      batch.emplace_back(std::move(c), std::move(ids));
      plans.push_back({created_day, ch});
    }
    SIYU_ASSIGN_OR_RETURN(auto ids, store_.create_customers(ws_, batch));
    out.customers += static_cast<int64_t>(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      make_history(ids[i], batch[i].first, plans[i].created_day, plans[i].channel);
      if (events_.size() >= 20'000) SIYU_RETURN_IF_ERROR(flush_events(out));
      if (orders_.size() >= 5'000) SIYU_RETURN_IF_ERROR(flush_orders(out));
    }
    return Status::ok();
  }

  void make_history(CustomerId id, const store::Customer& c, int64_t created_day, size_t channel) {
    const std::string ch_code = kChannels[channel].code;
    // Churners stop all activity after a point; loyal ones stay to the end.
    const double activity = 0.3 + dice_.unit();
    const int64_t churn_day = dice_.chance(0.35)
                                  ? created_day + 7 + static_cast<int64_t>(dice_.exponential(60))
                                  : end_day_;
    const int64_t last_day = std::min(churn_day, end_day_);
    const EpochMs joined = c.created_at;
    if (dice_.chance(0.9)) {
      event(id, "follow", joined, R"({"account":"茶语时光公众号"})",
            store::RelationChange{"follow", "茶语时光公众号", true}, "", 0, ch_code);
    }
    if (dice_.chance(0.6)) event(id, "registered", joined + 60'000, "{}", std::nullopt, "", 0, ch_code);
    if (dice_.chance(0.42)) {
      const std::string g = std::to_string(1 + dice_.below(kGroups));
      const EpochMs t = joined + dice_.below(3) * kMsPerDay + 3'600'000;
      event(id, "join_group", t, R"({"group_id":")" + g + R"("})", store::RelationChange{"group", g, true});
      if (churn_day < end_day_ && dice_.chance(0.4)) {
        event(id, "leave_group", std::max(t + 1, churn_day * kMsPerDay), R"({"group_id":")" + g + R"("})",
              store::RelationChange{"group", g, false});
      }
    }
    if (c.owner_staff) {
      // The staff member invites with one of two scripts (话术); the second converts better,
      // which the A/B comparison on the demo shows.
      const std::string staff = std::to_string(c.owner_staff->value);
      const bool second = dice_.chance(0.5);
      event(id, "invite", joined - 600'000, "{}", std::nullopt, staff, 0, ch_code,
            second ? "话术B-福利" : "话术A-问候");
      if (dice_.chance(second ? 0.86 : 0.74)) {
        event(id, "add_friend", joined + 120'000, "{}", store::RelationChange{"friend", staff, true}, staff,
              0, ch_code, second ? "话术B-福利" : "话术A-问候");
      }
    }
    // Browsing and log-ins while active.
    for (int64_t day = next_day(created_day, 20 / activity); day >= 0 && day <= last_day;
         day = next_day(day, 20 / activity)) {
      if (dice_.chance(0.5)) {
        event(id, "login", at_time(day));
        continue;
      }
      // Content pages carry their topics, which the demo declares as an event property.
      static constexpr std::array<std::string_view, 5> kTopics = {"新品", "季节限定", "联名", "健康轻饮", "会员福利"};
      Json props = {{"page", kProducts[static_cast<size_t>(dice_.below(10))]}};
      props["content_tags"] = Json::array({kTopics[static_cast<size_t>(dice_.below(kTopics.size()))]});
      if (dice_.chance(0.3)) props["content_tags"].push_back(kTopics[static_cast<size_t>(dice_.below(kTopics.size()))]);
      event(id, "view", at_time(day), props.dump());
    }
    // Orders: about 40% ever buy; 40% of buyers come back (repeat buyers are the loyal
    // layer), and those keep buying at their own rhythm until they churn.
    if (!dice_.chance(0.40)) return;
    const int64_t first_day = created_day + static_cast<int64_t>(dice_.exponential(5));
    if (first_day > last_day || first_day >= end_day_) return;
    make_order(id, first_day, ch_code, c);
    int paid = 1;
    if (!dice_.chance(0.40)) return;
    const double gap = 10 + dice_.exponential(40) / activity;
    for (int64_t day = next_day(first_day, gap); day >= 0 && day <= last_day && paid < 60;
         day = next_day(day, gap)) {
      make_order(id, day, ch_code, c);
      ++paid;
    }
    if (paid >= 3 && dice_.chance(0.35)) {
      event(id, "member_join", at_time(std::min(last_day, end_day_ - 1)), R"({"tier":"金卡"})",
            store::RelationChange{"membership", "金卡", true});
    }
  }

  void make_order(CustomerId id, int64_t day, const std::string& channel, const store::Customer& c) {
    const int64_t spring = days_from_civil({2026, 2, 17});
    const int64_t mid_autumn = days_from_civil({2026, 9, 25});
    Json items = Json::array();
    int64_t amount = 0;
    const int lines = 1 + static_cast<int>(dice_.below(3));
    for (int l = 0; l < lines; ++l) {
      size_t p = static_cast<size_t>(dice_.below(10));
      if (day >= mid_autumn - 10 && day <= mid_autumn && dice_.chance(0.5)) p = 10;  // mooncakes
      if (day >= spring - 12 && day <= spring && dice_.chance(0.4)) p = 11;          // gift box
      const int64_t qty = 1 + dice_.below(2);
      items.push_back({{"sku", "SKU" + pad(static_cast<int64_t>(p) + 1, 3)},
                       {"name", kProducts[p]},
                       {"quantity", qty},
                       {"price", kPrices[p]}});
      amount += qty * kPrices[p];
    }
    const EpochMs t = at_time(day);
    store::PendingOrder o;
    o.customer = id;
    o.order.order_id = "D" + pad(id.value, 8) + "-" + std::to_string(++order_seq_);
    o.order.amount = amount;
    o.order.store = std::string(c.city) + "店";
    o.order.channel = channel;
    o.order.items_json = items.dump();
    o.order.ordered_at = t;
    o.order.paid_at = t;
    o.order.status = "paid";
    if (dice_.chance(0.03)) {
      o.order.status = "refunded";
      o.order.refund_amount = amount;
      o.order.refunded_at = t + 3'600'000;
    }
    event(id, "order_paid", t, Json{{"order_id", o.order.order_id}}.dump(), std::nullopt, "", amount);
    orders_.push_back(std::move(o));
  }

  Status flush_events(DemoResult& out) {
    if (events_.empty()) return Status::ok();
    SIYU_ASSIGN_OR_RETURN(auto r, store_.ingest_events(ws_, events_, end_day_ * kMsPerDay));
    out.events += static_cast<int64_t>(r.outcomes.size());
    events_.clear();
    return Status::ok();
  }

  Status flush_orders(DemoResult& out) {
    if (orders_.empty()) return Status::ok();
    SIYU_ASSIGN_OR_RETURN(auto r, store_.upsert_orders(ws_, orders_, end_day_ * kMsPerDay));
    out.orders += static_cast<int64_t>(r.size());
    orders_.clear();
    return Status::ok();
  }

  store::Store& store_;
  const security::Vault& vault_;
  const DemoOptions& opt_;
  const EpochMs now_;  // journeys are switched on now, so they fire from now on
  Dice dice_;
  int64_t end_day_;
  int64_t start_day_;
  WorkspaceId ws_;
  std::vector<UserId> staff_;
  std::vector<ChannelId> channels_;
  std::vector<int> channel_weights_;
  std::vector<store::PendingEvent> events_;
  std::vector<store::PendingOrder> orders_;
  int64_t event_seq_ = 0;
  int64_t order_seq_ = 0;
};

}  // namespace

Result<DemoResult> build_demo(store::Store& store, const security::Vault& vault,
                              const DemoOptions& options, const Clock& clock) {
  // A build that was interrupted is set aside (its slug can't be typed at sign-in) and the
  // demo is built again.
  if (auto stale = store.workspace_by_slug(building_slug(options.slug))) {
    SIYU_RETURN_IF_ERROR(store.rename_workspace(
        stale->id, options.slug + ".interrupted-" + std::to_string(clock.now_ms())));
  }
  if (auto existing = store.workspace_by_slug(options.slug)) {
    DemoResult out;
    out.workspace = existing->id;
    out.owner_email = "owner@" + options.slug + ".siyu.local";
    out.owner_password = kDemoPassword;
    SIYU_ASSIGN_OR_RETURN(out.customers, store.count_customers(existing->id));
    SIYU_ASSIGN_OR_RETURN(out.events, store.count_events(existing->id));
    return out;
  }
  return Builder(store, vault, options, clock.now_ms()).run();
}

}  // namespace siyu::demo
