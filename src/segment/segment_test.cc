// Segment expressions: validation names the failing path, and the bitmap engine's members
// equal a plain loop over the same customers for random data and random expressions.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "core/time_format.h"
#include "index/chunked.h"
#include "index/registry.h"
#include "segment/evaluate.h"

namespace siyu::segment {
namespace {

TEST(SegmentExprTest, ValidationNamesTheExactPath) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"({"and":[{"tag":"vip"},{"layer":["fan","boss"]}]})", "and[1].layer[1]"},
      {R"({"or":[{"not":{"attr":"city","op":"eq"}}]})", "or[0].not.value"},
      {R"({"and":[{"attr":"shoe","op":"eq","value":1}]})", "and[0].attr"},
      {R"({"attr":"created_at","op":"range","from":"yesterday"})", "from"},
      {R"({"and":[]})", "and"},
      {R"({"tag":""})", "tag"},
      {R"({"attr":"city","op":"in","values":[{"x":1}]})", "values[0]"},
      {R"({"segment":3})", "segment"},
      {R"({"attr":"city","op":"eq","value":"x","extra":1})", "extra"},
      {R"({"or":[{"tag":"a"},{"attr":"city","op":"in","values":["上海",""]}]})", "or[1].values[1]"},
  };
  for (const auto& c : cases) {
    auto e = parse_expr(Json::parse(c.json));
    ASSERT_FALSE(e.has_value()) << c.json;
    EXPECT_EQ(e.error().field(), c.field) << c.json << " → " << e.error().message();
  }
  Json deep = {{"tag", "x"}};
  for (int i = 0; i < 70; ++i) deep = Json{{"not", deep}};
  EXPECT_FALSE(parse_expr(deep).has_value());
}

TEST(SegmentExprTest, CustomFieldsAreCheckedAgainstTheirDeclaredType) {
  const FieldTypes types = [](const std::string& name) -> Result<std::optional<std::string>> {
    if (name == "secret") return invalid("custom.secret is personal data", "attr");
    if (name == "age") return std::optional<std::string>("number");
    if (name == "vip") return std::optional<std::string>("boolean");
    if (name == "since") return std::optional<std::string>("date");
    return std::optional<std::string>();
  };
  const std::pair<const char*, const char*> wrong[] = {
      {R"({"attr":"custom.shoe","op":"eq","value":"x"})", "attr"},
      {R"({"attr":"custom.age","op":"eq","value":"old"})", "value"},
      {R"({"attr":"custom.age","op":"prefix","value":"1"})", "op"},
      {R"({"attr":"custom.vip","op":"eq","value":"yes"})", "value"},
      {R"({"attr":"custom.since","op":"range","from":"2024-13-01"})", "from"},
      {R"({"attr":"custom.secret","op":"exists"})", "attr"},
  };
  for (const auto& [json, field] : wrong) {
    auto e = parse_expr(Json::parse(json), {.field_types = types});
    ASSERT_FALSE(e.has_value()) << json;
    EXPECT_EQ(e.error().field(), field) << json << " → " << e.error().message();
  }
  EXPECT_FALSE(parse_expr(Json::parse(R"({"attr":"custom.age","op":"exists"})")).has_value());
  auto ne = parse_expr(Json::parse(R"({"attr":"custom.age","op":"ne","value":30})"),
                       {.field_types = types});
  ASSERT_TRUE(ne.has_value());
  EXPECT_EQ(ne->kind, ExprKind::kNot);
}

TEST(SegmentExprTest, ReferencesExpandAndCyclesAreRefused) {
  std::map<int64_t, Json> saved = {
      {1, Json::parse(R"({"tag":"vip"})")},
      {2, Json::parse(R"({"and":[{"segment":1},{"layer":["member"]}]})")},
      {3, Json::parse(R"({"segment":4})")},
      {4, Json::parse(R"({"or":[{"segment":3}]})")},
      {5, Json::parse(R"({"layer":["boss"]})")},
  };
  const SegmentResolver resolve = [&](int64_t id) -> Result<Json> {
    auto it = saved.find(id);
    if (it == saved.end()) return not_found("segment " + std::to_string(id) + " not found");
    return it->second;
  };
  auto ok = parse_expr(Json::parse(R"({"not":{"segment":2}})"), {.resolve = resolve});
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->children[0].kind, ExprKind::kAnd);
  EXPECT_EQ(ok->children[0].children[0].kind, ExprKind::kTag);
  // Saving segment 1 as "in segment 2" would loop 1 → 2 → 1.
  auto self = parse_expr(Json::parse(R"({"segment":2})"), {.resolve = resolve, .self = 1});
  ASSERT_FALSE(self.has_value());
  EXPECT_NE(self.error().message().find("cycle"), std::string::npos);
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":3})"), {.resolve = resolve}).has_value());
  auto missing = parse_expr(Json::parse(R"({"and":[{"tag":"a"},{"segment":9}]})"), {.resolve = resolve});
  EXPECT_EQ(missing.error().field(), "and[1].segment");
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":5})"), {.resolve = resolve}).has_value());
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":1})")).has_value());  // no resolver
}

TEST(SegmentExprTest, EventTypesReadAreTheBehaviourTypesUnlessAnyEventCounts) {
  const auto declared = [](const std::string&) -> Result<bool> { return true; };
  const auto types = [&](const char* json) {
    return event_types_read(*parse_expr(Json::parse(json), {.event_property = declared}));
  };
  EXPECT_EQ(types(R"({"tag":"vip"})"), std::vector<std::string>());
  EXPECT_EQ(types(R"({"and":[{"event":"view","within_days":7,"where":{"content_tags":"护肤"}},
                             {"not":{"event":"order_paid","within_days":30}},
                             {"or":[{"event":"view","within_days":1},{"layer":["member"]}]}]})"),
            (std::vector<std::string>{"order_paid", "view"}));
  // The lifecycle stage follows the last activity of any type; RFM other customers' orders.
  EXPECT_EQ(types(R"({"and":[{"event":"view","within_days":7},{"lifecycle":["active"]}]})"),
            std::nullopt);
  EXPECT_EQ(types(R"({"or":[{"tag":"a"},{"rfm":{"r":[5]}}]})"), std::nullopt);
}

/// The reference: customers as plain structs and a direct recursive evaluation over their raw
/// events and orders.
struct Row {
  index::IndexedCustomer c;
  std::set<std::string> tags;
  store::CustomerFacts facts;  // groups, raw events and purchase totals
};

constexpr EpochMs kNow = 1'730'000'000'000;  // 2024-10-27 11:33 in Beijing
constexpr EpochMs kDayMs = 86'400'000;

/// Day number in Beijing time, computed independently of the index.
int64_t beijing_day(EpochMs t) {
  const EpochMs local = t + 8 * 3'600'000;
  return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
}

/// RFM scores of every buyer by the plain definition: 1 + ⌊5 × (worse buyers) / buyers⌋.
std::map<uint32_t, std::array<int, 3>> reference_rfm(const std::map<uint32_t, Row>& rows) {
  std::vector<std::pair<uint32_t, std::array<int64_t, 3>>> buyers;
  for (const auto& [id, r] : rows) {
    if (r.facts.paid_orders == 0) continue;
    buyers.push_back({id, {beijing_day(*r.facts.last_paid_at), r.facts.paid_orders, r.facts.spend}});
  }
  std::map<uint32_t, std::array<int, 3>> out;
  const auto n = static_cast<int64_t>(buyers.size());
  for (const auto& [id, v] : buyers) {
    std::array<int, 3> score{};
    for (int axis = 0; axis < 3; ++axis) {
      int64_t worse = 0;
      for (const auto& other : buyers) worse += other.second[axis] < v[axis] ? 1 : 0;
      score[axis] = static_cast<int>(1 + std::min<int64_t>(4, 5 * worse / n));
    }
    out[id] = score;
  }
  return out;
}

std::string reference_lifecycle(const Row& r) {
  const int64_t today = beijing_day(kNow);
  const int64_t joined = beijing_day(r.c.created_at);
  const int64_t orders = r.facts.paid_orders;
  const int64_t last_paid = r.facts.last_paid_at ? beijing_day(*r.facts.last_paid_at) : INT32_MIN;
  int64_t last = std::max(joined, last_paid);
  for (const auto& ev : r.facts.activity) last = std::max(last, beijing_day(ev.ts));
  if (today - joined < 30 && orders < 2) return "new";
  if (orders >= 5 && today - last_paid < 90) return "loyal";
  if (orders >= 2 && today - last_paid < 90) return "repeat";
  if (today - last < 30) return "active";
  if (today - last < 90) return "at_risk";
  return "churned";
}

const std::map<uint32_t, std::array<int, 3>>* g_rfm = nullptr;  // of the data being checked

/// Whether an event counts for a behaviour on `key`: its type, or its type with one of its
/// "content_tags" (a text or an array of texts).
bool event_matches(const store::ActivityRow& ev, const std::string& key) {
  if (ev.type == key) return true;
  if (ev.properties_json.empty()) return false;
  const Json tags = Json::parse(ev.properties_json).value("content_tags", Json());
  for (const Json& t : tags.is_array() ? tags : Json::array({tags})) {
    if (t.is_string() && ev.type + "[content_tags=" + t.get<std::string>() + "]" == key) return true;
  }
  return false;
}

/// The custom fields of the random data; "secret" is personal and never indexed.
const std::vector<store::FieldDef> kFields = {{"level", "string", false, ""},
                                              {"vip", "boolean", false, ""},
                                              {"age", "number", false, ""},
                                              {"since", "date", false, ""},
                                              {"score", "number", false, ""},
                                              {"secret", "string", true, ""}};

/// A custom field's stored JSON value, or null.
Json custom_value(const Row& r, const std::string& attr) {
  const Json custom = Json::parse(r.facts.custom_json);
  const std::string name = attr.substr(7);
  return custom.contains(name) ? custom[name] : Json(nullptr);
}

/// A number or date field as the reference compares it (dates as days since 1970).
std::optional<double> custom_number(const Row& r, const std::string& attr) {
  const Json v = custom_value(r, attr);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return static_cast<double>(days_from_civil(*parse_date(v.get<std::string>())));
  return std::nullopt;
}

bool matches(const Row& r, const Expr& e) {
  switch (e.kind) {
    case ExprKind::kAnd:
      for (const auto& c : e.children) {
        if (!matches(r, c)) return false;
      }
      return true;
    case ExprKind::kOr:
      for (const auto& c : e.children) {
        if (matches(r, c)) return true;
      }
      return false;
    case ExprKind::kNot: return !matches(r, e.children.front());
    case ExprKind::kTag: return r.tags.contains(e.values.front());
    case ExprKind::kLayer:
      return std::find(e.values.begin(), e.values.end(), r.c.layer) != e.values.end();
    case ExprKind::kGroup:
      for (const auto& g : r.facts.groups) {
        if (std::find(e.values.begin(), e.values.end(), g) != e.values.end()) return true;
      }
      return false;
    case ExprKind::kBehaviour: {
      int64_t measure = 0;
      for (const auto& ev : r.facts.activity) {
        if (event_matches(ev, e.attr) && beijing_day(kNow) - beijing_day(ev.ts) < e.within_days) {
          measure += e.sum ? ev.amount : 1;
        }
      }
      return measure >= e.low && measure <= e.high;
    }
    case ExprKind::kNumberRange: {
      const int64_t v = e.attr == "spend" ? r.facts.spend : r.facts.paid_orders;
      return v >= e.from && v < e.to;
    }
    case ExprKind::kLifecycle:
      return std::find(e.values.begin(), e.values.end(), reference_lifecycle(r)) != e.values.end();
    case ExprKind::kRfm: {
      auto it = g_rfm->find(r.c.id);
      if (it == g_rfm->end()) return false;
      for (int axis = 0; axis < 3; ++axis) {
        if (e.rfm[axis] != 0 && (e.rfm[axis] >> it->second[axis] & 1) == 0) return false;
      }
      return true;
    }
    case ExprKind::kNumberField: {
      const auto v = custom_number(r, e.attr);
      if (!v) return false;
      return (*v >= e.number_from && *v < e.number_to) ||
             std::find(e.numbers.begin(), e.numbers.end(), *v) != e.numbers.end();
    }
    default: break;
  }
  if (e.attr == "custom.age" || e.attr == "custom.since" || e.attr == "custom.score") {
    return custom_number(r, e.attr).has_value();
  }
  std::string custom;
  if (e.attr.rfind("custom.", 0) == 0) {
    const Json j = custom_value(r, e.attr);
    custom = j.is_boolean() ? (j.get<bool>() ? "true" : "false") : j.is_string() ? j.get<std::string>() : "";
  }
  const std::string& v = e.attr == "gender" ? r.c.gender
                         : e.attr == "city" ? r.c.city
                         : e.attr == "channel_id" ? r.c.channel_id
                         : e.attr == "owner_staff_id" ? r.c.owner_staff_id
                                                      : custom;
  switch (e.kind) {
    case ExprKind::kAttrEq: return v == e.values.front();
    case ExprKind::kAttrNe: return v != e.values.front();
    case ExprKind::kAttrIn: return std::find(e.values.begin(), e.values.end(), v) != e.values.end();
    case ExprKind::kAttrPrefix: return !v.empty() && v.rfind(e.values.front(), 0) == 0;
    case ExprKind::kAttrExists: return !v.empty() && !(e.attr == "gender" && v == "unknown");
    case ExprKind::kCreatedRange: return r.c.created_at >= e.from && r.c.created_at < e.to;
    default: return false;
  }
}

class RandomData {
 public:
  explicit RandomData(uint64_t seed) : rng_(seed) {}
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[rng_() % v.size()]; }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t below(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(n)); }

  const std::vector<std::string> layers = {"none", "fan", "community", "friend", "member"};
  const std::vector<std::string> genders = {"male", "female", "unknown"};
  const std::vector<std::string> cities = {"", "上海", "上饶", "北京", "北海", "杭州"};
  const std::vector<std::string> channels = {"", "1", "2", "3", "12"};
  const std::vector<std::string> owners = {"", "1", "2", "3"};
  const std::vector<std::string> tags = {"vip", "茶饮", "new", "lapsed", "coupon", "kol"};

  const std::vector<std::string> groups = {"1", "2", "3", "17"};
  const std::vector<std::string> types = {"order_paid", "login", "view"};
  const std::vector<std::string> content_tags = {"护肤", "彩妆", "茶"};

  /// A customer with random attributes, group memberships, events in the 400 days before
  /// kNow and paid orders; the index sees it through index::indexed().
  Row customer(uint32_t id) {
    Row r;
    store::CustomerFacts& f = r.facts;
    f.id = CustomerId(id);
    f.live = true;
    f.layer = pick(layers);
    f.gender = pick(genders);
    f.city = pick(cities);
    if (const auto& ch = pick(channels); !ch.empty()) f.channel = ChannelId(std::stoll(ch));
    if (const auto& o = pick(owners); !o.empty()) f.owner_staff = UserId(std::stoll(o));
    f.created_at = kNow - below(500) * kDayMs - below(kDayMs);
    for (const auto& g : groups) {
      if (chance(0.2)) f.groups.push_back(g);
    }
    for (int64_t i = 0, n = below(4) == 0 ? 0 : below(12); i < n; ++i) {
      store::ActivityRow ev{pick(types), kNow - below(400 * kDayMs), below(3) == 0 ? below(90000) : 0, ""};
      if (chance(0.5)) {
        // Content tags as one text or an array (with a repeat, which counts once).
        ev.properties_json = chance(0.5) ? Json{{"content_tags", pick(content_tags)}}.dump()
                                         : Json{{"content_tags", {pick(content_tags), pick(content_tags)}}, {"x", 1}}.dump();
      }
      f.activity.push_back(ev);
    }
    if (chance(0.02)) {
      // A burst: more events of a type on one day than one index cell counts, and an amount
      // beyond 32 bits.
      const EpochMs day = kNow - below(20) * kDayMs;
      const std::string type = pick(types);
      for (int i = 0; i < 70; ++i) f.activity.push_back({type, day + i, i == 0 ? 3'000'000'000 : 0, ""});
    }
    Json custom = Json::object();
    if (chance(0.6)) custom["level"] = pick(std::vector<std::string>{"gold", "silver", "金卡"});
    if (chance(0.5)) custom["vip"] = chance(0.5);
    if (chance(0.7)) custom["age"] = chance(0.8) ? Json(18 + below(50)) : Json(20.5);
    if (chance(0.5)) custom["since"] = format_date(civil_from_days(19'000 + below(60)));
    if (chance(0.5)) custom["secret"] = "x";
    // Many distinct values (ranges scan the column), some not exactly a float.
    if (chance(0.8)) custom["score"] = chance(0.9) ? Json(below(100000)) : Json(0.1 * static_cast<double>(below(1000)));
    f.custom_json = custom.dump();
    std::sort(f.activity.begin(), f.activity.end(),
              [](const auto& a, const auto& b) { return a.ts < b.ts; });
    if (chance(0.4)) {
      f.paid_orders = 1 + below(7);
      f.spend = 100 * (1 + below(3000));
      f.last_paid_at = kNow - below(300) * kDayMs - below(kDayMs);
    }
    return r;
  }

  Json custom_condition() {
    switch (below(6)) {
      case 0: {
        const std::string op = pick(std::vector<std::string>{"eq", "ne", "prefix", "exists"});
        if (op == "exists") return {{"attr", "custom.level"}, {"op", op}};
        return {{"attr", "custom.level"}, {"op", op}, {"value", pick(std::vector<std::string>{"gold", "金", "s"})}};
      }
      case 1: return {{"attr", "custom.vip"}, {"op", pick(std::vector<std::string>{"eq", "ne"})}, {"value", chance(0.5)}};
      case 2: {
        const int64_t a = 18 + below(50);
        const std::string op = pick(std::vector<std::string>{"eq", "ne", "in", "range", "exists"});
        if (op == "range") return {{"attr", "custom.age"}, {"op", op}, {"from", a}, {"to", a + below(20)}};
        if (op == "in") return {{"attr", "custom.age"}, {"op", op}, {"values", Json::array({a, 20.5})}};
        if (op == "exists") return {{"attr", "custom.age"}, {"op", op}};
        return {{"attr", "custom.age"}, {"op", op}, {"value", a}};
      }
      case 3: {
        const int64_t a = 19'000 + below(60);
        return {{"attr", "custom.since"}, {"op", "range"}, {"from", format_date(civil_from_days(a))},
                {"to", format_date(civil_from_days(a + below(30)))}};
      }
      case 4: return {{"attr", "custom.since"}, {"op", "eq"}, {"value", format_date(civil_from_days(19'000 + below(60)))}};
      default: {
        const int64_t a = below(100000);
        if (chance(0.2)) return {{"attr", "custom.score"}, {"op", "in"}, {"values", Json::array({a, 0.1 * static_cast<double>(below(1000))})}};
        return {{"attr", "custom.score"}, {"op", "range"}, {"from", a}, {"to", a + below(30000)}};
      }
    }
  }

  Json expression(int depth) {
    const int64_t k = below(15);
    switch (k) {
      case 0: return {{"tag", pick(tags)}};
      case 1: return {{"layer", Json::array({pick(layers), pick(layers)})}};
      case 2: {
        const std::string attr = pick(std::vector<std::string>{"gender", "city", "channel_id", "owner_staff_id"});
        const std::vector<std::string>& pool = attr == "gender" ? genders : attr == "city" ? cities
                                               : attr == "channel_id" ? channels : owners;
        std::string v = pick(pool);
        if (v.empty()) v = "0";
        const std::string op = pick(std::vector<std::string>{"eq", "ne", "in", "exists"});
        std::string w = pick(pool);
        if (w.empty()) w = "9";
        if (op == "in") return {{"attr", attr}, {"op", op}, {"values", Json::array({v, w})}};
        if (op == "exists") return {{"attr", attr}, {"op", op}};
        return {{"attr", attr}, {"op", op}, {"value", v}};
      }
      case 3: return {{"attr", "city"}, {"op", "prefix"}, {"value", pick(std::vector<std::string>{"上", "北", "杭州", "x"})}};
      case 4: {
        const int64_t a = kNow - below(500) * kDayMs;
        return {{"attr", "created_at"}, {"op", "range"}, {"from", a}, {"to", a + below(400) * kDayMs}};
      }
      case 9: {
        Json b = {{"event", pick(types)}, {"within_days", 1 + below(365)}};
        if (chance(0.4)) b["where"] = {{"content_tags", pick(content_tags)}};
        const std::string op = pick(std::vector<std::string>{"gte", "lt", "eq", "lte"});
        if (chance(0.3)) {
          b["sum"] = {{op, below(100000)}};
        } else if (chance(0.8)) {
          b["count"] = {{op, chance(0.1) ? 64 + below(10) : below(4)}};
        }
        return b;
      }
      case 10: return {{"group", Json::array({pick(groups), pick(groups)})}};
      case 11:
        return {{"lifecycle", Json::array({pick(std::vector<std::string>{"new", "active", "repeat"}),
                                           pick(std::vector<std::string>{"loyal", "at_risk", "churned"})})}};
      case 12: {
        Json cells = Json::object();
        for (const char* axis : {"r", "f", "m"}) {
          if (chance(0.5)) cells[axis] = Json::array({1 + below(5), 1 + below(5)});
        }
        if (cells.empty()) cells["m"] = Json::array({5});
        return {{"rfm", cells}};
      }
      case 13: {
        const bool spend = chance(0.5);
        const int64_t a = spend ? 100 * below(3000) : below(8);
        return {{"attr", spend ? "spend" : "paid_orders"}, {"op", "range"}, {"from", a},
                {"to", a + (spend ? 100 * below(3000) : below(4))}};
      }
      case 5: return {{"attr", "channel_id"}, {"op", "eq"}, {"value", below(4)}};
      case 14: return custom_condition();
      case 6:
        if (depth == 0) return expression(0);
        return {{"not", expression(depth - 1)}};
      case 7:
      case 8: {
        if (depth == 0) return expression(0);
        Json list = Json::array();
        for (int64_t i = 0, n = 2 + below(3); i < n; ++i) list.push_back(expression(depth - 1));
        return {{k == 7 ? "and" : "or", list}};
      }
    }
    return {{"tag", pick(tags)}};
  }

 private:
  std::mt19937_64 rng_;
};

TEST(SegmentEngineTest, MembersEqualAPlainLoopOnRandomData) {
  const uint32_t split_from = index::min_chunks_to_split;
  for (uint64_t seed : {1u, 2u, 3u}) {
    // The last seed evaluates every chunked operation in ranges on the machine's cores.
    index::min_chunks_to_split = seed == 3 ? 1 : split_from;
    RandomData rnd(seed);
    index::CustomerIndex ix;
    std::map<uint32_t, Row> ref;
    const auto fresh = [&](uint32_t id) {
      Row r = rnd.customer(id);
      r.c = index::indexed(r.facts, ix, kFields, {"content_tags"});
      return r;
    };
    // A bulk load, then attribute changes, tag churn and removals, mirrored in the reference.
    // Ids are spread over three of the bulk load's 65,536-id chunks.
    constexpr uint32_t kStride = 53;
    ix.begin_bulk();
    for (uint32_t id = kStride; id <= 3000 * kStride; id += kStride) {
      Row r = fresh(id);
      ix.upsert(r.c);
      for (const auto& t : rnd.tags) {
        if (rnd.chance(t == "vip" ? 0.5 : 0.08)) {
          ix.add_tag(id, t);
          r.tags.insert(t);
        }
      }
      ref[id] = r;
    }
    ix.end_bulk();
    for (int i = 0; i < 2000; ++i) {
      const auto id = static_cast<uint32_t>(kStride * (1 + rnd.below(3000)));
      if (!ref.contains(id)) continue;
      const int64_t what = rnd.below(10);
      if (what < 4) {
        std::set<std::string> tags = std::move(ref[id].tags);
        ref[id] = fresh(id);
        ref[id].tags = std::move(tags);
        ix.upsert(ref[id].c);
      } else if (what < 7) {
        const std::string& t = rnd.pick(rnd.tags);
        ix.remove_tag(id, t);
        ref[id].tags.erase(t);
      } else if (what < 9) {
        const std::string& t = rnd.pick(rnd.tags);
        ix.add_tag(id, t);
        ref[id].tags.insert(t);
      } else {
        ix.remove(id);
        ref.erase(id);
      }
    }
    ASSERT_EQ(ix.size(), ref.size());
    const auto rfm = reference_rfm(ref);
    g_rfm = &rfm;
    const FieldTypes field_types = [](const std::string& name) -> Result<std::optional<std::string>> {
      for (const auto& d : kFields) {
        if (d.name == name) return std::optional<std::string>(d.type);
      }
      return std::optional<std::string>();
    };
    const EventPropertyCheck event_property = [](const std::string& name) -> Result<bool> {
      return name == "content_tags";
    };
    for (int q = 0; q < 400; ++q) {
      const Json j = rnd.expression(3);
      auto e = parse_expr(j, {.field_types = field_types, .event_property = event_property});
      ASSERT_TRUE(e.has_value()) << j.dump() << ": " << e.error().message();
      std::vector<uint32_t> want;
      for (const auto& [id, row] : ref) {
        if (matches(row, *e)) want.push_back(id);
      }
      const std::vector<uint32_t> got = ix.read([&](const index::IndexView& v) {
        const index::Bitmap b = evaluate(v, *e, kNow);
        std::vector<uint32_t> ids(b.cardinality());
        b.toUint32Array(ids.data());
        return ids;
      });
      ASSERT_EQ(got, want) << "seed " << seed << ": " << j.dump();
      EXPECT_EQ(count(ix, *e, kNow), want.size());
      // Among a few customers only (as sweeps re-check touched customers): the same answer
      // restricted to them, removed customers included in the ask.
      index::Bitmap among;
      for (int k = 0, n = static_cast<int>(1 + rnd.below(40)); k < n; ++k) {
        among.add(static_cast<uint32_t>(1 + rnd.below(3000)));
      }
      std::vector<uint32_t> want_among;
      for (uint32_t id : want) {
        if (among.contains(id)) want_among.push_back(id);
      }
      const std::vector<uint32_t> got_among = ix.read([&](const index::IndexView& v) {
        const index::Bitmap b = evaluate(v, *e, kNow, &among);
        std::vector<uint32_t> ids(b.cardinality());
        b.toUint32Array(ids.data());
        return ids;
      });
      ASSERT_EQ(got_among, want_among) << "seed " << seed << " among: " << j.dump();
    }
  }
  index::min_chunks_to_split = split_from;
}

}  // namespace
}  // namespace siyu::segment
