#include "segment/expr.h"

#include <algorithm>
#include <array>
#include <limits>
#include <tuple>

#include "core/time_format.h"
#include "index/customer_index.h"
#include "index/derived.h"

namespace siyu::segment {
namespace {

constexpr std::array<std::string_view, 4> kEnumerated = {"gender", "city", "channel_id",
                                                         "owner_staff_id"};
constexpr std::array<std::string_view, 5> kLayers = {"none", "fan", "community", "friend",
                                                     "member"};
constexpr int kMaxDepth = 64;
constexpr int kMaxNodes = 1000;

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

/// Enumerated values arrive as strings or integers (channel and staff ids); both become text.
Result<std::string> value_text(const Json& v, const std::string& path) {
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (text.empty()) return invalid(path + " must not be empty; use {\"not\": ... \"exists\"}", path);
    if (auto p = text_problem(text, 128)) return invalid(path + " " + *p, path);
    return text;
  }
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return invalid(path + " must be a string or an integer", path);
}

Result<EpochMs> time_value(const Json& v, const std::string& path) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() == 10) {
      auto d = parse_date(s);
      if (!d) return invalid(path + " must be a date or ISO 8601 timestamp", path);
      return days_from_civil(*d) * kMsPerDay - 480 * 60'000;  // midnight in Beijing
    }
    auto t = parse_timestamp(s, 480);
    if (!t) return invalid(path + " must be a date or ISO 8601 timestamp", path);
    return t;
  }
  return invalid(path + " must be a date, an ISO 8601 timestamp or epoch milliseconds", path);
}

class Parser {
 public:
  explicit Parser(const ParseContext& ctx) : ctx_(ctx) {
    if (ctx.self) chain_.push_back(*ctx.self);
  }

  Result<Expr> parse(const Json& j, const std::string& path, int depth) {
    if (depth > kMaxDepth) return invalid(path + " nests deeper than 64 levels", path);
    if (++nodes_ > kMaxNodes) return invalid("expression has more than 1000 nodes", path);
    const std::string where = path.empty() ? "expression" : path;
    if (!j.is_object() || j.size() == 0) return invalid(where + " must be a non-empty object", path);
    if (j.contains("and") || j.contains("or")) return group(j, path, depth);
    if (j.contains("not")) {
      if (j.size() != 1) return invalid(where + " must have only \"not\"", path);
      SIYU_ASSIGN_OR_RETURN(Expr inner, parse(j["not"], child_path(path, "not"), depth + 1));
      Expr e;
      e.kind = ExprKind::kNot;
      e.children.push_back(std::move(inner));
      return e;
    }
    if (j.contains("tag")) {
      if (j.size() != 1) return invalid(where + " must have only \"tag\"", path);
      const Json& t = j["tag"];
      const std::string p = child_path(path, "tag");
      if (!t.is_string() || t.get_ref<const std::string&>().empty()) {
        return invalid(p + " must be a tag name", p);
      }
      if (auto problem = text_problem(t.get_ref<const std::string&>(), 32)) return invalid(p + " " + *problem, p);
      Expr e;
      e.kind = ExprKind::kTag;
      e.values.push_back(t.get<std::string>());
      return e;
    }
    if (j.contains("layer")) return layer(j, path);
    if (j.contains("attr")) return attribute(j, path);
    if (j.contains("segment")) return reference(j, path, depth);
    if (j.contains("event")) return behaviour(j, path);
    if (j.contains("group")) return group_membership(j, path);
    if (j.contains("lifecycle")) return lifecycle(j, path);
    if (j.contains("rfm")) return rfm(j, path);
    const std::string key = j.begin().key();
    return invalid(child_path(path, key) +
                       " is not a known condition (and, or, not, tag, layer, attr, segment, "
                       "event, group, lifecycle, rfm)",
                   child_path(path, key));
  }

 private:
  Result<Expr> group(const Json& j, const std::string& path, int depth) {
    const bool is_and = j.contains("and");
    const std::string key = is_and ? "and" : "or";
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"" + key + "\"", path);
    const Json& list = j[key];
    const std::string p = child_path(path, key);
    if (!list.is_array() || list.empty()) return invalid(p + " must be a non-empty array", p);
    Expr e;
    e.kind = is_and ? ExprKind::kAnd : ExprKind::kOr;
    for (size_t i = 0; i < list.size(); ++i) {
      SIYU_ASSIGN_OR_RETURN(Expr child, parse(list[i], p + "[" + std::to_string(i) + "]", depth + 1));
      e.children.push_back(std::move(child));
    }
    return e;
  }

  static Result<Expr> layer(const Json& j, const std::string& path) {
    const std::string p = child_path(path, "layer");
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"layer\"", path);
    const Json& list = j["layer"];
    if (!list.is_array() || list.empty()) return invalid(p + " must be a non-empty array of layers", p);
    Expr e;
    e.kind = ExprKind::kLayer;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string ip = p + "[" + std::to_string(i) + "]";
      bool known = false;
      for (auto l : kLayers) known = known || (list[i].is_string() && list[i].get_ref<const std::string&>() == l);
      if (!known) return invalid(ip + " must be one of none, fan, community, friend, member", ip);
      e.values.push_back(list[i].get<std::string>());
    }
    return e;
  }

  /// {"gte": 3}, {"gte": 1, "lt": 5}, {"eq": 0} → inclusive bounds in e.low and e.high.
  static Status comparison(const Json& j, const std::string& path, Expr& e) {
    if (!j.is_object() || j.empty()) {
      return invalid(path + " must be an object such as {\"gte\": 3}", path);
    }
    for (const auto& [op, v] : j.items()) {
      const std::string p = child_path(path, op);
      if (!v.is_number_integer()) return invalid(p + " must be an integer", p);
      const int64_t n = v.get<int64_t>();
      if (n <= INT64_MIN + 1 || n >= INT64_MAX - 1) return invalid(p + " is out of range", p);
      if (op == "gte") {
        e.low = std::max(e.low, n);
      } else if (op == "gt") {
        e.low = std::max(e.low, n + 1);
      } else if (op == "lte") {
        e.high = std::min(e.high, n);
      } else if (op == "lt") {
        e.high = std::min(e.high, n - 1);
      } else if (op == "eq") {
        e.low = std::max(e.low, n);
        e.high = std::min(e.high, n);
      } else {
        return invalid(p + " is not a comparison (gte, gt, lte, lt, eq)", p);
      }
    }
    return Status::ok();
  }

  Result<Expr> behaviour(const Json& j, const std::string& path) {
    JsonFields f(j, path);
    std::string type = f.req_string("event", 64);
    const Json* where = f.opt_any("where");
    const Json* days = f.opt_any("within_days");
    const Json* count = f.opt_any("count");
    const Json* sum = f.opt_any("sum");
    SIYU_RETURN_IF_ERROR(f.finish());
    const std::string dp = child_path(path, "within_days");
    if (days == nullptr) return invalid(dp + " is required", dp);
    if (!days->is_number_integer() || days->get<int64_t>() < 1 || days->get<int64_t>() > 365) {
      return invalid(dp + " must be a whole number of days from 1 to 365", dp);
    }
    if (count != nullptr && sum != nullptr) {
      return invalid(child_path(path, "sum") + " can't be combined with count", child_path(path, "sum"));
    }
    if (where != nullptr) {
      SIYU_ASSIGN_OR_RETURN(type, property_filter(type, *where, child_path(path, "where")));
    }
    Expr e;
    e.kind = ExprKind::kBehaviour;
    e.attr = type;
    e.within_days = static_cast<int>(days->get<int64_t>());
    e.sum = sum != nullptr;
    if (count == nullptr && sum == nullptr) {
      e.low = 1;
      return e;
    }
    const std::string key = e.sum ? "sum" : "count";
    SIYU_RETURN_IF_ERROR(comparison(e.sum ? *sum : *count, child_path(path, key), e));
    if (e.low > e.high) {
      return invalid(child_path(path, key) + " matches no value", child_path(path, key));
    }
    return e;
  }

  /// {"content_tags": "护肤"} → the event key of `type` events with that value.
  Result<std::string> property_filter(const std::string& type, const Json& where,
                                      const std::string& path) {
    if (!where.is_object() || where.size() != 1) {
      return invalid(path + " must name one property and its value, e.g. {\"content_tags\": \"护肤\"}", path);
    }
    const std::string name = where.begin().key();
    const std::string p = child_path(path, name);
    if (!ctx_.event_property) return invalid(p + " can't filter event properties here", p);
    SIYU_ASSIGN_OR_RETURN(bool declared, ctx_.event_property(name));
    if (!declared) {
      return invalid(p + " is not an indexed event property (declare it with POST /v1/event-properties)", p);
    }
    const Json& v = where.begin().value();
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) return invalid(p + " must be text", p);
    if (auto problem = text_problem(v.get_ref<const std::string&>(), 64)) return invalid(p + " " + *problem, p);
    return index::event_key(type, name, v.get<std::string>());
  }

  static Result<Expr> group_membership(const Json& j, const std::string& path) {
    const std::string p = child_path(path, "group");
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"group\"", path);
    const Json& list = j["group"];
    if (!list.is_array() || list.empty()) return invalid(p + " must be a non-empty array of group ids", p);
    Expr e;
    e.kind = ExprKind::kGroup;
    for (size_t i = 0; i < list.size(); ++i) {
      SIYU_ASSIGN_OR_RETURN(std::string v, value_text(list[i], p + "[" + std::to_string(i) + "]"));
      e.values.push_back(std::move(v));
    }
    return e;
  }

  static Result<Expr> lifecycle(const Json& j, const std::string& path) {
    const std::string p = child_path(path, "lifecycle");
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"lifecycle\"", path);
    const Json& list = j["lifecycle"];
    if (!list.is_array() || list.empty()) return invalid(p + " must be a non-empty array of stages", p);
    Expr e;
    e.kind = ExprKind::kLifecycle;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string ip = p + "[" + std::to_string(i) + "]";
      if (!list[i].is_string() || !index::parse_lifecycle(list[i].get_ref<const std::string&>())) {
        return invalid(ip + " must be one of new, active, repeat, loyal, at_risk, churned", ip);
      }
      e.values.push_back(list[i].get<std::string>());
    }
    return e;
  }

  static Result<Expr> rfm(const Json& j, const std::string& path) {
    const std::string p = child_path(path, "rfm");
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"rfm\"", path);
    const Json& cells = j["rfm"];
    if (!cells.is_object() || cells.empty()) {
      return invalid(p + " must be an object such as {\"r\": [4, 5]}", p);
    }
    Expr e;
    e.kind = ExprKind::kRfm;
    for (const auto& [key, list] : cells.items()) {
      const std::string kp = child_path(p, key);
      const size_t axis = key == "r" ? 0 : key == "f" ? 1 : key == "m" ? 2 : 3;
      if (axis == 3) return invalid(kp + " is not r, f or m", kp);
      if (!list.is_array() || list.empty()) return invalid(kp + " must be a non-empty array of scores 1 to 5", kp);
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string ip = kp + "[" + std::to_string(i) + "]";
        if (!list[i].is_number_integer() || list[i].get<int64_t>() < 1 || list[i].get<int64_t>() > 5) {
          return invalid(ip + " must be a score from 1 to 5", ip);
        }
        e.rfm[axis] |= static_cast<uint8_t>(1U << list[i].get<int>());
      }
    }
    return e;
  }

  Result<Expr> attribute(const Json& j, const std::string& path) {
    JsonFields f(j, path);
    const std::string attr = f.req_string("attr", 48);
    const std::string op = f.opt_enum("op", {"eq", "ne", "in", "prefix", "exists", "range"}).value_or("");
    const Json* value = f.opt_any("value");
    const Json* values = f.opt_any("values");
    const Json* from = f.opt_any("from");
    const Json* to = f.opt_any("to");
    SIYU_RETURN_IF_ERROR(f.finish());
    const std::string ap = child_path(path, "attr");
    const std::string op_path = child_path(path, "op");
    if (op.empty()) return invalid(op_path + " is required", op_path);
    Expr e;
    e.attr = attr;
    if (attr == "created_at") {
      if (op != "range") return invalid(op_path + " must be range for created_at", op_path);
      if (from == nullptr && to == nullptr) {
        return invalid(child_path(path, "from") + " or to is required", child_path(path, "from"));
      }
      e.kind = ExprKind::kCreatedRange;
      if (from != nullptr) {
        SIYU_ASSIGN_OR_RETURN(e.from, time_value(*from, child_path(path, "from")));
      }
      if (to != nullptr) {
        SIYU_ASSIGN_OR_RETURN(e.to, time_value(*to, child_path(path, "to")));
      }
      return e;
    }
    if (attr == "paid_orders" || attr == "spend") {
      if (op != "range") return invalid(op_path + " must be range for " + attr, op_path);
      if (from == nullptr && to == nullptr) {
        return invalid(child_path(path, "from") + " or to is required", child_path(path, "from"));
      }
      e.kind = ExprKind::kNumberRange;
      for (auto [bound, key, out] : {std::tuple{from, "from", &e.from}, std::tuple{to, "to", &e.to}}) {
        if (bound == nullptr) continue;
        if (!bound->is_number_integer()) {
          return invalid(child_path(path, key) + " must be an integer", child_path(path, key));
        }
        *out = bound->get<int64_t>();
      }
      return e;
    }
    if (attr == "predicted_value" || attr == "p_alive") {
      // Lifetime-value predictions of the last refit: cents over 12 months, and percent.
      return number_field(false, op, value, values, from, to, path, std::move(e));
    }
    const bool custom = attr.rfind("custom.", 0) == 0;
    std::string field_type;
    if (custom) {
      SIYU_ASSIGN_OR_RETURN(field_type, custom_field_type(attr.substr(7), ap));
      if (field_type == "number" || field_type == "date") {
        return number_field(field_type == "date", op, value, values, from, to, path, std::move(e));
      }
      if (op == "prefix" && field_type == "boolean") {
        return invalid(op_path + " prefix is only for text", op_path);
      }
    }
    if (!custom && !is_enumerated_attr(attr)) {
      return invalid(ap + " must be gender, city, channel_id, owner_staff_id, created_at, "
                          "paid_orders, spend, predicted_value, p_alive or custom.NAME", ap);
    }
    const auto text = [&](const Json& v, const std::string& p) -> Result<std::string> {
      if (field_type == "boolean") {
        if (!v.is_boolean()) return invalid(p + " must be true or false", p);
        return std::string(v.get<bool>() ? "true" : "false");
      }
      if (field_type == "string" && !v.is_string()) return invalid(p + " must be text", p);
      return value_text(v, p);
    };
    const std::string vp = child_path(path, "value");
    if (op == "eq" || op == "ne" || op == "prefix") {
      if (value == nullptr || value->is_null()) return invalid(vp + " is required", vp);
      if (op == "prefix" && !value->is_string()) return invalid(vp + " must be text for prefix", vp);
      SIYU_ASSIGN_OR_RETURN(std::string v, text(*value, vp));
      e.kind = op == "eq" ? ExprKind::kAttrEq : op == "ne" ? ExprKind::kAttrNe : ExprKind::kAttrPrefix;
      e.values.push_back(std::move(v));
      return e;
    }
    if (op == "in") {
      const std::string lp = child_path(path, "values");
      if (values == nullptr || !values->is_array() || values->empty()) {
        return invalid(lp + " must be a non-empty array", lp);
      }
      e.kind = ExprKind::kAttrIn;
      for (size_t i = 0; i < values->size(); ++i) {
        SIYU_ASSIGN_OR_RETURN(std::string v, text((*values)[i], lp + "[" + std::to_string(i) + "]"));
        e.values.push_back(std::move(v));
      }
      return e;
    }
    if (op == "exists") {
      e.kind = ExprKind::kAttrExists;
      return e;
    }
    return invalid(op_path + " range is only for created_at, paid_orders, spend and number or "
                             "date fields", op_path);
  }

  Result<std::string> custom_field_type(const std::string& name, const std::string& path) {
    if (!ctx_.field_types) return invalid(path + " can't name custom fields here", path);
    auto type = ctx_.field_types(name);
    if (!type) return invalid(type.error().message(), path);
    if (!*type) return invalid(path + " names no custom field (" + name + ")", path);
    return **type;
  }

  /// A number or date field: eq and in become value lists, ne the negation of eq.
  static Result<Expr> number_field(bool date, const std::string& op, const Json* value,
                                   const Json* values, const Json* from, const Json* to,
                                   const std::string& path, Expr e) {
    const auto number = [date](const Json& v, const std::string& p) -> Result<double> {
      if (date) {
        if (!v.is_string()) return invalid(p + " must be a date YYYY-MM-DD", p);
        auto d = parse_date(v.get_ref<const std::string&>());
        if (!d) return invalid(p + " must be a date YYYY-MM-DD", p);
        return static_cast<double>(days_from_civil(*d));
      }
      if (!v.is_number()) return invalid(p + " must be a number", p);
      return v.get<double>();
    };
    e.kind = ExprKind::kNumberField;
    e.number_from = 0;
    e.number_to = 0;  // an empty range: only `numbers` match
    const std::string vp = child_path(path, "value");
    if (op == "eq" || op == "ne") {
      if (value == nullptr || value->is_null()) return invalid(vp + " is required", vp);
      SIYU_ASSIGN_OR_RETURN(double v, number(*value, vp));
      e.numbers.push_back(v);
      if (op == "eq") return e;
      Expr negated;
      negated.kind = ExprKind::kNot;
      negated.children.push_back(std::move(e));
      return negated;
    }
    if (op == "in") {
      const std::string lp = child_path(path, "values");
      if (values == nullptr || !values->is_array() || values->empty()) {
        return invalid(lp + " must be a non-empty array", lp);
      }
      for (size_t i = 0; i < values->size(); ++i) {
        SIYU_ASSIGN_OR_RETURN(double v, number((*values)[i], lp + "[" + std::to_string(i) + "]"));
        e.numbers.push_back(v);
      }
      return e;
    }
    if (op == "range") {
      if (from == nullptr && to == nullptr) {
        return invalid(child_path(path, "from") + " or to is required", child_path(path, "from"));
      }
      e.number_from = -std::numeric_limits<double>::infinity();
      e.number_to = std::numeric_limits<double>::infinity();
      if (from != nullptr) {
        SIYU_ASSIGN_OR_RETURN(e.number_from, number(*from, child_path(path, "from")));
      }
      if (to != nullptr) {
        SIYU_ASSIGN_OR_RETURN(e.number_to, number(*to, child_path(path, "to")));
      }
      return e;
    }
    if (op == "exists") {
      e.kind = ExprKind::kAttrExists;
      return e;
    }
    const std::string op_path = child_path(path, "op");
    return invalid(op_path + " prefix is only for text", op_path);
  }

  /// Expands {"segment": id} into the saved segment's expression, refusing cycles.
  Result<Expr> reference(const Json& j, const std::string& path, int depth) {
    const std::string p = child_path(path, "segment");
    if (j.size() != 1) return invalid((path.empty() ? "expression" : path) + " must have only \"segment\"", path);
    const Json& v = j["segment"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) return invalid(p + " must be a segment id", p);
    const int64_t id = v.get<int64_t>();
    if (!ctx_.resolve) return invalid(p + " can't refer to saved segments here", p);
    if (std::find(chain_.begin(), chain_.end(), id) != chain_.end()) {
      std::string loop;
      for (int64_t c : chain_) loop += std::to_string(c) + " → ";
      return invalid(p + " makes a cycle: segment " + loop + std::to_string(id), p);
    }
    auto saved = ctx_.resolve(id);
    if (!saved) {
      return invalid(p + " names no saved segment (" + std::to_string(id) + ")", p);
    }
    chain_.push_back(id);
    auto inner = parse(*saved, "", depth + 1);
    chain_.pop_back();
    if (!inner) {
      // The saved segment is at fault, not this expression: say which one.
      return invalid(p + " refers to segment " + std::to_string(id) + ", which is invalid: " +
                         inner.error().message(), p);
    }
    return inner;
  }

  const ParseContext& ctx_;
  std::vector<int64_t> chain_;  // segments being expanded, outermost first
  int nodes_ = 0;
};

}  // namespace

bool is_enumerated_attr(std::string_view attr) {
  for (auto a : kEnumerated) {
    if (a == attr) return true;
  }
  return false;
}

Result<Expr> parse_expr(const Json& j, const ParseContext& ctx) {
  return Parser(ctx).parse(j, "", 0);
}

}  // namespace siyu::segment
