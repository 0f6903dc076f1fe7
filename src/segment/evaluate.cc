#include "segment/evaluate.h"

#include <algorithm>

namespace siyu::segment {

using index::Bitmap;

namespace {
constexpr EpochMs kDay = 86'400'000;
int64_t floor_day(EpochMs t) {
  if (t == INT64_MIN) return INT64_MIN / kDay - 1;
  return t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
}

/// Customers whose count (or amount) of `e.attr` events in the window lies in [low, high].
Bitmap behaviour(const index::IndexView& ix, const Expr& e, EpochMs now) {
  const bool zero_matches = e.low <= 0 && 0 <= e.high;
  const auto type = ix.event_type(e.attr);
  if (!type) return zero_matches ? ix.live() : Bitmap();
  const int32_t first_day = ix.day_of(now) - e.within_days + 1;
  std::vector<uint32_t> hits;
  for (uint32_t id : ix.with_type(*type)) {
    const auto cells = ix.activity(id);
    auto it = std::lower_bound(cells.begin(), cells.end(), std::pair{*type, first_day},
                               [](const index::ActivityCell& c, std::pair<uint16_t, int32_t> key) {
                                 return c.type != key.first ? c.type < key.first
                                                            : static_cast<int32_t>(c.day) < key.second;
                               });
    int64_t measure = 0;
    for (; it != cells.end() && it->type == *type; ++it) measure += e.sum ? it->amount : it->count;
    if (measure >= e.low && measure <= e.high) hits.push_back(id);
  }
  Bitmap out;
  out.addMany(hits.size(), hits.data());
  if (zero_matches) out |= ix.live() - ix.with_type(*type);
  return out;
}

/// Customers for whom `keep(id)` holds, among `among`.
template <typename Keep>
Bitmap filter(const Bitmap& among, Keep keep) {
  std::vector<uint32_t> hits;
  for (uint32_t id : among) {
    if (keep(id)) hits.push_back(id);
  }
  Bitmap out;
  out.addMany(hits.size(), hits.data());
  return out;
}

/// Number and date custom fields: values in the range or in the list.
Bitmap number_field(const index::IndexView& ix, const Expr& e) {
  const index::NumberColumn* column = ix.numbers(e.attr);
  if (column == nullptr) return {};
  return filter(column->present(), [&](uint32_t id) {
    const double v = column->at(id);
    if (v >= e.number_from && v < e.number_to) return true;
    return std::find(e.numbers.begin(), e.numbers.end(), v) != e.numbers.end();
  });
}

Bitmap lifecycle(const index::IndexView& ix, const Expr& e, EpochMs now) {
  uint8_t wanted = 0;
  for (const auto& v : e.values) wanted = static_cast<uint8_t>(wanted | 1U << static_cast<unsigned>(*index::parse_lifecycle(v)));
  const int32_t today = ix.day_of(now);
  return filter(ix.live(), [&](uint32_t id) {
    return (wanted >> static_cast<unsigned>(ix.lifecycle(id, today)) & 1U) != 0;
  });
}

Bitmap rfm(const index::IndexView& ix, const Expr& e) {
  const auto& scores = ix.rfm();
  const auto accepts = [](uint8_t mask, uint8_t score) { return mask == 0 || (mask >> score & 1U) != 0; };
  return filter(ix.buyers(), [&](uint32_t id) {
    const index::RfmCell& c = scores[id];
    return accepts(e.rfm[0], c.r) && accepts(e.rfm[1], c.f) && accepts(e.rfm[2], c.m);
  });
}

Bitmap number_range(const index::IndexView& ix, const Expr& e) {
  const auto& purchases = ix.purchases();
  const bool orders = e.attr == "paid_orders";
  return filter(ix.live(), [&](uint32_t id) {
    const int64_t v = orders ? purchases[id].orders : purchases[id].spend;
    return v >= e.from && v < e.to;
  });
}

}  // namespace

Bitmap evaluate(const index::IndexView& ix, const Expr& e, EpochMs now) {
  switch (e.kind) {
    case ExprKind::kAnd: {
      // Intersect smallest first: later intersections then touch fewer containers.
      std::vector<Bitmap> parts;
      parts.reserve(e.children.size());
      for (const Expr& c : e.children) parts.push_back(evaluate(ix, c, now));
      std::sort(parts.begin(), parts.end(),
                [](const Bitmap& a, const Bitmap& b) { return a.cardinality() < b.cardinality(); });
      Bitmap out = std::move(parts.front());
      for (size_t i = 1; i < parts.size() && !out.isEmpty(); ++i) out &= parts[i];
      return out;
    }
    case ExprKind::kOr: {
      Bitmap out;
      for (const Expr& c : e.children) out |= evaluate(ix, c, now);
      return out;
    }
    case ExprKind::kNot:
      return ix.live() - evaluate(ix, e.children.front(), now);
    case ExprKind::kTag:
      return ix.tag(e.values.front()) & ix.live();
    case ExprKind::kLayer: {
      Bitmap out;
      for (const auto& l : e.values) out |= ix.value("layer", l);
      return out;
    }
    case ExprKind::kAttrEq:
      return ix.value(e.attr, e.values.front());
    case ExprKind::kAttrNe:
      return ix.live() - ix.value(e.attr, e.values.front());
    case ExprKind::kAttrIn: {
      Bitmap out;
      for (const auto& v : e.values) out |= ix.value(e.attr, v);
      return out;
    }
    case ExprKind::kAttrPrefix: {
      Bitmap out;
      const auto* all = ix.values(e.attr);
      if (all == nullptr) return out;
      const std::string& prefix = e.values.front();
      for (auto it = all->lower_bound(prefix);
           it != all->end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        out |= it->second;
      }
      return out;
    }
    case ExprKind::kAttrExists: {
      Bitmap out;
      if (const index::NumberColumn* column = ix.numbers(e.attr)) return column->present();
      if (const auto* all = ix.values(e.attr)) {
        for (const auto& [value, b] : *all) {
          // "unknown" is how the store writes a gender nobody gave.
          if (!(e.attr == "gender" && value == "unknown")) out |= b;
        }
      }
      return out;
    }
    case ExprKind::kCreatedRange: {
      // Whole days inside the range are unions of day bitmaps; only the days the range cuts
      // through are checked customer by customer against the column.
      Bitmap out;
      const auto& created = ix.created_at();
      const auto& days = ix.created_days();
      for (auto it = days.lower_bound(floor_day(e.from)); it != days.end(); ++it) {
        const EpochMs day_start = it->first * kDay;
        if (day_start >= e.to) break;
        if (day_start >= e.from && day_start + kDay <= e.to) {
          out |= it->second;
          continue;
        }
        for (uint32_t id : it->second) {
          if (created[id] >= e.from && created[id] < e.to) out.add(id);
        }
      }
      return out;
    }
    case ExprKind::kNumberRange:
      return number_range(ix, e);
    case ExprKind::kBehaviour:
      return behaviour(ix, e, now);
    case ExprKind::kGroup: {
      Bitmap out;
      for (const auto& g : e.values) out |= ix.value("group", g);
      return out;
    }
    case ExprKind::kLifecycle:
      return lifecycle(ix, e, now);
    case ExprKind::kRfm:
      return rfm(ix, e);
    case ExprKind::kNumberField:
      return number_field(ix, e);
  }
  return {};
}

uint64_t count(const index::CustomerIndex& ix, const Expr& e, EpochMs now) {
  return ix.read([&](const index::IndexView& v) { return evaluate(v, e, now).cardinality(); });
}

}  // namespace siyu::segment
