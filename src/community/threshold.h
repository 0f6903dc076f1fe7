// Group thresholds (门槛), checked when someone asks to join: none; price (paid entry,
// recorded as an order); identity (a segment expression the customer must match: a tag such
// as 车主 or an attribute); action (an event such as a filled form or a shared poster within
// N days). The blacklist and the group's capacity apply to every group.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/json.h"

namespace siyu::community {

inline constexpr std::array<std::string_view, 4> kThresholdTypes = {"none", "price", "identity",
                                                                    "action"};

struct Threshold {
  std::string type = "none";
  int64_t price = 0;        // cents, for price
  Json segment;             // identity: a segment expression (validated by the caller)
  std::string event;        // action: the event type that proves it
  int within_days = 30;     // action: how recent it must be
  std::string description;  // shown to the joiner, e.g. "仅限车主"
};

/// Reads a threshold; kInvalidArgument with the path below `path`.
Result<Threshold> parse_threshold(const Json& j, const std::string& path);
Json threshold_json(const Threshold& t);

/// What is known about the person asking to join.
struct JoinFacts {
  bool blacklisted = false;
  bool full = false;
  int64_t paid = 0;          // cents offered with the request
  bool identity_ok = false;  // matches the identity segment
  bool action_done = false;  // has the action event within the window
};

struct JoinDecision {
  bool admitted = false;
  std::string code;    // admitted, blacklisted, full, payment_required, identity_required,
                       // action_required
  std::string reason;  // for the joiner, in the group's words where the operator gave some
};

/// Decides a join request: the blacklist first, then capacity, then the threshold.
JoinDecision decide_join(const Threshold& t, const JoinFacts& facts);

}  // namespace siyu::community
