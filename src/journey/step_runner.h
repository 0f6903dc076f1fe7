// Runs the steps of one journey run: waits, branches (splitting the run's bitmap), sends
// (outbox rows with caps, quiet hours, do-not-disturb and opt-outs), tags, staff tasks and
// webhooks. Each step is one RunAdvance transaction; large sends are written in chunks whose
// idempotency keys make a repeated chunk harmless.
#pragma once

#include <optional>

#include "journey/definition.h"
#include "journey/engine.h"
#include "outbox/delivery_settings.h"

namespace siyu::journey {

/// What a run needs beyond itself.
struct RunContext {
  WorkspaceId ws;
  int offset_minutes = 480;
  outbox::DeliverySettings settings;
  const JourneyDef* def = nullptr;
};

/// Where a run stands after run_steps: waiting until `due_at`, or finished.
struct RunState {
  bool finished = false;
  EpochMs due_at = 0;
  std::vector<std::pair<int64_t, EpochMs>> branches;  // runs a branch started, and when due
};

/// Runs `run` from its current step at `now` until it waits or finishes. kConflict when
/// another runner moved it meanwhile.
Result<RunState> run_steps(const EngineDeps& deps, const store::JourneyRun& run,
                           const RunContext& ctx, EpochMs now, TickReport& report);

/// The advance that ends a run standing at `pc` (everyone leaves the journey).
store::RunAdvance finish(int64_t run_id, int pc);

/// The idempotency key of a delivery: workspace, run, step and recipient.
std::string delivery_key(WorkspaceId ws, int64_t run_id, int pc, std::string_view recipient);

/// The variant a customer gets: weighted, and the same on every evaluation.
size_t pick_variant(const std::vector<Variant>& variants, uint32_t customer, std::string_view step);

}  // namespace siyu::journey
