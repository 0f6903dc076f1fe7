// Journey definitions (旅程 and SOP): a trigger, an optional audience, steps, a goal and
// delivery limits, as JSON (docs/journeys.md has the grammar). Parsing validates everything a
// run will need and names the exact path of what is wrong, then compiles the steps (with
// nested branches) into a flat program that runs address by index.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"
#include "core/status.h"

namespace siyu::journey {

enum class TriggerKind { kSchedule, kEvent, kSegment, kDate, kHoliday };
enum class Every { kDay, kWeek, kOnce };

struct Trigger {
  TriggerKind kind = TriggerKind::kEvent;
  // schedule: daily or weekly at minute_of_day (workspace time), or once at `once_at`
  Every every = Every::kDay;
  std::vector<int> weekdays;  // 1 = Monday … 7 = Sunday
  int minute_of_day = 0;      // also the time of date and holiday triggers
  EpochMs once_at = 0;            // "once": the instant (UTC)
  // event: its type and property values that must match
  std::string event;
  std::map<std::string, std::string> where;
  // segment enter/exit
  int64_t segment_id = 0;
  bool on_enter = true;
  // date: "birthday" or "custom.NAME" (a date field), `days_before` the anniversary
  std::string date_field;
  // holiday: a name of the holiday calendar, `days_before` it
  std::string holiday;
  int days_before = 0;
};

enum class StepKind { kWait, kSend, kBranch, kTag, kTask, kWebhook, kJump };

/// What a message says. Text may use {variables}; see content.h.
struct Content {
  std::string text;
  std::string title;
  std::string link;
  std::string image;  // an image URL or media reference
};

struct Variant {
  std::string name;
  Content content;
  int weight = 1;
};

/// One instruction of the compiled program.
struct Step {
  std::string id;  // unique in the journey; "" for compiler-made jumps
  StepKind kind = StepKind::kWait;
  // wait
  int64_t wait_ms = 0;
  std::optional<int> until_minute;  // wait until this time of day (workspace time)
  // send
  bool to_group = false;
  std::vector<int64_t> groups;
  std::vector<Variant> variants;  // one unless A/B testing
  std::string message_class = "marketing";  // marketing, key
  // branch: members matching `condition` go on (pc + 1), the others to `target`
  Json condition;
  // tag
  std::string tag;
  bool remove_tag = false;
  std::optional<int> tag_expires_days;
  // task
  std::string title;
  std::string note;
  int64_t due_ms = 0;
  // webhook
  std::string url;
  Json body;
  // branch else / jump target
  int target = 0;
};

struct Goal {
  std::string event;
  int within_days = 7;
};

/// A variable whose value exists only within [from, to) (e.g. a coupon valid during a sale).
struct Variable {
  std::string value;
  std::optional<EpochMs> from;
  std::optional<EpochMs> to;
};

enum class Reentry { kAfterExit, kOnce, kAlways };

struct JourneyDef {
  std::string description;
  Trigger trigger;
  std::optional<Json> audience;  // segment expression; schedules: who enters (none = groups only)
  std::vector<Step> program;
  std::optional<Goal> goal;
  std::map<std::string, Variable> vars;
  int cap_daily = 0;  // per journey and customer; 0 = only the workspace caps
  int cap_weekly = 0;
  Reentry reentry = Reentry::kAfterExit;
  /// Whether any step sends to customers (a schedule without an audience may only post to
  /// groups).
  bool reaches_customers() const;
};

/// Checks a segment expression found at `path` (branch conditions, audiences).
using ExprCheck = std::function<Status(const Json& expr, const std::string& path)>;

/// Validates and compiles a definition. `offset_minutes` reads local times ("once" dates).
/// Errors are kInvalidArgument naming the path ("steps[2].then[0].content.text").
Result<JourneyDef> parse_journey(const Json& j, const ExprCheck& check, int offset_minutes);

/// "30s", "15m", "2h", "3d" as milliseconds.
Result<int64_t> parse_duration(std::string_view s);
/// "HH:MM" as minutes after midnight.
Result<int> parse_time_of_day(std::string_view s);

}  // namespace siyu::journey
