#include "analytics/dataset.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/json.h"
#include "core/time_format.h"

namespace siyu::analytics {

uint32_t Dictionary::code(std::string_view text) {
  if (text.empty()) return 0;
  auto it = codes_.find(text);
  if (it != codes_.end()) return it->second;
  const auto c = static_cast<uint32_t>(names_.size());
  names_.emplace_back(text);
  codes_.emplace(std::string(text), c);
  return c;
}

std::optional<uint32_t> Dictionary::find(std::string_view text) const {
  if (text.empty()) return 0u;
  auto it = codes_.find(text);
  if (it == codes_.end()) return std::nullopt;
  return it->second;
}

namespace {
constexpr std::array<std::string_view, kLayers> kLayerNames = {"none", "fan", "community",
                                                               "friend", "member"};

/// The year of a "YYYY-MM-DD" birthday, 0 when it has none.
uint16_t birth_year(std::string_view birthday) {
  int year = 0;
  if (birthday.size() < 4) return 0;
  auto [p, ec] = std::from_chars(birthday.data(), birthday.data() + 4, year);
  if (ec != std::errc() || p != birthday.data() + 4 || year < 1900 || year > 2100) return 0;
  return static_cast<uint16_t>(year);
}

/// Text of a scalar property value as the dictionaries keep it.
std::optional<std::string> scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

/// Groups (customer, row) pairs into CSR by customer, each customer's rows stably sorted by
/// `time` so rows of equal time keep their arrival order.
template <typename Row, typename Time>
ByCustomer<Row> group_rows(std::vector<std::pair<uint32_t, Row>>& pairs, uint32_t slots,
                           Time time) {
  ByCustomer<Row> out;
  out.start.assign(static_cast<size_t>(slots) + 1, 0);
  for (const auto& [c, r] : pairs) ++out.start[c + 1];
  for (size_t i = 1; i < out.start.size(); ++i) out.start[i] += out.start[i - 1];
  out.rows.resize(pairs.size());
  std::vector<uint64_t> next(out.start.begin(), out.start.end() - 1);
  for (const auto& [c, r] : pairs) out.rows[next[c]++] = r;
  pairs.clear();
  pairs.shrink_to_fit();
  for (uint32_t c = 0; c < slots; ++c) {
    auto first = out.rows.begin() + static_cast<ptrdiff_t>(out.start[c]);
    auto last = out.rows.begin() + static_cast<ptrdiff_t>(out.start[c + 1]);
    if (!std::is_sorted(first, last, [&](const Row& a, const Row& b) { return time(a) < time(b); })) {
      std::stable_sort(first, last, [&](const Row& a, const Row& b) { return time(a) < time(b); });
    }
  }
  return out;
}

}  // namespace

std::string_view layer_name(uint8_t layer) {
  return layer < kLayers ? kLayerNames[layer] : kLayerNames[0];
}

uint8_t parse_layer(std::string_view s) {
  for (size_t i = 0; i < kLayerNames.size(); ++i) {
    if (kLayerNames[i] == s) return static_cast<uint8_t>(i);
  }
  return kLayerNone;
}

uint32_t to_seconds(EpochMs t) {
  const int64_t s = t / 1000;
  return static_cast<uint32_t>(std::clamp<int64_t>(s, 0, UINT32_MAX));
}

size_t Dataset::memory_bytes() const {
  return customers.capacity() * sizeof(CustomerRow) + live.capacity() + events.rows.capacity() * sizeof(EventRow) +
         events.start.capacity() * 8 + event_spans.capacity() * sizeof(EventSpan) +
         orders.rows.capacity() * sizeof(OrderRow) +
         orders.start.capacity() * 8 + layer_moves.capacity() * sizeof(LayerMove) +
         costs.capacity() * sizeof(CostRow) + attrs.capacity() * sizeof(EventAttrs);
}

bool Dataset::has_event_in(uint32_t c, uint32_t from, uint32_t to) const {
  const EventSpan span = event_spans[c];
  if (span.first >= from) return span.first < to && !events.of(c).empty();
  if (span.last < from) return false;
  // The events straddle `from`: the first at or after it decides.
  const auto all = events.of(c);
  const auto first_in = std::partition_point(all.begin(), all.end(), [&](const EventRow& e) { return e.t < from; });
  return first_in != all.end() && first_in->t < to;
}

DatasetBuilder::DatasetBuilder(int offset_minutes, std::vector<std::string> properties)
    : properties_(std::move(properties)) {
  d_.offset_minutes = offset_minutes;
  d_.customers.resize(1);  // slot 0: guests
  intern(EventAttrs{});    // attribute set 0: none
}

uint32_t DatasetBuilder::slot(CustomerId id) {
  const auto c = static_cast<uint32_t>(std::clamp<int64_t>(id.value, 0, UINT32_MAX - 1));
  if (c >= d_.customers.size()) d_.customers.resize(static_cast<size_t>(c) + 1);
  return c;
}

void DatasetBuilder::customer(const store::CustomerProfile& p) {
  CustomerRow& r = d_.customers[slot(p.id)];
  Dictionary& t = d_.customer_text;
  r.live = p.id.value > 0;
  r.layer = parse_layer(p.layer);
  r.birth_year = birth_year(p.birthday);
  r.created = to_seconds(p.created_at);
  r.gender = t.code(p.gender == "unknown" ? "" : p.gender);
  r.city = t.code(p.city);
  r.channel = p.channel ? t.code(std::to_string(*p.channel)) : 0;
  r.campaign = t.code(p.campaign);
  r.content = t.code(p.content);
  r.owner = p.owner_staff ? t.code(std::to_string(*p.owner_staff)) : 0;
  r.referrer_staff = p.referrer_staff ? t.code(std::to_string(*p.referrer_staff)) : 0;
  r.partner = t.code(p.referrer_partner);
}

uint32_t DatasetBuilder::intern(EventAttrs a) {
  if (a.properties.empty()) {
    const std::array<uint32_t, 4> codes{a.channel, a.campaign, a.content, a.staff};
    auto [it, fresh] = plain_ids_.emplace(codes, static_cast<uint32_t>(d_.attrs.size()));
    if (fresh) d_.attrs.push_back(std::move(a));
    return it->second;
  }
  std::string key = std::to_string(a.channel) + ',' + std::to_string(a.campaign) + ',' +
                    std::to_string(a.content) + ',' + std::to_string(a.staff);
  for (const auto& [name, value] : a.properties) key += '\x1f' + name + '\x1e' + value;
  auto [it, fresh] = attr_ids_.emplace(std::move(key), static_cast<uint32_t>(d_.attrs.size()));
  if (fresh) d_.attrs.push_back(std::move(a));
  return it->second;
}

void DatasetBuilder::event(const store::EventFact& e) {
  EventAttrs a;
  a.channel = d_.event_text.code(e.channel);
  a.campaign = d_.event_text.code(e.campaign);
  a.content = d_.event_text.code(e.content);
  a.staff = d_.event_text.code(e.staff);
  if (!properties_.empty() && e.properties_json.size() > 2) {
    auto props = parse_json(e.properties_json);
    if (props && props->is_object()) {
      for (const std::string& name : properties_) {
        auto it = props->find(name);
        if (it == props->end()) continue;
        if (auto text = scalar_text(*it)) a.properties.emplace_back(name, std::move(*text));
      }
    }
  }
  const uint32_t attrs = a == EventAttrs{} ? 0 : intern(std::move(a));
  events_.emplace_back(slot(e.customer), EventRow{to_seconds(e.ts), d_.event_types.code(e.type), attrs});
}

void DatasetBuilder::order(const store::OrderFact& o) {
  OrderRow r;
  r.ordered = to_seconds(o.ordered_at);
  r.paid = o.paid_at ? to_seconds(*o.paid_at) : 0;
  r.refunded = o.refunded_at ? to_seconds(*o.refunded_at) : 0;
  r.store = d_.order_text.code(o.store);
  r.channel = d_.order_text.code(o.channel);
  r.staff = d_.order_text.code(o.staff);
  r.status = o.status == "paid"       ? OrderStatus::kPaid
             : o.status == "refunded" ? OrderStatus::kRefunded
                                      : OrderStatus::kCreated;
  r.amount = o.amount;
  r.refund = o.refund_amount;
  orders_.emplace_back(slot(o.customer), r);
}

void DatasetBuilder::layer_change(const store::LayerChange& c) {
  d_.layer_moves.push_back(
      {slot(c.customer), parse_layer(c.from), parse_layer(c.to), to_seconds(c.at)});
}

void DatasetBuilder::cost(const store::CostFact& c) {
  const auto date = parse_date(c.day);
  const auto day = date ? static_cast<int32_t>(days_from_civil(*date)) : 0;
  d_.costs.push_back({d_.customer_text.code(std::to_string(c.channel)), day, c.amount});
}

Dataset DatasetBuilder::finish() {
  const uint32_t slots = d_.size();
  d_.live.resize(slots);
  for (uint32_t c = 0; c < slots; ++c) d_.live[c] = d_.customers[c].live ? 1 : 0;
  d_.events = group_rows(events_, slots, [](const EventRow& r) { return r.t; });
  d_.event_spans.resize(slots);
  for (uint32_t c = 0; c < slots; ++c) {
    const auto events = d_.events.of(c);
    if (!events.empty()) d_.event_spans[c] = {events.front().t, events.back().t};
  }
  d_.orders = group_rows(orders_, slots, [](const OrderRow& r) { return r.ordered; });
  std::stable_sort(d_.layer_moves.begin(), d_.layer_moves.end(),
                   [](const LayerMove& a, const LayerMove& b) {
                     return std::tie(a.customer, a.at) < std::tie(b.customer, b.at);
                   });
  return std::move(d_);
}

Result<Dataset> load_dataset(store::Store& store, WorkspaceId ws, int offset_minutes,
                             const std::vector<std::string>& properties) {
  const uint64_t generation = store.write_generation();
  DatasetBuilder b(offset_minutes, properties);
  SIYU_RETURN_IF_ERROR(store.scan_analytics(ws, b));
  Dataset d = b.finish();
  d.generation = generation;
  return d;
}

}  // namespace siyu::analytics
