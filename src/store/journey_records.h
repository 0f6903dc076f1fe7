// Rows of journeys, their runs, the delivery outbox, staff tasks and delivery settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"

namespace siyu::store {

/// A journey (or an SOP made from a template). The definition lives in its versions.
struct Journey {
  int64_t id = 0;
  std::string name;
  std::string status = "draft";  // draft, active, paused, archived
  int version = 1;               // the version new entrants follow
  std::string template_key;      // the SOP template it was made from, or ""
  std::string created_by;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
  std::optional<EpochMs> fired_until;  // schedule/date triggers: fires up to here are done
  std::string definition_json;         // of `version`, when read with it
};

/// Customers who entered together and stand at the same step of one version's program.
struct JourneyRun {
  int64_t id = 0;
  WorkspaceId workspace;
  int64_t journey_id = 0;
  int version = 0;
  int pc = 0;            // index of the current step in the compiled program
  EpochMs due_at = 0;    // when the current step runs
  std::string members_blob;  // serialized bitmap of customer ids; empty bitmap for group posts
  int64_t size = 0;
  std::string context_json = "{}";  // trigger facts for content variables (event properties)
  std::string trigger_key;          // unique per journey: what started the run
  EpochMs entered_at = 0;
};

/// A new run and the customers it enrols (recorded in journey_entries).
struct RunStart {
  JourneyRun run;
  std::vector<CustomerId> entrants;
};

/// One delivery in the outbox. See migration 0005 for the states.
struct OutboxItem {
  int64_t id = 0;
  WorkspaceId workspace;
  std::string idem_key;
  int64_t journey_id = 0;
  int version = 0;
  std::string step;
  std::string kind = "message";      // message, group_post, webhook
  std::string message_class = "marketing";  // marketing, key
  CustomerId customer;
  GroupId group;
  std::string staff;
  std::string variant;
  std::string payload_json = "{}";
  std::string state = "pending";
  int attempts = 0;
  EpochMs not_before = 0;
  EpochMs created_at = 0;
  std::optional<EpochMs> sent_at;
  std::string reason;
  std::string receipt;
  /// Frequency caps, used when the row is written (not stored): the delivery day (workspace
  /// days since epoch) and the limits; a marketing message over a limit is stored as capped.
  int64_t cap_day = 0;
};

/// Limits a store applies atomically when it writes marketing messages.
struct CapLimits {
  int daily = 2;
  int weekly = 5;         // rolling 7 delivery days
  int journey_daily = 0;  // 0 = no journey limit
  int journey_weekly = 0;
};

/// A staff follow-up created by a journey (1:1 contact with a due time).
struct StaffTask {
  int64_t id = 0;
  std::string idem_key;
  int64_t journey_id = 0;
  CustomerId customer;
  std::optional<UserId> staff;
  std::string title;
  std::string note;
  EpochMs due_at = 0;
  EpochMs created_at = 0;
  std::optional<EpochMs> done_at;
  std::string done_by;
};

/// Everything one step of a run does, written in one transaction: the run moves to `pc`
/// (or is deleted when `finished`), outbox rows and tasks are inserted unless their keys
/// exist (so a repeated step changes nothing), and branches start new runs.
struct RunAdvance {
  int64_t run_id = 0;
  int expected_pc = 0;  // the step that ran; kConflict when the run moved meanwhile
  int pc = 0;
  EpochMs due_at = 0;
  bool finished = false;
  std::optional<std::string> members_blob;  // the run's new members, when a branch split it
  int64_t size = 0;
  std::vector<OutboxItem> outbox;
  CapLimits caps;
  std::vector<StaffTask> tasks;
  std::vector<JourneyRun> branches;
};

/// What RunAdvance wrote, for measurement: outbox rows by state they were stored with.
struct AdvanceOutcome {
  int64_t inserted = 0;
  int64_t capped = 0;
  int64_t duplicates = 0;
  std::vector<int64_t> branch_ids;  // ids of the runs `branches` started
};

/// A delivery attempt's outcome for the dispatcher.
struct OutboxUpdate {
  int64_t id = 0;
  std::string state;  // sent, retry, deferred, dead
  int attempts = 0;
  EpochMs not_before = 0;
  std::optional<EpochMs> sent_at;
  std::string reason;
  std::string receipt;
};

struct OutboxFilter {
  std::optional<int64_t> journey_id;
  std::optional<std::string> state;
  std::optional<CustomerId> customer;
  std::optional<int64_t> before;  // id cursor
  int limit = 50;
};

/// Counts of one journey: per step and state, per variant and state, entries, goals.
struct JourneyStats {
  int64_t entered = 0;
  int64_t active_runs = 0;
  int64_t waiting = 0;  // customers inside, in runs not yet finished
  int64_t goal_reached = 0;
  struct Cell {
    std::string step;
    std::string variant;
    std::string state;
    int64_t count = 0;
  };
  std::vector<Cell> cells;
  /// Goal conversions per variant (customers who got that variant and reached the goal).
  std::vector<std::pair<std::string, int64_t>> goal_by_variant;
};

/// An enterprise mass-message task in WeCom, waiting for its staff member to send it.
struct WecomTask {
  int64_t id = 0;
  std::string msgid;
  std::string sender;
  std::string chat_type;  // single, group
  int64_t recipients = 0;
  EpochMs created_at = 0;
  std::optional<EpochMs> checked_at;
  std::optional<EpochMs> sent_at;
  std::optional<EpochMs> reminded_at;
};

}  // namespace siyu::store
