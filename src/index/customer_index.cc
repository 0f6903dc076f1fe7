#include "index/customer_index.h"

#include <algorithm>

namespace siyu::index {
namespace {
const Bitmap& empty_bitmap() {
  static const Bitmap kEmpty;
  return kEmpty;
}
}  // namespace

namespace {
int64_t utc_day(EpochMs t) { return t >= 0 ? t / 86'400'000 : (t - 86'399'999) / 86'400'000; }
}  // namespace

void CustomerIndex::unset_attributes(uint32_t id) {
  if (id >= rows_.size() || !live_.contains(id)) return;
  const IndexedCustomer& old = rows_[id];
  if (auto d = created_days_.find(utc_day(old.created_at)); d != created_days_.end()) {
    d->second.remove(id);
    if (d->second.isEmpty()) created_days_.erase(d);
  }
  const std::pair<const char*, const std::string*> fields[] = {
      {"layer", &old.layer},     {"gender", &old.gender},
      {"city", &old.city},       {"channel_id", &old.channel_id},
      {"owner_staff_id", &old.owner_staff_id}};
  for (const auto& [attr, value] : fields) {
    if (value->empty()) continue;
    auto a = values_.find(attr);
    if (a == values_.end()) continue;
    auto v = a->second.find(*value);
    if (v == a->second.end()) continue;
    v->second.remove(id);
    if (v->second.isEmpty()) a->second.erase(v);
  }
  if (auto a = values_.find("group"); a != values_.end()) {
    for (const auto& g : old.groups) {
      auto v = a->second.find(g);
      if (v == a->second.end()) continue;
      v->second.remove(id);
      if (v->second.isEmpty()) a->second.erase(v);
    }
  }
  for (const ActivityCell& cell : activity_[id]) with_type_[cell.type].remove(id);
  activity_[id].clear();
  activity_[id].shrink_to_fit();
  last_active_[id] = kNoDay;
  purchases_[id] = Purchases{};
  buyers_.remove(id);
}

uint16_t CustomerIndex::type_id(const std::string& type) {
  if (auto it = type_ids_.find(type); it != type_ids_.end()) return it->second;
  // More than 65,535 distinct event types would share the last number; types are a
  // workspace's small vocabulary, so this does not happen in practice.
  const auto id = static_cast<uint16_t>(std::min<size_t>(type_names_.size(), UINT16_MAX));
  if (id == type_names_.size()) {
    type_names_.push_back(type);
    with_type_.emplace_back();
  }
  type_ids_.emplace(type, id);
  return id;
}

int32_t CustomerIndex::day_of(EpochMs t) const {
  return static_cast<int32_t>(utc_day(t + int64_t{offset_minutes_} * 60'000));
}

void CustomerIndex::upsert(const IndexedCustomer& c) {
  std::unique_lock lock(mu_);
  const bool was_live = c.id < rows_.size() && live_.contains(c.id);
  const Purchases before = was_live ? purchases_[c.id] : Purchases{};
  unset_attributes(c.id);
  if (c.id >= rows_.size()) {
    const size_t n = c.id + 1;
    rows_.resize(n);
    created_.resize(n, 0);
    activity_.resize(n);
    last_active_.resize(n, kNoDay);
    purchases_.resize(n);
  }
  IndexedCustomer& row = rows_[c.id];
  row = c;
  row.activity.clear();
  row.activity.shrink_to_fit();
  created_[c.id] = c.created_at;
  auto& cells = activity_[c.id];
  cells.reserve(c.activity.size());
  for (const DayActivity& a : c.activity) {
    const uint16_t type = type_id(a.type);
    cells.push_back({a.day, type, static_cast<uint16_t>(std::min<uint32_t>(a.count, UINT16_MAX)),
                     a.amount});
    with_type_[type].add(c.id);
    last_active_[c.id] = std::max(last_active_[c.id], a.day);
  }
  std::sort(cells.begin(), cells.end(), [](const ActivityCell& a, const ActivityCell& b) {
    return a.type != b.type ? a.type < b.type : a.day < b.day;
  });
  purchases_[c.id] = c.purchases;
  if (c.purchases.orders > 0) buyers_.add(c.id);
  if (before != c.purchases) ++purchases_version_;
  created_days_[utc_day(c.created_at)].add(c.id);
  live_.add(c.id);
  const std::pair<const char*, const std::string*> fields[] = {
      {"layer", &c.layer},     {"gender", &c.gender},
      {"city", &c.city},       {"channel_id", &c.channel_id},
      {"owner_staff_id", &c.owner_staff_id}};
  for (const auto& [attr, value] : fields) {
    if (!value->empty()) values_[attr][*value].add(c.id);
  }
  for (const auto& g : c.groups) values_["group"][g].add(c.id);
}

void CustomerIndex::remove(uint32_t id) {
  std::unique_lock lock(mu_);
  if (id < purchases_.size() && purchases_[id].orders > 0) ++purchases_version_;
  unset_attributes(id);
  live_.remove(id);
  for (auto it = tags_.begin(); it != tags_.end();) {
    it->second.remove(id);
    it = it->second.isEmpty() ? tags_.erase(it) : std::next(it);
  }
}

void CustomerIndex::add_tag(uint32_t id, const std::string& tag) {
  std::unique_lock lock(mu_);
  if (live_.contains(id)) tags_[tag].add(id);
}

void CustomerIndex::set_tags(uint32_t id, const std::vector<std::string>& tags) {
  std::unique_lock lock(mu_);
  for (auto it = tags_.begin(); it != tags_.end();) {
    const bool keep = std::find(tags.begin(), tags.end(), it->first) != tags.end();
    if (!keep) it->second.remove(id);
    it = it->second.isEmpty() ? tags_.erase(it) : std::next(it);
  }
  if (!live_.contains(id)) return;
  for (const auto& t : tags) tags_[t].add(id);
}

void CustomerIndex::remove_tag(uint32_t id, const std::string& tag) {
  std::unique_lock lock(mu_);
  auto it = tags_.find(tag);
  if (it == tags_.end()) return;
  it->second.remove(id);
  if (it->second.isEmpty()) tags_.erase(it);
}

uint64_t CustomerIndex::size() const {
  std::shared_lock lock(mu_);
  return live_.cardinality();
}

size_t CustomerIndex::memory_bytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = live_.getSizeInBytes();
  for (const auto& [name, b] : tags_) bytes += name.size() + b.getSizeInBytes();
  for (const auto& [attr, m] : values_) {
    for (const auto& [value, b] : m) bytes += value.size() + b.getSizeInBytes();
  }
  for (const auto& [day, b] : created_days_) bytes += sizeof(day) + b.getSizeInBytes();
  bytes += rows_.capacity() * sizeof(IndexedCustomer) + created_.capacity() * sizeof(EpochMs);
  for (const auto& r : rows_) {
    bytes += r.city.capacity() > 15 ? r.city.capacity() : 0;
    bytes += r.groups.capacity() * sizeof(std::string);
  }
  for (const auto& b : with_type_) bytes += b.getSizeInBytes();
  bytes += activity_.capacity() * sizeof(activity_[0]);
  for (const auto& cells : activity_) bytes += cells.capacity() * sizeof(ActivityCell);
  bytes += last_active_.capacity() * sizeof(int32_t) + purchases_.capacity() * sizeof(Purchases) +
           buyers_.getSizeInBytes();
  return bytes;
}

const Bitmap& IndexView::tag(const std::string& name) const {
  auto it = ix_.tags_.find(name);
  return it == ix_.tags_.end() ? empty_bitmap() : it->second;
}

const Bitmap& IndexView::value(const std::string& attr, const std::string& value) const {
  auto a = ix_.values_.find(attr);
  if (a == ix_.values_.end()) return empty_bitmap();
  auto v = a->second.find(value);
  return v == a->second.end() ? empty_bitmap() : v->second;
}

const std::map<std::string, Bitmap>* IndexView::values(const std::string& attr) const {
  auto a = ix_.values_.find(attr);
  return a == ix_.values_.end() ? nullptr : &a->second;
}

std::optional<uint16_t> IndexView::event_type(const std::string& type) const {
  auto it = ix_.type_ids_.find(type);
  if (it == ix_.type_ids_.end()) return std::nullopt;
  return it->second;
}

std::span<const ActivityCell> IndexView::activity(uint32_t id) const {
  if (id >= ix_.activity_.size()) return {};
  return ix_.activity_[id];
}

Lifecycle IndexView::lifecycle(uint32_t id, int32_t today) const {
  return lifecycle_of(ix_.day_of(ix_.created_[id]), ix_.purchases_[id], ix_.last_active_[id],
                      today);
}

const std::vector<RfmCell>& IndexView::rfm() const {
  std::lock_guard lock(ix_.rfm_mu_);
  if (ix_.rfm_version_ != ix_.purchases_version_) {
    ix_.rfm_ = rfm_scores(ix_.buyers_, ix_.purchases_, ix_.purchases_.size());
    ix_.rfm_version_ = ix_.purchases_version_;
  }
  return ix_.rfm_;
}

}  // namespace siyu::index
