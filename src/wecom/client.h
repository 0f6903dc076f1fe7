// A client of WeCom's server API (https://qyapi.weixin.qq.com/cgi-bin/): the access token is
// fetched with gettoken and cached until shortly before it expires (and fetched again when
// WeCom says it expired); calls are capped per minute and per hour; images are uploaded as
// temporary media and uploaded again before their three days run out.
#pragma once

#include <deque>
#include <map>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "wecom/settings.h"

namespace siyu::wecom {

/// Not thread-safe: one owner (the outbox dispatcher's thread).
class Client {
 public:
  Client(WecomSettings settings, const Clock& clock)
      : settings_(std::move(settings)), clock_(clock) {}

  /// POSTs `body` to `path` (e.g. "externalcontact/add_msg_template"). Errors: kUnavailable when
  /// WeCom is unreachable, kRateLimited over the caps or when WeCom throttles, kUnprocessable
  /// naming errcode and errmsg for other refusals.
  Result<Json> post(const std::string& path, const Json& body);

  /// A media_id for the image at `url`, uploading it when missing or older than 3 days less an
  /// hour.
  Result<std::string> image_media_id(const std::string& url);

  /// Calls made (for tests and /metrics).
  int64_t calls() const { return calls_; }

 private:
  Result<std::string> access_token(bool refresh);
  Status take_slot();
  Result<Json> send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type);

  WecomSettings settings_;
  const Clock& clock_;
  std::string token_;
  EpochMs token_expires_ = 0;
  std::deque<EpochMs> recent_;  // call times within the last hour
  struct Media {
    std::string media_id;
    EpochMs uploaded_at = 0;
  };
  std::map<std::string, Media> media_;
  int64_t calls_ = 0;
};

/// The error of a WeCom reply (errcode ≠ 0) as a Status; OK for errcode 0.
Status errcode_status(const Json& reply);

}  // namespace siyu::wecom
