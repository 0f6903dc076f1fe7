#include "api/login_limiter.h"

namespace siyu::api {

void LoginLimiter::prune(std::deque<EpochMs>& q, EpochMs now) const {
  while (!q.empty() && q.front() <= now - window_ms_) q.pop_front();
}

bool LoginLimiter::allowed(const std::string& key, EpochMs now) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return true;
  prune(it->second, now);
  return static_cast<int>(it->second.size()) < max_failures_;
}

void LoginLimiter::record_failure(const std::string& key, EpochMs now) {
  std::lock_guard lock(mu_);
  if (failures_.size() > 100'000) failures_.clear();  // bound memory under a spray attack
  auto& q = failures_[key];
  prune(q, now);
  q.push_back(now);
}

void LoginLimiter::reset(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

}  // namespace siyu::api
