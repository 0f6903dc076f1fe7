#include "workspace_gen.h"

#include <algorithm>
#include <cmath>

namespace siyu::bench {

const char* const kLayers[5] = {"none", "fan", "community", "friend", "member"};
const char* const kCities[15] = {"上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉",
                                 "苏州", "西安", "长沙", "重庆", "厦门", "宁波", "天津"};
const char* const kEventTypes[7] = {"view", "login", "add_cart", "order_paid", "share",
                                    "coupon_claim", "comment"};
const char* const kLevels[5] = {"", "bronze", "silver", "gold", "platinum"};

namespace {
constexpr EpochMs kDay = 86'400'000;
const char* const kGenders[] = {"male", "female", "unknown"};
const char* const kApps[] = {"miniprogram", "app", "h5", "pos", "wecom"};
const char* const kInterests[] = {"茶饮", "甜品", "咖啡", "轻食", "果茶", "奶茶",
                                  "季节限定", "联名", "周边", "会员日", "早餐", "夜宵"};
// Cumulative weights of the event types: views and logins dominate, orders are rarer.
const double kTypeCdf[7] = {0.40, 0.65, 0.75, 0.83, 0.88, 0.95, 1.0};
const double kLayerCdf[5] = {0.30, 0.60, 0.80, 0.92, 1.0};

template <size_t N>
int pick_cdf(const double (&cdf)[N], double u) {
  int i = 0;
  while (i + 1 < static_cast<int>(N) && u >= cdf[i]) ++i;
  return i;
}
}  // namespace

GenCustomer WorkspaceGen::next(uint32_t id) {
  GenCustomer c;
  c.id = id;
  c.layer = kLayers[pick_cdf(kLayerCdf, unit())];
  c.gender = kGenders[unit() < 0.4 ? 0 : unit() < 0.85 ? 1 : 2];
  // Cities follow a Zipf-like skew: Shanghai most, Tianjin least.
  c.city = kCities[std::min<int>(14, static_cast<int>(std::floor(15 * unit() * unit())))];
  c.channel = 1 + static_cast<int>(below(8));
  c.owner = unit() < 0.3 ? 0 : 1 + static_cast<int>(below(50));
  c.created_at = now_ - static_cast<EpochMs>(below(3 * 365)) * kDay - static_cast<EpochMs>(below(kDay));
  c.level = kLevels[pick_cdf(kLayerCdf, unit())];
  c.province = "p" + std::to_string(below(30));
  c.source_app = kApps[below(5)];
  c.interest = kInterests[below(12)];
  c.store = 1 + static_cast<int>(below(200));
  c.vip = unit() < 0.1;
  c.opted_in = unit() < 0.7;
  if (unit() < 0.7) c.age = 18 + static_cast<int>(below(52));
  if (unit() < 0.6) c.birthday = 3650 + static_cast<int>(below(14'600));  // 1980 … 2019
  c.points = static_cast<int>(below(20'000));
  c.visits = static_cast<int>(below(100));
  c.survey = 1 + static_cast<int>(below(10));
  c.member_since = static_cast<int>(c.created_at / kDay);
  c.balance = static_cast<int64_t>(below(1'000'000));
  for (int k = 0; k < kTags; ++k) {
    // Tag t0 on about half the customers, t10 on about 5%, t150 on about 0.4%.
    if (unit() < 0.5 / (1.0 + k * 0.9)) c.tags.push_back(k);
  }
  // About ten events each (geometric-like spread from 0 to kMaxEvents).
  const int n = std::min(kMaxEvents, static_cast<int>(-std::log(1 - unit()) * 10.5));
  for (int i = 0; i < n; ++i) {
    GenEvent e;
    e.type = pick_cdf(kTypeCdf, unit());
    e.ts = now_ - 1 - static_cast<EpochMs>(below(365 * kDay));
    if (std::string_view(kEventTypes[e.type]) == "order_paid") {
      e.amount = 1'000 + static_cast<int64_t>(below(49'000));
    }
    c.events.push_back(e);
  }
  std::sort(c.events.begin(), c.events.end(),
            [](const GenEvent& a, const GenEvent& b) { return a.ts < b.ts; });
  return c;
}

// The engine's view of a generated customer, as the registry would build it from the store.
index::IndexedCustomer indexed(const GenCustomer& g, const index::CustomerIndex& ix) {
  index::IndexedCustomer c;
  c.id = g.id;
  c.layer = g.layer;
  c.gender = g.gender;
  c.city = g.city;
  c.channel_id = std::to_string(g.channel);
  if (g.owner != 0) c.owner_staff_id = std::to_string(g.owner);
  c.created_at = g.created_at;
  if (!g.level.empty()) c.custom_text.emplace_back("custom.level", g.level);
  c.custom_text.emplace_back("custom.province", g.province);
  c.custom_text.emplace_back("custom.source_app", g.source_app);
  c.custom_text.emplace_back("custom.interest", g.interest);
  c.custom_text.emplace_back("custom.store", std::to_string(g.store));
  c.custom_text.emplace_back("custom.vip", g.vip ? "true" : "false");
  c.custom_text.emplace_back("custom.opted_in", g.opted_in ? "true" : "false");
  if (g.age) c.custom_numbers.emplace_back("custom.age", *g.age);
  if (g.birthday) c.custom_numbers.emplace_back("custom.birthday", *g.birthday);
  c.custom_numbers.emplace_back("custom.points", g.points);
  c.custom_numbers.emplace_back("custom.visits", g.visits);
  c.custom_numbers.emplace_back("custom.survey", g.survey);
  c.custom_numbers.emplace_back("custom.member_since", g.member_since);
  c.custom_numbers.emplace_back("custom.balance", static_cast<double>(g.balance));
  std::vector<index::EventOnDay> events;
  events.reserve(g.events.size());
  for (const GenEvent& e : g.events) events.push_back({kEventTypes[e.type], ix.day_of(e.ts), e.amount});
  c.activity = index::sum_by_type_and_day(std::move(events));
  for (const GenEvent& e : g.events) {
    if (std::string_view(kEventTypes[e.type]) == "order_paid") {
      ++c.purchases.orders;
      c.purchases.spend += e.amount;
      c.purchases.last_day = ix.day_of(e.ts);
    }
  }
  return c;
}

}  // namespace siyu::bench
