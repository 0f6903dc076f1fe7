#include "analytics/funnel.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <span>
#include <thread>

#include "analytics/parallel.h"

namespace siyu::analytics {
namespace {

/// The steps resolved against a dataset as bit masks (bit k for step k): the steps of each
/// event type, and the steps each attribute set passes (all for steps without filters), so
/// the steps an event matches are two table lookups.
class StepMatcher {
 public:
  StepMatcher(const Dataset& d, const std::vector<FunnelStep>& steps)
      : steps_(steps.size()), by_type_(d.event_types.size(), 0), by_attrs_(d.attrs.size(), 0) {
    for (size_t k = 0; k < steps.size(); ++k) {
      const FunnelStep& s = steps[k];
      const auto bit = static_cast<uint16_t>(1u << k);
      if (const auto type = d.event_types.find(s.type); type && *type != 0) by_type_[*type] |= bit;
      for (size_t a = 0; a < d.attrs.size(); ++a) {
        const bool pass = std::all_of(s.filters.begin(), s.filters.end(),
                                      [&](const EventFilter& f) { return passes(d, d.attrs[a], f); });
        if (pass) by_attrs_[a] |= bit;
      }
    }
  }
  /// The steps the event matches, by type and filters.
  uint16_t matching(const EventRow& e) const { return by_type_[e.type] & by_attrs_[e.attrs]; }
  bool matches(size_t step, const EventRow& e) const { return ((matching(e) >> step) & 1u) != 0; }
  size_t size() const { return steps_; }

 private:
  static bool passes(const Dataset& d, const EventAttrs& a, const EventFilter& f) {
    std::string_view actual;
    if (f.field == "channel") actual = d.event_text.name(a.channel);
    else if (f.field == "campaign") actual = d.event_text.name(a.campaign);
    else if (f.field == "content") actual = d.event_text.name(a.content);
    else if (f.field == "staff") actual = d.event_text.name(a.staff);
    else {
      const std::string name = f.field.substr(6);  // "props."
      for (const auto& [k, v] : a.properties) {
        if (k == name) actual = v;
      }
    }
    return std::find(f.values.begin(), f.values.end(), actual) != f.values.end();
  }

  size_t steps_;
  std::vector<uint16_t> by_type_;
  std::vector<uint16_t> by_attrs_;
};

/// How far one customer got: the level (steps reached, 0 = never entered) and, for each step
/// reached, the seconds from the entry of the chain that first reached it.
struct Reach {
  size_t level = 0;
  std::array<uint32_t, kMaxSteps> seconds{};
};

Reach reach_strict(std::span<const EventRow> events, const FunnelQuery& q, const StepMatcher& m) {
  const size_t n = m.size();
  // Locals, so the compiler need not reload them after every store into `r`.
  const uint32_t window = q.window_seconds;
  const Period period = q.period;
  const uint64_t end = period.to + static_cast<uint64_t>(window);
  Reach r;
  // start[k]: the latest entry time of a chain that has reached step k + 1 so far. A later
  // entry leaves more of the window, so keeping only the latest is exact.
  std::array<int64_t, kMaxSteps> start;
  start.fill(-1);
  for (const EventRow& e : events) {
    const uint32_t bits = m.matching(e);
    if (bits == 0) continue;
    if (e.t >= end) break;
    // Later steps first, so each extends a chain that ended before this event.
    for (uint32_t left = bits & ~1u; left != 0;) {
      const auto k = static_cast<size_t>(31 - std::countl_zero(left));
      left &= ~(1u << k);
      if (start[k - 1] < 0 || e.t - start[k - 1] > window) continue;
      if (k + 1 > r.level) {
        r.level = k + 1;
        r.seconds[k] = static_cast<uint32_t>(e.t - start[k - 1]);
      }
      start[k] = start[k - 1];
    }
    // Step 1 after the later steps, so the event does not chain with itself.
    if ((bits & 1u) != 0 && period.contains(e.t)) {
      if (r.level == 0) r.level = 1;
      start[0] = e.t;
    }
    if (r.level == n) break;  // every step reached, each time taken at its first reach
  }
  return r;
}

Reach reach_any_order(std::span<const EventRow> events, const FunnelQuery& q,
                      const StepMatcher& m) {
  const size_t n = m.size();
  Reach r;
  // next[k]: index of the first event after the current entry that matches step k.
  std::array<size_t, kMaxSteps> next{};
  for (size_t i = 0; i < events.size(); ++i) {
    const EventRow& entry = events[i];
    if (!m.matches(0, entry) || !q.period.contains(entry.t)) continue;
    if (r.level == 0) r.level = 1;
    size_t level = 1;
    uint32_t latest = 0;
    for (size_t k = 1; k < n; ++k) {
      size_t& j = next[k];
      j = std::max(j, i + 1);
      while (j < events.size() && !m.matches(k, events[j])) ++j;
      if (j >= events.size() || events[j].t - entry.t > q.window_seconds) break;
      latest = std::max(latest, events[j].t - entry.t);
      level = k + 1;
      if (level > r.level) {
        r.level = level;
        r.seconds[k] = latest;
      }
    }
    if (r.level == n) break;
  }
  return r;
}

Reach reach(std::span<const EventRow> events, const FunnelQuery& q, const StepMatcher& m) {
  return q.order == FunnelOrder::kStrict ? reach_strict(events, q, m)
                                         : reach_any_order(events, q, m);
}

/// Seconds to a step, as the parts collected them: one vector per part, never copied
/// together.
using Durations = std::vector<std::vector<uint32_t>>;

/// The a-th and b-th smallest (0-based, a <= b) of all durations, by radix selection: a
/// count by the high 16 bits finds the buckets holding the ranks, a count by the low 16 bits
/// within them the values. Two sequential passes, no sorting and no copies.
std::pair<uint32_t, uint32_t> ranked(const Durations& parts, uint64_t a, uint64_t b) {
  std::vector<uint64_t> high(1u << 16, 0);
  for (const auto& v : parts) {
    for (uint32_t x : v) ++high[x >> 16];
  }
  const auto bucket = [&](uint64_t& k) {
    uint32_t h = 0;
    while (k >= high[h]) k -= high[h++];
    return h;
  };
  const uint32_t ha = bucket(a), hb = bucket(b);
  std::vector<uint64_t> low_a(1u << 16, 0), low_b(ha == hb ? 0 : 1u << 16, 0);
  std::vector<uint64_t>& in_b = ha == hb ? low_a : low_b;
  for (const auto& v : parts) {
    for (uint32_t x : v) {
      const uint32_t h = x >> 16;
      if (h == ha) ++low_a[x & 0xFFFFu];
      else if (h == hb) ++in_b[x & 0xFFFFu];
    }
  }
  const auto value = [](const std::vector<uint64_t>& low, uint32_t h, uint64_t k) {
    uint32_t l = 0;
    while (k >= low[l]) k -= low[l++];
    return (h << 16) | l;
  };
  return {value(low_a, ha, a), value(in_b, hb, b)};
}

struct GroupAcc {
  std::vector<int64_t> customers;
  std::vector<Durations> seconds;  // by step
  std::vector<double> total_seconds;  // by step, for the mean
  explicit GroupAcc(size_t n = 0) : customers(n, 0), seconds(n, Durations(1)), total_seconds(n, 0) {}
  void merge(GroupAcc&& other) {
    for (size_t k = 0; k < customers.size(); ++k) {
      customers[k] += other.customers[k];
      total_seconds[k] += other.total_seconds[k];
      for (auto& v : other.seconds[k]) seconds[k].push_back(std::move(v));
    }
  }
  void add(const Reach& r) {
    for (size_t k = 0; k < r.level; ++k) {
      customers[k] += 1;
      if (k == 0) continue;
      seconds[k].front().push_back(r.seconds[k]);
      total_seconds[k] += r.seconds[k];
    }
  }
  FunnelGroup finish(std::string key) const {
    FunnelGroup g;
    g.key = std::move(key);
    g.steps.resize(customers.size());
    // Steps with many durations take their medians on their own threads.
    std::vector<std::thread> threads;
    for (size_t k = 0; k < customers.size(); ++k) {
      uint64_t n = 0;
      for (const auto& v : seconds[k]) n += v.size();
      FunnelStepResult& s = g.steps[k];
      s.customers = customers[k];
      if (n == 0) continue;
      s.mean_seconds = total_seconds[k] / static_cast<double>(n);
      const auto median = [this, k, n, &s] {
        const auto [below, middle] = ranked(seconds[k], (n - 1) / 2, n / 2);
        s.median_seconds = (static_cast<double>(below) + middle) / 2;
      };
      if (n > 1'000'000) threads.emplace_back(median);
      else median();
    }
    for (std::thread& t : threads) t.join();
    return g;
  }
};

}  // namespace

FunnelReport funnel(const Dataset& d, const FunnelQuery& q, const CustomerMask& mask, int32_t today) {
  const StepMatcher m(d, q.steps);
  // Each part of the customers fills its own accumulators; groups meet by label when merged.
  struct Part {
    GroupAcc total;
    std::vector<GroupAcc> groups;
    std::vector<std::string> labels;
  };
  const size_t parts = parts_for(d.size());
  std::vector<Part> results(parts);
  for_customer_ranges(d.size(), parts, [&](uint32_t first, uint32_t last, size_t part) {
    Part& out = results[part];
    out.total = GroupAcc(q.steps.size());
    Breakdown breakdown(d, q.by, q.segments, today);
    for (uint32_t c = first; c < last; ++c) {
      if (!d.live[c] || !mask.has(c)) continue;
      const Reach r = reach(d.events.of(c), q, m);
      if (r.level == 0) continue;
      out.total.add(r);
      if (q.by == Dimension::kNone) continue;
      breakdown.each(c, nullptr, [&](size_t g) {
        while (out.groups.size() <= g) out.groups.emplace_back(q.steps.size());
        out.groups[g].add(r);
      });
    }
    for (size_t g = 0; g < out.groups.size(); ++g) out.labels.push_back(breakdown.label(g));
  });
  GroupAcc total(q.steps.size());
  std::map<std::string, GroupAcc> groups;
  for (Part& p : results) {
    total.merge(std::move(p.total));
    for (size_t g = 0; g < p.groups.size(); ++g) {
      auto [it, fresh] = groups.try_emplace(p.labels[g], q.steps.size());
      it->second.merge(std::move(p.groups[g]));
    }
  }
  FunnelReport out;
  out.total = total.finish("all");
  for (auto& [label, acc] : groups) {
    if (acc.customers[0] > 0) out.groups.push_back(acc.finish(label));
  }
  std::stable_sort(out.groups.begin(), out.groups.end(), [](const FunnelGroup& a, const FunnelGroup& b) {
    return a.steps[0].customers > b.steps[0].customers;
  });
  return out;
}

std::vector<uint32_t> funnel_dropouts(const Dataset& d, const FunnelQuery& q,
                                      const CustomerMask& mask, size_t step) {
  const StepMatcher m(d, q.steps);
  std::vector<uint32_t> out;
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.live[c] || !mask.has(c)) continue;
    if (reach(d.events.of(c), q, m).level == step) out.push_back(c);
  }
  return out;
}

}  // namespace siyu::analytics
