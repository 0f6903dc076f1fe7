// A workspace's delivery discipline (stored as the "delivery" workspace setting, JSON):
// frequency caps, quiet hours, the do-not-disturb segment, staff account rate limits, retries
// and the channel that carries messages.
#pragma once

#include <optional>
#include <string>

#include "core/ids.h"
#include "core/json.h"
#include "core/status.h"

namespace siyu::outbox {

struct DeliverySettings {
  int daily_cap = 2;   // marketing messages per customer and delivery day
  int weekly_cap = 5;  // … and in any 7 consecutive delivery days
  int quiet_start = 22 * 60;  // minutes after midnight, workspace time; equal = no quiet hours
  int quiet_end = 8 * 60;
  std::optional<int64_t> dnd_segment;  // members get key moments only
  int staff_per_minute = 20;           // messages one staff account sends per minute
  int max_attempts = 8;                // then dead-lettered
  std::string channel = "log";         // log, webhook or wecom
  std::string webhook_url;             // channel "webhook": where batches are posted
  std::string webhook_secret;          // HMAC-SHA256 key of every webhook (steps too)
  bool allow_private_webhooks = false; // loopback and private addresses (tests, intranets)
};

/// Reads settings from JSON, starting from `base` (fields left out keep their values).
/// kInvalidArgument names the field.
Result<DeliverySettings> parse_delivery_settings(const Json& j, DeliverySettings base);

/// The JSON form; the secret is only included with `with_secret` (storage), never in replies.
Json delivery_settings_json(const DeliverySettings& s, bool with_secret);

/// "HH:MM" for minutes after midnight.
std::string format_hhmm(int minutes);

/// The reason recorded on a message held by quiet hours: "quiet hours 22:00–08:00".
std::string quiet_hours_reason(const DeliverySettings& s);

/// Whether `t` falls in quiet hours.
bool in_quiet_hours(const DeliverySettings& s, EpochMs t, int offset_minutes);

/// `t` outside quiet hours, or the instant they end.
EpochMs after_quiet_hours(const DeliverySettings& s, EpochMs t, int offset_minutes);

}  // namespace siyu::outbox
