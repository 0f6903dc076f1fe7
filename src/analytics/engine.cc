#include "analytics/engine.h"

#include <chrono>
#include <cmath>

#include "core/time_format.h"

namespace siyu::analytics {
namespace {
constexpr EpochMs kRefreshMs = 10'000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

AnalyticsEngine::~AnalyticsEngine() {
  std::lock_guard lock(mu_);
  for (auto& [ws, e] : entries_) {
    if (e->building.valid()) e->building.wait();
  }
}

AnalyticsEngine::Stats AnalyticsEngine::stats() const {
  std::lock_guard lock(mu_);
  Stats out;
  for (const auto& [ws, e] : entries_) {
    // A workspace busy building is left out rather than waited for.
    std::unique_lock el(e->mu, std::try_to_lock);
    if (!el.owns_lock() || !e->current) continue;
    out.snapshots += 1;
    out.bytes += e->current->memory_bytes();
    out.build_seconds = std::max(out.build_seconds, e->build_seconds);
  }
  return out;
}

AnalyticsEngine::Entry& AnalyticsEngine::entry(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  auto& e = entries_[ws];
  if (!e) e = std::make_unique<Entry>();
  return *e;
}

Result<std::shared_ptr<const Dataset>> AnalyticsEngine::build(WorkspaceId ws, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  SIYU_ASSIGN_OR_RETURN(store::Workspace w, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(w.timezone));
  SIYU_ASSIGN_OR_RETURN(auto declared, store_.event_properties(ws));
  std::vector<std::string> properties;
  for (const auto& p : declared) properties.push_back(p.name);
  SIYU_ASSIGN_OR_RETURN(Dataset d, load_dataset(store_, ws, offset, properties));
  d.built_at = clock_.now_ms();
  *seconds = seconds_since(start);
  return std::make_shared<const Dataset>(std::move(d));
}

bool AnalyticsEngine::stale(const Entry& e) const {
  if (e.current->generation == store_.write_generation()) return false;
  const auto interval = std::max<EpochMs>(kRefreshMs, static_cast<EpochMs>(e.build_seconds * 5000));
  return clock_.now_ms() - e.current->built_at >= interval;
}

Result<std::shared_ptr<const Dataset>> AnalyticsEngine::dataset(WorkspaceId ws, bool fresh) {
  Entry& e = entry(ws);
  std::lock_guard lock(e.mu);
  // Collect a finished background rebuild (its thread touches nothing of the entry).
  if (e.building.valid() &&
      (fresh || e.building.wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
    auto built = e.building.get();
    if (built) e.current = std::move(*built);
  }
  const bool changed = !e.current || e.current->generation != store_.write_generation();
  if (!e.current || (fresh && changed)) {
    SIYU_ASSIGN_OR_RETURN(e.current, build(ws, &e.build_seconds));
    return e.current;
  }
  if (!e.building.valid() && stale(e)) {
    double* seconds = &e.build_seconds;  // written by the one rebuild at a time
    e.building = std::async(std::launch::async, [this, ws, seconds] { return build(ws, seconds); });
  }
  return e.current;
}

int32_t last_purchase_day(const Dataset& d) {
  uint32_t last = 0;
  for (const OrderRow& o : d.orders.rows) {
    if (o.paid != 0 && o.amount > o.refund) last = std::max(last, o.paid);
  }
  return last == 0 ? INT32_MAX : d.day(last);
}

std::vector<store::Prediction> predict(const LtvModel& model,
                                       const std::vector<CustomerHistory>& hs, double horizon_days) {
  std::vector<store::Prediction> out;
  out.reserve(hs.size());
  for (const CustomerHistory& c : hs) {
    store::Prediction p;
    p.customer = CustomerId(c.customer);
    p.expected_purchases = expected_purchases(model.bgnbd, c.h, horizon_days);
    p.p_alive = p_alive(model.bgnbd, c.h);
    const double value = p.expected_purchases * expected_spend(model.gamma_gamma, c.h) * 100;
    p.predicted_value = std::isfinite(value) ? static_cast<int64_t>(std::llround(value)) : 0;
    if (!std::isfinite(p.expected_purchases)) p.expected_purchases = 0;
    out.push_back(p);
  }
  return out;
}

Result<AnalyticsEngine::Refit> AnalyticsEngine::refit(WorkspaceId ws, std::optional<int32_t> as_of) {
  const auto start = std::chrono::steady_clock::now();
  SIYU_ASSIGN_OR_RETURN(auto d, dataset(ws, true));
  const EpochMs now = clock_.now_ms();
  Refit r;
  r.as_of = as_of.value_or(std::min(d->day(to_seconds(now)), last_purchase_day(*d)));
  const std::vector<CustomerHistory> hs = histories(*d, r.as_of);
  r.model = fit_ltv(hs);
  const std::vector<store::Prediction> predictions = predict(r.model, hs, kHorizonDays);
  SIYU_RETURN_IF_ERROR(store_.put_predictions(ws, predictions, now));
  r.predictions = static_cast<int64_t>(predictions.size());
  r.fitted_at = now;
  r.seconds = seconds_since(start);
  const LtvModel& m = r.model;
  const Json saved = {
      {"bgnbd", {{"r", m.bgnbd.r}, {"alpha", m.bgnbd.alpha}, {"a", m.bgnbd.a}, {"b", m.bgnbd.b},
                 {"log_likelihood", m.bgnbd_log_likelihood}, {"customers", m.customers}}},
      {"gamma_gamma", {{"p", m.gamma_gamma.p}, {"q", m.gamma_gamma.q},
                       {"gamma", m.gamma_gamma.gamma},
                       {"log_likelihood", m.gamma_gamma_log_likelihood},
                       {"customers", m.repeat_customers}}},
      {"predictions", r.predictions}, {"horizon_days", kHorizonDays},
      {"as_of", format_date(civil_from_days(r.as_of))},
      {"fitted_at", format_timestamp(now)}, {"seconds", r.seconds}};
  SIYU_RETURN_IF_ERROR(store_.put_setting(ws, "ltv_model", saved.dump(), now));
  return r;
}

Result<std::optional<Json>> AnalyticsEngine::last_refit(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(auto text, store_.setting(ws, "ltv_model"));
  if (!text) return std::optional<Json>();
  SIYU_ASSIGN_OR_RETURN(Json j, parse_json(*text));
  return std::optional<Json>(std::move(j));
}

}  // namespace siyu::analytics
