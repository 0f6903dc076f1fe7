// Parsing expressions that may refer to the workspace's saved segments.
#pragma once

#include "segment/expr.h"
#include "store/store.h"

namespace siyu::segment {

/// Resolves {"segment": id} against the workspace's saved segments in `store`.
SegmentResolver saved_segments(store::Store& store, WorkspaceId ws);

/// The workspace's custom fields as `parse_expr` needs them.
FieldTypes field_types(store::Store& store, WorkspaceId ws);

/// Parses `j` with references resolved in `ws`; `self` is the segment being saved, if any.
Result<Expr> parse_in_workspace(store::Store& store, WorkspaceId ws, const Json& j,
                                std::optional<int64_t> self = std::nullopt);

}  // namespace siyu::segment
