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
}  // namespace

Bitmap evaluate(const index::IndexView& ix, const Expr& e) {
  switch (e.kind) {
    case ExprKind::kAnd: {
      // Intersect smallest first: later intersections then touch fewer containers.
      std::vector<Bitmap> parts;
      parts.reserve(e.children.size());
      for (const Expr& c : e.children) parts.push_back(evaluate(ix, c));
      std::sort(parts.begin(), parts.end(),
                [](const Bitmap& a, const Bitmap& b) { return a.cardinality() < b.cardinality(); });
      Bitmap out = std::move(parts.front());
      for (size_t i = 1; i < parts.size() && !out.isEmpty(); ++i) out &= parts[i];
      return out;
    }
    case ExprKind::kOr: {
      Bitmap out;
      for (const Expr& c : e.children) out |= evaluate(ix, c);
      return out;
    }
    case ExprKind::kNot:
      return ix.live() - evaluate(ix, e.children.front());
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
  }
  return {};
}

uint64_t count(const index::CustomerIndex& ix, const Expr& e) {
  return ix.read([&](const index::IndexView& v) { return evaluate(v, e).cardinality(); });
}

}  // namespace siyu::segment
