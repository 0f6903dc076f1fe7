#include "outbox/webhook.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdlib>

#include "core/text.h"
#include "security/crypto.h"

namespace siyu::outbox {
namespace {

constexpr int64_t kToleranceSeconds = 300;
constexpr time_t kTimeoutSeconds = 5;

bool is_private_v4(uint32_t a) {
  const auto in = [a](uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x7F000000, 8) || in(0x0A000000, 8) || in(0xAC100000, 12) ||
         in(0xC0A80000, 16) || in(0xA9FE0000, 16) || in(0x00000000, 8) ||
         in(0x64400000, 10);  // loopback, RFC 1918, link-local, "this network", CGNAT
}

bool is_private_v6(const in6_addr& a) {
  static const in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
  static const in6_addr any = IN6ADDR_ANY_INIT;
  if (std::memcmp(&a, &loopback, sizeof a) == 0 || std::memcmp(&a, &any, sizeof a) == 0) {
    return true;
  }
  const uint8_t first = a.s6_addr[0];
  if ((first & 0xFE) == 0xFC) return true;                        // fc00::/7 unique local
  if (first == 0xFE && (a.s6_addr[1] & 0xC0) == 0x80) return true;  // fe80::/10 link-local
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    uint32_t v4 = 0;
    std::memcpy(&v4, a.s6_addr + 12, 4);
    return is_private_v4(ntohl(v4));
  }
  return false;
}

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

Result<Url> parse_url(std::string_view url) {
  Url u;
  size_t rest = 0;
  if (starts_with(url, "https://")) {
    u.scheme = "https";
    u.port = 443;
    rest = 8;
  } else if (starts_with(url, "http://")) {
    u.scheme = "http";
    u.port = 80;
    rest = 7;
  } else {
    return invalid("url must start with https:// or http://");
  }
  const size_t slash = url.find('/', rest);
  std::string_view authority = url.substr(rest, slash == std::string_view::npos ? url.npos : slash - rest);
  u.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.find('@') != std::string_view::npos) return invalid("url must not carry a user");
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    const std::string port(authority.substr(colon + 1));
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p <= 0 || p > 65535) return invalid("url has a bad port");
    u.port = static_cast<int>(p);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return invalid("url has no host");
  u.host = std::string(authority);
  return u;
}

Result<std::string> resolve_checked(const std::string& host, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return Status(ErrorCode::kUnavailable, "cannot resolve host " + host);
  }
  std::string chosen;
  Status refused;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    bool priv = false;
    if (p->ai_family == AF_INET) {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
      priv = is_private_v4(ntohl(sa->sin_addr.s_addr));
      ::inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
    } else if (p->ai_family == AF_INET6) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      priv = is_private_v6(sa->sin6_addr);
      ::inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    if (priv && !allow_private) {
      refused = permission_denied("webhook host " + host + " resolves to a private address " +
                                  text + " (the workspace does not allow private webhooks)");
      break;
    }
    if (chosen.empty()) chosen = text;
  }
  ::freeaddrinfo(res);
  if (!refused.is_ok()) return refused;
  if (chosen.empty()) return Status(ErrorCode::kUnavailable, "cannot resolve host " + host);
  return chosen;
}

Result<std::unique_ptr<httplib::Client>> checked_client(const Url& url, bool allow_private,
                                                        time_t timeout_s) {
  SIYU_ASSIGN_OR_RETURN(std::string ip, resolve_checked(url.host, allow_private));
  auto client = std::make_unique<httplib::Client>(url.scheme + "://" + url.host + ":" +
                                                  std::to_string(url.port));
  client->set_hostname_addr_map({{url.host, ip}});
  client->set_connection_timeout(timeout_s, 0);
  client->set_read_timeout(timeout_s, 0);
  client->set_write_timeout(timeout_s, 0);
  return client;
}

std::string webhook_signature(std::string_view secret, int64_t unix_seconds,
                              std::string_view body) {
  std::string message = std::to_string(unix_seconds);
  message += '.';
  message += body;
  return "v1=" + security::hmac_sha256_hex(secret, message);
}

Status verify_webhook(std::string_view secret, std::string_view timestamp,
                      std::string_view body, std::string_view signature, EpochMs now_ms) {
  const std::string ts(timestamp);
  char* end = nullptr;
  const long long seconds = std::strtoll(ts.c_str(), &end, 10);
  if (ts.empty() || *end != '\0') return permission_denied("webhook timestamp is missing");
  if (std::llabs(now_ms / 1000 - seconds) > kToleranceSeconds) {
    return permission_denied("webhook timestamp is more than 5 minutes away (a replay?)");
  }
  if (!security::equal_constant_time(webhook_signature(secret, seconds, body), signature)) {
    return permission_denied("webhook signature does not match");
  }
  return Status::ok();
}

Receipt WebhookChannel::post(const std::string& url, const std::string& body,
                             const std::string& key, size_t batch) {
  Receipt r;
  auto u = parse_url(url);
  if (!u) {
    r.outcome = Receipt::Outcome::kRejected;
    r.detail = u.error().message();
    return r;
  }
  auto client = checked_client(*u, settings_.allow_private_webhooks, kTimeoutSeconds);
  if (!client) {
    r.outcome = client.error().code() == ErrorCode::kPermissionDenied
                    ? Receipt::Outcome::kRejected
                    : Receipt::Outcome::kRetry;
    r.detail = client.error().message();
    return r;
  }
  const int64_t now_s = clock_.now_ms() / 1000;
  httplib::Headers headers = {{"X-Siyu-Timestamp", std::to_string(now_s)},
                              {"User-Agent", "siyu-webhook/1"}};
  if (!settings_.webhook_secret.empty()) {
    headers.emplace("X-Siyu-Signature", webhook_signature(settings_.webhook_secret, now_s, body));
  }
  if (batch == 0) headers.emplace("X-Siyu-Idempotency-Key", key);
  else headers.emplace("X-Siyu-Batch", std::to_string(batch));
  auto res = (*client)->Post(u->path, headers, body, "application/json");
  if (!res) {
    r.outcome = Receipt::Outcome::kRetry;
    r.detail = "webhook " + u->host + ": " + httplib::to_string(res.error());
    return r;
  }
  if (res->status >= 200 && res->status < 300) {
    r.outcome = Receipt::Outcome::kDelivered;
    r.detail = "http " + std::to_string(res->status);
    return r;
  }
  r.outcome = retryable(res->status) ? Receipt::Outcome::kRetry : Receipt::Outcome::kRejected;
  r.detail = "webhook answered http " + std::to_string(res->status);
  return r;
}

std::vector<Receipt> WebhookChannel::deliver(const std::vector<store::OutboxItem>& items) {
  std::vector<Receipt> out(items.size());
  std::string batch;
  std::vector<size_t> batched;
  for (size_t i = 0; i < items.size(); ++i) {
    const store::OutboxItem& item = items[i];
    if (item.kind == "webhook") {
      const Json payload = Json::parse(item.payload_json, nullptr, false);
      const std::string url = payload.is_object() ? payload.value("url", "") : "";
      const Json body = payload.is_object() && payload.contains("body") ? payload["body"]
                                                                        : Json::object();
      out[i] = post(url, body.dump(-1, ' ', false, Json::error_handler_t::replace),
                    item.idem_key, 0);
      continue;
    }
    batch += batched.empty() ? "" : ",";
    batch += envelope_text(item);
    batched.push_back(i);
  }
  if (batched.empty()) return out;
  if (settings_.webhook_url.empty()) {
    for (size_t i : batched) {
      out[i] = Receipt{Receipt::Outcome::kRetry, "the workspace's webhook_url is not set"};
    }
    return out;
  }
  const Receipt r =
      post(settings_.webhook_url, "{\"deliveries\":[" + batch + "]}", "", batched.size());
  for (size_t i : batched) out[i] = r;
  return out;
}

}  // namespace siyu::outbox
