#include "segment/saved.h"

namespace siyu::segment {

SegmentResolver saved_segments(store::Store& store, WorkspaceId ws) {
  return [&store, ws](int64_t id) -> Result<Json> {
    SIYU_ASSIGN_OR_RETURN(auto saved, store.segment(ws, id));
    return parse_json(saved.expression_json);
  };
}

Result<Expr> parse_in_workspace(store::Store& store, WorkspaceId ws, const Json& j,
                                std::optional<int64_t> self) {
  return parse_expr(j, saved_segments(store, ws), self);
}

}  // namespace siyu::segment
