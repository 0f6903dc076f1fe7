// Request and ingest counters in Prometheus text exposition format.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace siyu::api {

/// Thread-safe counters; render() writes the text format.
class Metrics {
 public:
  void observe_request(const std::string& route, int status, double seconds);
  void add_events(int64_t stored, int64_t duplicates, int64_t rejected);
  void add_orders(int64_t n);
  std::string render(const std::string& store_lines) const;

 private:
  struct RouteStats {
    int64_t count = 0;
    double seconds = 0;
    std::array<int64_t, 10> buckets{};  // cumulative at render time
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, RouteStats> routes_;
  std::atomic<int64_t> events_stored_{0}, events_duplicate_{0}, events_rejected_{0};
  std::atomic<int64_t> orders_{0};
};

}  // namespace siyu::api
