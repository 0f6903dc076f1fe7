// Segment expressions: validation names the failing path, and the bitmap engine's members
// equal a plain loop over the same customers for random data and random expressions.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

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
  auto ok = parse_expr(Json::parse(R"({"not":{"segment":2}})"), resolve);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->children[0].kind, ExprKind::kAnd);
  EXPECT_EQ(ok->children[0].children[0].kind, ExprKind::kTag);
  // Saving segment 1 as "in segment 2" would loop 1 → 2 → 1.
  auto self = parse_expr(Json::parse(R"({"segment":2})"), resolve, 1);
  ASSERT_FALSE(self.has_value());
  EXPECT_NE(self.error().message().find("cycle"), std::string::npos);
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":3})"), resolve).has_value());
  auto missing = parse_expr(Json::parse(R"({"and":[{"tag":"a"},{"segment":9}]})"), resolve);
  EXPECT_EQ(missing.error().field(), "and[1].segment");
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":5})"), resolve).has_value());
  EXPECT_FALSE(parse_expr(Json::parse(R"({"segment":1})")).has_value());  // no resolver
}

/// The reference: customers as plain structs and a direct recursive evaluation.
struct Row {
  index::IndexedCustomer c;
  std::set<std::string> tags;
};

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
    default: break;
  }
  const std::string& v = e.attr == "gender" ? r.c.gender
                         : e.attr == "city" ? r.c.city
                         : e.attr == "channel_id" ? r.c.channel_id
                                                  : r.c.owner_staff_id;
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

  index::IndexedCustomer customer(uint32_t id) {
    return {id, pick(layers), pick(genders), pick(cities), pick(channels), pick(owners),
            1'700'000'000'000 + below(1000) * 86'400'000};
  }

  Json expression(int depth) {
    const int64_t k = below(depth > 0 ? 9 : 6);
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
        const int64_t a = 1'700'000'000'000 + below(1000) * 86'400'000;
        return {{"attr", "created_at"}, {"op", "range"}, {"from", a}, {"to", a + below(400) * 86'400'000}};
      }
      case 5: return {{"attr", "channel_id"}, {"op", "eq"}, {"value", below(4)}};
      case 6: return {{"not", expression(depth - 1)}};
      default: {
        Json list = Json::array();
        for (int64_t i = 0, n = 2 + below(3); i < n; ++i) list.push_back(expression(depth - 1));
        return {{k == 7 ? "and" : "or", list}};
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

TEST(SegmentEngineTest, MembersEqualAPlainLoopOnRandomData) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    RandomData rnd(seed);
    index::CustomerIndex ix;
    std::map<uint32_t, Row> ref;
    // Creates, attribute changes, tag churn and removals, mirrored in the reference.
    for (uint32_t id = 1; id <= 3000; ++id) {
      Row r{rnd.customer(id), {}};
      ix.upsert(r.c);
      for (const auto& t : rnd.tags) {
        if (rnd.chance(t == "vip" ? 0.5 : 0.08)) {
          ix.add_tag(id, t);
          r.tags.insert(t);
        }
      }
      ref[id] = r;
    }
    for (int i = 0; i < 2000; ++i) {
      const auto id = static_cast<uint32_t>(1 + rnd.below(3000));
      if (!ref.contains(id)) continue;
      const int64_t what = rnd.below(10);
      if (what < 4) {
        ref[id].c = rnd.customer(id);
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
    for (int q = 0; q < 300; ++q) {
      const Json j = rnd.expression(3);
      auto e = parse_expr(j);
      ASSERT_TRUE(e.has_value()) << j.dump() << ": " << e.error().message();
      std::vector<uint32_t> want;
      for (const auto& [id, row] : ref) {
        if (matches(row, *e)) want.push_back(id);
      }
      const std::vector<uint32_t> got = ix.read([&](const index::IndexView& v) {
        const index::Bitmap b = evaluate(v, *e);
        std::vector<uint32_t> ids(b.cardinality());
        b.toUint32Array(ids.data());
        return ids;
      });
      ASSERT_EQ(got, want) << "seed " << seed << ": " << j.dump();
      EXPECT_EQ(count(ix, *e), want.size());
    }
  }
}

}  // namespace
}  // namespace siyu::segment
