#include "community/threshold.h"


namespace siyu::community {
namespace {

/// "9.90" for 990 cents.
std::string yuan(int64_t cents) {
  std::string frac = std::to_string(cents % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(cents / 100) + "." + frac;
}

}  // namespace

Result<Threshold> parse_threshold(const Json& j, const std::string& path) {
  if (!j.is_object()) return invalid(path + " must be an object", path);
  JsonFields f(j, path);
  Threshold t;
  t.type = f.opt_enum("type", kThresholdTypes).value_or("none");
  t.description = f.opt_string("description", 200).value_or("");
  if (t.type == "price") {
    t.price = f.opt_int("price", 1, 100'000'000).value_or(0);
    if (t.price == 0 && f.ok()) f.fail("price", "is required for a price threshold (cents)");
  } else if (t.type == "identity") {
    const Json* seg = f.opt_any("segment");
    if (seg == nullptr || !seg->is_object()) {
      f.fail("segment", "is required for an identity threshold (a segment expression)");
    } else {
      t.segment = *seg;
    }
  } else if (t.type == "action") {
    t.event = f.opt_string("event", 64).value_or("");
    if (t.event.empty() && f.ok()) f.fail("event", "is required for an action threshold");
    t.within_days = static_cast<int>(f.opt_int("within_days", 1, 365).value_or(30));
  }
  SIYU_RETURN_IF_ERROR(f.finish());
  return t;
}

Json threshold_json(const Threshold& t) {
  Json j = {{"type", t.type}};
  if (!t.description.empty()) j["description"] = t.description;
  if (t.type == "price") j["price"] = t.price;
  if (t.type == "identity") j["segment"] = t.segment;
  if (t.type == "action") {
    j["event"] = t.event;
    j["within_days"] = t.within_days;
  }
  return j;
}

JoinDecision decide_join(const Threshold& t, const JoinFacts& facts) {
  auto refuse = [&](std::string code, std::string reason) {
    return JoinDecision{false, std::move(code),
                        t.description.empty() ? std::move(reason) : reason + " (" + t.description + ")"};
  };
  if (facts.blacklisted) return JoinDecision{false, "blacklisted", "on the workspace blacklist"};
  if (facts.full) return JoinDecision{false, "full", "the group is full"};
  if (t.type == "price" && facts.paid < t.price) {
    return refuse("payment_required", "entry costs ¥" + yuan(t.price));
  }
  if (t.type == "identity" && !facts.identity_ok) {
    return refuse("identity_required", "only for members who match the group's identity rule");
  }
  if (t.type == "action" && !facts.action_done) {
    return refuse("action_required", "first complete \"" + t.event + "\" (within " +
                                         std::to_string(t.within_days) + " days)");
  }
  return JoinDecision{true, "admitted", ""};
}

}  // namespace siyu::community
