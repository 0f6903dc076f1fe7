#include "journey/schedule.h"

#include <algorithm>

#include "core/time_format.h"
#include "journey/holidays.h"

namespace siyu::journey {
namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kLookDays = 400;

EpochMs instant(int64_t day, int minute_of_day, int offset_minutes) {
  return day * kMsPerDay + (minute_of_day - offset_minutes) * kMsPerMinute;
}

/// The fire on local `day`, if the trigger fires that day.
std::optional<EpochMs> fire_on(const Trigger& t, int64_t day, int offset_minutes) {
  switch (t.kind) {
    case TriggerKind::kEvent:
    case TriggerKind::kSegment:
      return std::nullopt;
    case TriggerKind::kDate:
      return instant(day, t.minute_of_day, offset_minutes);
    case TriggerKind::kHoliday: {
      const CivilDate target = civil_from_days(day + t.days_before);
      const auto date = holiday_date(t.holiday, target.year);
      if (!date || days_from_civil(*date) != day + t.days_before) return std::nullopt;
      return instant(day, t.minute_of_day, offset_minutes);
    }
    case TriggerKind::kSchedule:
      break;
  }
  switch (t.every) {
    case Every::kDay:
      return instant(day, t.minute_of_day, offset_minutes);
    case Every::kWeek: {
      const int wd = weekday_of(day);
      if (std::find(t.weekdays.begin(), t.weekdays.end(), wd) == t.weekdays.end()) {
        return std::nullopt;
      }
      return instant(day, t.minute_of_day, offset_minutes);
    }
    case Every::kOnce:
      if (local_day(t.once_at, offset_minutes) != day) return std::nullopt;
      return t.once_at;
  }
  return std::nullopt;
}

}  // namespace

int weekday_of(int64_t day) {
  // 1970-01-01 was a Thursday.
  return static_cast<int>(((day % 7) + 7 + 3) % 7) + 1;
}

std::optional<EpochMs> latest_fire(const Trigger& t, EpochMs after, EpochMs until,
                                   int offset_minutes) {
  if (until <= after) return std::nullopt;
  const int64_t last = local_day(until, offset_minutes);
  const int64_t first = std::max(local_day(after, offset_minutes), last - kLookDays);
  for (int64_t day = last; day >= first; --day) {
    const auto fire = fire_on(t, day, offset_minutes);
    if (fire && *fire <= until) return *fire > after ? fire : std::nullopt;
  }
  return std::nullopt;
}

std::optional<EpochMs> next_fire(const Trigger& t, EpochMs after, int offset_minutes) {
  const int64_t first = local_day(after, offset_minutes);
  for (int64_t day = first; day <= first + kLookDays; ++day) {
    const auto fire = fire_on(t, day, offset_minutes);
    if (fire && *fire > after) return fire;
  }
  return std::nullopt;
}

EpochMs next_time_of_day(EpochMs t, int minute_of_day, int offset_minutes) {
  const int64_t day = local_day(t, offset_minutes);
  const EpochMs today = instant(day, minute_of_day, offset_minutes);
  return today > t ? today : instant(day + 1, minute_of_day, offset_minutes);
}

std::vector<PlannedPost> planned_group_posts(const JourneyDef& def, EpochMs start,
                                             int offset_minutes) {
  std::vector<PlannedPost> out;
  EpochMs t = start;
  size_t pc = 0;
  for (size_t guard = 0; pc < def.program.size() && guard < def.program.size(); ++guard) {
    const Step& s = def.program[pc];
    size_t next = pc + 1;
    if (s.kind == StepKind::kWait) {
      t = s.until_minute ? next_time_of_day(t, *s.until_minute, offset_minutes) : t + s.wait_ms;
    } else if (s.kind == StepKind::kSend && s.to_group) {
      out.push_back({s.id, t, s.groups, s.variants.front().content.text});
    } else if (s.kind == StepKind::kJump) {
      next = static_cast<size_t>(s.target);
    }
    pc = next;
  }
  return out;
}

}  // namespace siyu::journey
