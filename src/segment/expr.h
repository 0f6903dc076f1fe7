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
// A is gender, city, channel_id or owner_staff_id (enumerated), or created_at (a column).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"

namespace siyu::segment {

enum class ExprKind { kAnd, kOr, kNot, kTag, kLayer, kAttrEq, kAttrNe, kAttrIn, kAttrPrefix,
                      kAttrExists, kCreatedRange };

/// One node of a validated expression. Values of enumerated attributes are kept as text
/// ("3" for channel 3) because the index keys them that way.
struct Expr {
  ExprKind kind = ExprKind::kAnd;
  std::vector<Expr> children;       // and, or, not (one child)
  std::string attr;                 // attribute nodes
  std::vector<std::string> values;  // tag, layer, eq/ne (one), in, prefix (one)
  EpochMs from = INT64_MIN;         // created_at range, inclusive
  EpochMs to = INT64_MAX;           // exclusive
};

/// The attributes an expression may name, and whether they are enumerated text.
bool is_enumerated_attr(std::string_view attr);

/// Looks up a saved segment's expression JSON by id (kNotFound when there is none).
using SegmentResolver = std::function<Result<Json>(int64_t id)>;

/// Validates and parses. Errors name the JSON path ("and[2].values[0]"). At most 64 levels
/// deep and 1,000 nodes, counting the saved segments it refers to, which are expanded in
/// place through `resolve`. `self` is the id of the segment being saved, if any: a reference
/// that leads back to it, or any other cycle, is an error. Without `resolve`, references are
/// rejected.
Result<Expr> parse_expr(const Json& j, const SegmentResolver& resolve = nullptr,
                        std::optional<int64_t> self = std::nullopt);

}  // namespace siyu::segment
