// Segment expressions (人群): a JSON tree of and/or/not over customer facts, validated with the
// exact path of what is wrong. Grammar (docs/segments.md):
//   {"and": [E, ...]}  {"or": [E, ...]}  {"not": E}
//   {"tag": "vip"}                                   has the tag
//   {"layer": ["friend", "member"]}                  layer is one of
//   {"attr": A, "op": "eq"|"ne", "value": V}
//   {"attr": A, "op": "in", "values": [V, ...]}
//   {"attr": A, "op": "prefix", "value": "上"}       text attributes
//   {"attr": A, "op": "exists"}
//   {"attr": "created_at", "op": "range", "from": T, "to": T}   T: ISO 8601 or epoch ms
//   {"segment": 3}                                   members of saved segment 3
//   {"attr": "paid_orders"|"spend", "op": "range", "from": N, "to": N}   numbers, to exclusive
//   {"event": "order_paid", "within_days": 90, "count": {"gte": 3}}      behaviour
//   {"event": "order_paid", "within_days": 365, "sum": {"gte": 50000}}   amounts in cents
//   {"event": "view", "where": {"content_tags": "护肤"}, "within_days": 14, "count": {"gte": 2}}
//   {"group": ["12", "13"]}                          member of one of the groups
//   {"lifecycle": ["at_risk", "churned"]}            lifecycle stage is one of
//   {"rfm": {"r": [4, 5], "f": [1, 2]}}              RFM scores (each list optional)
//   {"attr": "custom.level", "op": "eq", "value": "gold"}             custom fields
//   {"attr": "custom.age", "op": "range", "from": 20, "to": 30}
// A is gender, city, channel_id or owner_staff_id (enumerated), created_at, paid_orders or
// spend (columns), or custom.NAME for a declared custom field that is not personal: string
// and boolean fields take eq, ne, in, exists (and prefix for strings); number and date fields
// take eq, ne, in, range and exists, dates written YYYY-MM-DD. Comparisons are gte, gt, lte, lt and eq; a behaviour without count or sum
// means count ≥ 1, and {"count": {"eq": 0}} means none in the window.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"

namespace siyu::segment {

enum class ExprKind { kAnd, kOr, kNot, kTag, kLayer, kAttrEq, kAttrNe, kAttrIn, kAttrPrefix,
                      kAttrExists, kCreatedRange, kNumberRange, kBehaviour, kGroup, kLifecycle,
                      kRfm, kNumberField };

/// One node of a validated expression. Values of enumerated attributes are kept as text
/// ("3" for channel 3) because the index keys them that way.
struct Expr {
  ExprKind kind = ExprKind::kAnd;
  std::vector<Expr> children;       // and, or, not (one child)
  std::string attr;                 // attribute nodes
  std::vector<std::string> values;  // tag, layer, eq/ne (one), in, prefix (one)
  EpochMs from = INT64_MIN;         // created_at and number ranges, inclusive
  EpochMs to = INT64_MAX;           // exclusive
  // Behaviour: events of type `attr` (an event_key when filtered by a property) in the last `within_days` days (today included) whose
  // count, or with `sum` amount, lies in [low, high].
  int within_days = 0;
  bool sum = false;
  int64_t low = INT64_MIN;
  int64_t high = INT64_MAX;
  /// Number and date custom fields: a value in [number_from, number_to) or one of `numbers`
  /// (dates as day numbers since 1970-01-01).
  double number_from = 0;
  double number_to = 0;
  std::vector<double> numbers;
  /// RFM: bit s of rfm[0|1|2] accepts score s of r, f, m; 0 accepts any score.
  std::array<uint8_t, 3> rfm = {0, 0, 0};
};

/// The attributes an expression may name, and whether they are enumerated text.
bool is_enumerated_attr(std::string_view attr);

/// Looks up a saved segment's expression JSON by id (kNotFound when there is none).
using SegmentResolver = std::function<Result<Json>(int64_t id)>;

/// The declared type of a custom field usable in segments ("string", "number", "boolean",
/// "date"), or nullopt when there is no such field; a personal field is an error.
using FieldTypes = std::function<Result<std::optional<std::string>>(const std::string& name)>;

/// Whether an event property is declared for behaviour conditions.
using EventPropertyCheck = std::function<Result<bool>(const std::string& name)>;

/// What an expression may refer to beyond itself; each part left empty rejects its kind.
struct ParseContext {
  SegmentResolver resolve = nullptr;            // {"segment": id}
  FieldTypes field_types = nullptr;             // custom.NAME
  EventPropertyCheck event_property = nullptr;  // behaviour "where"
  std::optional<int64_t> self = std::nullopt;   // the segment being saved: references back are cycles
};

/// Validates and parses. Errors name the JSON path ("and[2].values[0]"). At most 64 levels
/// deep and 1,000 nodes, counting the saved segments it refers to, which are expanded in
/// place through `ctx.resolve`; a reference that leads back to `ctx.self`, or any other cycle,
/// is an error.
Result<Expr> parse_expr(const Json& j, const ParseContext& ctx = {});

}  // namespace siyu::segment
