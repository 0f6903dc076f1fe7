#include "journey/definition.h"

#include <algorithm>
#include <set>

#include "core/text.h"
#include "core/time_format.h"
#include "journey/content.h"
#include "journey/holidays.h"

namespace siyu::journey {
namespace {

constexpr size_t kMaxSteps = 200;
constexpr size_t kMaxDepth = 4;
constexpr std::array<std::string_view, 7> kWeekdays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

Status at_path(const std::string& path, const std::string& message) {
  return invalid(path + " " + message, path);
}

std::string index_path(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

class Compiler {
 public:
  Compiler(const ExprCheck& check, const std::map<std::string, Variable>& vars)
      : check_(check), vars_(vars) {}

  Status compile(const Json& steps, const std::string& path, size_t depth,
                 std::vector<Step>& program) {
    if (!steps.is_array()) return at_path(path, "must be an array of steps");
    if (depth > kMaxDepth) return at_path(path, "nests branches deeper than 4 levels");
    for (size_t i = 0; i < steps.size(); ++i) {
      if (program.size() >= kMaxSteps) return at_path(path, "has more than 200 steps in all");
      SIYU_RETURN_IF_ERROR(compile_step(steps[i], index_path(path, i), depth, program));
    }
    return Status::ok();
  }

 private:
  Status compile_step(const Json& j, const std::string& path, size_t depth,
                      std::vector<Step>& program) {
    if (!j.is_object()) return at_path(path, "must be an object");
    JsonFields f(j, path);
    Step s;
    s.id = f.opt_string("id", 40).value_or("");
    const auto type = f.opt_enum("type", {"wait", "send", "branch", "tag", "task", "webhook"});
    if (!type && f.ok()) f.fail("type", "is required (wait, send, branch, tag, task, webhook)");
    if (!f.ok()) return f.finish();
    if (s.id.empty()) s.id = "s" + std::to_string(program.size() + 1);
    if (!ids_.insert(s.id).second) f.fail("id", "\"" + s.id + "\" is used by another step");
    if (*type == "wait") {
      s.kind = StepKind::kWait;
      auto duration = f.opt_string("duration", 16);
      auto until = f.opt_string("until", 5);
      if (duration.has_value() == until.has_value() && f.ok()) {
        f.fail("duration", "or \"until\" is required, not both");
      }
      if (duration && f.ok()) {
        auto ms = parse_duration(*duration);
        if (!ms) f.fail("duration", ms.error().message());
        else s.wait_ms = *ms;
      }
      if (until && f.ok()) {
        auto m = parse_time_of_day(*until);
        if (!m) f.fail("until", m.error().message());
        else s.until_minute = *m;
      }
    } else if (*type == "send") {
      s.kind = StepKind::kSend;
      const auto to = f.opt_enum("to", {"customer", "group"}).value_or("customer");
      s.to_group = to == "group";
      s.message_class = f.opt_enum("class", {"marketing", "key"}).value_or("marketing");
      if (const Json* groups = f.opt_any("groups")) {
        if (!groups->is_array() || groups->empty()) {
          f.fail("groups", "must be a non-empty array of group ids");
        } else {
          for (const Json& g : *groups) {
            if (!g.is_number_integer() || g.get<int64_t>() <= 0) {
              f.fail("groups", "must hold positive group ids");
              break;
            }
            s.groups.push_back(g.get<int64_t>());
          }
        }
      }
      if (s.to_group && s.groups.empty() && f.ok()) f.fail("groups", "is required to send to groups");
      if (!s.to_group && !s.groups.empty() && f.ok()) {
        f.fail("groups", "is only for \"to\": \"group\"");
      }
      const Json* content = f.opt_any("content");
      const Json* variants = f.opt_any("variants");
      if ((content == nullptr) == (variants == nullptr) && f.ok()) {
        f.fail("content", "or \"variants\" is required, not both");
      }
      if (!f.ok()) return f.finish();
      if (content != nullptr) {
        Variant v;
        SIYU_RETURN_IF_ERROR(parse_content(*content, f.path_of("content"), v.content));
        s.variants.push_back(std::move(v));
      } else {
        SIYU_RETURN_IF_ERROR(parse_variants(*variants, f.path_of("variants"), s.variants));
      }
    } else if (*type == "branch") {
      s.kind = StepKind::kBranch;
      const Json* cond = f.opt_any("if");
      if (cond == nullptr && f.ok()) f.fail("if", "is required (a segment expression)");
      const Json* then_steps = f.opt_any("then");
      const Json* else_steps = f.opt_any("else");
      if (!f.ok()) return f.finish();
      SIYU_RETURN_IF_ERROR(check_(*cond, f.path_of("if")));
      s.condition = *cond;
      SIYU_RETURN_IF_ERROR(f.finish());
      const size_t at = program.size();
      program.push_back(s);
      if (then_steps != nullptr) {
        SIYU_RETURN_IF_ERROR(compile(*then_steps, f.path_of("then"), depth + 1, program));
      }
      if (else_steps == nullptr || (else_steps->is_array() && else_steps->empty())) {
        program[at].target = static_cast<int>(program.size());
        return Status::ok();
      }
      const size_t jump = program.size();
      Step jump_step;
      jump_step.kind = StepKind::kJump;
      program.push_back(std::move(jump_step));
      program[at].target = static_cast<int>(program.size());
      SIYU_RETURN_IF_ERROR(compile(*else_steps, f.path_of("else"), depth + 1, program));
      program[jump].target = static_cast<int>(program.size());
      return Status::ok();
    } else if (*type == "tag") {
      s.kind = StepKind::kTag;
      auto add = f.opt_string("add", 64);
      auto remove = f.opt_string("remove", 64);
      if (add.has_value() == remove.has_value() && f.ok()) {
        f.fail("add", "or \"remove\" is required, not both");
      }
      s.tag = add ? *add : remove.value_or("");
      s.remove_tag = remove.has_value();
      if (auto days = f.opt_int("expires_days", 1, 3650)) {
        if (s.remove_tag) f.fail("expires_days", "is only for adding a tag");
        s.tag_expires_days = static_cast<int>(*days);
      }
      if (s.tag.empty() && f.ok()) f.fail(add ? "add" : "remove", "must not be empty");
    } else if (*type == "task") {
      s.kind = StepKind::kTask;
      s.title = f.req_string("title", 200);
      s.note = f.opt_string("note", 2000).value_or("");
      if (f.ok()) SIYU_RETURN_IF_ERROR(check_variables(s.title, f.path_of("title")));
      if (f.ok()) SIYU_RETURN_IF_ERROR(check_variables(s.note, f.path_of("note")));
      const auto due = f.opt_string("due", 16).value_or("1d");
      if (f.ok()) {
        auto ms = parse_duration(due);
        if (!ms) f.fail("due", ms.error().message());
        else s.due_ms = *ms;
      }
    } else if (*type == "webhook") {
      s.kind = StepKind::kWebhook;
      s.url = f.req_string("url", 2000);
      if (f.ok() && !starts_with(s.url, "https://") && !starts_with(s.url, "http://")) {
        f.fail("url", "must start with https:// or http://");
      }
      if (const Json* body = f.opt_any("body")) {
        if (!body->is_object()) f.fail("body", "must be an object");
        else s.body = *body;
      } else {
        s.body = Json::object();
      }
    }
    SIYU_RETURN_IF_ERROR(f.finish());
    program.push_back(std::move(s));
    return Status::ok();
  }

  Status parse_content(const Json& j, const std::string& path, Content& c) {
    if (!j.is_object()) return at_path(path, "must be an object with \"text\"");
    JsonFields f(j, path);
    c.text = f.req_string("text", 2000);
    c.title = f.opt_string("title", 200).value_or("");
    c.link = f.opt_string("link", 2000).value_or("");
    c.image = f.opt_string("image", 2000).value_or("");
    SIYU_RETURN_IF_ERROR(f.finish());
    if (trim(c.text).empty()) return at_path(path + ".text", "must not be empty");
    SIYU_RETURN_IF_ERROR(check_variables(c.text, path + ".text"));
    SIYU_RETURN_IF_ERROR(check_variables(c.title, path + ".title"));
    return check_variables(c.link, path + ".link");
  }

  Status parse_variants(const Json& j, const std::string& path, std::vector<Variant>& out) {
    if (!j.is_array() || j.size() < 2 || j.size() > 5) {
      return at_path(path, "must hold 2 to 5 variants");
    }
    std::set<std::string> names;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string p = index_path(path, i);
      if (!j[i].is_object()) return at_path(p, "must be an object");
      JsonFields f(j[i], p);
      Variant v;
      v.name = f.req_string("name", 40);
      v.weight = static_cast<int>(f.opt_int("weight", 1, 100).value_or(1));
      const Json* content = f.opt_any("content");
      if (content == nullptr && f.ok()) f.fail("content", "is required");
      if (f.ok() && !names.insert(v.name).second) f.fail("name", "repeats another variant's");
      SIYU_RETURN_IF_ERROR(f.finish());
      SIYU_RETURN_IF_ERROR(parse_content(*content, p + ".content", v.content));
      out.push_back(std::move(v));
    }
    return Status::ok();
  }

  Status check_variables(const std::string& text, const std::string& path) {
    auto names = variables_in(text);
    if (!names) return at_path(path, "has " + names.error().message());
    for (const std::string& n : *names) {
      if (!is_known_variable(n, vars_)) {
        return at_path(path, "uses unknown variable {" + n +
                                 "} (name, city, staff, group, today, custom.FIELD, "
                                 "event.PROPERTY or one of the journey's vars)");
      }
    }
    return Status::ok();
  }

  const ExprCheck& check_;
  const std::map<std::string, Variable>& vars_;
  std::set<std::string> ids_;
};

Status parse_trigger(const Json& j, const std::string& path, int offset_minutes, Trigger& t) {
  if (!j.is_object()) return at_path(path, "must be an object with \"type\"");
  JsonFields f(j, path);
  const auto type = f.opt_enum("type", {"schedule", "event", "segment", "date", "holiday"});
  if (!type && f.ok()) f.fail("type", "is required (schedule, event, segment, date, holiday)");
  if (!f.ok()) return f.finish();
  auto read_at = [&](bool required) {
    auto at = f.opt_string("at", 5);
    if (!at) {
      if (required && f.ok()) f.fail("at", "is required (HH:MM, workspace time)");
      return;
    }
    auto m = parse_time_of_day(*at);
    if (!m) f.fail("at", m.error().message());
    else t.minute_of_day = *m;
  };
  if (*type == "schedule") {
    t.kind = TriggerKind::kSchedule;
    const auto every = f.opt_enum("every", {"day", "week", "once"});
    if (!every && f.ok()) f.fail("every", "is required (day, week, once)");
    if (!f.ok()) return f.finish();
    if (*every == "once") {
      t.every = Every::kOnce;
      const std::string when = f.req_string("when", 30);
      if (f.ok()) {
        auto ms = parse_timestamp(when, offset_minutes);
        if (!ms) f.fail("when", "must be a time like 2026-12-01T20:00:00");
        else t.once_at = *ms;
      }
    } else {
      t.every = *every == "day" ? Every::kDay : Every::kWeek;
      read_at(true);
      if (t.every == Every::kWeek) {
        const Json* days = f.opt_any("days");
        if ((days == nullptr || !days->is_array() || days->empty()) && f.ok()) {
          f.fail("days", "is required: weekdays such as [\"sat\"]");
        } else if (days != nullptr) {
          for (const Json& d : *days) {
            const std::string name = d.is_string() ? ascii_lower(d.get<std::string>()) : "";
            auto it = std::find(kWeekdays.begin(), kWeekdays.end(), name);
            if (it == kWeekdays.end()) {
              f.fail("days", "must name weekdays: mon, tue, wed, thu, fri, sat, sun");
              break;
            }
            t.weekdays.push_back(static_cast<int>(it - kWeekdays.begin()) + 1);
          }
        }
      }
    }
  } else if (*type == "event") {
    t.kind = TriggerKind::kEvent;
    t.event = f.req_string("event", 64);
    if (const Json* where = f.opt_any("where")) {
      if (!where->is_object()) f.fail("where", "must be an object of property values");
      for (auto it = where->begin(); where->is_object() && it != where->end(); ++it) {
        if (!it.value().is_string() && !it.value().is_number()) {
          f.fail("where", "values must be text or numbers");
          break;
        }
        t.where[it.key()] = it.value().is_string() ? it.value().get<std::string>()
                                                   : it.value().dump();
      }
    }
  } else if (*type == "segment") {
    t.kind = TriggerKind::kSegment;
    t.segment_id = f.opt_int("segment", 1, INT64_MAX).value_or(0);
    if (t.segment_id == 0 && f.ok()) f.fail("segment", "is required (a saved segment id)");
    t.on_enter = f.opt_enum("on", {"enter", "exit"}).value_or("enter") == "enter";
  } else if (*type == "date") {
    t.kind = TriggerKind::kDate;
    t.date_field = f.req_string("field", 80);
    if (f.ok() && t.date_field != "birthday" && !starts_with(t.date_field, "custom.")) {
      f.fail("field", "must be \"birthday\" or a custom date field \"custom.NAME\"");
    }
    t.days_before = static_cast<int>(f.opt_int("days_before", 0, 60).value_or(0));
    read_at(true);
  } else {
    t.kind = TriggerKind::kHoliday;
    t.holiday = f.req_string("holiday", 40);
    if (f.ok() && !is_holiday(t.holiday)) {
      f.fail("holiday", "is not in the holiday calendar (GET /v1/holidays lists it)");
    }
    t.days_before = static_cast<int>(f.opt_int("days_before", 0, 60).value_or(0));
    read_at(true);
  }
  return f.finish();
}

Result<std::map<std::string, Variable>> parse_vars(const Json& j, const std::string& path,
                                                   int offset_minutes) {
  std::map<std::string, Variable> out;
  if (!j.is_object()) return at_path(path, "must be an object of names to values");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string p = path + "." + it.key();
    if (it.key().empty() || it.key().size() > 40 || is_builtin_variable(it.key()) ||
        it.key().find_first_of("{}. ") != std::string::npos) {
      return at_path(p, "is not a usable variable name");
    }
    Variable v;
    if (it.value().is_string()) {
      v.value = it.value().get<std::string>();
    } else if (it.value().is_object()) {
      JsonFields f(it.value(), p);
      v.value = f.req_string("value", 500);
      for (const char* bound : {"from", "to"}) {
        if (auto s = f.opt_string(bound, 30)) {
          auto ms = parse_timestamp(*s, offset_minutes);
          if (!ms) f.fail(bound, "must be a time like 2026-12-01T20:00:00");
          else (std::string_view(bound) == "from" ? v.from : v.to) = *ms;
        }
      }
      SIYU_RETURN_IF_ERROR(f.finish());
      if (v.from && v.to && *v.to <= *v.from) return at_path(p + ".to", "must be after from");
    } else {
      return at_path(p, "must be text or {\"value\", \"from\", \"to\"}");
    }
    if (v.value.empty()) return at_path(p, "must not be empty");
    out.emplace(it.key(), std::move(v));
  }
  return out;
}

}  // namespace

bool JourneyDef::reaches_customers() const {
  return std::any_of(program.begin(), program.end(), [](const Step& s) {
    return (s.kind == StepKind::kSend && !s.to_group) || s.kind == StepKind::kTag ||
           s.kind == StepKind::kBranch;
  });
}

Result<int64_t> parse_duration(std::string_view s) {
  s = trim(s);
  if (s.size() < 2) return invalid("must be a duration such as 30m, 2h or 3d");
  int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1'000; break;
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    default: return invalid("must be a duration such as 30m, 2h or 3d");
  }
  int64_t n = 0;
  for (char ch : s.substr(0, s.size() - 1)) {
    if (ch < '0' || ch > '9' || n > 1'000'000) {
      return invalid("must be a duration such as 30m, 2h or 3d");
    }
    n = n * 10 + (ch - '0');
  }
  const int64_t ms = n * unit;
  if (ms <= 0 || ms > 366 * int64_t{86'400'000}) {
    return invalid("must be between 1 second and 366 days");
  }
  return ms;
}

Result<int> parse_time_of_day(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return invalid("must be a time of day HH:MM");
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4])) {
    return invalid("must be a time of day HH:MM");
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return invalid("must be a time of day HH:MM");
  return h * 60 + m;
}

Result<JourneyDef> parse_journey(const Json& j, const ExprCheck& check, int offset_minutes) {
  if (!j.is_object()) return invalid("definition must be an object");
  JsonFields f(j, "");
  JourneyDef d;
  d.description = f.opt_string("description", 2000).value_or("");
  const Json* trigger = f.opt_any("trigger");
  const Json* audience = f.opt_any("audience");
  const Json* steps = f.opt_any("steps");
  const Json* goal = f.opt_any("goal");
  const Json* vars = f.opt_any("vars");
  d.cap_daily = static_cast<int>(f.opt_int("cap_daily", 0, 100).value_or(0));
  d.cap_weekly = static_cast<int>(f.opt_int("cap_weekly", 0, 500).value_or(0));
  const auto reentry = f.opt_enum("reentry", {"after_exit", "once", "always"});
  if (reentry) {
    d.reentry = *reentry == "once" ? Reentry::kOnce
                : *reentry == "always" ? Reentry::kAlways
                                       : Reentry::kAfterExit;
  }
  if (trigger == nullptr && f.ok()) f.fail("trigger", "is required");
  if (steps == nullptr && f.ok()) f.fail("steps", "is required");
  SIYU_RETURN_IF_ERROR(f.finish());
  SIYU_RETURN_IF_ERROR(parse_trigger(*trigger, "trigger", offset_minutes, d.trigger));
  if (vars != nullptr) {
    SIYU_ASSIGN_OR_RETURN(d.vars, parse_vars(*vars, "vars", offset_minutes));
  }
  if (audience != nullptr && !audience->is_null()) {
    SIYU_RETURN_IF_ERROR(check(*audience, "audience"));
    d.audience = *audience;
  }
  if (goal != nullptr && !goal->is_null()) {
    if (!goal->is_object()) return at_path("goal", "must be an object with \"event\"");
    JsonFields g(*goal, "goal");
    Goal out;
    out.event = g.req_string("event", 64);
    out.within_days = static_cast<int>(g.opt_int("within_days", 1, 90).value_or(7));
    SIYU_RETURN_IF_ERROR(g.finish());
    d.goal = out;
  }
  Compiler compiler(check, d.vars);
  SIYU_RETURN_IF_ERROR(compiler.compile(*steps, "steps", 0, d.program));
  if (d.program.empty()) return at_path("steps", "must hold at least one step");
  const bool per_customer_trigger = d.trigger.kind == TriggerKind::kEvent ||
                                    d.trigger.kind == TriggerKind::kSegment ||
                                    d.trigger.kind == TriggerKind::kDate;
  if (!per_customer_trigger && !d.audience && d.reaches_customers()) {
    return at_path("audience", "is required: this trigger enrols the audience's members, and "
                               "the steps reach customers");
  }
  for (size_t i = 0; i < d.program.size(); ++i) {
    const Step& s = d.program[i];
    const bool uses_event = d.trigger.kind == TriggerKind::kEvent;
    for (const Variant& v : s.variants) {
      auto names = variables_in(v.content.text);
      for (const std::string& n : names.value_or(std::vector<std::string>{})) {
        if (starts_with(n, "event.") && !uses_event) {
          return at_path("steps", "step \"" + s.id + "\" uses {" + n +
                                      "}, but only event triggers carry an event");
        }
      }
    }
  }
  return d;
}

}  // namespace siyu::journey
