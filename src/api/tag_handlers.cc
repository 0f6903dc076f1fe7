// Routes of the tag engine: tag groups and the tag catalogue, bulk tagging by CSV, auto-tag
// rules with preview and sweeps, and the change feed and sizes of saved segments.
#include "api/request.h"
#include "core/text.h"
#include "core/time_format.h"
#include "customer/identity.h"
#include "io/csv.h"
#include "rules/tag_engine.h"

namespace siyu::api {
namespace {

constexpr size_t kMaxCsvRows = 100'000;

Json group_json(const store::TagGroup& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"created_at", format_timestamp(g.created_at)}};
}

Json rule_json(const store::TagRule& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"tag", r.tag},
          {"expression", parse_json(r.expression_json).value_or(Json::object())},
          {"enabled", r.enabled},
          {"created_by", r.created_by},
          {"created_at", format_timestamp(r.created_at)},
          {"updated_at", format_timestamp(r.updated_at)},
          {"swept_at", r.swept_at ? Json(format_timestamp(*r.swept_at)) : Json(nullptr)},
          {"last_gained", r.last_gained},
          {"last_lost", r.last_lost}};
}

Json preview_json(const rules::RulePreview& p) {
  return {{"matches", p.matches},
          {"gain", p.gain},
          {"lose", p.lose},
          {"sample_gain", p.sample_gain},
          {"sample_lose", p.sample_lose}};
}

/// A tag name: trimmed, 1–32 clean characters.
Result<std::string> tag_name(std::string_view raw, const std::string& field) {
  std::string name(trim(raw));
  if (name.empty()) return invalid(field + " is required", field);
  if (auto p = text_problem(name, 32)) return invalid(field + " " + *p, field);
  return name;
}

class TagHandlers {
 public:
  TagHandlers(Services& s, rules::TagEngine& engine) : s_(s), engine_(engine) {}

  Status audit(const Principal& who, const std::string& action, const std::string& target,
               const Json& detail = Json::object()) {
    return api::audit(s_, who, action, target, detail);
  }

  // ------------------------------------------------------------ tag groups
  Result<Reply> list_groups(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.tag_groups(who.workspace));
    Json items = Json::array();
    for (const auto& g : groups) items.push_back(group_json(g));
    return json_reply({{"items", items}});
  }

  Result<store::TagGroup> group_body(const httplib::Request& req, store::TagGroup g) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    if (auto name = f.opt_string("name", 32)) g.name = std::string(trim(*name));
    if (auto d = f.opt_string("description", 200)) g.description = *d;
    SIYU_RETURN_IF_ERROR(f.finish());
    if (g.name.empty()) return invalid("name is required", "name");
    return g;
  }

  Result<Reply> create_group(const httplib::Request& req, const Principal& who) {
    store::TagGroup g;
    g.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(g, group_body(req, g));
    SIYU_ASSIGN_OR_RETURN(auto made, s_.store.create_tag_group(who.workspace, g));
    return json_reply(group_json(made), 201);
  }

  Result<Reply> update_group(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.tag_groups(who.workspace));
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.id == id; });
    if (it == groups.end()) return not_found("tag group " + std::to_string(id) + " not found");
    SIYU_ASSIGN_OR_RETURN(store::TagGroup g, group_body(req, *it));
    SIYU_RETURN_IF_ERROR(s_.store.update_tag_group(who.workspace, g));
    return json_reply(group_json(g));
  }

  // ------------------------------------------------------------ event properties
  Result<Reply> list_event_properties(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto declared, s_.store.event_properties(who.workspace));
    Json items = Json::array();
    for (const auto& p : declared) {
      items.push_back({{"name", p.name}, {"label", p.label}, {"created_at", format_timestamp(p.created_at)}});
    }
    return json_reply({{"items", items}});
  }

  /// Declares an event property, then re-reads every customer so past events count too.
  Result<Reply> declare_event_property(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    store::EventProperty p;
    p.name = f.req_string("name", 40);
    p.label = f.opt_string("label", 64).value_or("");
    p.created_at = s_.clock.now_ms();
    SIYU_RETURN_IF_ERROR(f.finish());
    for (char ch : p.name) {
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
        return invalid("name must use a-z, 0-9 and _", "name");
      }
    }
    SIYU_RETURN_IF_ERROR(s_.store.put_event_property(who.workspace, p));
    SIYU_RETURN_IF_ERROR(audit(who, "event_property.declare", "event_property:" + p.name, {{"label", p.label}}));
    SIYU_RETURN_IF_ERROR(s_.indexes.refresh_all(who.workspace));
    engine_.touch(who.workspace);
    return json_reply({{"name", p.name}, {"label", p.label}, {"created_at", format_timestamp(p.created_at)}}, 201);
  }

  Result<Reply> delete_group(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.delete_tag_group(who.workspace, id));
    return no_content();
  }

  // ------------------------------------------------------------ tag catalogue
  /// Every tag that is defined, carried by a customer or managed by a rule, with its group,
  /// its rule and how many customers carry it.
  Result<Reply> list_tags(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto defs, s_.store.tag_defs(who.workspace));
    SIYU_ASSIGN_OR_RETURN(auto rules, s_.store.tag_rules(who.workspace));
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
    std::map<std::string, Json> out;
    for (const auto& d : defs) {
      out[d.name] = {{"name", d.name},
                     {"group_id", d.group_id ? Json(*d.group_id) : Json(nullptr)},
                     {"description", d.description},
                     {"defined", true},
                     {"rule_id", nullptr}};
    }
    for (const auto& r : rules) {
      if (!out.contains(r.tag)) {
        out[r.tag] = {{"name", r.tag}, {"group_id", nullptr}, {"description", ""}, {"defined", false}};
      }
      out[r.tag]["rule_id"] = r.id;
      out[r.tag]["rule_enabled"] = r.enabled;
    }
    ix->read([&](const index::IndexView& v) {
      v.each_tag([&](const std::string& name, const index::Bitmap& b) {
        auto& j = out[name];
        if (j.is_null()) {
          j = {{"name", name}, {"group_id", nullptr}, {"description", ""}, {"defined", false},
               {"rule_id", nullptr}};
        }
        j["customers"] = (b & v.live()).cardinality();
      });
      return 0;
    });
    Json items = Json::array();
    for (auto& [name, j] : out) {
      if (!j.contains("customers")) j["customers"] = 0;
      items.push_back(std::move(j));
    }
    return json_reply({{"items", items}});
  }

  Result<Reply> put_tag(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const std::string raw = f.req_string("name", 64);
    const auto group = f.opt_int("group_id", 1, INT32_MAX);
    const auto description = f.opt_string("description", 200);
    SIYU_RETURN_IF_ERROR(f.finish());
    SIYU_ASSIGN_OR_RETURN(std::string name, tag_name(raw, "name"));
    store::TagDef d{name, group, description.value_or(""), who.actor, s_.clock.now_ms()};
    SIYU_RETURN_IF_ERROR(s_.store.put_tag_def(who.workspace, d));
    return json_reply({{"name", d.name},
                       {"group_id", group ? Json(*group) : Json(nullptr)},
                       {"description", d.description},
                       {"defined", true}},
                      201);
  }

  Result<Reply> delete_tag(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(std::string name, tag_name(req.matches[1].str(), "tag"));
    SIYU_RETURN_IF_ERROR(engine_.check_manual_edit(who.workspace, name));
    SIYU_ASSIGN_OR_RETURN(auto touched,
                          s_.store.delete_tag(who.workspace, name, who.actor, s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(s_.indexes.refresh(who.workspace, touched));
    engine_.touch(who.workspace, touched);
    SIYU_RETURN_IF_ERROR(audit(who, "tag.delete", "tag:" + name, {{"customers", touched.size()}}));
    return json_reply({{"name", name}, {"removed_from", touched.size()}});
  }

  /// Tags or untags the customers of a CSV file: a header row naming customer_id or an
  /// identity type (phone, email, member_card, ...), then one customer per row.
  /// ?tag=NAME&action=add|remove[&expires_at=...].
  Result<Reply> bulk_csv(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto raw_tag, query_text(req, "tag", 64));
    if (!raw_tag) return invalid("tag is required", "tag");
    SIYU_ASSIGN_OR_RETURN(std::string tag, tag_name(*raw_tag, "tag"));
    const std::string action = req.has_param("action") ? req.get_param_value("action") : "add";
    if (action != "add" && action != "remove") return invalid("action must be add or remove", "action");
    SIYU_ASSIGN_OR_RETURN(auto expires_at, query_time(req, "expires_at"));
    if (expires_at && action == "remove") return invalid("expires_at is only for add", "expires_at");
    if (req.body.size() > 8 * 1024 * 1024) {
      return Status(ErrorCode::kPayloadTooLarge, "CSV is larger than 8 MiB");
    }
    SIYU_RETURN_IF_ERROR(engine_.check_manual_edit(who.workspace, tag));
    SIYU_ASSIGN_OR_RETURN(std::string text, io::to_utf8(req.body));
    SIYU_ASSIGN_OR_RETURN(auto rows, io::parse_csv(text));
    if (rows.empty() || rows.front().empty()) return invalid("CSV needs a header row", "body");
    if (rows.size() - 1 > kMaxCsvRows) return invalid("CSV has more than 100,000 rows", "body");
    const std::string column(trim(rows.front().front()));
    const bool by_id = column == "customer_id";
    if (!by_id && std::find_if(std::begin(customer::kIdentityTypes), std::end(customer::kIdentityTypes),
                               [&](const char* t) { return column == t; }) ==
                      std::end(customer::kIdentityTypes)) {
      return invalid("the first column must be customer_id or an identity type (phone, email, "
                     "member_card, ...)", "body");
    }
    const customer::IdentityCodec codec(s_.vault, who.workspace);
    std::vector<CustomerId> ids;
    Json unmatched = Json::array();
    for (size_t i = 1; i < rows.size(); ++i) {
      const std::string value(rows[i].empty() ? std::string_view() : trim(rows[i].front()));
      if (value.empty()) continue;
      const std::string where = "line " + std::to_string(i + 1);
      std::optional<CustomerId> id;
      if (by_id) {
        auto n = parse_int(value, where);
        if (n && *n > 0) id = CustomerId(*n);
      } else if (auto identity = codec.make(column, value, "", where)) {
        SIYU_ASSIGN_OR_RETURN(auto found, s_.store.find_identity(who.workspace, identity->type,
                                                                 identity->app_id, identity->key));
        if (found) id = found->customer;
      }
      if (id) {
        ids.push_back(*id);
      } else if (unmatched.size() < 100) {
        unmatched.push_back(i + 1);
      }
    }
    if (ids.empty()) return invalid("no row of the CSV names a customer of this workspace", "body");
    const bool remove = action == "remove";
    SIYU_ASSIGN_OR_RETURN(int64_t changed,
                          s_.store.bulk_tag(who.workspace, ids, tag, remove, who.actor,
                                            s_.clock.now_ms(), expires_at));
    reindex_tag(s_, who.workspace, tag, ids);
    SIYU_RETURN_IF_ERROR(audit(who, remove ? "tag.bulk_remove" : "tag.bulk_add", "tag:" + tag,
                               {{"rows", rows.size() - 1}, {"changed", changed}}));
    return json_reply({{"tag", tag},
                       {"action", action},
                       {"rows", rows.size() - 1},
                       {"matched", ids.size()},
                       {"changed", changed},
                       {"unmatched_lines", unmatched}});
  }

  // ------------------------------------------------------------ rules
  Result<Reply> list_rules(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto rules, s_.store.tag_rules(who.workspace));
    Json items = Json::array();
    for (const auto& r : rules) items.push_back(rule_json(r));
    return json_reply({{"items", items}});
  }

  Result<Reply> get_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(auto rule, s_.store.tag_rule(who.workspace, id));
    return json_reply(rule_json(rule));
  }

  /// Reads name, tag, expression and enabled over `r`, validating the expression.
  Result<store::TagRule> rule_body(const httplib::Request& req, const Principal& who,
                                   store::TagRule r) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    if (auto name = f.opt_string("name", 64)) r.name = std::string(trim(*name));
    const auto tag = f.opt_string("tag", 64);
    const Json* expression = f.opt_any("expression");
    if (auto enabled = f.opt_bool("enabled")) r.enabled = *enabled;
    SIYU_RETURN_IF_ERROR(f.finish());
    if (tag) {
      SIYU_ASSIGN_OR_RETURN(r.tag, tag_name(*tag, "tag"));
    }
    if (r.name.empty()) return invalid("name is required", "name");
    if (r.tag.empty()) return invalid("tag is required", "tag");
    if (expression != nullptr) {
      SIYU_RETURN_IF_ERROR(expression_at(s_, who, *expression, "expression").status());
      r.expression_json = expression->dump();
    }
    if (r.expression_json.empty()) return invalid("expression is required", "expression");
    return r;
  }

  Result<Reply> create_rule(const httplib::Request& req, const Principal& who) {
    store::TagRule r;
    r.created_by = who.actor;
    r.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(r, rule_body(req, who, r));
    SIYU_ASSIGN_OR_RETURN(auto made, s_.store.create_tag_rule(who.workspace, r));
    SIYU_RETURN_IF_ERROR(audit(who, "rule.create", "rule:" + std::to_string(made.id),
                               {{"tag", made.tag}, {"enabled", made.enabled}}));
    if (made.enabled) engine_.touch(who.workspace);
    return json_reply(rule_json(made), 201);
  }

  Result<Reply> update_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(auto existing, s_.store.tag_rule(who.workspace, id));
    SIYU_ASSIGN_OR_RETURN(store::TagRule r, rule_body(req, who, existing));
    r.updated_at = s_.clock.now_ms();
    SIYU_RETURN_IF_ERROR(s_.store.update_tag_rule(who.workspace, r));
    SIYU_RETURN_IF_ERROR(audit(who, "rule.update", "rule:" + std::to_string(id),
                               {{"tag", r.tag}, {"enabled", r.enabled}}));
    engine_.touch(who.workspace);
    return json_reply(rule_json(r));
  }

  Result<Reply> delete_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.delete_tag_rule(who.workspace, id));
    SIYU_RETURN_IF_ERROR(audit(who, "rule.delete", "rule:" + std::to_string(id)));
    return no_content();
  }

  /// How many would gain or lose the tag if the rule were switched on now.
  Result<Reply> preview_rule(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const std::string raw_tag = f.req_string("tag", 64);
    const Json* expression = f.opt_any("expression");
    SIYU_RETURN_IF_ERROR(f.finish());
    SIYU_ASSIGN_OR_RETURN(std::string tag, tag_name(raw_tag, "tag"));
    if (expression == nullptr) return invalid("expression is required", "expression");
    SIYU_ASSIGN_OR_RETURN(segment::Expr e, expression_at(s_, who, *expression, "expression"));
    SIYU_ASSIGN_OR_RETURN(auto preview, engine_.preview(who.workspace, tag, e));
    return json_reply(preview_json(preview));
  }

  Result<Reply> sweep(const httplib::Request&, const Principal& who) {
    const auto start = std::chrono::steady_clock::now();
    SIYU_ASSIGN_OR_RETURN(auto r, engine_.sweep(who.workspace));
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start).count();
    return json_reply({{"expired", r.expired},
                       {"rules", r.rules},
                       {"gained", r.gained},
                       {"lost", r.lost},
                       {"segments", r.segments},
                       {"entered", r.entered},
                       {"exited", r.exited},
                       {"problems", r.problems},
                       {"ms", ms}});
  }

  // ------------------------------------------------------------ segment feed
  Result<Reply> segment_changes(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.segment(who.workspace, id).status());
    SIYU_ASSIGN_OR_RETURN(auto after, query_int(req, "after", 0, INT64_MAX));
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 100, 1000));
    SIYU_ASSIGN_OR_RETURN(auto changes,
                          s_.store.segment_changes(who.workspace, id, after.value_or(0), limit));
    Json items = Json::array();
    for (const auto& c : changes) {
      items.push_back({{"seq", c.seq},
                       {"customer_id", c.customer.value},
                       {"change", c.entered ? "enter" : "exit"},
                       {"at", format_timestamp(c.at)}});
    }
    const bool more = static_cast<int>(changes.size()) == limit;
    return json_reply({{"items", items},
                       {"next_after", changes.empty() ? after.value_or(0) : changes.back().seq},
                       {"more", more}});
  }

  Result<Reply> segment_sizes(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.segment(who.workspace, id).status());
    SIYU_ASSIGN_OR_RETURN(auto days, query_int(req, "days", 1, 3660));
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, s_.indexes.get(who.workspace));
    const int32_t today = ix->day_of(s_.clock.now_ms());
    const std::string from = format_date(civil_from_days(today - days.value_or(90) + 1));
    SIYU_ASSIGN_OR_RETURN(auto sizes, s_.store.segment_sizes(who.workspace, id, from));
    Json items = Json::array();
    for (const auto& z : sizes) items.push_back({{"day", z.day}, {"size", z.size}});
    return json_reply({{"items", items}});
  }

 private:
  Services& s_;
  rules::TagEngine& engine_;
};

}  // namespace

std::vector<Route> tag_routes(Services& s, rules::TagEngine& engine) {
  auto h = std::make_shared<TagHandlers>(s, engine);
  auto bind = [h](Result<Reply> (TagHandlers::*fn)(const httplib::Request&, const Principal&)) {
    return [h, fn](const httplib::Request& req, const Principal& who) { return ((*h).*fn)(req, who); };
  };
  using P = Permission;
  using H = TagHandlers;
  return {
      {"GET", "/v1/tag-groups", P::kRead, "list tag groups", bind(&H::list_groups)},
      {"POST", "/v1/tag-groups", P::kWriteCustomers, "create tag groups", bind(&H::create_group)},
      {"PATCH", "/v1/tag-groups/{id}", P::kWriteCustomers, "rename tag groups",
       bind(&H::update_group)},
      {"DELETE", "/v1/tag-groups/{id}", P::kWriteCustomers, "delete tag groups",
       bind(&H::delete_group)},
      {"GET", "/v1/tags", P::kRead, "list tags", bind(&H::list_tags)},
      {"POST", "/v1/tags", P::kWriteCustomers, "define tags", bind(&H::put_tag)},
      {"DELETE", "/v1/tags/{tag}", P::kWriteCustomers, "delete tags everywhere",
       bind(&H::delete_tag)},
      {"POST", "/v1/tags:bulk", P::kWriteCustomers, "tag customers listed in a CSV",
       bind(&H::bulk_csv)},
      {"GET", "/v1/rules", P::kRead, "list auto-tag rules", bind(&H::list_rules)},
      {"POST", "/v1/rules", P::kWriteCustomers, "create auto-tag rules", bind(&H::create_rule)},
      {"POST", "/v1/rules:preview", P::kRead, "preview auto-tag rules", bind(&H::preview_rule)},
      {"POST", "/v1/rules:sweep", P::kWriteCustomers, "apply rules, expiry and segment feeds now",
       bind(&H::sweep)},
      {"GET", "/v1/rules/{id}", P::kRead, "read auto-tag rules", bind(&H::get_rule)},
      {"PATCH", "/v1/rules/{id}", P::kWriteCustomers, "edit auto-tag rules", bind(&H::update_rule)},
      {"DELETE", "/v1/rules/{id}", P::kWriteCustomers, "delete auto-tag rules",
       bind(&H::delete_rule)},
      {"GET", "/v1/event-properties", P::kRead, "list event properties indexed for behaviour",
       bind(&H::list_event_properties)},
      {"POST", "/v1/event-properties", P::kManageStaff, "declare event properties",
       bind(&H::declare_event_property)},
      {"GET", "/v1/segments/{id}/changes", P::kRead, "read segment enter/exit changes",
       bind(&H::segment_changes)},
      {"GET", "/v1/segments/{id}/sizes", P::kRead, "read segment sizes by day",
       bind(&H::segment_sizes)},
  };
}

}  // namespace siyu::api
