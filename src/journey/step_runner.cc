#include "journey/step_runner.h"

#include <algorithm>
#include <unordered_map>

#include "core/time_format.h"
#include "journey/content.h"
#include "journey/schedule.h"
#include "segment/evaluate.h"
#include "segment/saved.h"

namespace siyu::journey {
namespace {

using index::Bitmap;

constexpr size_t kChunk = 2000;

/// Customers, staff and groups a step's content refers to, read once per run.
class Facts {
 public:
  Facts(store::Store& store, WorkspaceId ws) : store_(store), ws_(ws) {}

  Result<const store::User*> user(UserId id) {
    if (!users_) {
      SIYU_ASSIGN_OR_RETURN(auto all, store_.users(ws_));
      users_.emplace();
      for (store::User& u : all) users_->emplace(u.id, std::move(u));
    }
    auto it = users_->find(id);
    return it == users_->end() ? nullptr : &it->second;
  }
  Result<const store::Group*> group(int64_t id) {
    if (!groups_) {
      SIYU_ASSIGN_OR_RETURN(auto all, store_.groups(ws_));
      groups_.emplace();
      for (store::Group& g : all) groups_->emplace(g.id.value, std::move(g));
    }
    auto it = groups_->find(id);
    return it == groups_->end() ? nullptr : &it->second;
  }
  /// Names of the workspace's personal custom fields (never put into messages).
  Result<const std::vector<std::string>*> personal_fields() {
    if (!personal_) {
      SIYU_ASSIGN_OR_RETURN(auto defs, store_.field_defs(ws_));
      personal_.emplace();
      for (const store::FieldDef& d : defs) {
        if (d.personal) personal_->push_back(d.name);
      }
    }
    return &*personal_;
  }

 private:
  store::Store& store_;
  WorkspaceId ws_;
  std::optional<std::unordered_map<UserId, store::User>> users_;
  std::optional<std::unordered_map<int64_t, store::Group>> groups_;
  std::optional<std::vector<std::string>> personal_;
};

std::string text_of(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return "";
}

/// Values for {variables}: the customer (when there is one), staff, group, trigger event and
/// the journey's vars.
struct Variables {
  const JourneyDef* def = nullptr;
  const Json* context = nullptr;
  EpochMs now = 0;
  int offset_minutes = 480;
  const store::Customer* customer = nullptr;
  Json custom;
  const std::vector<std::string>* personal = nullptr;
  const store::User* staff = nullptr;
  const store::Group* group = nullptr;

  std::optional<std::string> operator()(const std::string& name) const {
    if (name == "today") return format_date(civil_from_days(local_day(now, offset_minutes)));
    if (name == "staff") return staff ? std::optional(staff->display_name) : std::nullopt;
    if (name == "group") return group ? std::optional(group->name) : std::nullopt;
    if (name == "name") return customer ? std::optional(customer->name) : std::nullopt;
    if (name == "city") return customer ? std::optional(customer->city) : std::nullopt;
    if (name.rfind("custom.", 0) == 0) {
      const std::string field = name.substr(7);
      if (!customer || !custom.is_object() || !custom.contains(field)) return std::nullopt;
      if (personal && std::find(personal->begin(), personal->end(), field) != personal->end()) {
        return std::nullopt;
      }
      return text_of(custom[field]);
    }
    if (name.rfind("event.", 0) == 0) {
      const std::string prop = name.substr(6);
      if (context == nullptr || !context->contains("event")) return std::nullopt;
      const Json& e = (*context)["event"];
      if (e.contains("properties") && e["properties"].contains(prop)) {
        return text_of(e["properties"][prop]);
      }
      return e.contains(prop) ? std::optional(text_of(e[prop])) : std::nullopt;
    }
    auto it = def->vars.find(name);
    if (it == def->vars.end()) return std::nullopt;
    const Variable& v = it->second;
    if ((v.from && now < *v.from) || (v.to && now >= *v.to)) return std::nullopt;
    return v.value;
  }
};

/// Renders a variant into the payload, or the reason it cannot be.
Result<Json> render_content(const Content& c, const Variables& vars) {
  Json out = Json::object();
  SIYU_ASSIGN_OR_RETURN(out["text"], render(c.text, vars));
  if (!c.title.empty()) {
    SIYU_ASSIGN_OR_RETURN(out["title"], render(c.title, vars));
  }
  if (!c.link.empty()) {
    SIYU_ASSIGN_OR_RETURN(out["link"], render(c.link, vars));
  }
  if (!c.image.empty()) out["image"] = c.image;
  return Json{{"content", out}};
}

/// Renders task text; a variable without a value shows as "—" (tasks are read by staff).
std::string render_note(const std::string& text, const Variables& vars) {
  auto r = render(text, [&](const std::string& n) -> std::optional<std::string> {
    auto v = vars(n);
    return v && !v->empty() ? v : std::optional<std::string>("—");
  });
  return r ? *r : text;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

class Runner {
 public:
  Runner(const EngineDeps& deps, const store::JourneyRun& run, const RunContext& ctx,
         EpochMs now, TickReport& report)
      : deps_(deps), run_(run), ctx_(ctx), def_(*ctx.def), now_(now), report_(report),
        facts_(deps.store, ctx.ws) {
    context_ = Json::parse(run.context_json, nullptr, false);
    if (!context_.is_object()) context_ = Json::object();
  }

  Result<RunState> go() {
    Bitmap members = index::from_bytes(run_.members_blob);
    int pc = run_.pc;
    RunState state;
    const int end = static_cast<int>(def_.program.size());
    while (pc < end) {
      const Step& s = def_.program[static_cast<size_t>(pc)];
      store::RunAdvance a;
      a.run_id = run_.id;
      a.expected_pc = pc;
      a.pc = pc + 1;
      a.due_at = now_;
      a.caps = store::CapLimits{ctx_.settings.daily_cap, ctx_.settings.weekly_cap,
                                def_.cap_daily, def_.cap_weekly};
      bool waits = false;
      switch (s.kind) {
        case StepKind::kJump:
          a.pc = s.target;
          break;
        case StepKind::kWait:
          a.due_at = s.until_minute ? next_time_of_day(now_, *s.until_minute, ctx_.offset_minutes)
                                    : now_ + s.wait_ms;
          waits = true;
          break;
        case StepKind::kBranch: {
          SIYU_ASSIGN_OR_RETURN(Bitmap yes, matching(s.condition, members));
          Bitmap no = members - yes;
          if (yes.isEmpty()) {
            a.pc = s.target;
          } else if (!no.isEmpty()) {
            store::JourneyRun other = run_;
            other.id = 0;
            other.pc = s.target;
            other.due_at = now_;
            other.members_blob = index::to_bytes(no);
            other.size = static_cast<int64_t>(no.cardinality());
            other.trigger_key = run_.trigger_key + "/" + s.id;
            a.branches.push_back(std::move(other));
            a.members_blob = index::to_bytes(yes);
            a.size = static_cast<int64_t>(yes.cardinality());
            members = std::move(yes);
          }
          break;
        }
        case StepKind::kSend:
          if (s.to_group) {
            SIYU_RETURN_IF_ERROR(group_posts(s, pc, a));
          } else {
            SIYU_RETURN_IF_ERROR(customer_sends(s, pc, members, a));
          }
          break;
        case StepKind::kTag:
          SIYU_RETURN_IF_ERROR(tag(s, members));
          break;
        case StepKind::kTask:
          SIYU_RETURN_IF_ERROR(tasks(s, pc, members, a));
          break;
        case StepKind::kWebhook:
          SIYU_RETURN_IF_ERROR(webhooks(s, pc, members, a));
          break;
      }
      a.finished = a.pc >= end;
      SIYU_RETURN_IF_ERROR(advance(a));
      for (size_t i = 0; i < a.branches.size() && i < last_branch_ids_.size(); ++i) {
        state.branches.emplace_back(last_branch_ids_[i], now_);
      }
      ++report_.steps_run;
      pc = a.pc;
      if (waits && !a.finished) {
        state.due_at = a.due_at;
        return state;
      }
    }
    if (pc == run_.pc) {  // nothing ran: an empty program position; finish the run
      SIYU_RETURN_IF_ERROR(advance(finish(run_.id, pc)));
    }
    state.finished = true;
    return state;
  }

 private:
  Status advance(const store::RunAdvance& a) {
    SIYU_ASSIGN_OR_RETURN(store::AdvanceOutcome o, deps_.store.advance_run(ctx_.ws, a));
    report_.outbox_rows += o.inserted;
    report_.capped += o.capped;
    last_branch_ids_ = std::move(o.branch_ids);
    if (o.inserted > 0 && deps_.outbox_written) deps_.outbox_written();
    return Status::ok();
  }

  /// Writes a chunk of a large step's rows without moving the run.
  Status write_chunk(store::RunAdvance& a) {
    if (a.outbox.size() < kChunk && a.tasks.size() < kChunk) return Status::ok();
    store::RunAdvance chunk;
    chunk.run_id = a.run_id;
    chunk.expected_pc = a.expected_pc;
    chunk.pc = a.expected_pc;
    chunk.due_at = run_.due_at;
    chunk.caps = a.caps;
    chunk.outbox = std::move(a.outbox);
    chunk.tasks = std::move(a.tasks);
    a.outbox.clear();
    a.tasks.clear();
    return advance(chunk);
  }

  Result<Bitmap> matching(const Json& condition, const Bitmap& among) {
    SIYU_ASSIGN_OR_RETURN(segment::Expr e,
                          segment::parse_in_workspace(deps_.store, ctx_.ws, condition));
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, deps_.indexes.get(ctx_.ws));
    return ix->read(
        [&](const index::IndexView& v) { return segment::evaluate(v, e, now_, &among); });
  }

  Result<const Bitmap*> dnd() {
    if (!ctx_.settings.dnd_segment) return static_cast<const Bitmap*>(nullptr);
    if (!dnd_) {
      SIYU_ASSIGN_OR_RETURN(store::Segment seg,
                            deps_.store.segment(ctx_.ws, *ctx_.settings.dnd_segment));
      SIYU_ASSIGN_OR_RETURN(Json expr, parse_json(seg.expression_json));
      SIYU_ASSIGN_OR_RETURN(dnd_, matching(expr, all_members_));
    }
    return &*dnd_;
  }

  store::OutboxItem item(const Step& s, int pc, std::string_view recipient) const {
    store::OutboxItem o;
    o.workspace = ctx_.ws;
    o.idem_key = delivery_key(ctx_.ws, run_.id, pc, recipient);
    o.journey_id = run_.journey_id;
    o.version = run_.version;
    o.step = s.id;
    o.created_at = now_;
    o.message_class = s.message_class;
    o.not_before = now_;
    if (s.message_class == "marketing") {
      o.not_before = outbox::after_quiet_hours(ctx_.settings, now_, ctx_.offset_minutes);
      if (o.not_before > now_) {
        o.state = "deferred";
        o.reason = outbox::quiet_hours_reason(ctx_.settings);
      }
    }
    o.cap_day = local_day(o.not_before, ctx_.offset_minutes);
    return o;
  }

  Variables variables() const {
    Variables v;
    v.def = &def_;
    v.context = &context_;
    v.now = now_;
    v.offset_minutes = ctx_.offset_minutes;
    return v;
  }

  /// Calls `fn` for each live member, reading their rows a chunk at a time.
  template <typename F>
  Status for_each_customer(const Bitmap& members, F&& fn) {
    std::vector<CustomerId> ids;
    ids.reserve(kChunk);
    auto flush = [&]() -> Status {
      SIYU_ASSIGN_OR_RETURN(auto rows, deps_.store.customers_by_id(ctx_.ws, ids));
      ids.clear();
      for (const store::Customer& c : rows) {
        if (c.merged_into || c.erased_at) continue;
        SIYU_RETURN_IF_ERROR(fn(c));
      }
      return Status::ok();
    };
    for (uint32_t id : members) {
      ids.emplace_back(id);
      if (ids.size() == kChunk) SIYU_RETURN_IF_ERROR(flush());
    }
    return ids.empty() ? Status::ok() : flush();
  }

  Status customer_sends(const Step& s, int pc, const Bitmap& members, store::RunAdvance& a) {
    all_members_ = members;
    SIYU_ASSIGN_OR_RETURN(const Bitmap* quiet_segment, dnd());
    SIYU_ASSIGN_OR_RETURN(const auto* personal, facts_.personal_fields());
    // Custom fields are parsed per customer only when some variant refers to one.
    bool uses_custom = false;
    for (const Variant& v : s.variants) {
      for (const std::string* text : {&v.content.text, &v.content.title, &v.content.link}) {
        uses_custom = uses_custom || text->find("{custom.") != std::string::npos;
      }
    }
    return for_each_customer(members, [&](const store::Customer& customer) -> Status {
      const auto id = static_cast<uint32_t>(customer.id.value);
      store::OutboxItem o = item(s, pc, "c" + std::to_string(id));
      o.kind = "message";
      o.customer = customer.id;
      const Variant& variant = s.variants[pick_variant(s.variants, id, s.id)];
      if (s.variants.size() > 1) o.variant = variant.name;
      Variables vars = variables();
      vars.customer = &customer;
      if (uses_custom) vars.custom = Json::parse(customer.custom_json, nullptr, false);
      vars.personal = personal;
      if (customer.owner_staff) {
        SIYU_ASSIGN_OR_RETURN(vars.staff, facts_.user(*customer.owner_staff));
      }
      if (vars.staff != nullptr) o.staff = vars.staff->email;
      auto payload = render_content(variant.content, vars);
      if (quiet_segment != nullptr && s.message_class == "marketing" &&
          quiet_segment->contains(id)) {
        o.state = "skipped";
        o.reason = "in the do-not-disturb segment (key moments only)";
      } else if (vars.staff == nullptr) {
        o.state = "skipped";
        o.reason = "customer has no owner staff account to send through";
      } else if (!payload) {
        o.state = "invalid";
        o.reason = payload.error().message();
      }
      if (payload) {
        // A welcome code of the triggering add-friend event lets WeCom send this message as
        // the friend welcome (within 20 seconds of the add).
        const Json* props = context_.contains("event") ? &context_["event"]["properties"] : nullptr;
        if (props != nullptr && props->is_object() && props->contains("welcome_code")) {
          (*payload)["welcome_code"] = (*props)["welcome_code"];
        }
      }
      o.payload_json = payload ? payload->dump() : Json{{"error", o.reason}}.dump();
      a.outbox.push_back(std::move(o));
      return write_chunk(a);
    });
  }

  Status group_posts(const Step& s, int pc, store::RunAdvance& a) {
    for (int64_t gid : s.groups) {
      store::OutboxItem o = item(s, pc, "g" + std::to_string(gid));
      o.kind = "group_post";
      o.group = GroupId(gid);
      SIYU_ASSIGN_OR_RETURN(const store::Group* group, facts_.group(gid));
      Variables vars = variables();
      vars.group = group;
      if (group != nullptr && group->owner_staff) {
        SIYU_ASSIGN_OR_RETURN(vars.staff, facts_.user(*group->owner_staff));
      }
      if (vars.staff != nullptr) o.staff = vars.staff->email;
      const Variant& variant = s.variants[pick_variant(s.variants, static_cast<uint32_t>(gid), s.id)];
      if (s.variants.size() > 1) o.variant = variant.name;
      auto payload = render_content(variant.content, vars);
      if (group == nullptr) {
        o.state = "invalid";
        o.reason = "group " + std::to_string(gid) + " does not exist";
      } else if (!payload) {
        o.state = "invalid";
        o.reason = payload.error().message();
      }
      o.payload_json = payload ? payload->dump() : Json{{"error", o.reason}}.dump();
      a.outbox.push_back(std::move(o));
    }
    return Status::ok();
  }

  Status tag(const Step& s, const Bitmap& members) {
    std::vector<CustomerId> ids;
    ids.reserve(members.cardinality());
    for (uint32_t id : members) ids.emplace_back(id);
    if (ids.empty()) return Status::ok();
    std::optional<EpochMs> expires;
    if (s.tag_expires_days) expires = now_ + int64_t{*s.tag_expires_days} * kMsPerDay;
    // Adding or removing a tag twice ends the same way, so a repeated step is harmless.
    SIYU_ASSIGN_OR_RETURN(int64_t changed,
                          deps_.store.bulk_tag(ctx_.ws, ids, s.tag, s.remove_tag,
                                               "journey:" + std::to_string(run_.journey_id),
                                               now_, expires));
    if (changed > 0 && deps_.customers_changed) deps_.customers_changed(ctx_.ws, ids);
    return Status::ok();
  }

  Status tasks(const Step& s, int pc, const Bitmap& members, store::RunAdvance& a) {
    auto make = [&](const store::Customer* c) -> Status {
      store::StaffTask t;
      t.idem_key = delivery_key(ctx_.ws, run_.id, pc,
                                c ? "c" + std::to_string(c->id.value) : std::string("run"));
      t.journey_id = run_.journey_id;
      Variables vars = variables();
      vars.customer = c;
      if (c != nullptr) {
        t.customer = c->id;
        vars.custom = Json::parse(c->custom_json, nullptr, false);
        SIYU_ASSIGN_OR_RETURN(vars.personal, facts_.personal_fields());
        if (c->owner_staff) {
          t.staff = *c->owner_staff;
          SIYU_ASSIGN_OR_RETURN(vars.staff, facts_.user(*c->owner_staff));
        }
      }
      t.title = render_note(s.title, vars);
      t.note = render_note(s.note, vars);
      t.due_at = now_ + s.due_ms;
      t.created_at = now_;
      a.tasks.push_back(std::move(t));
      return write_chunk(a);
    };
    if (members.isEmpty() && run_.size == 0) return make(nullptr);
    return for_each_customer(members, [&](const store::Customer& c) { return make(&c); });
  }

  Status webhooks(const Step& s, int pc, const Bitmap& members, store::RunAdvance& a) {
    auto make = [&](std::optional<uint32_t> customer) -> Status {
      store::OutboxItem o = item(s, pc, customer ? "c" + std::to_string(*customer) : "run");
      o.kind = "webhook";
      o.message_class = "key";
      o.not_before = now_;
      o.state = "pending";
      o.reason.clear();
      Json body = s.body;
      body["journey"] = run_.journey_id;
      body["step"] = s.id;
      if (customer) {
        o.customer = CustomerId(*customer);
        body["customer"] = *customer;
      }
      if (context_.contains("event")) body["event"] = context_["event"];
      o.payload_json = Json{{"url", s.url}, {"body", body}}.dump();
      a.outbox.push_back(std::move(o));
      return write_chunk(a);
    };
    if (members.isEmpty() && run_.size == 0) return make(std::nullopt);
    for (uint32_t id : members) SIYU_RETURN_IF_ERROR(make(id));
    return Status::ok();
  }

  const EngineDeps& deps_;
  const store::JourneyRun& run_;
  const RunContext& ctx_;
  const JourneyDef& def_;
  const EpochMs now_;
  TickReport& report_;
  Facts facts_;
  Json context_;
  Bitmap all_members_;
  std::optional<Bitmap> dnd_;
  std::vector<int64_t> last_branch_ids_;
};

}  // namespace

store::RunAdvance finish(int64_t run_id, int pc) {
  store::RunAdvance a;
  a.run_id = run_id;
  a.expected_pc = pc;
  a.pc = pc;
  a.finished = true;
  return a;
}

std::string delivery_key(WorkspaceId ws, int64_t run_id, int pc, std::string_view recipient) {
  return "w" + std::to_string(ws.value) + "-r" + std::to_string(run_id) + "-p" +
         std::to_string(pc) + "-" + std::string(recipient);
}

size_t pick_variant(const std::vector<Variant>& variants, uint32_t customer,
                    std::string_view step) {
  if (variants.size() <= 1) return 0;
  int total = 0;
  for (const Variant& v : variants) total += v.weight;
  const uint64_t h = fnv1a(std::to_string(customer) + "/" + std::string(step));
  int point = static_cast<int>(h % static_cast<uint64_t>(total));
  for (size_t i = 0; i < variants.size(); ++i) {
    if (point < variants[i].weight) return i;
    point -= variants[i].weight;
  }
  return variants.size() - 1;
}

Result<RunState> run_steps(const EngineDeps& deps, const store::JourneyRun& run,
                           const RunContext& ctx, EpochMs now, TickReport& report) {
  return Runner(deps, run, ctx, now, report).go();
}

}  // namespace siyu::journey
