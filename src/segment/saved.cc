#include "segment/saved.h"

#include <algorithm>

namespace siyu::segment {

SegmentResolver saved_segments(store::Store& store, WorkspaceId ws) {
  return [&store, ws](int64_t id) -> Result<Json> {
    SIYU_ASSIGN_OR_RETURN(auto saved, store.segment(ws, id));
    return parse_json(saved.expression_json);
  };
}

FieldTypes field_types(store::Store& store, WorkspaceId ws) {
  return [&store, ws](const std::string& name) -> Result<std::optional<std::string>> {
    SIYU_ASSIGN_OR_RETURN(auto defs, store.field_defs(ws));
    for (const auto& d : defs) {
      if (d.name != name) continue;
      if (d.personal) {
        return invalid("custom." + name + " is personal data and can't select customers",
                       "attr");
      }
      return std::optional<std::string>(d.type);
    }
    return std::optional<std::string>();
  };
}

Result<Expr> parse_in_workspace(store::Store& store, WorkspaceId ws, const Json& j,
                                std::optional<int64_t> self) {
  ParseContext ctx;
  ctx.resolve = saved_segments(store, ws);
  ctx.field_types = field_types(store, ws);
  ctx.event_property = [&store, ws](const std::string& name) -> Result<bool> {
    SIYU_ASSIGN_OR_RETURN(auto declared, store.event_properties(ws));
    return std::any_of(declared.begin(), declared.end(),
                       [&](const store::EventProperty& p) { return p.name == name; });
  };
  ctx.self = self;
  return parse_expr(j, ctx);
}

}  // namespace siyu::segment
