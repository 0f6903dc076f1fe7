// The outbox dispatcher: delivers due outbox rows through the workspace's channel, under quiet
// hours (re-checked at delivery), opt-outs (re-checked) and per staff account rate limits;
// retries failures with exponential backoff and dead-letters them after the workspace's
// attempt limit; records a receipt for every outcome. A crash between delivery and its
// receipt resends the row with the same idempotency key, which receivers use to act once.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "outbox/channel.h"
#include "outbox/delivery_settings.h"
#include "store/store.h"

namespace siyu::outbox {

/// The workspace's delivery settings ("delivery" setting) over the defaults.
Result<DeliverySettings> load_delivery_settings(store::Store& store, WorkspaceId ws);

/// Milliseconds to wait before attempt `attempts` + 1: 30 s doubling, at most an hour.
EpochMs retry_backoff(int attempts);

struct DispatchReport {
  int64_t delivered = 0;
  int64_t retried = 0;
  int64_t dead = 0;
  int64_t deferred = 0;
  int64_t skipped = 0;
};

/// Thread-safe start/stop/wake; run_once() is for tests and must not run beside the thread.
class Dispatcher {
 public:
  /// `log_path` is the log channel's file; `external` makes channels that are not built in
  /// (WeCom), or nullptr for none.
  Dispatcher(store::Store& store, const Clock& clock, std::string log_path,
             ChannelFactory external = nullptr)
      : store_(store), clock_(clock), log_path_(std::move(log_path)),
        external_(std::move(external)) {}
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  void stop();
  /// Rows were written: look now rather than at the next tick.
  void wake();
  /// The workspace's delivery or channel settings changed: read them before the next delivery.
  void settings_changed(WorkspaceId ws);
  /// Delivers up to `limit` rows due now.
  Result<DispatchReport> run_once(int limit = 1000);

 private:
  struct Workspace {
    DeliverySettings settings;
    int offset_minutes = 480;
    EpochMs loaded_at = 0;
  };
  Result<Workspace*> workspace(WorkspaceId ws);
  Result<Channel*> channel_for(WorkspaceId ws, const DeliverySettings& s, bool webhook_step);
  /// Lets external channels do their follow-up work, about once a minute.
  Status maintain(EpochMs now);
  /// Whether `staff` of `ws` may send one more message at `now`; counts it when so.
  bool take_staff_slot(WorkspaceId ws, const std::string& staff, int per_minute, EpochMs now);
  void run();

  store::Store& store_;
  const Clock& clock_;
  std::string log_path_;
  std::map<WorkspaceId, Workspace> workspaces_;  // dispatcher thread only
  std::map<WorkspaceId, std::unique_ptr<Channel>> webhooks_;
  ChannelFactory external_;
  std::map<WorkspaceId, std::unique_ptr<Channel>> externals_;  // made when settings load
  EpochMs maintained_at_ = 0;
  std::unique_ptr<Channel> log_;
  std::map<std::pair<WorkspaceId, std::string>, std::pair<int64_t, int>> staff_minutes_;

  std::mutex mu_;
  std::condition_variable wake_cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::set<WorkspaceId> changed_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace siyu::outbox
