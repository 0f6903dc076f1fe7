#include "wecom/client.h"

#include <httplib.h>

#include "core/text.h"
#include "outbox/webhook.h"

namespace siyu::wecom {
namespace {

constexpr EpochMs kMinute = 60'000;
constexpr EpochMs kHour = 3'600'000;
constexpr time_t kTimeoutS = 10;
constexpr EpochMs kMediaLifetime = 3 * 86'400'000 - kHour;
constexpr int kTokenExpired[] = {40014, 42001, 40001};
constexpr int kThrottled[] = {45009, 45033, 45011};

bool in(int code, const int (&codes)[3]) {
  for (int c : codes) {
    if (c == code) return true;
  }
  return false;
}

}  // namespace

Status errcode_status(const Json& reply) {
  const int code = reply.is_object() ? reply.value("errcode", -1) : -1;
  if (code == 0) return Status::ok();
  const std::string what = "wecom errcode " + std::to_string(code) + ": " +
                           (reply.is_object() ? reply.value("errmsg", "") : "malformed reply");
  if (in(code, kThrottled)) return Status(ErrorCode::kRateLimited, what);
  if (code == -1) return Status(ErrorCode::kUnavailable, what);  // WeCom: system busy
  return unprocessable(what);
}

Status Client::take_slot() {
  const EpochMs now = clock_.now_ms();
  while (!recent_.empty() && recent_.front() <= now - kHour) recent_.pop_front();
  int last_minute = 0;
  for (auto it = recent_.rbegin(); it != recent_.rend() && *it > now - kMinute; ++it) ++last_minute;
  if (last_minute >= settings_.per_minute) {
    return Status(ErrorCode::kRateLimited,
                  "wecom call cap: " + std::to_string(settings_.per_minute) + " a minute");
  }
  if (static_cast<int>(recent_.size()) >= settings_.per_hour) {
    return Status(ErrorCode::kRateLimited,
                  "wecom call cap: " + std::to_string(settings_.per_hour) + " an hour");
  }
  recent_.push_back(now);
  ++calls_;
  return Status::ok();
}

Result<Json> Client::send(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type) {
  SIYU_RETURN_IF_ERROR(take_slot());
  SIYU_ASSIGN_OR_RETURN(outbox::Url base, outbox::parse_url(settings_.api_base));
  SIYU_ASSIGN_OR_RETURN(auto http, outbox::checked_client(base, settings_.allow_private, kTimeoutS));
  const std::string full = base.path + path;
  auto res = method == "GET" ? http->Get(full) : http->Post(full, body, content_type);
  if (!res) {
    return Status(ErrorCode::kUnavailable, "wecom unreachable: " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return Status(ErrorCode::kUnavailable, "wecom answered http " + std::to_string(res->status));
  }
  auto reply = parse_json(res->body);
  if (!reply) return Status(ErrorCode::kUnavailable, "wecom answered something other than JSON");
  return *reply;
}

Result<std::string> Client::access_token(bool refresh) {
  const EpochMs now = clock_.now_ms();
  if (!refresh && !token_.empty() && now < token_expires_) return token_;
  httplib::Params q{{"corpid", settings_.corp_id}, {"corpsecret", settings_.secret}};
  SIYU_ASSIGN_OR_RETURN(Json reply, send("GET", "gettoken?" + httplib::detail::params_to_query_str(q), "", ""));
  SIYU_RETURN_IF_ERROR(errcode_status(reply));
  token_ = reply.value("access_token", "");
  // Renew five minutes early so no call races the expiry.
  token_expires_ = now + (reply.value("expires_in", 7200) - 300) * 1000;
  if (token_.empty()) return Status(ErrorCode::kUnavailable, "wecom gave no access_token");
  return token_;
}

Result<Json> Client::post(const std::string& path, const Json& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    SIYU_ASSIGN_OR_RETURN(std::string token, access_token(attempt > 0));
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    SIYU_ASSIGN_OR_RETURN(Json reply, send("POST", path + sep + "access_token=" + token,
                                           body.dump(), "application/json"));
    if (in(reply.value("errcode", 0), kTokenExpired) && attempt == 0) continue;
    SIYU_RETURN_IF_ERROR(errcode_status(reply));
    return reply;
  }
  return Status(ErrorCode::kUnavailable, "wecom refused a fresh access token");
}

Result<std::string> Client::image_media_id(const std::string& url) {
  const EpochMs now = clock_.now_ms();
  if (auto it = media_.find(url); it != media_.end() && now - it->second.uploaded_at < kMediaLifetime) {
    return it->second.media_id;
  }
  SIYU_ASSIGN_OR_RETURN(outbox::Url where, outbox::parse_url(url));
  SIYU_ASSIGN_OR_RETURN(auto http, outbox::checked_client(where, settings_.allow_private, kTimeoutS));
  auto image = http->Get(where.path);
  if (!image || image->status != 200) {
    return Status(ErrorCode::kUnavailable, "cannot fetch image " + url);
  }
  SIYU_ASSIGN_OR_RETURN(std::string token, access_token(false));
  SIYU_RETURN_IF_ERROR(take_slot());
  SIYU_ASSIGN_OR_RETURN(outbox::Url base, outbox::parse_url(settings_.api_base));
  SIYU_ASSIGN_OR_RETURN(auto api, outbox::checked_client(base, settings_.allow_private, kTimeoutS));
  httplib::MultipartFormDataItems form = {{"media", image->body, "image.jpg", "image/jpeg"}};
  auto res = api->Post(base.path + "media/upload?type=image&access_token=" + token, form);
  if (!res || res->status != 200) return Status(ErrorCode::kUnavailable, "wecom media upload failed");
  SIYU_ASSIGN_OR_RETURN(Json reply, parse_json(res->body));
  SIYU_RETURN_IF_ERROR(errcode_status(reply));
  Media m{reply.value("media_id", ""), now};
  if (m.media_id.empty()) return Status(ErrorCode::kUnavailable, "wecom gave no media_id");
  media_[url] = m;
  return m.media_id;
}

}  // namespace siyu::wecom
