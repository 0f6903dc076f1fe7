#include "analytics/funnel.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <memory>
#include <numeric>
#include <span>
#include <thread>
#include <utility>

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

/// The chain state of up to L steps, one step per lane: a portable vector the compiler maps
/// onto the machine's SIMD registers (GCC and Clang vector extensions).
template <size_t L>
using Lanes [[gnu::vector_size(L * sizeof(uint32_t))]] = uint32_t;

/// Sets `out` to `v` moved up one lane, with 0 in lane 0: a whole-register byte shift. (Vectors
/// wider than the baseline ISA's registers are passed by reference: by value their ABI varies.)
template <size_t L, size_t... I>
void shift_up(const Lanes<L>& v, Lanes<L>& out, std::index_sequence<I...>) {
  out = __builtin_shufflevector(v, Lanes<L>{}, (I == 0 ? L : I - 1)...);
}

/// The strict reach over up to L steps, one step per lane. Lane k holds the entry time of the
/// latest chain that has reached step k + 1 (a later entry leaves more of the window, so
/// keeping only the latest is exact) and whether there is one. An event extends, for every
/// step k it matches, the chain lane k - 1 held before the event (so an event never chains
/// with itself); step 1's chain before the event is the event itself when it falls inside the
/// period. All lanes are updated at once, without branches: which steps an event matches is
/// data a branch predictor cannot learn.
template <size_t L>
class StrictReach {
 public:
  StrictReach(const FunnelQuery& q, const StepMatcher& m)
      : m_(m), n_(m.size()), period_(q.period), end_(q.period.to + static_cast<uint64_t>(q.window_seconds)) {
    window_ += q.window_seconds;
    lane0_[0] = ~0u;
    for (size_t k = 0; k < L; ++k) step_bit_[k] = 1u << k;
  }

  Reach operator()(std::span<const EventRow> events) const {
    V entry{}, reached{}, seconds{};  // reached: all ones in the lanes of steps reached
    const auto lanes = std::make_index_sequence<L>{};
    for (const EventRow& e : events) {
      if (e.t >= end_) break;
      const uint16_t steps = m_.matching(e);
      const V t = V{} + e.t;
      const V matches = (step_bit_ & steps) == step_bit_;
      V from, from_valid;
      shift_up<L>(entry, from, lanes);
      shift_up<L>(reached, from_valid, lanes);
      from |= t & lane0_;
      from_valid |= lane0_ & (V{} - static_cast<uint32_t>(period_.contains(e.t)));
      const V since = t - from;
      const V extends = matches & from_valid & (since <= window_);
      entry = (from & extends) | (entry & ~extends);
      const V first = extends & ~reached;
      seconds = (since & first) | (seconds & ~first);
      reached |= extends;
      // Every step reached, each time taken at its first reach. (Only an event of the last
      // step can complete the funnel; reading a lane is slow, so only those read one.)
      if (((steps >> (n_ - 1)) & 1u) != 0 && reached[n_ - 1] != 0) break;
    }
    uint32_t reached_bits = 0;
    for (size_t k = 0; k < L; ++k) reached_bits |= (reached[k] & 1u) << k;
    Reach r;
    r.level = static_cast<size_t>(std::countr_one(reached_bits));
    for (size_t k = 0; k < n_; ++k) r.seconds[k] = seconds[k];
    return r;
  }

 private:
  using V = Lanes<L>;
  const StepMatcher& m_;
  size_t n_;
  Period period_;
  uint64_t end_;
  V window_{}, lane0_{}, step_bit_{};
};

/// The any-order reach: from each entry, every later step is the first matching event after
/// the entry.
class AnyOrderReach {
 public:
  AnyOrderReach(const FunnelQuery& q, const StepMatcher& m) : q_(q), m_(m) {}

  Reach operator()(std::span<const EventRow> events) const {
    const size_t n = m_.size();
    Reach r;
    // next[k]: index of the first event after the current entry that matches step k.
    std::array<size_t, kMaxSteps> next{};
    for (size_t i = 0; i < events.size(); ++i) {
      const EventRow& entry = events[i];
      if (!m_.matches(0, entry) || !q_.period.contains(entry.t)) continue;
      if (r.level == 0) r.level = 1;
      size_t level = 1;
      uint32_t latest = 0;
      for (size_t k = 1; k < n; ++k) {
        size_t& j = next[k];
        j = std::max(j, i + 1);
        while (j < events.size() && !m_.matches(k, events[j])) ++j;
        if (j >= events.size() || events[j].t - entry.t > q_.window_seconds) break;
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

 private:
  const FunnelQuery& q_;
  const StepMatcher& m_;
};

/// Calls fn(reach) with the reach for q's order and number of steps, a callable from a
/// customer's events to a Reach (each its own type, so fn's loop inlines it).
template <typename F>
void with_reach(const FunnelQuery& q, const StepMatcher& m, F&& fn) {
  static_assert(kMaxSteps <= 16);
  if (q.order == FunnelOrder::kAnyOrder) fn(AnyOrderReach(q, m));
  else if (q.steps.size() <= 4) fn(StrictReach<4>(q, m));
  else if (q.steps.size() <= 8) fn(StrictReach<8>(q, m));
  else fn(StrictReach<16>(q, m));
}

/// Durations kept for one step, appended without a branch on whether to keep each: the next
/// slot is always written and the count advances only for those kept (whether a customer
/// reached a step is data a branch predictor cannot learn). Stored in chunks, so growing
/// neither copies nor zero-fills, and columns of several parts join without copying.
class DurationColumn {
 public:
  DurationColumn() = default;
  DurationColumn(DurationColumn&& other) noexcept { *this = std::move(other); }
  DurationColumn& operator=(DurationColumn&& other) noexcept {
    chunks_ = std::move(other.chunks_);
    next_ = std::exchange(other.next_, nullptr);
    end_ = std::exchange(other.end_, nullptr);
    other.chunks_.clear();
    return *this;
  }

  void add_if(bool keep, uint32_t seconds) {
    if (next_ == end_) grow();
    *next_ = seconds;
    next_ += keep ? 1 : 0;
  }
  /// Takes `other`'s durations.
  void absorb(DurationColumn&& other) {
    seal();
    other.seal();
    for (Chunk& c : other.chunks_) chunks_.push_back(std::move(c));
    other.chunks_.clear();
  }
  /// The durations kept, chunk by chunk.
  std::vector<std::span<const uint32_t>> spans() const {
    std::vector<std::span<const uint32_t>> out;
    for (const Chunk& c : chunks_) {
      const bool filling = next_ != nullptr && &c == &chunks_.back();
      out.emplace_back(c.values.get(), filling ? static_cast<size_t>(next_ - c.values.get()) : c.size);
    }
    return out;
  }

 private:
  struct Chunk {
    std::unique_ptr<uint32_t[]> values;
    size_t size = 0;  // once sealed
  };
  static constexpr size_t kChunk = size_t{1} << 18;

  void grow() {
    seal();
    chunks_.push_back({std::make_unique_for_overwrite<uint32_t[]>(kChunk), 0});
    next_ = chunks_.back().values.get();
    end_ = next_ + kChunk;
  }
  /// Records the filling chunk's size; the next add starts a new chunk.
  void seal() {
    if (next_ != nullptr) chunks_.back().size = static_cast<size_t>(next_ - chunks_.back().values.get());
    next_ = end_ = nullptr;
  }

  std::vector<Chunk> chunks_;
  uint32_t* next_ = nullptr;  // where the next duration goes, in the last chunk
  uint32_t* end_ = nullptr;
};

/// The a-th and b-th smallest (0-based, a <= b) of the durations, by radix selection: a count
/// by the high 16 bits finds the buckets holding the ranks, a count by the low 16 bits within
/// them the values. Two sequential passes, no sorting and no copies.
std::pair<uint32_t, uint32_t> ranked(const std::vector<std::span<const uint32_t>>& parts, uint64_t a,
                                     uint64_t b) {
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

/// One group's figures, as customers are added: fixed arrays, so the per-customer additions
/// stay in registers and the stack rather than behind vectors' pointers.
struct GroupAcc {
  size_t steps = 0;
  std::array<int64_t, kMaxSteps + 1> at_level{};  // customers by the level they reached
  std::array<uint64_t, kMaxSteps> total_seconds{};  // by step, for the mean
  std::array<DurationColumn, kMaxSteps> seconds;   // by step
  explicit GroupAcc(size_t n = 0) : steps(n) {}
  void add(const Reach& r) {
    at_level[r.level] += 1;
    // Seconds of steps not reached are 0, so they add nothing to the total.
    for (size_t k = 1; k < steps; ++k) {
      seconds[k].add_if(k < r.level, r.seconds[k]);
      total_seconds[k] += r.seconds[k];
    }
  }
  void merge(GroupAcc&& other) {
    for (size_t l = 0; l <= steps; ++l) at_level[l] += other.at_level[l];
    for (size_t k = 0; k < steps; ++k) {
      total_seconds[k] += other.total_seconds[k];
      seconds[k].absorb(std::move(other.seconds[k]));
    }
  }
  int64_t entrants() const {
    return std::accumulate(at_level.begin() + 1, at_level.begin() + static_cast<ptrdiff_t>(steps) + 1, int64_t{0});
  }
  FunnelGroup finish(std::string key) const {
    FunnelGroup g;
    g.key = std::move(key);
    g.steps.resize(steps);
    // Steps with many durations take their medians on their own threads.
    std::vector<std::thread> threads;
    int64_t reached = entrants();
    for (size_t k = 0; k < steps; ++k) {
      FunnelStepResult& s = g.steps[k];
      s.customers = reached;
      reached -= at_level[k + 1];
      if (k == 0 || s.customers == 0) continue;
      const uint64_t n = static_cast<uint64_t>(s.customers);
      s.mean_seconds = static_cast<double>(total_seconds[k]) / static_cast<double>(n);
      const auto median = [this, k, n, &s] {
        const auto [below, middle] = ranked(seconds[k].spans(), (n - 1) / 2, n / 2);
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
  with_reach(q, m, [&](const auto& reach) {
    for_customer_ranges(d.size(), parts, [&](uint32_t first, uint32_t last, size_t part) {
      Part& out = results[part];
      GroupAcc total(q.steps.size());
      Breakdown breakdown(d, q.by, q.segments, today);
      for (uint32_t c = first; c < last; ++c) {
        if (!d.live[c] || !mask.has(c)) continue;
        const Reach r = reach(d.events.of(c));
        if (r.level == 0) continue;
        total.add(r);
        if (q.by == Dimension::kNone) continue;
        breakdown.each(c, nullptr, [&](size_t g) {
          while (out.groups.size() <= g) out.groups.emplace_back(q.steps.size());
          out.groups[g].add(r);
        });
      }
      for (size_t g = 0; g < out.groups.size(); ++g) out.labels.push_back(breakdown.label(g));
      out.total = std::move(total);
    });
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
    if (acc.entrants() > 0) out.groups.push_back(acc.finish(label));
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
  with_reach(q, m, [&](const auto& reach) {
    for (uint32_t c = 1; c < d.size(); ++c) {
      if (!d.live[c] || !mask.has(c)) continue;
      if (reach(d.events.of(c)).level == step) out.push_back(c);
    }
  });
  return out;
}

}  // namespace siyu::analytics
