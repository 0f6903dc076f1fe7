#include "outbox/delivery_settings.h"

#include "core/text.h"
#include "core/time_format.h"

namespace siyu::outbox {
namespace {

constexpr int64_t kMsPerMinute = 60'000;

std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

int minute_of_day(EpochMs t, int offset_minutes) {
  const int64_t local = t + offset_minutes * kMsPerMinute;
  const int64_t in_day = ((local % kMsPerDay) + kMsPerDay) % kMsPerDay;
  return static_cast<int>(in_day / kMsPerMinute);
}

}  // namespace

Result<DeliverySettings> parse_delivery_settings(const Json& j, DeliverySettings s) {
  if (!j.is_object()) return invalid("delivery settings must be an object");
  JsonFields f(j, "");
  if (auto v = f.opt_int("daily_cap", 0, 50)) s.daily_cap = static_cast<int>(*v);
  if (auto v = f.opt_int("weekly_cap", 0, 200)) s.weekly_cap = static_cast<int>(*v);
  for (const char* key : {"quiet_start", "quiet_end"}) {
    if (auto v = f.opt_string(key, 5)) {
      auto m = parse_hhmm(*v);
      if (!m) f.fail(key, "must be a time of day HH:MM");
      else (std::string_view(key) == "quiet_start" ? s.quiet_start : s.quiet_end) = *m;
    }
  }
  if (f.is_null("dnd_segment")) {
    f.allow("dnd_segment");
    s.dnd_segment.reset();
  } else if (auto v = f.opt_int("dnd_segment", 1, INT64_MAX)) {
    s.dnd_segment = *v;
  }
  if (auto v = f.opt_int("staff_per_minute", 1, 600)) s.staff_per_minute = static_cast<int>(*v);
  if (auto v = f.opt_int("max_attempts", 1, 20)) s.max_attempts = static_cast<int>(*v);
  if (auto v = f.opt_enum("channel", {"log", "webhook", "wecom"})) s.channel = *v;
  if (auto v = f.opt_string("webhook_url", 2000)) s.webhook_url = *v;
  if (auto v = f.opt_string("webhook_secret", 200)) s.webhook_secret = *v;
  if (auto v = f.opt_bool("allow_private_webhooks")) s.allow_private_webhooks = *v;
  f.allow("webhook_secret_set");
  SIYU_RETURN_IF_ERROR(f.finish());
  if (!s.webhook_url.empty() && !starts_with(s.webhook_url, "https://") &&
      !starts_with(s.webhook_url, "http://")) {
    return invalid("webhook_url must start with https:// or http://", "webhook_url");
  }
  if (s.channel == "webhook" && s.webhook_url.empty()) {
    return invalid("webhook_url is required for the webhook channel", "webhook_url");
  }
  if (!s.webhook_secret.empty() && s.webhook_secret.size() < 16) {
    return invalid("webhook_secret must have at least 16 characters", "webhook_secret");
  }
  return s;
}

Json delivery_settings_json(const DeliverySettings& s, bool with_secret) {
  Json j = {{"daily_cap", s.daily_cap},
            {"weekly_cap", s.weekly_cap},
            {"quiet_start", format_hhmm(s.quiet_start)},
            {"quiet_end", format_hhmm(s.quiet_end)},
            {"dnd_segment", s.dnd_segment ? Json(*s.dnd_segment) : Json(nullptr)},
            {"staff_per_minute", s.staff_per_minute},
            {"max_attempts", s.max_attempts},
            {"channel", s.channel},
            {"webhook_url", s.webhook_url},
            {"allow_private_webhooks", s.allow_private_webhooks}};
  if (with_secret) {
    j["webhook_secret"] = s.webhook_secret;
  } else {
    j["webhook_secret_set"] = !s.webhook_secret.empty();
  }
  return j;
}

std::string format_hhmm(int minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60 % 24, minutes % 60);
  return buf;
}

std::string quiet_hours_reason(const DeliverySettings& s) {
  return "quiet hours " + format_hhmm(s.quiet_start) + "–" + format_hhmm(s.quiet_end);
}

bool in_quiet_hours(const DeliverySettings& s, EpochMs t, int offset_minutes) {
  if (s.quiet_start == s.quiet_end) return false;
  const int m = minute_of_day(t, offset_minutes);
  if (s.quiet_start < s.quiet_end) return m >= s.quiet_start && m < s.quiet_end;
  return m >= s.quiet_start || m < s.quiet_end;  // across midnight
}

EpochMs after_quiet_hours(const DeliverySettings& s, EpochMs t, int offset_minutes) {
  if (!in_quiet_hours(s, t, offset_minutes)) return t;
  const int m = minute_of_day(t, offset_minutes);
  int wait_minutes = s.quiet_end - m;
  if (wait_minutes <= 0) wait_minutes += 24 * 60;
  // Land on the minute the quiet hours end.
  const EpochMs minute_start = t - (t % kMsPerMinute + kMsPerMinute) % kMsPerMinute;
  return minute_start + wait_minutes * kMsPerMinute;
}

}  // namespace siyu::outbox
