#include "community/health.h"

#include <algorithm>
#include <unordered_map>

namespace siyu::community {
namespace {

constexpr int64_t kCohortDays = 30;

struct Sums {
  int64_t messages = 0, active = 0, joins = 0, quits = 0, removals = 0, violations = 0;
  int64_t cohort_joins = 0, cohort_early = 0;
  std::array<int64_t, 7> last_week_active{};  // active members on each of the last 7 days
};

void add(Sums& s, const store::GroupDay& d, const HealthWindow& w) {
  if (d.day >= w.from_day && d.day <= w.to_day) {
    s.messages += d.messages;
    s.active += d.active_members;
    s.joins += d.joins;
    s.quits += d.quits;
    s.removals += d.removals;
    s.violations += d.violations;
    if (d.day > w.to_day - 7) s.last_week_active[static_cast<size_t>(w.to_day - d.day)] += d.active_members;
  }
  if (d.day >= w.to_day - 7 - kCohortDays + 1 && d.day <= w.to_day - 7) {
    s.cohort_joins += d.joins;
    s.cohort_early += d.early_leaves;
  }
}

HealthFigures figures(GroupId id, int64_t members, int capacity, const Sums& s,
                      const HealthWindow& w) {
  HealthFigures h;
  h.group = id;
  h.members = members;
  const auto days = static_cast<double>(std::max<int64_t>(1, w.to_day - w.from_day + 1));
  h.daily_active = static_cast<double>(s.active) / days;
  h.active_share = members > 0 ? h.daily_active / static_cast<double>(members) : 0;
  h.messages_per_member = members > 0 ? static_cast<double>(s.messages) / static_cast<double>(members) : 0;
  h.messages = s.messages;
  h.joins = s.joins;
  h.quits = s.quits;
  h.removals = s.removals;
  h.violations = s.violations;
  if (s.cohort_joins > 0) {
    h.retention_7d = 1.0 - static_cast<double>(s.cohort_early) / static_cast<double>(s.cohort_joins);
  }
  if (members > 0 && w.to_day - w.from_day >= 6 &&
      std::all_of(s.last_week_active.begin(), s.last_week_active.end(),
                  [&](int64_t a) { return a * 10 < members; })) {
    h.flags.push_back("inactive");
  }
  const int64_t leaves = s.quits + s.removals;
  if (leaves > s.joins && leaves * 20 >= members && leaves > 0) h.flags.push_back("shrinking");
  if (s.violations >= 5 && s.violations * 50 >= s.messages) h.flags.push_back("disorderly");
  if (capacity > 0 && members >= capacity) h.flags.push_back("full");
  return h;
}

double round3(double v) { return static_cast<double>(static_cast<int64_t>(v * 1000 + 0.5)) / 1000; }

}  // namespace

int64_t first_day_needed(const HealthWindow& w) {
  return std::min(w.from_day, w.to_day - 7 - kCohortDays + 1);
}

HealthFigures group_health(const store::Group& g, std::span<const store::GroupDay> rows,
                           const HealthWindow& w) {
  Sums s;
  for (const auto& d : rows) {
    if (d.group == g.id) add(s, d, w);
  }
  return figures(g.id, g.members, g.capacity, s, w);
}

std::vector<HealthFigures> health_list(const std::vector<store::Group>& groups,
                                       const std::vector<store::GroupDay>& rows,
                                       const HealthWindow& w) {
  std::unordered_map<int64_t, size_t> at;
  at.reserve(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) at.emplace(groups[i].id.value, i);
  std::vector<Sums> sums(groups.size());
  Sums total;
  for (const auto& d : rows) {
    auto it = at.find(d.group.value);
    if (it == at.end()) continue;
    add(sums[it->second], d, w);
    add(total, d, w);
  }
  std::vector<HealthFigures> out;
  out.reserve(groups.size() + 1);
  int64_t members = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    out.push_back(figures(groups[i].id, groups[i].members, groups[i].capacity, sums[i], w));
    members += groups[i].members;
  }
  out.push_back(figures(GroupId(0), members, 0, total, w));
  return out;
}

Json health_json(const HealthFigures& h) {
  Json j = {{"members", h.members},
            {"daily_active", round3(h.daily_active)},
            {"active_share", round3(h.active_share)},
            {"messages_per_member", round3(h.messages_per_member)},
            {"messages", h.messages},
            {"joins", h.joins},
            {"quits", h.quits},
            {"removals", h.removals},
            {"violations", h.violations},
            {"retention_7d", h.retention_7d ? Json(round3(*h.retention_7d)) : Json(nullptr)},
            {"flags", h.flags}};
  if (h.group.valid()) j["group_id"] = h.group.value;
  return j;
}

Heatmap heatmap(std::span<const store::GroupHour> rows) {
  Heatmap h{};
  for (const auto& r : rows) {
    // Day 0 (1970-01-01) was a Thursday: weekday 3 counting from Monday.
    const auto weekday = static_cast<size_t>(((r.day + 3) % 7 + 7) % 7);
    h[weekday][static_cast<size_t>(r.hour)] += r.messages;
  }
  return h;
}

Json heatmap_json(const Heatmap& h) {
  Json rows = Json::array();
  for (const auto& day : h) rows.push_back(day);
  return rows;
}

}  // namespace siyu::community
