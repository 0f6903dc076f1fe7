#include "api/metrics.h"

#include <cstdio>

namespace siyu::api {
namespace {
constexpr std::array<double, 10> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,  0.1,    0.25,  0.5,  1.0};
}  // namespace

void Metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  RouteStats& s = routes_[{route, status}];
  ++s.count;
  s.seconds += seconds;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++s.buckets[i];
      break;
    }
  }
}

void Metrics::add_events(int64_t stored, int64_t duplicates, int64_t rejected) {
  events_stored_ += stored;
  events_duplicate_ += duplicates;
  events_rejected_ += rejected;
}

void Metrics::add_orders(int64_t n) { orders_ += n; }

std::string Metrics::render(const std::string& store_lines) const {
  std::string out;
  char buf[1024];
  out += "# HELP siyu_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE siyu_http_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, s] : routes_) {
    std::snprintf(buf, sizeof buf, "siyu_http_requests_total{route=\"%s\",status=\"%d\"} %lld\n",
                  key.first.c_str(), key.second, static_cast<long long>(s.count));
    out += buf;
  }
  out += "# HELP siyu_http_request_duration_seconds Request latency by route.\n";
  out += "# TYPE siyu_http_request_duration_seconds histogram\n";
  std::map<std::string, RouteStats> by_route;
  for (const auto& [key, s] : routes_) {
    RouteStats& r = by_route[key.first];
    r.count += s.count;
    r.seconds += s.seconds;
    for (size_t i = 0; i < kBounds.size(); ++i) r.buckets[i] += s.buckets[i];
  }
  for (const auto& [route, s] : by_route) {
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
      cumulative += s.buckets[i];
      std::snprintf(buf, sizeof buf,
                    "siyu_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n",
                    route.c_str(), kBounds[i], static_cast<long long>(cumulative));
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "siyu_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n"
                  "siyu_http_request_duration_seconds_sum{route=\"%s\"} %f\n"
                  "siyu_http_request_duration_seconds_count{route=\"%s\"} %lld\n",
                  route.c_str(), static_cast<long long>(s.count), route.c_str(), s.seconds,
                  route.c_str(), static_cast<long long>(s.count));
    out += buf;
  }
  std::snprintf(buf, sizeof buf,
                "# TYPE siyu_events_ingested_total counter\n"
                "siyu_events_ingested_total{outcome=\"stored\"} %lld\n"
                "siyu_events_ingested_total{outcome=\"duplicate\"} %lld\n"
                "siyu_events_ingested_total{outcome=\"rejected\"} %lld\n"
                "# TYPE siyu_orders_upserted_total counter\nsiyu_orders_upserted_total %lld\n",
                static_cast<long long>(events_stored_.load()),
                static_cast<long long>(events_duplicate_.load()),
                static_cast<long long>(events_rejected_.load()),
                static_cast<long long>(orders_.load()));
  out += buf;
  out += store_lines;
  return out;
}

}  // namespace siyu::api
