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
int64_t day_of(EpochMs t) { return t >= 0 ? t / 86'400'000 : (t - 86'399'999) / 86'400'000; }
}  // namespace

void CustomerIndex::unset_attributes(uint32_t id) {
  if (id >= rows_.size() || !live_.contains(id)) return;
  const IndexedCustomer& old = rows_[id];
  if (auto d = created_days_.find(day_of(old.created_at)); d != created_days_.end()) {
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
}

void CustomerIndex::upsert(const IndexedCustomer& c) {
  std::unique_lock lock(mu_);
  unset_attributes(c.id);
  if (c.id >= rows_.size()) {
    rows_.resize(c.id + 1);
    created_.resize(c.id + 1, 0);
  }
  rows_[c.id] = c;
  created_[c.id] = c.created_at;
  created_days_[day_of(c.created_at)].add(c.id);
  live_.add(c.id);
  const std::pair<const char*, const std::string*> fields[] = {
      {"layer", &c.layer},     {"gender", &c.gender},
      {"city", &c.city},       {"channel_id", &c.channel_id},
      {"owner_staff_id", &c.owner_staff_id}};
  for (const auto& [attr, value] : fields) {
    if (!value->empty()) values_[attr][*value].add(c.id);
  }
}

void CustomerIndex::remove(uint32_t id) {
  std::unique_lock lock(mu_);
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
  for (const auto& r : rows_) bytes += r.city.capacity() > 15 ? r.city.capacity() : 0;
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

}  // namespace siyu::index
