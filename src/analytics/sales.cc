#include "analytics/sales.h"

#include <algorithm>
#include <map>

#include "analytics/parallel.h"

namespace siyu::analytics {
namespace {

/// One bucket's figures and the last buyer counted in it (so each buyer counts once), side
/// by side, so an order's bucket (a random access) is usually one cache miss, not two.
struct BucketAcc {
  SalesFigures figures;
  uint32_t last_buyer = UINT32_MAX;
};

/// Accumulates one group: totals and a bucket per grain step; points are labelled at the end.
struct GroupAcc {
  SalesGroup g;
  uint32_t last_buyer = UINT32_MAX;
  std::vector<BucketAcc> buckets;
};

/// Buckets of a period: the index of each local day's bucket.
class Buckets {
 public:
  Buckets(const Dataset& d, Period p, Grain g) : d_(d) {
    first_day_ = d.day(p.from);
    const int32_t last_day = d.day(p.to == 0 ? 0 : p.to - 1);
    for (int32_t b = bucket_of(first_day_, g); b <= last_day; b = next_bucket(b, g)) {
      labels_.push_back(bucket_label(b, g));
      const int32_t end = std::min(next_bucket(b, g), last_day + 1);
      for (int32_t day = std::max(b, first_day_); day < end; ++day) {
        index_.push_back(labels_.size() - 1);
      }
    }
  }
  size_t of(uint32_t t) const { return index_[static_cast<size_t>(d_.day(t) - first_day_)]; }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  const Dataset& d_;
  int32_t first_day_ = 0;
  std::vector<size_t> index_;
  std::vector<std::string> labels_;
};

bool paid_in(const OrderRow& o, Period p) { return o.paid != 0 && p.contains(o.paid); }
bool refunded_in(const OrderRow& o, Period p) {
  return o.refunded != 0 && o.refund > 0 && p.contains(o.refunded);
}

/// One part's accumulators: the total and each group met, with its label.
struct Part {
  GroupAcc total;
  std::vector<GroupAcc> accs;
  std::vector<std::string> labels;
};

/// Sales of the customers with ids in [first, last), and of guests (id 0) when `guests`.
Part sales_part(const Dataset& d, const SalesQuery& q, const CustomerMask& mask, int32_t today,
                const Buckets& buckets, uint32_t first_id, uint32_t last_id, bool guests) {
  const size_t nb = buckets.labels().size();
  Breakdown breakdown(d, q.by, q.segments, today);
  Part part;
  std::vector<GroupAcc>& accs = part.accs;
  GroupAcc& total = part.total;
  const auto fresh = [&](GroupAcc& a) {
    if (a.buckets.empty()) a.buckets.resize(nb);
  };
  fresh(total);
  const auto acc_of = [&](size_t group) -> GroupAcc& {
    if (group >= accs.size()) accs.resize(group + 1);
    fresh(accs[group]);
    return accs[group];
  };
  const uint64_t horizon = static_cast<uint64_t>(q.repurchase_days) * 86400;
  const bool order_dim = is_order_dimension(q.by);

  for (uint32_t c = guests ? 0 : first_id; c < last_id; c = c == 0 ? first_id : c + 1) {
    const bool identified = d.live[c];
    if (identified ? !mask.has(c) : !mask.covers_all()) continue;
    const auto orders = d.orders.of(c);
    // Sales and refunds.
    const OrderRow* first = nullptr;
    for (const OrderRow& o : orders) {
      const bool sold = paid_in(o, q.period);
      const bool refunded = refunded_in(o, q.period);
      if (!sold && !refunded) continue;
      const size_t paid_bucket = sold ? buckets.of(o.paid) : 0;
      const auto add = [&](GroupAcc& a) {
        if (sold) {
          BucketAcc& b = a.buckets[paid_bucket];
          SalesFigures& p = b.figures;
          a.g.totals.gmv += o.amount;
          a.g.totals.orders += 1;
          p.gmv += o.amount;
          p.orders += 1;
          if (identified) {
            if (a.last_buyer != c) a.g.totals.buyers += 1, a.last_buyer = c;
            if (b.last_buyer != c) p.buyers += 1, b.last_buyer = c;
          }
        }
        if (refunded) {
          SalesFigures& p = a.buckets[buckets.of(o.refunded)].figures;
          a.g.totals.refunds += 1;
          a.g.totals.refund_amount += o.refund;
          p.refunds += 1;
          p.refund_amount += o.refund;
        }
      };
      add(total);
      if (q.by != Dimension::kNone) breakdown.each(c, &o, [&](size_t g) { add(acc_of(g)); });
      if (sold && identified && (first == nullptr || o.paid < first->paid)) first = &o;
    }
    if (!identified) continue;
    // Visitors and conversion (customer dimensions only: a visit has no store or order staff).
    const bool visited = d.has_event_in(c, q.period.from, q.period.to);
    // Repurchase: another paid order within the horizon after the first one in the period.
    bool repeated = false;
    if (first != nullptr) {
      for (const OrderRow& o : orders) {
        if (&o != first && o.paid != 0 && o.paid >= first->paid &&
            o.paid - first->paid <= horizon) {
          repeated = true;
          break;
        }
      }
    }
    const auto add_customer = [&](GroupAcc& a, bool with_visits) {
      if (with_visits && visited) {
        a.g.visitors += 1;
        if (first != nullptr) a.g.converted += 1;
      }
      if (first != nullptr) {
        a.g.first_buyers += 1;
        if (repeated) a.g.repeat_buyers += 1;
      }
    };
    add_customer(total, true);
    if (q.by == Dimension::kNone) continue;
    if (order_dim) {
      if (first != nullptr) breakdown.each(c, first, [&](size_t g) { add_customer(acc_of(g), false); });
    } else {
      breakdown.each(c, nullptr, [&](size_t g) { add_customer(acc_of(g), true); });
    }
  }

  for (size_t g = 0; g < accs.size(); ++g) part.labels.push_back(breakdown.label(g));
  const auto label = [&](GroupAcc& a) {
    a.g.points.resize(a.buckets.size());
    for (size_t i = 0; i < a.buckets.size(); ++i) {
      a.g.points[i] = {buckets.labels()[i], a.buckets[i].figures};
    }
  };
  label(total);
  for (GroupAcc& a : accs) label(a);
  return part;
}

/// Adds `from` into `into` (customers of different parts are distinct, so counts add up).
void merge(SalesGroup& into, const SalesGroup& from) {
  const auto add = [](SalesFigures& a, const SalesFigures& b) {
    a.gmv += b.gmv, a.orders += b.orders, a.buyers += b.buyers, a.refunds += b.refunds,
        a.refund_amount += b.refund_amount;
  };
  add(into.totals, from.totals);
  if (into.points.empty()) into.points = from.points;
  else {
    for (size_t i = 0; i < from.points.size(); ++i) add(into.points[i].figures, from.points[i].figures);
  }
  into.visitors += from.visitors, into.converted += from.converted;
  into.first_buyers += from.first_buyers, into.repeat_buyers += from.repeat_buyers;
}

}  // namespace

SalesReport sales(const Dataset& d, const SalesQuery& q, const CustomerMask& mask, int32_t today) {
  const Buckets buckets(d, q.period, q.grain);
  const size_t parts = parts_for(d.size());
  std::vector<Part> results(parts);
  for_customer_ranges(d.size(), parts, [&](uint32_t first, uint32_t last, size_t part) {
    results[part] = sales_part(d, q, mask, today, buckets, first, last, part == 0);
  });
  SalesReport r;
  std::map<std::string, SalesGroup> groups;
  for (const Part& p : results) {
    merge(r.total, p.total.g);
    for (size_t g = 0; g < p.accs.size(); ++g) {
      if (p.accs[g].g.points.empty()) continue;
      SalesGroup& into = groups[p.labels[g]];
      into.key = p.labels[g];
      merge(into, p.accs[g].g);
    }
  }
  r.total.key = "all";
  for (auto& [label, g] : groups) r.groups.push_back(std::move(g));
  std::stable_sort(r.groups.begin(), r.groups.end(), [](const SalesGroup& a, const SalesGroup& b) {
    return a.totals.gmv > b.totals.gmv;
  });
  return r;
}

std::vector<uint32_t> buyers(const Dataset& d, Period period, const CustomerMask& mask) {
  std::vector<uint32_t> out;
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.live[c] || !mask.has(c)) continue;
    const auto orders = d.orders.of(c);
    if (std::any_of(orders.begin(), orders.end(), [&](const OrderRow& o) { return paid_in(o, period); })) {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> distribution(const Dataset& d,
                                                          const std::vector<uint32_t>& customers,
                                                          Dimension dim, int32_t today) {
  Breakdown b(d, dim, {}, today);
  std::vector<int64_t> counts;
  for (uint32_t c : customers) {
    b.each(c, nullptr, [&](size_t g) {
      if (g >= counts.size()) counts.resize(g + 1, 0);
      counts[g] += 1;
    });
  }
  std::vector<std::pair<std::string, int64_t>> out;
  for (size_t g = 0; g < counts.size(); ++g) out.emplace_back(b.label(g), counts[g]);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b2) { return a.second > b2.second; });
  return out;
}

}  // namespace siyu::analytics
