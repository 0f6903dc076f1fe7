// Group health (社群健康度) from the day and hour aggregates of the message store. For a window
// of workspace days [from, to]:
//   daily_active        mean distinct members with a message per day
//   active_share        daily_active / current members
//   messages_per_member messages in the window / current members
//   retention_7d        of the members who joined in the 30 days ending 7 days before `to`,
//                       the share still in the group 7 days after joining
// Flags (outside healthy ranges): inactive — under 10% of members active on every one of the
// last 7 days; shrinking — more leaves than joins and leaves ≥ 5% of members; disorderly —
// violations ≥ 2% of messages (at least 5); full — at capacity.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "store/community_records.h"

namespace siyu::community {

struct HealthFigures {
  GroupId group;
  int64_t members = 0;
  double daily_active = 0;
  double active_share = 0;
  double messages_per_member = 0;
  int64_t messages = 0;
  int64_t joins = 0;
  int64_t quits = 0;
  int64_t removals = 0;
  int64_t violations = 0;
  std::optional<double> retention_7d;
  std::vector<std::string> flags;
};

struct HealthWindow {
  int64_t from_day = 0;
  int64_t to_day = 0;
};

/// Rows needed for `w`: the window itself and the retention cohort before it.
int64_t first_day_needed(const HealthWindow& w);

/// Health of one group from its rows (any order; rows outside the needed days are ignored).
HealthFigures group_health(const store::Group& g, std::span<const store::GroupDay> rows,
                           const HealthWindow& w);
/// Health of every group, and the sum across groups (group 0, members counted per group).
std::vector<HealthFigures> health_list(const std::vector<store::Group>& groups,
                                       const std::vector<store::GroupDay>& rows,
                                       const HealthWindow& w);
Json health_json(const HealthFigures& h);

/// Messages per weekday (0 = Monday) and hour of the day.
using Heatmap = std::array<std::array<int64_t, 24>, 7>;
Heatmap heatmap(std::span<const store::GroupHour> rows);
Json heatmap_json(const Heatmap& h);

}  // namespace siyu::community
