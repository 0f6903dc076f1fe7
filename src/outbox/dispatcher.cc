#include "outbox/dispatcher.h"

#include <cstdio>

#include "core/time_format.h"
#include "outbox/log_channel.h"
#include "outbox/webhook.h"

namespace siyu::outbox {
namespace {

constexpr EpochMs kSettingsTtlMs = 5'000;
constexpr EpochMs kTickMs = 200;

}  // namespace

Result<DeliverySettings> load_delivery_settings(store::Store& store, WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(auto stored, store.setting(ws, "delivery"));
  if (!stored) return DeliverySettings{};
  SIYU_ASSIGN_OR_RETURN(Json j, parse_json(*stored));
  return parse_delivery_settings(j, DeliverySettings{});
}

EpochMs retry_backoff(int attempts) {
  EpochMs wait = 30'000;
  for (int i = 1; i < attempts && wait < 3'600'000; ++i) wait *= 2;
  return std::min<EpochMs>(wait, 3'600'000);
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void Dispatcher::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto report = run_once();
    if (!report) {
      std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"outbox dispatch\",\"error\":%s}\n",
                   Json(report.error().message()).dump().c_str());
    }
    const bool busy = report && report->delivered + report->retried + report->dead +
                                        report->deferred + report->skipped >= 1000;
    lock.lock();
    if (busy) continue;
    wake_cv_.wait_for(lock, std::chrono::milliseconds(kTickMs),
                      [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

void Dispatcher::settings_changed(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  changed_.insert(ws);
}

Result<Dispatcher::Workspace*> Dispatcher::workspace(WorkspaceId ws) {
  const EpochMs now = clock_.now_ms();
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = changed_.erase(ws) > 0;
  }
  if (changed) externals_.erase(ws);  // remade from the new settings
  Workspace& w = workspaces_[ws];
  if (!changed && w.loaded_at != 0 && now - w.loaded_at < kSettingsTtlMs) return &w;
  SIYU_ASSIGN_OR_RETURN(w.settings, load_delivery_settings(store_, ws));
  SIYU_ASSIGN_OR_RETURN(store::Workspace row, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(w.offset_minutes, zone_offset_minutes(row.timezone));
  w.loaded_at = now;
  webhooks_[ws] = std::make_unique<WebhookChannel>(w.settings, clock_);
  // External channels keep state (tokens, caches): made once, again when the kind changes.
  if (w.settings.channel == "wecom" && external_ && !externals_.count(ws)) {
    auto made = external_(ws, w.settings.channel);
    if (made) externals_[ws] = std::move(*made);
  } else if (w.settings.channel != "wecom") {
    externals_.erase(ws);
  }
  return &w;
}

Result<Channel*> Dispatcher::channel_for(WorkspaceId ws, const DeliverySettings& s,
                                         bool webhook_step) {
  if (webhook_step || s.channel == "webhook") return webhooks_.at(ws).get();
  if (s.channel == "wecom") {
    if (auto it = externals_.find(ws); it != externals_.end()) return it->second.get();
    if (!external_) return unprocessable("the wecom channel is not available in this server");
    SIYU_ASSIGN_OR_RETURN(auto made, external_(ws, s.channel));
    return (externals_[ws] = std::move(made)).get();
  }
  if (!log_) log_ = std::make_unique<LogChannel>(log_path_);
  return log_.get();
}

Status Dispatcher::maintain(EpochMs now) {
  if (now - maintained_at_ < 60'000) return Status::ok();
  maintained_at_ = now;
  // Workspaces on an external channel get their follow-up even when nothing is due.
  SIYU_ASSIGN_OR_RETURN(std::vector<store::Workspace> all, store_.workspaces());
  for (const store::Workspace& ws : all) {
    SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(ws.id));
    (void)w;
  }
  for (auto& [ws, channel] : externals_) {
    Status st = channel->maintain(now);
    if (!st.is_ok()) {
      std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"channel follow-up\",\"workspace\":%lld,\"error\":%s}\n",
                   static_cast<long long>(ws.value), Json(st.message()).dump().c_str());
    }
  }
  return Status::ok();
}

bool Dispatcher::take_staff_slot(WorkspaceId ws, const std::string& staff, int per_minute,
                                 EpochMs now) {
  auto& [minute, used] = staff_minutes_[{ws, staff}];
  if (minute != now / 60'000) {
    minute = now / 60'000;
    used = 0;
  }
  if (used >= per_minute) return false;
  ++used;
  return true;
}

Result<DispatchReport> Dispatcher::run_once(int limit) {
  const EpochMs now = clock_.now_ms();
  SIYU_RETURN_IF_ERROR(maintain(now));
  SIYU_ASSIGN_OR_RETURN(std::vector<store::OutboxItem> due, store_.due_outbox(now, limit));
  DispatchReport report;
  if (due.empty()) return report;
  std::vector<store::OutboxUpdate> updates;
  // Rows of one workspace and channel are delivered together (channels may batch).
  std::map<std::pair<WorkspaceId, bool>, std::vector<store::OutboxItem>> batches;
  std::map<WorkspaceId, std::vector<CustomerId>> recipients;
  for (const store::OutboxItem& o : due) {
    if (o.kind == "message" && o.customer.valid()) recipients[o.workspace].push_back(o.customer);
  }
  std::map<WorkspaceId, std::vector<CustomerId>> opted;
  for (auto& [ws, ids] : recipients) {
    SIYU_ASSIGN_OR_RETURN(opted[ws], store_.opted_out(ws, ids));
  }
  for (const store::OutboxItem& o : due) {
    SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(o.workspace));
    const DeliverySettings& s = w->settings;
    store::OutboxUpdate u{.id = o.id, .state = o.state, .attempts = o.attempts,
                          .not_before = o.not_before, .sent_at = std::nullopt,
                          .reason = o.reason, .receipt = o.receipt};
    const auto& out = opted[o.workspace];
    if (o.kind == "message" && std::find(out.begin(), out.end(), o.customer) != out.end()) {
      u.state = "skipped";
      u.reason = "customer opted out of messages";
      updates.push_back(u);
      ++report.skipped;
      continue;
    }
    if (o.message_class == "marketing" && o.kind != "webhook" &&
        in_quiet_hours(s, now, w->offset_minutes)) {
      u.state = "deferred";
      u.not_before = after_quiet_hours(s, now, w->offset_minutes);
      u.reason = quiet_hours_reason(s);
      updates.push_back(u);
      ++report.deferred;
      continue;
    }
    if (o.kind == "message" && !o.staff.empty() &&
        !take_staff_slot(o.workspace, o.staff, s.staff_per_minute, now)) {
      u.state = "deferred";
      u.not_before = (now / 60'000 + 1) * 60'000;
      u.reason = "staff account rate limit: " + std::to_string(s.staff_per_minute) +
                 " messages a minute";
      updates.push_back(u);
      ++report.deferred;
      continue;
    }
    batches[{o.workspace, o.kind == "webhook"}].push_back(o);
  }
  for (auto& [key, items] : batches) {
    const auto& [ws, webhook_step] = key;
    SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(ws));
    auto channel = channel_for(ws, w->settings, webhook_step);
    const std::vector<Receipt> receipts =
        channel ? (*channel)->deliver(items)
                : std::vector<Receipt>(items.size(), Receipt{Receipt::Outcome::kRetry,
                                                             channel.error().message(), 0});
    for (size_t i = 0; i < items.size(); ++i) {
      const store::OutboxItem& o = items[i];
      const Receipt& r = receipts[i];
      store::OutboxUpdate u{.id = o.id, .state = "sent", .attempts = o.attempts + 1,
                            .not_before = o.not_before, .sent_at = std::nullopt,
                            .reason = "", .receipt = r.detail};
      if (r.outcome == Receipt::Outcome::kDelivered) {
        u.sent_at = now;
        ++report.delivered;
      } else if (r.outcome == Receipt::Outcome::kDeferred) {
        u.state = "deferred";
        u.attempts = o.attempts;
        u.not_before = r.not_before;
        u.reason = r.detail;
        ++report.deferred;
      } else if (r.outcome == Receipt::Outcome::kRetry && u.attempts < w->settings.max_attempts) {
        u.state = "retry";
        u.not_before = now + retry_backoff(u.attempts);
        u.reason = r.detail;
        ++report.retried;
      } else {
        u.state = "dead";
        u.reason = r.outcome == Receipt::Outcome::kRetry
                       ? "gave up after " + std::to_string(u.attempts) + " attempts: " + r.detail
                       : r.detail;
        ++report.dead;
      }
      updates.push_back(std::move(u));
    }
  }
  SIYU_RETURN_IF_ERROR(store_.update_outbox(updates));
  return report;
}

}  // namespace siyu::outbox
