// Routes of journeys and SOPs: definitions with versions, status, measurement, the SOP
// template gallery, the calendar of scheduled group posts, the delivery log (outbox), staff
// tasks, opt-outs, delivery settings and the holiday calendar.
#include <algorithm>

#include "api/request.h"
#include "core/text.h"
#include "core/time_format.h"
#include "journey/holidays.h"
#include "journey/schedule.h"
#include "journey/templates.h"

namespace siyu::api {
namespace {

constexpr std::array<std::string_view, 8> kOutboxStates = {
    "pending", "deferred", "retry", "sent", "dead", "capped", "skipped", "invalid"};

Json opt_time(const std::optional<EpochMs>& t) {
  return t ? Json(format_timestamp(*t)) : Json(nullptr);
}

Json stats_json(const store::JourneyStats& st) {
  Json steps = Json::object();
  Json variants = Json::object();
  for (const auto& c : st.cells) {
    Json& s = steps[c.step];
    if (s.is_null()) {
      s = Json::object();
      for (std::string_view state : kOutboxStates) s[std::string(state)] = 0;
    }
    s[c.state] = s[c.state].get<int64_t>() + c.count;
    if (!c.variant.empty()) {
      Json& v = variants[c.variant];
      if (v.is_null()) v = {{"sent", 0}, {"total", 0}, {"goal_reached", 0}};
      v["total"] = v["total"].get<int64_t>() + c.count;
      if (c.state == "sent") v["sent"] = v["sent"].get<int64_t>() + c.count;
    }
  }
  for (const auto& [variant, n] : st.goal_by_variant) {
    Json& v = variants[variant];
    if (v.is_null()) v = {{"sent", 0}, {"total", 0}, {"goal_reached", 0}};
    v["goal_reached"] = n;
  }
  return {{"entered", st.entered},
          {"inside", st.waiting},
          {"active_runs", st.active_runs},
          {"goal_reached", st.goal_reached},
          {"steps", steps},
          {"variants", variants}};
}

Json task_json(const store::StaffTask& t) {
  return {{"id", t.id},
          {"journey", t.journey_id},
          {"customer", t.customer.valid() ? Json(t.customer.value) : Json(nullptr)},
          {"staff", t.staff ? Json(t.staff->value) : Json(nullptr)},
          {"title", t.title},
          {"note", t.note},
          {"due_at", format_timestamp(t.due_at)},
          {"created_at", format_timestamp(t.created_at)},
          {"done_at", opt_time(t.done_at)},
          {"done_by", t.done_by}};
}

class JourneyHandlers {
 public:
  explicit JourneyHandlers(Services& s) : s_(s) {}

  Result<Reply> list(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto journeys, s_.store.journeys(who.workspace));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    Json items = Json::array();
    for (const store::Journey& j : journeys) {
      Json item = journey_json(j, offset);
      SIYU_ASSIGN_OR_RETURN(auto st, s_.store.journey_stats(who.workspace, j.id, "", 0));
      item["entered"] = st.entered;
      item["inside"] = st.waiting;
      items.push_back(std::move(item));
    }
    return json_reply({{"items", items}});
  }

  Result<Reply> get(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(store::Journey j, s_.store.journey(who.workspace, id));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    Json out = journey_json(j, offset);
    SIYU_ASSIGN_OR_RETURN(Json def, parse_json(j.definition_json));
    std::string goal;
    int goal_days = 0;
    if (def.contains("goal") && def["goal"].is_object()) {
      goal = def["goal"].value("event", "");
      goal_days = def["goal"].value("within_days", 7);
    }
    SIYU_ASSIGN_OR_RETURN(auto st, s_.store.journey_stats(who.workspace, id, goal,
                                                          int64_t{goal_days} * kMsPerDay));
    out["stats"] = stats_json(st);
    return json_reply(out);
  }

  Result<Reply> create(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    store::Journey j;
    j.name = std::string(trim(f.req_string("name", 64)));
    const Json* definition = f.opt_any("definition");
    if (definition == nullptr && f.ok()) f.fail("definition", "is required");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (j.name.empty()) return invalid("name is required", "name");
    SIYU_RETURN_IF_ERROR(check_definition(who, *definition));
    j.definition_json = definition->dump();
    j.created_by = who.actor;
    j.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(store::Journey made, s_.store.create_journey(who.workspace, j));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "journey.create", "journey:" + std::to_string(made.id),
                               {{"name", made.name}}));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    return json_reply(journey_json(made, offset), 201);
  }

  Result<Reply> update(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(store::Journey j, s_.store.journey(who.workspace, id));
    if (j.status == "archived") return conflict("journey " + std::to_string(id) + " is archived");
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    std::string name = j.name;
    if (auto n = f.opt_string("name", 64)) name = std::string(trim(*n));
    const Json* definition = f.opt_any("definition");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (name.empty()) return invalid("name is required", "name");
    std::string text = j.definition_json;
    if (definition != nullptr) {
      SIYU_RETURN_IF_ERROR(check_definition(who, *definition));
      text = definition->dump();
    }
    SIYU_ASSIGN_OR_RETURN(int version, s_.store.save_journey_version(who.workspace, id, name, text,
                                                                     who.actor,
                                                                     s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "journey.update", "journey:" + std::to_string(id),
                               {{"version", version}}));
    s_.journeys->journeys_changed(who.workspace);
    return get(req, who);
  }

  Result<Reply> set_status(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(store::Journey j, s_.store.journey(who.workspace, id));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto status = f.opt_enum("status", {"active", "paused", "archived"});
    if (!status && f.ok()) f.fail("status", "is required (active, paused, archived)");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (j.status == "archived") {
      return conflict("journey " + std::to_string(id) + " is archived; copy it instead", "status");
    }
    if (*status == "paused" && j.status != "active") {
      return conflict("only an active journey can be paused", "status");
    }
    if (*status == "active") {
      // Definitions were valid when saved; segments or groups may have gone since.
      SIYU_ASSIGN_OR_RETURN(Json def, parse_json(j.definition_json));
      SIYU_RETURN_IF_ERROR(check_definition(who, def));
    }
    SIYU_RETURN_IF_ERROR(
        s_.store.set_journey_status(who.workspace, id, *status, s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "journey." + *status, "journey:" + std::to_string(id)));
    s_.journeys->journeys_changed(who.workspace);
    return get(req, who);
  }

  Result<Reply> templates(const httplib::Request&, const Principal&) {
    Json items = Json::array();
    for (const journey::SopTemplate& t : journey::sop_templates()) {
      items.push_back({{"key", t.key},
                       {"name", t.name},
                       {"name_en", t.name_en},
                       {"summary", t.summary},
                       {"summary_en", t.summary_en},
                       {"needs_groups", t.needs_groups},
                       {"needs_segment", t.needs_segment},
                       {"needs_start", t.needs_start}});
    }
    return json_reply({{"items", items}});
  }

  Result<Reply> use_template(const httplib::Request& req, const Principal& who) {
    const std::string key = req.matches[1];
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    journey::TemplateParams p;
    SIYU_ASSIGN_OR_RETURN(p.offset_minutes, workspace_offset(s_, who.workspace));
    std::string name = std::string(trim(f.opt_string("name", 64).value_or("")));
    if (const Json* groups = f.opt_any("groups")) {
      if (!groups->is_array()) f.fail("groups", "must be an array of group ids");
      for (const Json& g : groups->is_array() ? *groups : Json::array()) {
        if (!g.is_number_integer() || g.get<int64_t>() <= 0) {
          f.fail("groups", "must hold positive group ids");
          break;
        }
        p.groups.push_back(g.get<int64_t>());
      }
    }
    if (auto seg = f.opt_int("segment", 1, INT64_MAX)) p.segment = *seg;
    p.start = f.opt_string("start", 30);
    p.coupon = f.opt_string("coupon", 40);
    SIYU_RETURN_IF_ERROR(f.finish());
    SIYU_ASSIGN_OR_RETURN(Json def, journey::template_definition(key, p));
    if (name.empty()) {
      for (const journey::SopTemplate& t : journey::sop_templates()) {
        if (t.key == key) name = t.name + " " + format_local(s_.clock.now_ms(), p.offset_minutes).substr(0, 16);
      }
    }
    SIYU_RETURN_IF_ERROR(check_definition(who, def));
    store::Journey j;
    j.name = name;
    j.template_key = key;
    j.definition_json = def.dump();
    j.created_by = who.actor;
    j.created_at = s_.clock.now_ms();
    SIYU_ASSIGN_OR_RETURN(store::Journey made, s_.store.create_journey(who.workspace, j));
    SIYU_RETURN_IF_ERROR(audit(s_, who, "journey.create", "journey:" + std::to_string(made.id),
                               {{"name", made.name}, {"template", key}}));
    return json_reply(journey_json(made, p.offset_minutes), 201);
  }

  /// Group posts of active and paused journeys due in the coming days.
  Result<Reply> calendar(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto days, query_int(req, "days", 1, 62));
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    const EpochMs now = s_.clock.now_ms();
    const EpochMs until = now + days.value_or(14) * kMsPerDay;
    SIYU_ASSIGN_OR_RETURN(auto journeys, s_.store.journeys(who.workspace));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    Json items = Json::array();
    for (const store::Journey& j : journeys) {
      if (j.status != "active" && j.status != "paused") continue;
      SIYU_ASSIGN_OR_RETURN(Json def_json, parse_json(j.definition_json));
      auto def = journey::parse_in_workspace(s_.store, who.workspace, def_json);
      if (!def) continue;
      // Fires already made whose posts are still ahead count too: start a week back.
      EpochMs after = std::max(now - 7 * kMsPerDay, j.fired_until.value_or(j.updated_at) - 7 * kMsPerDay);
      for (int n = 0; n < 120; ++n) {
        auto fire = journey::next_fire(def->trigger, after, offset);
        if (!fire || *fire > until) break;
        after = *fire;
        if (j.fired_until ? *fire <= *j.fired_until && *fire < j.updated_at : *fire < j.updated_at) {
          continue;  // before the journey was switched on
        }
        for (const auto& post : journey::planned_group_posts(*def, *fire, offset)) {
          if (post.at < now || post.at > until) continue;
          Json names = Json::array();
          for (int64_t g : post.groups) {
            auto it = std::find_if(groups.begin(), groups.end(),
                                   [&](const store::Group& x) { return x.id.value == g; });
            names.push_back(it == groups.end() ? "#" + std::to_string(g) : it->name);
          }
          items.push_back({{"journey", j.id},
                           {"journey_name", j.name},
                           {"status", j.status},
                           {"step", post.step},
                           {"at", format_timestamp(post.at)},
                           {"local", format_local(post.at, offset)},
                           {"groups", post.groups},
                           {"group_names", names},
                           {"text", post.text}});
        }
      }
    }
    std::sort(items.begin(), items.end(),
              [](const Json& a, const Json& b) { return a["at"] < b["at"]; });
    return json_reply({{"items", items}});
  }

  Result<Reply> outbox(const httplib::Request& req, const Principal& who) {
    store::OutboxFilter filter;
    SIYU_ASSIGN_OR_RETURN(filter.limit, page_limit(req, 50, 500));
    SIYU_ASSIGN_OR_RETURN(filter.journey_id, query_int(req, "journey", 1, INT64_MAX));
    SIYU_ASSIGN_OR_RETURN(filter.before, query_int(req, "before", 1, INT64_MAX));
    SIYU_ASSIGN_OR_RETURN(auto customer, query_int(req, "customer", 1, INT64_MAX));
    if (customer) filter.customer = CustomerId(*customer);
    SIYU_ASSIGN_OR_RETURN(filter.state, query_text(req, "state", 16));
    if (filter.state && std::find(kOutboxStates.begin(), kOutboxStates.end(), *filter.state) ==
                            kOutboxStates.end()) {
      return invalid("state must be one of pending, deferred, retry, sent, dead, capped, skipped, "
                     "invalid",
                     "state");
    }
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.outbox_items(who.workspace, filter));
    const bool personal = allows(who.role, Permission::kReadPersonal);
    Json items = Json::array();
    for (const store::OutboxItem& o : rows) {
      Json item = {{"id", o.id},
                   {"idempotency_key", o.idem_key},
                   {"journey", o.journey_id},
                   {"version", o.version},
                   {"step", o.step},
                   {"kind", o.kind},
                   {"class", o.message_class},
                   {"customer", o.customer.valid() ? Json(o.customer.value) : Json(nullptr)},
                   {"group", o.group.valid() ? Json(o.group.value) : Json(nullptr)},
                   {"staff", o.staff},
                   {"variant", o.variant},
                   {"state", o.state},
                   {"attempts", o.attempts},
                   {"not_before", format_timestamp(o.not_before)},
                   {"created_at", format_timestamp(o.created_at)},
                   {"sent_at", opt_time(o.sent_at)},
                   {"reason", o.reason},
                   {"receipt", o.receipt}};
      // Rendered messages greet people by name: only roles that see personal data read them.
      if (personal || o.kind == "group_post") {
        const Json payload = Json::parse(o.payload_json, nullptr, false);
        if (payload.is_object() && payload.contains("content")) {
          item["text"] = payload["content"].value("text", "");
        }
      }
      items.push_back(std::move(item));
    }
    Json out = {{"items", items}};
    out["next_cursor"] = rows.size() == static_cast<size_t>(filter.limit) ? Json(rows.back().id)
                                                                   : Json(nullptr);
    return json_reply(out);
  }

  Result<Reply> outbox_summary(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto counts, s_.store.outbox_counts(who.workspace));
    Json by_state = Json::object();
    for (std::string_view state : kOutboxStates) by_state[std::string(state)] = 0;
    for (const auto& [state, n] : counts) by_state[state] = n;
    return json_reply({{"states", by_state}});
  }

  Result<Reply> tasks(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 100, 500));
    const std::string status = req.get_param_value("status");
    if (!status.empty() && status != "open" && status != "all") {
      return invalid("status must be open or all", "status");
    }
    const bool mine = req.get_param_value("mine") == "1";
    if (mine && !who.user.valid()) return invalid("mine=1 needs a signed-in staff user", "mine");
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.staff_tasks(who.workspace, status != "all",
                                                          mine ? std::optional(who.user)
                                                               : std::nullopt,
                                                          limit));
    const bool personal = allows(who.role, Permission::kReadPersonal);
    Json items = Json::array();
    for (const store::StaffTask& t : rows) {
      Json item = task_json(t);
      if (personal && t.customer.valid()) {
        auto c = s_.store.customer(who.workspace, t.customer);
        if (c) item["customer_name"] = c->name;
      }
      items.push_back(std::move(item));
    }
    return json_reply({{"items", items}});
  }

  Result<Reply> complete_task(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_RETURN_IF_ERROR(s_.store.complete_task(who.workspace, id, who.actor, s_.clock.now_ms()));
    return no_content();
  }

  Result<Reply> opt_out(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int64_t id, path_id(req, 1, "id"));
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    JsonFields f(body, "");
    const auto out = f.opt_bool("opted_out");
    if (!out && f.ok()) f.fail("opted_out", "is required (true or false)");
    const std::string source = f.opt_string("source", 64).value_or("api");
    SIYU_RETURN_IF_ERROR(f.finish());
    SIYU_ASSIGN_OR_RETURN(store::Customer c, s_.store.customer(who.workspace, CustomerId(id)));
    if (c.merged_into || c.erased_at) return not_found("customer " + std::to_string(id) + " not found");
    SIYU_RETURN_IF_ERROR(
        s_.store.set_opt_out(who.workspace, c.id, *out, source, s_.clock.now_ms()));
    SIYU_RETURN_IF_ERROR(audit(s_, who, *out ? "customer.opt_out" : "customer.opt_in",
                               "customer:" + std::to_string(id), {{"source", source}}));
    return json_reply({{"customer", id}, {"opted_out", *out}});
  }

  Result<Reply> get_settings(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto s, outbox::load_delivery_settings(s_.store, who.workspace));
    return json_reply(outbox::delivery_settings_json(s, false));
  }

  Result<Reply> put_settings(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(auto current, outbox::load_delivery_settings(s_.store, who.workspace));
    SIYU_ASSIGN_OR_RETURN(auto next, outbox::parse_delivery_settings(body, current));
    if (next.dnd_segment) {
      auto seg = s_.store.segment(who.workspace, *next.dnd_segment);
      if (!seg) {
        return invalid("dnd_segment " + std::to_string(*next.dnd_segment) +
                           " is not a saved segment",
                       "dnd_segment");
      }
    }
    SIYU_RETURN_IF_ERROR(s_.store.put_setting(
        who.workspace, "delivery", outbox::delivery_settings_json(next, true).dump(),
        s_.clock.now_ms()));
    s_.dispatcher->settings_changed(who.workspace);
    s_.journeys->journeys_changed(who.workspace);  // caps, quiet hours and do-not-disturb
    Json changed = outbox::delivery_settings_json(next, false);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "settings.delivery", "workspace", changed));
    return json_reply(changed);
  }

  Result<Reply> holidays(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int offset, workspace_offset(s_, who.workspace));
    const int this_year = civil_from_days((s_.clock.now_ms() + int64_t{offset} * 60'000) / kMsPerDay).year;
    SIYU_ASSIGN_OR_RETURN(auto year, query_int(req, "year", 2024, 2030));
    Json items = Json::array();
    const int y = static_cast<int>(year.value_or(this_year));
    for (const journey::Holiday& h : journey::holidays_between(y, y)) {
      items.push_back({{"name", h.name}, {"english", h.english}, {"date", format_date(h.date)}});
    }
    return json_reply({{"year", y}, {"items", items}});
  }

 private:
  Json journey_json(const store::Journey& j, int offset) {
    Json def = parse_json(j.definition_json).value_or(Json::object());
    Json out = {{"id", j.id},
                {"name", j.name},
                {"status", j.status},
                {"version", j.version},
                {"template", j.template_key},
                {"created_by", j.created_by},
                {"created_at", format_timestamp(j.created_at)},
                {"updated_at", format_timestamp(j.updated_at)},
                {"fired_until", opt_time(j.fired_until)},
                {"definition", def}};
    out["next_fire"] = nullptr;
    if (j.status == "active" || j.status == "paused") {
      // Only the trigger matters here; expressions were checked when the journey was saved.
      const journey::ExprCheck any = [](const Json&, const std::string&) { return Status::ok(); };
      auto parsed = journey::parse_journey(def, any, offset);
      const EpochMs after = std::max(s_.clock.now_ms(), j.fired_until.value_or(0));
      if (parsed) {
        if (auto next = journey::next_fire(parsed->trigger, after, offset)) {
          out["next_fire"] = format_timestamp(*next);
        }
      }
    }
    return out;
  }

  /// Validates a definition in the caller's workspace, including that the groups it posts to
  /// and the segment it listens to exist.
  Status check_definition(const Principal& who, const Json& def) {
    SIYU_ASSIGN_OR_RETURN(journey::JourneyDef d,
                          journey::parse_in_workspace(s_.store, who.workspace, def));
    SIYU_ASSIGN_OR_RETURN(auto groups, s_.store.groups(who.workspace));
    for (const journey::Step& step : d.program) {
      for (int64_t g : step.groups) {
        const bool known = std::any_of(groups.begin(), groups.end(),
                                       [&](const store::Group& x) { return x.id.value == g; });
        if (!known) {
          return invalid("steps: step \"" + step.id + "\" posts to group " + std::to_string(g) +
                             ", which does not exist",
                         "steps");
        }
      }
    }
    if (d.trigger.kind == journey::TriggerKind::kSegment) {
      if (!s_.store.segment(who.workspace, d.trigger.segment_id)) {
        return invalid("trigger.segment " + std::to_string(d.trigger.segment_id) +
                           " is not a saved segment",
                       "trigger.segment");
      }
    }
    return Status::ok();
  }

  Services& s_;
};

}  // namespace

std::vector<Route> journey_routes(Services& s) {
  auto h = std::make_shared<JourneyHandlers>(s);
  auto bind = [h](Result<Reply> (JourneyHandlers::*fn)(const httplib::Request&,
                                                       const Principal&)) {
    return [h, fn](const httplib::Request& req, const Principal& who) {
      return ((*h).*fn)(req, who);
    };
  };
  using P = Permission;
  using H = JourneyHandlers;
  return {
      {"GET", "/v1/journeys", P::kRead, "list journeys", bind(&H::list)},
      {"POST", "/v1/journeys", P::kManageJourneys, "create journeys", bind(&H::create)},
      {"GET", "/v1/journeys/{id}", P::kRead, "read journeys and their figures", bind(&H::get)},
      {"PATCH", "/v1/journeys/{id}", P::kManageJourneys, "edit journeys (a new version)",
       bind(&H::update)},
      {"POST", "/v1/journeys/{id}/status", P::kManageJourneys,
       "activate, pause or archive journeys", bind(&H::set_status)},
      {"GET", "/v1/journey-calendar", P::kRead, "list scheduled group posts",
       bind(&H::calendar)},
      {"GET", "/v1/sop-templates", P::kRead, "list SOP templates", bind(&H::templates)},
      {"POST", "/v1/sop-templates/{key}/use", P::kManageJourneys,
       "create journeys from SOP templates", bind(&H::use_template)},
      {"GET", "/v1/outbox", P::kRead, "read the delivery log", bind(&H::outbox)},
      {"GET", "/v1/outbox/summary", P::kRead, "count deliveries by state",
       bind(&H::outbox_summary)},
      {"GET", "/v1/tasks", P::kRead, "list staff tasks", bind(&H::tasks)},
      {"POST", "/v1/tasks/{id}/done", P::kWriteCustomers, "complete staff tasks",
       bind(&H::complete_task)},
      {"POST", "/v1/customers/{id}/opt-out", P::kWriteCustomers,
       "record or withdraw opt-outs from messages", bind(&H::opt_out)},
      {"GET", "/v1/settings/delivery", P::kRead, "read delivery settings",
       bind(&H::get_settings)},
      {"PUT", "/v1/settings/delivery", P::kManageDelivery, "change delivery settings",
       bind(&H::put_settings)},
      {"GET", "/v1/holidays", P::kRead, "list the holiday calendar", bind(&H::holidays)},
  };
}

}  // namespace siyu::api
