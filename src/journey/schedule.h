// When schedule, date and holiday triggers fire, in the workspace's time zone (a fixed UTC
// offset; see core/time_format.h).
#pragma once

#include <optional>

#include "journey/definition.h"

namespace siyu::journey {

/// The latest fire of `t` in (after, until], or nullopt. Event and segment triggers never fire
/// on a clock. Looks back at most 400 days.
std::optional<EpochMs> latest_fire(const Trigger& t, EpochMs after, EpochMs until,
                                   int offset_minutes);

/// The first fire of `t` after `after` within 400 days, or nullopt.
std::optional<EpochMs> next_fire(const Trigger& t, EpochMs after, int offset_minutes);

/// The first instant after `t` at minute `minute_of_day` of a day (workspace time).
EpochMs next_time_of_day(EpochMs t, int minute_of_day, int offset_minutes);

/// A group post a run will make (the calendar of scheduled group posts).
struct PlannedPost {
  std::string step;
  EpochMs at = 0;
  std::vector<int64_t> groups;
  std::string text;  // the template, variables unrendered
};

/// The group posts of a run entering `def` at `start`, following its waits; a branch is
/// followed on its "then" side (where the group posts of the templates are).
std::vector<PlannedPost> planned_group_posts(const JourneyDef& def, EpochMs start,
                                             int offset_minutes);

/// Day of the week of a day number: 1 = Monday … 7 = Sunday.
int weekday_of(int64_t day);

}  // namespace siyu::journey
