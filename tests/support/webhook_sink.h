// A webhook receiver on loopback for tests and benchmarks: checks each request's signature
// (outbox::verify_webhook) and records the idempotency keys it was sent, from batches
// ({"deliveries": [...]}) and from single deliveries (X-Siyu-Idempotency-Key).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "outbox/webhook.h"

namespace siyu::testing {

class WebhookSink {
 public:
  /// `answer_after` delays every answer (so a test can kill a sender mid-send).
  explicit WebhookSink(std::string secret,
                       std::chrono::milliseconds answer_after = std::chrono::milliseconds(0))
      : secret_(std::move(secret)), answer_after_(answer_after) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(4); };
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      if (!outbox::verify_webhook(secret_, req.get_header_value("X-Siyu-Timestamp"), req.body,
                                  req.get_header_value("X-Siyu-Signature"),
                                  SystemClock::instance().now_ms())
               .is_ok()) {
        ++refused_;
        res.status = 401;
        return;
      }
      std::this_thread::sleep_for(answer_after_);
      const Json body = parse_json(req.body).value_or(Json::object());
      std::lock_guard lock(mu_);
      for (const Json& d : body.value("deliveries", Json::array())) {
        keys_.insert(d["idempotency_key"].get<std::string>());
        ++deliveries_;
      }
      if (req.has_header("X-Siyu-Idempotency-Key")) {
        keys_.insert(req.get_header_value("X-Siyu-Idempotency-Key"));
        ++deliveries_;
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookSink() {
    server_.stop();
    thread_.join();
  }
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  /// Distinct idempotency keys and deliveries received (resends count twice).
  std::pair<size_t, int64_t> counts() {
    std::lock_guard lock(mu_);
    return {keys_.size(), deliveries_};
  }
  /// Requests refused for a bad or stale signature.
  int refused() const { return refused_; }

 private:
  std::string secret_;
  std::chrono::milliseconds answer_after_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::set<std::string> keys_;
  int64_t deliveries_ = 0;
  std::atomic<int> refused_{0};
};

}  // namespace siyu::testing
