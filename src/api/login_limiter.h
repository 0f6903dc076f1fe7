// Rate limit for failed console logins, per client address and per account.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "core/ids.h"

namespace siyu::api {

/// Allows at most `max_failures` failed attempts per key within `window_ms`. Thread-safe.
class LoginLimiter {
 public:
  explicit LoginLimiter(int max_failures = 5, EpochMs window_ms = 15 * 60'000)
      : max_failures_(max_failures), window_ms_(window_ms) {}
  /// Whether another attempt is allowed for `key` now.
  bool allowed(const std::string& key, EpochMs now);
  void record_failure(const std::string& key, EpochMs now);
  void reset(const std::string& key);

 private:
  void prune(std::deque<EpochMs>& q, EpochMs now) const;
  int max_failures_;
  EpochMs window_ms_;
  std::mutex mu_;
  std::map<std::string, std::deque<EpochMs>> failures_;
};

}  // namespace siyu::api
