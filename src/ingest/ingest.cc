#include "ingest/ingest.h"

#include <array>

#include "core/text.h"
#include "core/time_format.h"

namespace siyu::ingest {
namespace {

constexpr std::array<std::string_view, 18> kEventTypes = {
    "registered", "login",       "view",       "booked",     "used",          "order_paid",
    "refund",     "follow",      "unfollow",   "join_group", "leave_group",   "add_friend",
    "remove_friend", "message",  "share",      "invite",     "member_join",   "member_leave"};

constexpr EpochMs kEarliest = 946'684'800'000;  // 2000-01-01

std::string at(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

/// Reads "customer": {"id": N} or an identity object.
Status read_subject(const Json* subject, const customer::IdentityCodec& codec,
                    const std::string& path, std::optional<CustomerId>& id,
                    std::optional<store::Identity>& identity) {
  if (subject == nullptr || subject->is_null()) return invalid(path + " is required", path);
  if (!subject->is_object()) return invalid(path + " must be an object", path);
  if (subject->contains("id")) {
    JsonFields f(*subject, path);
    auto v = f.opt_int("id", 1, INT32_MAX);
    SIYU_RETURN_IF_ERROR(f.finish());
    if (!v) return invalid(path + ".id is required", path + ".id");
    id = CustomerId(*v);
    return Status::ok();
  }
  SIYU_ASSIGN_OR_RETURN(auto parsed, codec.parse(*subject, path));
  identity = std::move(parsed);
  return Status::ok();
}

Result<store::PendingOrder> parse_order(const Json& j, const customer::IdentityCodec& codec,
                                        EpochMs now, const std::string& path) {
  JsonFields f(j, path);
  store::PendingOrder p;
  store::Order& o = p.order;
  o.order_id = f.req_string("order_id", 128);
  o.status = f.opt_enum("status", {"created", "paid", "refunded"}).value_or("");
  const auto amount = f.opt_int("amount", 0, 1'000'000'000'00);
  o.refund_amount = f.opt_int("refund_amount", 0, 1'000'000'000'00).value_or(0);
  o.currency = f.opt_enum("currency", {"CNY", "USD", "GBP", "EUR", "HKD"}).value_or("CNY");
  o.store = f.opt_string("store", 128).value_or("");
  o.channel = f.opt_string("channel", 128).value_or("");
  o.staff = f.opt_string("staff", 128).value_or("");
  p.guest = f.opt_bool("guest").value_or(false);
  const Json* subject = f.opt_any("customer");
  const Json* items = f.opt_any("items");
  const Json* ordered = f.opt_any("ordered_at");
  const Json* paid = f.opt_any("paid_at");
  const Json* refunded = f.opt_any("refunded_at");
  SIYU_RETURN_IF_ERROR(f.finish());
  if (o.status.empty()) return invalid(path + ".status is required", path + ".status");
  if (!amount) return invalid(path + ".amount is required (integer cents)", path + ".amount");
  o.amount = *amount;
  if (o.refund_amount > o.amount) {
    return invalid(path + ".refund_amount exceeds amount", path + ".refund_amount");
  }
  if (ordered == nullptr || ordered->is_null()) {
    return invalid(path + ".ordered_at is required", path + ".ordered_at");
  }
  SIYU_ASSIGN_OR_RETURN(o.ordered_at, read_time(*ordered, path + ".ordered_at"));
  if (o.ordered_at < kEarliest || o.ordered_at > now + kMsPerDay) {
    return invalid(path + ".ordered_at is outside 2000-01-01 .. tomorrow", path + ".ordered_at");
  }
  if (paid != nullptr && !paid->is_null()) {
    SIYU_ASSIGN_OR_RETURN(EpochMs t, read_time(*paid, path + ".paid_at"));
    o.paid_at = t;
  } else if (o.status != "created") {
    o.paid_at = o.ordered_at;
  }
  if (refunded != nullptr && !refunded->is_null()) {
    SIYU_ASSIGN_OR_RETURN(EpochMs t, read_time(*refunded, path + ".refunded_at"));
    o.refunded_at = t;
  }
  if (o.status == "refunded") {
    if (!o.refunded_at) o.refunded_at = o.paid_at;
    if (o.refund_amount == 0) o.refund_amount = o.amount;
  }
  if (p.guest) {
    if (subject != nullptr && !subject->is_null()) {
      return invalid(path + ".customer must be absent for a guest order", path + ".customer");
    }
  } else {
    SIYU_RETURN_IF_ERROR(read_subject(subject, codec, path + ".customer", p.customer, p.identity));
  }
  if (items != nullptr && !items->is_null()) {
    if (!items->is_array()) return invalid(path + ".items must be an array", path + ".items");
    if (items->size() > 500) return invalid(path + ".items has more than 500 lines", path + ".items");
    Json clean = Json::array();
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string ip = at(path + ".items", i);
      JsonFields fi((*items)[i], ip);
      Json line = {{"sku", fi.req_string("sku", 64)},
                   {"name", fi.opt_string("name", 200).value_or("")},
                   {"quantity", fi.opt_int("quantity", -100000, 100000).value_or(1)},
                   {"price", fi.opt_int("price", 0, 1'000'000'000'00).value_or(0)}};
      SIYU_RETURN_IF_ERROR(fi.finish());
      clean.push_back(std::move(line));
    }
    o.items_json = clean.dump();
  }
  return p;
}

}  // namespace

bool is_known_event_type(std::string_view type) {
  for (auto t : kEventTypes) {
    if (t == type) return true;
  }
  if (type.size() < 3 || type.size() > 64 || !starts_with(type, "x_")) return false;
  for (char ch : type) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

Result<EpochMs> read_time(const Json& v, const std::string& path) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    auto t = parse_timestamp(v.get_ref<const std::string&>(), 480);
    if (!t) return invalid(path + " " + t.error().message().substr(10), path);
    return t;
  }
  return invalid(path + " must be an ISO 8601 string or epoch milliseconds", path);
}

Result<std::vector<Json>> split_batch(std::string_view body, bool ndjson, size_t max_items,
                                      const char* what) {
  std::vector<Json> items;
  if (!ndjson) {
    SIYU_ASSIGN_OR_RETURN(Json doc, parse_json(body));
    if (doc.is_object()) {
      items.push_back(std::move(doc));
      return items;
    }
    if (!doc.is_array()) return invalid(std::string("body must be an array of ") + what);
    if (doc.size() > max_items) {
      return Status(ErrorCode::kPayloadTooLarge,
                    "batch has " + std::to_string(doc.size()) + " " + what + "; the limit is " +
                        std::to_string(max_items));
    }
    items.reserve(doc.size());
    for (auto& item : doc) items.push_back(std::move(item));
    return items;
  }
  size_t line_no = 0;
  for (std::string_view line : split(body, '\n')) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    if (items.size() == max_items) {
      return Status(ErrorCode::kPayloadTooLarge,
                    std::string("batch has more than ") + std::to_string(max_items) + " " + what);
    }
    auto doc = parse_json(line);
    if (!doc) return invalid("line " + std::to_string(line_no) + ": " + doc.error().message());
    items.push_back(std::move(doc).value());
  }
  return items;
}

ParsedOrders parse_orders(const std::vector<Json>& items, const customer::IdentityCodec& codec,
                          EpochMs now) {
  ParsedOrders out;
  for (size_t i = 0; i < items.size(); ++i) {
    auto p = parse_order(items[i], codec, now, at("orders", i));
    if (p) {
      out.orders.push_back(std::move(p).value());
      out.positions.push_back(i);
    } else {
      out.errors.push_back({i, p.error()});
    }
  }
  return out;
}

}  // namespace siyu::ingest
