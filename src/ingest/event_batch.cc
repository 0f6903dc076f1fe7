// The event batch parser, on simdjson: the ingest hot path. Parses the body once into a
// DOM, validates each event in place, and keeps `properties` as minified JSON text without
// building a tree of its own. Rules and messages are those documented in docs/api.md.
#include <simdjson.h>

#include <array>

#include "core/text.h"
#include "core/time_format.h"
#include "ingest/ingest.h"

namespace siyu::ingest {
namespace {

namespace dom = simdjson::dom;

constexpr EpochMs kEarliest = 946'684'800'000;  // 2000-01-01
constexpr size_t kMaxProperties = 16 * 1024;

/// Strict reader of one event object: types, lengths and unknown fields, with paths.
class EventReader {
 public:
  EventReader(dom::object obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  Status check_known(std::initializer_list<std::string_view> known) const {
    for (auto field : obj_) {
      bool ok = false;
      for (auto k : known) ok = ok || field.key == k;
      if (!ok) {
        const std::string p = path_ + "." + std::string(field.key);
        return invalid(p + " is not a known field", p);
      }
    }
    return Status::ok();
  }

  /// A present, non-null member, or nullopt.
  std::optional<dom::element> member(std::string_view key) const {
    dom::element el;
    if (obj_.at_key(key).get(el) != simdjson::SUCCESS || el.is_null()) return std::nullopt;
    return el;
  }

  Result<std::string_view> text(std::string_view key, size_t max_chars, bool required) const {
    auto el = member(key);
    if (!el) {
      if (required) return problem(key, " is required");
      return std::string_view();
    }
    std::string_view s;
    if (el->get_string().get(s) != simdjson::SUCCESS) return problem(key, " must be a string");
    if (auto wrong = text_problem(s, max_chars)) return problem(key, " " + *wrong);
    if (required && trim(s).empty()) return problem(key, " must not be empty");
    return s;
  }

  Result<int64_t> integer(std::string_view key, int64_t min, int64_t max) const {
    auto el = member(key);
    if (!el) return int64_t{0};
    int64_t v = 0;
    if (el->get_int64().get(v) != simdjson::SUCCESS) {
      return problem(key, el->is_number() ? " is out of range" : " must be an integer");
    }
    if (v < min || v > max) {
      return problem(key,
                     " must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }

  /// The error for member `key`, its path built only now: valid events build none.
  Status problem(std::string_view key, const std::string& what) const {
    const std::string p = path_ + "." + std::string(key);
    return invalid(p + what, p);
  }

  const std::string& path() const { return path_; }

 private:
  dom::object obj_;
  std::string path_;
};

/// The event's `timestamp` member `el`; errors name `event_path`.timestamp.
Result<EpochMs> element_time(dom::element el, const std::string& event_path) {
  int64_t ms = 0;
  if (el.get_int64().get(ms) == simdjson::SUCCESS) return ms;
  const std::string path = event_path + ".timestamp";
  std::string_view s;
  if (el.get_string().get(s) == simdjson::SUCCESS) {
    auto t = parse_timestamp(s, 480);
    if (!t) return invalid(path + " must be ISO 8601, e.g. 2026-01-31T20:00:00+08:00", path);
    return t;
  }
  return invalid(path + " must be an ISO 8601 string or epoch milliseconds", path);
}

/// A property usable as a relationship target: a non-empty string or an integer.
std::optional<std::string> target_of(std::optional<dom::object> props, std::string_view key) {
  if (!props) return std::nullopt;
  dom::element el;
  if (props->at_key(key).get(el) != simdjson::SUCCESS) return std::nullopt;
  std::string_view s;
  if (el.get_string().get(s) == simdjson::SUCCESS && !s.empty()) return std::string(s);
  int64_t n = 0;
  if (el.get_int64().get(n) == simdjson::SUCCESS) return std::to_string(n);
  return std::nullopt;
}

Result<std::optional<store::RelationChange>> relation_of(const store::Event& e,
                                                         std::optional<dom::object> props,
                                                         const std::string& path) {
  using RC = store::RelationChange;
  const std::string& t = e.type;
  if (t == "follow" || t == "unfollow") {
    std::string target =
        target_of(props, "account").value_or(e.channel.empty() ? "default" : e.channel);
    return std::optional<RC>(RC{"follow", std::move(target), t == "follow"});
  }
  if (t == "join_group" || t == "leave_group") {
    auto g = target_of(props, "group_id");
    if (!g) {
      return invalid(path + ".properties.group_id is required for " + t,
                     path + ".properties.group_id");
    }
    bool removed = false;
    dom::element flag;
    if (props && props->at_key("removed").get(flag) == simdjson::SUCCESS &&
        flag.get_bool().get(removed) != simdjson::SUCCESS) {
      removed = false;
    }
    std::string source = target_of(props, "source").value_or("");
    return std::optional<RC>(RC{"group", *g, t == "join_group", std::move(source), removed});
  }
  if (t == "add_friend" || t == "remove_friend") {
    std::string staff = e.staff.empty() ? target_of(props, "staff_id").value_or("") : e.staff;
    if (staff.empty()) return invalid(path + ".staff is required for " + t, path + ".staff");
    return std::optional<RC>(RC{"friend", std::move(staff), t == "add_friend"});
  }
  if (t == "member_join" || t == "member_leave") {
    return std::optional<RC>(
        RC{"membership", target_of(props, "tier").value_or("member"), t == "member_join"});
  }
  return std::optional<RC>();
}

Status read_subject(std::optional<dom::element> subject, const customer::IdentityCodec& codec,
                    const std::string& path, store::PendingEvent& p) {
  dom::object obj;
  if (!subject) return invalid(path + " is required", path);
  if (subject->get_object().get(obj) != simdjson::SUCCESS) {
    return invalid(path + " must be an object", path);
  }
  EventReader r(obj, path);
  if (r.member("id")) {
    SIYU_RETURN_IF_ERROR(r.check_known({"id"}));
    SIYU_ASSIGN_OR_RETURN(int64_t id, r.integer("id", 1, INT32_MAX));
    p.customer = CustomerId(id);
    return Status::ok();
  }
  SIYU_RETURN_IF_ERROR(r.check_known({"type", "value", "app_id"}));
  SIYU_ASSIGN_OR_RETURN(std::string_view type, r.text("type", 32, true));
  SIYU_ASSIGN_OR_RETURN(std::string_view value, r.text("value", 256, true));
  SIYU_ASSIGN_OR_RETURN(std::string_view app_id, r.text("app_id", 64, false));
  SIYU_ASSIGN_OR_RETURN(auto identity, codec.make(type, value, app_id, path));
  p.identity = std::move(identity);
  return Status::ok();
}

Result<store::PendingEvent> parse_event(dom::element el, const customer::IdentityCodec& codec,
                                        EpochMs now, const std::string& path) {
  dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) {
    return invalid(path + " must be a JSON object", path);
  }
  EventReader r(obj, path);
  SIYU_RETURN_IF_ERROR(r.check_known({"event_id", "type", "timestamp", "customer", "properties",
                                      "amount", "channel", "campaign", "content", "staff"}));
  store::PendingEvent p;
  store::Event& e = p.event;
  SIYU_ASSIGN_OR_RETURN(std::string_view id, r.text("event_id", 128, true));
  SIYU_ASSIGN_OR_RETURN(std::string_view type, r.text("type", 64, true));
  SIYU_ASSIGN_OR_RETURN(e.amount, r.integer("amount", -100'000'000'000, 100'000'000'000));
  SIYU_ASSIGN_OR_RETURN(std::string_view channel, r.text("channel", 128, false));
  SIYU_ASSIGN_OR_RETURN(std::string_view campaign, r.text("campaign", 128, false));
  SIYU_ASSIGN_OR_RETURN(std::string_view content, r.text("content", 128, false));
  SIYU_ASSIGN_OR_RETURN(std::string_view staff, r.text("staff", 128, false));
  e.event_id = id;
  e.type = type;
  e.channel = channel;
  e.campaign = campaign;
  e.content = content;
  e.staff = staff;
  if (!is_known_event_type(e.type)) {
    return invalid(path + ".type \"" + e.type +
                       "\" is not a known event type (custom types start with x_)",
                   path + ".type");
  }
  auto ts = r.member("timestamp");
  if (!ts) return invalid(path + ".timestamp is required", path + ".timestamp");
  SIYU_ASSIGN_OR_RETURN(e.ts, element_time(*ts, path));
  if (e.ts < kEarliest || e.ts > now + kMsPerDay) {
    return invalid(path + ".timestamp is outside 2000-01-01 .. tomorrow", path + ".timestamp");
  }
  SIYU_RETURN_IF_ERROR(read_subject(r.member("customer"), codec, path + ".customer", p));
  std::optional<dom::object> props;
  if (auto pe = r.member("properties")) {
    dom::object po;
    if (pe->get_object().get(po) != simdjson::SUCCESS) {
      return invalid(path + ".properties must be an object", path + ".properties");
    }
    props = po;
    e.properties_json = simdjson::minify(*pe);
    if (e.properties_json.size() > kMaxProperties) {
      return invalid(path + ".properties is larger than 16 KiB", path + ".properties");
    }
  }
  SIYU_ASSIGN_OR_RETURN(p.relation, relation_of(e, props, path));
  return p;
}

std::string malformed(simdjson::error_code code) {
  return std::string("malformed json: ") + simdjson::error_message(code);
}

}  // namespace

Result<ParsedEvents> parse_event_batch(std::string_view body, bool ndjson,
                                       const customer::IdentityCodec& codec, EpochMs now) {
  // One parser per thread: its buffers are reused from batch to batch.
  thread_local dom::parser parser;
  ParsedEvents out;
  size_t index = 0;
  auto take = [&](dom::element el) {
    auto p = parse_event(el, codec, now, "events[" + std::to_string(index) + "]");
    if (p) {
      out.events.push_back(std::move(p).value());
      out.positions.push_back(index);
    } else {
      out.errors.push_back({index, p.error()});
    }
    ++index;
  };
  if (!ndjson) {
    dom::element doc;
    if (auto err = parser.parse(body.data(), body.size()).get(doc); err != simdjson::SUCCESS) {
      return invalid(malformed(err));
    }
    dom::array arr;
    if (doc.get_array().get(arr) != simdjson::SUCCESS) {
      if (!doc.is_object()) return invalid("body must be an array of events");
      take(doc);
      return out;
    }
    if (arr.size() > kMaxBatchEvents) {
      return Status(ErrorCode::kPayloadTooLarge, "batch has " + std::to_string(arr.size()) +
                                                     " events; the limit is " +
                                                     std::to_string(kMaxBatchEvents));
    }
    out.events.reserve(arr.size());
    for (dom::element el : arr) take(el);
    return out;
  }
  size_t line_no = 0;
  for (std::string_view line : split(body, '\n')) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    if (index == kMaxBatchEvents) {
      return Status(ErrorCode::kPayloadTooLarge,
                    "batch has more than " + std::to_string(kMaxBatchEvents) + " events");
    }
    dom::element doc;
    if (auto err = parser.parse(line.data(), line.size()).get(doc); err != simdjson::SUCCESS) {
      return invalid("line " + std::to_string(line_no) + ": " + malformed(err));
    }
    take(doc);
  }
  return out;
}

}  // namespace siyu::ingest
