#include "segment/evaluate.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "index/chunked.h"

namespace siyu::segment {

using index::Bitmap;

namespace {
constexpr EpochMs kDay = 86'400'000;
int64_t floor_day(EpochMs t) {
  if (t == INT64_MIN) return INT64_MIN / kDay - 1;
  return t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
}

/// Nodes answered by bitmap algebra alone; the others look at customers one by one, so an
/// "and" evaluates them last, among the customers its cheap terms left.
bool is_cheap(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kBehaviour:
    case ExprKind::kNumberRange:
    case ExprKind::kNumberField:
    case ExprKind::kLifecycle:
    case ExprKind::kRfm:
      return false;
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kNot:
      return std::all_of(e.children.begin(), e.children.end(), is_cheap);
    default:
      return true;
  }
}

/// `b` limited to `within` (when given); computed from the smaller side.
Bitmap restrict(const Bitmap& b, const Bitmap* within) {
  return within != nullptr ? *within & b : b;
}

/// `within` is small next to the workspace: checking its customers one by one beats bitmap
/// algebra over everybody.
bool is_small(const Bitmap* within, const index::IndexView& ix) {
  return within != nullptr && within->cardinality() * 64 < ix.live().cardinality();
}

/// The union of `parts`, limited to `within` (when given): a few customers are intersected
/// with each part, many are counted chunk by chunk.
template <typename Parts>
Bitmap union_of(const index::IndexView& ix, const Parts& parts, const Bitmap* within) {
  if (!is_small(within, ix)) return index::at_least_k_of(parts, 1, within);
  index::UnionBuilder out;
  for (const Bitmap* b : parts) out.add(*within & *b);
  return out.finish();
}

/// The bitmaps whose union answers an attribute term: the listed values (layer, in, group), the
/// values with a prefix, or for exists every value (a number field's customers with a value).
std::vector<const Bitmap*> value_parts(const index::IndexView& ix, const Expr& e) {
  std::vector<const Bitmap*> parts;
  if (e.kind == ExprKind::kLayer || e.kind == ExprKind::kAttrIn || e.kind == ExprKind::kGroup) {
    const std::string& attr = e.kind == ExprKind::kLayer   ? "layer"
                              : e.kind == ExprKind::kGroup ? "group"
                                                           : e.attr;
    for (const auto& v : e.values) parts.push_back(&ix.value(attr, v));
    return parts;
  }
  if (e.kind == ExprKind::kAttrExists) {
    if (const index::NumberColumn* column = ix.numbers(e.attr)) return {&column->present()};
  }
  if (const auto* all = ix.values(e.attr)) {
    const std::string prefix = e.kind == ExprKind::kAttrPrefix ? e.values.front() : "";
    for (auto it = all->lower_bound(prefix);
         it != all->end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      // "unknown" is how the store writes a gender nobody gave.
      if (!(e.attr == "gender" && it->first == "unknown" && e.kind == ExprKind::kAttrExists)) {
        parts.push_back(&it->second);
      }
    }
  }
  return parts;
}

/// Customers for whom `keep(id)` holds, among `among` (and `within`, when given).
template <typename Keep>
Bitmap filter(const Bitmap& among, const Bitmap* within, Keep keep) {
  std::vector<uint32_t> hits;
  const auto scan = [&](const Bitmap& ids) {
    for (uint32_t id : ids) {
      if (keep(id)) hits.push_back(id);
    }
  };
  if (within != nullptr) {
    scan(among & *within);
  } else {
    scan(among);
  }
  Bitmap out;
  out.addMany(hits.size(), hits.data());
  return out;
}

/// The level bitmaps of `type` from `first_day` on: the window's edge days, then whole weeks.
/// A customer with j events in a bucket is in the bucket's first j levels, so the count over
/// the window is the number of these bitmaps holding the customer. With `first_only`, just
/// each bucket's first level (customers with any event there).
std::vector<const Bitmap*> window_levels(const index::IndexView& ix, uint16_t type,
                                         int32_t first_day, bool first_only) {
  const int64_t first_week = index::week_of(first_day - 1) + 1;
  std::vector<const Bitmap*> levels;
  const auto add = [&](const std::vector<Bitmap>& bucket) {
    const size_t used = first_only ? std::min<size_t>(1, bucket.size()) : bucket.size();
    for (size_t j = 0; j < used; ++j) levels.push_back(&bucket[j]);
  };
  const auto& days = ix.day_levels(type);
  for (auto it = days.lower_bound(first_day); it != days.end() && it->first < first_week * 7;
       ++it) {
    add(it->second);
  }
  const auto& weeks = ix.week_levels(type);
  for (auto it = weeks.lower_bound(static_cast<int32_t>(first_week)); it != weeks.end(); ++it) {
    add(it->second);
  }
  return levels;
}

/// Customers with at least `k` (1 ≤ k ≤ kCountLevels) events of `type` from `first_day` on,
/// limited to `within` when given.
Bitmap at_least(const index::IndexView& ix, uint16_t type, int32_t first_day, int k,
                const Bitmap* within) {
  return index::at_least_k_of(window_levels(ix, type, first_day, k == 1), k, within);
}

/// The first day of a behaviour term's window, which ends today.
int32_t window_start(const index::IndexView& ix, const Expr& e, EpochMs now) {
  return ix.day_of(now) - e.within_days + 1;
}

/// The count or amount of `type` events of one customer from `first_day` on.
int64_t measure_of(const index::IndexView& ix, uint32_t id, uint16_t type, int32_t first_day,
                   bool sum) {
  const auto cells = ix.activity(id);
  auto it = std::lower_bound(
      cells.begin(), cells.end(), std::pair{type, first_day},
      [](const index::ActivityCell& c, std::pair<uint16_t, int32_t> key) {
        return c.type != key.first ? c.type < key.first : static_cast<int32_t>(c.day) < key.second;
      });
  int64_t measure = 0;
  for (; it != cells.end() && it->type == type; ++it) measure += sum ? it->amount : it->count;
  return measure;
}

/// Customers whose count (or amount) of `e.attr` events in the window lies in [low, high].
/// Counts up to kCountLevels are answered from the day-level bitmaps; larger counts and
/// amounts check the customers who had any such event, one by one.
Bitmap behaviour(const index::IndexView& ix, const Expr& e, EpochMs now, const Bitmap* within) {
  const bool zero_matches = e.low <= 0 && 0 <= e.high;
  const Bitmap& live = within != nullptr ? *within : ix.live();
  const auto type = ix.event_type(e.attr);
  if (!type) return zero_matches ? live : Bitmap();
  const int32_t first_day = window_start(ix, e, now);
  const bool high_open = e.high == INT64_MAX;
  if (!e.sum && e.high < 0) return {};  // counts are never negative
  if (!e.sum && e.low <= index::kCountLevels && (high_open || e.high < index::kCountLevels)) {
    // [low, high] = (at least low) − (at least high + 1).
    Bitmap out =
        e.low <= 0 ? live : at_least(ix, *type, first_day, static_cast<int>(e.low), within);
    if (!high_open) out -= at_least(ix, *type, first_day, static_cast<int>(e.high) + 1, within);
    return out;
  }
  const Bitmap any = at_least(ix, *type, first_day, 1, within);
  const Bitmap candidates =
      e.sum || e.low <= 1 ? any : at_least(ix, *type, first_day, index::kCountLevels, within);
  Bitmap out = filter(candidates, nullptr, [&](uint32_t id) {  // candidates are within already
    const int64_t m = measure_of(ix, id, *type, first_day, e.sum);
    return m >= e.low && m <= e.high;
  });
  if (zero_matches) out |= live - any;
  return out;
}

/// The value bitmaps of a number field's range or list.
std::vector<const Bitmap*> number_parts(const index::NumberColumn& column, const Expr& e) {
  std::vector<const Bitmap*> parts;
  for (const auto& [value, customers] : *column.by_value()) {
    if ((value >= e.number_from && value < e.number_to) ||
        std::find(e.numbers.begin(), e.numbers.end(), value) != e.numbers.end()) {
      parts.push_back(&customers);
    }
  }
  return parts;
}

/// Number and date custom fields: values in the range or in the list.
Bitmap number_field(const index::IndexView& ix, const Expr& e, const Bitmap* within) {
  const index::NumberColumn* column = ix.numbers(e.attr);
  if (column == nullptr) return {};
  if (column->by_value() != nullptr && !is_small(within, ix)) {
    return union_of(ix, number_parts(*column, e), within);
  }
  return filter(column->present(), within, [&](uint32_t id) {
    const double v = column->at(id);
    if (v >= e.number_from && v < e.number_to) return true;
    return std::find(e.numbers.begin(), e.numbers.end(), v) != e.numbers.end();
  });
}

Bitmap lifecycle(const index::IndexView& ix, const Expr& e, EpochMs now, const Bitmap* within) {
  uint8_t wanted = 0;
  for (const auto& v : e.values)
    wanted = static_cast<uint8_t>(wanted | 1U << static_cast<unsigned>(*index::parse_lifecycle(v)));
  const int32_t today = ix.day_of(now);
  return filter(ix.live(), within, [&](uint32_t id) {
    return (wanted >> static_cast<unsigned>(ix.lifecycle(id, today)) & 1U) != 0;
  });
}

Bitmap rfm(const index::IndexView& ix, const Expr& e, const Bitmap* within) {
  const auto& scores = ix.rfm();
  const auto accepts = [](uint8_t mask, uint8_t score) {
    return mask == 0 || (mask >> score & 1U) != 0;
  };
  return filter(ix.buyers(), within, [&](uint32_t id) {
    const index::RfmCell& c = scores[id];
    return accepts(e.rfm[0], c.r) && accepts(e.rfm[1], c.f) && accepts(e.rfm[2], c.m);
  });
}

Bitmap number_range(const index::IndexView& ix, const Expr& e, const Bitmap* within) {
  const auto& purchases = ix.purchases();
  const bool orders = e.attr == "paid_orders";
  return filter(ix.live(), within, [&](uint32_t id) {
    const int64_t v = orders ? purchases[id].orders : purchases[id].spend;
    return v >= e.from && v < e.to;
  });
}

/// The bitmaps whose union is a joining-time range: whole weeks inside the range as week
/// bitmaps, the whole days around them as day bitmaps, and `cut`, which receives the customers
/// of the (at most two) days the range cuts through who joined inside it.
std::vector<const Bitmap*> created_parts(const index::IndexView& ix, const Expr& e, Bitmap& cut) {
  const auto& created = ix.created_at();
  // Whole weeks inside the range are unions of week bitmaps, the whole days around them of day
  // bitmaps; only the (at most two) days the range cuts through are checked customer by
  // customer against the column.
  const int64_t from_day = floor_day(e.from);
  const bool from_cuts = e.from != INT64_MIN && e.from != from_day * kDay;
  const int64_t first_whole = from_cuts ? from_day + 1 : from_day;
  const int64_t end_whole = floor_day(e.to);  // exclusive
  const bool to_cuts = end_whole * kDay < e.to;
  std::vector<const Bitmap*> whole;
  const auto& days = ix.created_days();
  const auto add_days = [&](int64_t first, int64_t end) {
    for (auto it = days.lower_bound(first); it != days.end() && it->first < end; ++it) {
      whole.push_back(&it->second);
    }
  };
  const int64_t first_week = index::week_of(first_whole - 1) + 1;
  const int64_t end_week = index::week_of(end_whole);  // exclusive: its days are added one by one
  if (first_week < end_week) {
    add_days(first_whole, first_week * 7);
    const auto& weeks = ix.created_weeks();
    for (auto it = weeks.lower_bound(first_week); it != weeks.end() && it->first < end_week; ++it) {
      whole.push_back(&it->second);
    }
    add_days(end_week * 7, end_whole);
  } else {
    add_days(first_whole, end_whole);
  }
  std::vector<int64_t> cut_days;
  if (from_cuts) cut_days.push_back(from_day);
  if (to_cuts && !(from_cuts && from_day == end_whole)) cut_days.push_back(end_whole);
  std::vector<uint32_t> inside;
  for (int64_t day : cut_days) {
    auto it = days.find(day);
    if (it == days.end()) continue;
    for (uint32_t id : it->second) {
      if (created[id] >= e.from && created[id] < e.to) inside.push_back(id);
    }
  }
  cut.addMany(inside.size(), inside.data());
  whole.push_back(&cut);
  return whole;
}

Bitmap created_range(const index::IndexView& ix, const Expr& e, const Bitmap* within) {
  const auto& created = ix.created_at();
  if (is_small(within, ix)) {
    return filter(*within, nullptr,
                  [&](uint32_t id) { return created[id] >= e.from && created[id] < e.to; });
  }
  Bitmap cut;
  return index::at_least_k_of(created_parts(ix, e, cut), 1, within);
}

/// The ids a union answering `e` would read: the window's first levels for a behaviour, the
/// value bitmaps for a number field; unknown (the most) for other per-customer terms.
uint64_t union_entries(const index::IndexView& ix, const Expr& e, EpochMs now) {
  std::vector<const Bitmap*> parts;
  if (e.kind == ExprKind::kBehaviour) {
    if (const auto type = ix.event_type(e.attr)) {
      parts = window_levels(ix, *type, window_start(ix, e, now), true);
    }
  } else if (const index::NumberColumn* column =
                 e.kind == ExprKind::kNumberField ? ix.numbers(e.attr) : nullptr;
             column != nullptr && column->by_value() != nullptr) {
    parts = number_parts(*column, e);
  } else {
    return UINT64_MAX;
  }
  uint64_t n = 0;
  for (const Bitmap* b : parts) n += b->cardinality();
  return n;
}

Bitmap evaluate_within(const index::IndexView& ix, const Expr& e, EpochMs now,
                       const Bitmap* within);

/// `e` as a union of index bitmaps or its complement, when it is one; bitmaps built on the way
/// (a joining range's cut days) are kept in `scratch`.
std::optional<index::UnionTerm> as_union(const index::IndexView& ix, const Expr& e, EpochMs now,
                                         std::deque<Bitmap>& scratch) {
  switch (e.kind) {
    case ExprKind::kTag:
      return index::UnionTerm{{&ix.tag(e.values.front())}};
    case ExprKind::kAttrEq:
    case ExprKind::kAttrNe:
      return index::UnionTerm{{&ix.value(e.attr, e.values.front())}, e.kind == ExprKind::kAttrNe};
    case ExprKind::kLayer:
    case ExprKind::kAttrIn:
    case ExprKind::kGroup:
    case ExprKind::kAttrPrefix:
    case ExprKind::kAttrExists:
      return index::UnionTerm{value_parts(ix, e)};
    case ExprKind::kCreatedRange:
      return index::UnionTerm{created_parts(ix, e, scratch.emplace_back())};
    case ExprKind::kNumberField: {
      const index::NumberColumn* column = ix.numbers(e.attr);
      if (column == nullptr) return index::UnionTerm{};
      if (column->by_value() == nullptr) return std::nullopt;
      return index::UnionTerm{number_parts(*column, e)};
    }
    case ExprKind::kBehaviour: {
      // Any event in the window, or none: the window's first levels.
      const bool any = e.low == 1 && e.high == INT64_MAX, none = e.low <= 0 && e.high == 0;
      if (e.sum || !(any || none)) return std::nullopt;
      const auto type = ix.event_type(e.attr);
      if (!type) return index::UnionTerm{{}, none};
      return index::UnionTerm{window_levels(ix, *type, window_start(ix, e, now), true), none};
    }
    case ExprKind::kNot: {
      auto term = as_union(ix, e.children.front(), now, scratch);
      if (term) term->negated = !term->negated;
      return term;
    }
    case ExprKind::kOr: {
      index::UnionTerm out;
      for (const Expr& c : e.children) {
        auto term = as_union(ix, c, now, scratch);
        if (!term || term->negated) return std::nullopt;
        out.parts.insert(out.parts.end(), term->parts.begin(), term->parts.end());
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

uint64_t cardinality_of(const index::UnionTerm& term) {
  uint64_t n = 0;
  for (const Bitmap* b : term.parts) n += b->cardinality();
  return n;
}

/// Terms that are unions of bitmaps (or their complements) together, chunk by chunk; then the
/// per-customer terms among what is left.
Bitmap conjunction(const index::IndexView& ix, const Expr& e, EpochMs now, const Bitmap* within) {
  std::deque<Bitmap> scratch;  // bitmaps the terms point to
  std::vector<index::UnionTerm> terms;
  std::vector<const Expr*> costly;
  for (const Expr& c : e.children) {
    if (auto term = as_union(ix, c, now, scratch)) {
      terms.push_back(std::move(*term));
    } else if (is_cheap(c)) {
      terms.push_back({{&scratch.emplace_back(evaluate_within(ix, c, now, within))}});
    } else {
      costly.push_back(&c);
    }
  }
  // Positive terms before complements, the smallest first: a chunk stops at the first term
  // that leaves nobody.
  std::vector<std::pair<uint64_t, index::UnionTerm*>> order;
  for (index::UnionTerm& t : terms)
    order.emplace_back(t.negated ? UINT64_MAX : cardinality_of(t), &t);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<index::UnionTerm> ordered;
  for (const auto& [size, term] : order) ordered.push_back(std::move(*term));
  Bitmap out = index::all_of(within != nullptr ? *within : ix.live(), ordered);
  if (costly.size() > 1) {
    // Per-customer terms that are unions of bitmaps, the fewest ids first: each leaves fewer
    // candidates for the next.
    std::vector<std::pair<uint64_t, const Expr*>> by_entries;
    for (const Expr* c : costly) by_entries.emplace_back(union_entries(ix, *c, now), c);
    std::stable_sort(by_entries.begin(), by_entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < costly.size(); ++i) costly[i] = by_entries[i].second;
  }
  for (const Expr* c : costly) {
    if (out.isEmpty()) break;
    out = evaluate_within(ix, *c, now, &out);
  }
  return out;
}

/// The members of `e` among `within` (live customers), or among all live customers when it
/// is null.
Bitmap evaluate_within(const index::IndexView& ix, const Expr& e, EpochMs now,
                       const Bitmap* within) {
  switch (e.kind) {
    case ExprKind::kAnd:
      return conjunction(ix, e, now, within);
    case ExprKind::kOr: {
      Bitmap out;
      for (const Expr& c : e.children) out |= evaluate_within(ix, c, now, within);
      return out;
    }
    case ExprKind::kNot:
      return (within != nullptr ? *within : ix.live()) -
             evaluate_within(ix, e.children.front(), now, within);
    case ExprKind::kTag:
      return within != nullptr ? *within & ix.tag(e.values.front())
                               : ix.tag(e.values.front()) & ix.live();
    case ExprKind::kLayer:
    case ExprKind::kAttrIn:
    case ExprKind::kGroup:
      return union_of(ix, value_parts(ix, e), within);
    case ExprKind::kAttrEq:
      return restrict(ix.value(e.attr, e.values.front()), within);
    case ExprKind::kAttrNe:
      return (within != nullptr ? *within : ix.live()) - ix.value(e.attr, e.values.front());
    case ExprKind::kAttrPrefix:
    case ExprKind::kAttrExists:
      return union_of(ix, value_parts(ix, e), within);
    case ExprKind::kCreatedRange:
      return created_range(ix, e, within);
    case ExprKind::kNumberRange:
      return number_range(ix, e, within);
    case ExprKind::kBehaviour:
      return behaviour(ix, e, now, within);
    case ExprKind::kLifecycle:
      return lifecycle(ix, e, now, within);
    case ExprKind::kRfm:
      return rfm(ix, e, within);
    case ExprKind::kNumberField:
      return number_field(ix, e, within);
  }
  return {};
}

}  // namespace

Bitmap evaluate(const index::IndexView& ix, const Expr& e, EpochMs now, const Bitmap* among) {
  if (among == nullptr) return evaluate_within(ix, e, now, nullptr);
  const Bitmap live_among = *among & ix.live();
  return evaluate_within(ix, e, now, &live_among);
}

bool depends_on_everyone(const Expr& e) {
  if (e.kind == ExprKind::kRfm) return true;
  return std::any_of(e.children.begin(), e.children.end(), depends_on_everyone);
}

namespace {

/// Adds the event types `e` reads to `types`; false when any event may change it.
bool collect_event_types(const Expr& e, std::vector<std::string>& types) {
  if (e.kind == ExprKind::kLifecycle || e.kind == ExprKind::kRfm) return false;
  if (e.kind == ExprKind::kBehaviour) {
    types.emplace_back(index::event_type_of_key(e.attr));
  }
  return std::all_of(e.children.begin(), e.children.end(),
                     [&](const Expr& child) { return collect_event_types(child, types); });
}

}  // namespace

std::optional<std::vector<std::string>> event_types_read(const Expr& e) {
  std::vector<std::string> types;
  if (!collect_event_types(e, types)) return std::nullopt;
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

uint64_t count(const index::CustomerIndex& ix, const Expr& e, EpochMs now) {
  return ix.read([&](const index::IndexView& v) { return evaluate(v, e, now).cardinality(); });
}

}  // namespace siyu::segment
