// Webhooks: JSON POSTs signed with HMAC-SHA256 over "<timestamp>.<body>".
//
// Wire format. Headers: Content-Type: application/json; X-Siyu-Timestamp: Unix seconds;
// X-Siyu-Signature: "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body);
// X-Siyu-Idempotency-Key: the outbox key (single deliveries) or X-Siyu-Batch: the number of
// deliveries in {"deliveries": [envelope, ...]} (the workspace channel, which batches). A
// receiver checks the signature, refuses timestamps more than 5 minutes away, and acts once
// per idempotency key.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "outbox/channel.h"
#include "outbox/delivery_settings.h"

namespace siyu::outbox {

struct Url {
  std::string scheme;  // http or https
  std::string host;
  int port = 0;
  std::string path;  // with the query, "/" at least
};

/// Parses an http(s) URL; kInvalidArgument otherwise.
Result<Url> parse_url(std::string_view url);

/// Resolves `host` to one address; kPermissionDenied for loopback, private, link-local or
/// unspecified addresses unless `allow_private`.
Result<std::string> resolve_checked(const std::string& host, bool allow_private);

/// An HTTP client for `url`'s host that connects only to the address resolve_checked() approved
/// (no second lookup an attacker could answer differently), with `timeout_s` for connecting,
/// reading and writing. Errors as resolve_checked().
Result<std::unique_ptr<httplib::Client>> checked_client(const Url& url, bool allow_private,
                                                        time_t timeout_s);

/// The X-Siyu-Signature value for a body sent at `unix_seconds`.
std::string webhook_signature(std::string_view secret, int64_t unix_seconds,
                              std::string_view body);

/// Receiver side: OK when `signature` signs `body` at `timestamp` (a decimal string) and the
/// timestamp is within 5 minutes of `now_ms`; kPermissionDenied otherwise.
Status verify_webhook(std::string_view secret, std::string_view timestamp,
                      std::string_view body, std::string_view signature, EpochMs now_ms);

/// Posts deliveries: message and group_post rows in batches to the workspace's webhook_url,
/// webhook-step rows one by one to their own url. 2xx = delivered; 408, 429, 5xx and network
/// errors retry; other statuses are rejections.
class WebhookChannel final : public Channel {
 public:
  WebhookChannel(DeliverySettings settings, const Clock& clock)
      : settings_(std::move(settings)), clock_(clock) {}
  std::vector<Receipt> deliver(const std::vector<store::OutboxItem>& items) override;

 private:
  Receipt post(const std::string& url, const std::string& body, const std::string& key,
               size_t batch);
  DeliverySettings settings_;
  const Clock& clock_;
};

}  // namespace siyu::outbox
