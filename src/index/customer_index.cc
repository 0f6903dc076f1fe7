#include "index/customer_index.h"

#include <algorithm>

namespace siyu::index {
namespace {
const Bitmap& empty_bitmap() {
  static const Bitmap kEmpty;
  return kEmpty;
}

int64_t utc_day(EpochMs t) { return t >= 0 ? t / 86'400'000 : (t - 86'399'999) / 86'400'000; }

constexpr std::string_view kBuiltinEnums[] = {"layer", "gender", "city", "channel_id",
                                              "owner_staff_id"};
}  // namespace

std::string event_key(const std::string& type, const std::string& name, const std::string& value) {
  return type + "[" + name + "=" + value + "]";
}

EnumAttribute& CustomerIndex::enum_attribute(std::string_view name) {
  auto it = enums_.find(name);
  if (it == enums_.end()) it = enums_.try_emplace(std::string(name)).first;
  return it->second;
}

namespace {
std::string_view text_of(const IndexedCustomer& c, std::string_view attr) {
  if (attr == "layer") return c.layer;
  if (attr == "gender") return c.gender;
  if (attr == "city") return c.city;
  if (attr == "channel_id") return c.channel_id;
  if (attr == "owner_staff_id") return c.owner_staff_id;
  for (const auto& [name, value] : c.custom_text) {
    if (name == attr) return value;
  }
  return {};
}

std::optional<double> number_of(const IndexedCustomer& c, std::string_view attr) {
  for (const auto& [name, value] : c.custom_numbers) {
    if (name == attr) return value;
  }
  return std::nullopt;
}
}  // namespace

void CustomerIndex::set_attributes(uint32_t id, const IndexedCustomer* c) {
  if (c != nullptr) {
    for (auto name : kBuiltinEnums) enum_attribute(name);
    for (const auto& [name, value] : c->custom_text) enum_attribute(name);
    for (const auto& [name, value] : c->custom_numbers) {
      if (numbers_.find(name) == numbers_.end()) numbers_.try_emplace(name);
    }
  }
  // Every known attribute is written, so values the customer no longer has are cleared.
  BitmapBatch* batch = batch_.get();
  for (auto& [name, attribute] : enums_) attribute.set(id, c != nullptr ? text_of(*c, name) : "", batch);
  for (auto& [name, column] : numbers_) {
    column.set(id, c != nullptr ? number_of(*c, name) : std::nullopt, batch);
  }
  groups_.set(id, c != nullptr ? c->groups : std::vector<std::string>(), batch);
}

void CustomerIndex::mark_level(LevelBuckets& buckets, int32_t key, uint32_t count, uint32_t id,
                               bool add) {
  const int levels = static_cast<int>(std::min<uint32_t>(count, kCountLevels));
  if (add) {
    auto& bucket = buckets[key];
    // Reserved in full so a bulk load's pending additions keep valid bitmap addresses.
    if (bucket.capacity() < kCountLevels) bucket.reserve(kCountLevels);
    if (static_cast<int>(bucket.size()) < levels) bucket.resize(static_cast<size_t>(levels));
    for (int l = 0; l < levels; ++l) add_to(bucket[static_cast<size_t>(l)], id, batch_.get());
  } else if (auto b = buckets.find(key); b != buckets.end()) {
    for (int l = 0; l < levels && l < static_cast<int>(b->second.size()); ++l) {
      b->second[static_cast<size_t>(l)].remove(id);
    }
    while (!b->second.empty() && b->second.back().isEmpty()) b->second.pop_back();
    if (b->second.empty()) buckets.erase(b);
  }
}

void CustomerIndex::mark_days(uint32_t id, std::span<const ActivityCell> cells, bool add) {
  // Cells are sorted by (type, day): a day's count may span several cells, and a week's
  // days are adjacent.
  for (size_t i = 0; i < cells.size();) {
    const uint32_t type = cells[i].type;
    const auto week = static_cast<int32_t>(week_of(cells[i].day));
    uint32_t week_count = 0;
    size_t j = i;
    while (j < cells.size() && cells[j].type == type && week_of(cells[j].day) == week) {
      const uint32_t day = cells[j].day;
      uint32_t count = 0;
      for (; j < cells.size() && cells[j].type == type && cells[j].day == day; ++j) count += cells[j].count;
      mark_level(day_levels_[type], static_cast<int32_t>(day), count, id, add);
      week_count += count;
    }
    mark_level(week_levels_[type], week, week_count, id, add);
    i = j;
  }
}

void CustomerIndex::unmark_created(uint32_t id) {
  const int64_t day = utc_day(created_[id]);
  for (auto [bitmaps, key] : {std::pair{&created_days_, day}, std::pair{&created_weeks_, week_of(day)}}) {
    if (auto d = bitmaps->find(key); d != bitmaps->end()) {
      d->second.remove(id);
      if (d->second.isEmpty()) bitmaps->erase(d);
    }
  }
}

void CustomerIndex::set_activity(uint32_t id, const std::vector<DayActivity>& activity) {
  mark_days(id, activity_.cells(id), false);
  std::vector<ActivityCell> cells;
  cells.reserve(activity.size());
  int32_t last = kNoDay;
  for (const DayActivity& a : activity) {
    const uint16_t type = type_id(a.type);
    const auto day = static_cast<uint32_t>(std::clamp(a.day, 0, int32_t{UINT16_MAX}));
    // Counts above a cell's 63 and amounts beyond int32 continue in further cells.
    uint32_t count = a.count;
    int64_t amount = a.amount;
    do {
      const uint32_t c = std::min(count, ActivityCell::kMaxCount);
      const auto part = static_cast<int32_t>(std::clamp<int64_t>(amount, INT32_MIN, INT32_MAX));
      ActivityCell cell{};
      cell.day = day & 0xFFFFU;
      cell.type = type & ActivityCell::kMaxType;
      cell.count = c & ActivityCell::kMaxCount;
      cell.amount = part;
      cells.push_back(cell);
      count -= c;
      amount -= part;
    } while (count > 0 || amount != 0);
    last = std::max(last, a.day);
  }
  std::sort(cells.begin(), cells.end(), cell_before);
  activity_.assign(id, cells);
  mark_days(id, cells, true);
  last_active_[id] = last;
}

uint16_t CustomerIndex::type_id(const std::string& type) {
  if (auto it = type_ids_.find(type); it != type_ids_.end()) return it->second;
  // Types beyond the cell's 1,024 share the last number; event types are a workspace's small
  // vocabulary, so this does not happen in practice.
  const auto id = static_cast<uint16_t>(std::min<size_t>(type_names_.size(), ActivityCell::kMaxType));
  if (id == type_names_.size()) {
    type_names_.push_back(type);
    day_levels_.emplace_back();
    week_levels_.emplace_back();
  }
  type_ids_.emplace(type, id);
  return id;
}

int32_t CustomerIndex::day_of(EpochMs t) const {
  return static_cast<int32_t>(utc_day(t + int64_t{offset_minutes_} * 60'000));
}

void CustomerIndex::upsert(const IndexedCustomer& c) {
  std::unique_lock lock(mu_);
  const bool was_live = live_.contains(c.id);
  if (c.id >= created_.size()) {
    const size_t n = c.id + 1;
    created_.resize(n, 0);
    last_active_.resize(n, kNoDay);
    purchases_.resize(n);
  }
  if (was_live) {
    unmark_created(c.id);
  }
  set_attributes(c.id, &c);
  set_activity(c.id, c.activity);
  created_[c.id] = c.created_at;
  add_to(created_days_[utc_day(c.created_at)], c.id, batch_.get());
  add_to(created_weeks_[week_of(utc_day(c.created_at))], c.id, batch_.get());
  if (purchases_[c.id] != c.purchases) ++purchases_version_;
  purchases_[c.id] = c.purchases;
  if (c.purchases.orders > 0) {
    add_to(buyers_, c.id, batch_.get());
  } else {
    buyers_.remove(c.id);
  }
  add_to(live_, c.id, batch_.get());
  // A bulk load applies its additions every 65,536 customers: one container of each bitmap.
  if (batch_ && (c.id & 0xFFFFU) == 0xFFFFU) batch_->flush();
}

void CustomerIndex::begin_bulk() {
  std::unique_lock lock(mu_);
  batch_ = std::make_unique<BitmapBatch>();
}

void CustomerIndex::end_bulk() {
  {
    std::unique_lock lock(mu_);
    if (batch_) batch_->flush();
    batch_.reset();
  }
  shrink();
}

void CustomerIndex::add_activity(uint32_t id, const std::vector<DayActivity>& added) {
  std::unique_lock lock(mu_);
  if (!live_.contains(id) || added.empty()) return;
  std::map<std::pair<std::string_view, int32_t>, DayActivity> sums;
  const auto add = [&](std::string_view type, int32_t day, uint32_t count, int64_t amount) {
    auto [it, fresh] = sums.try_emplace({type, day});
    if (fresh) it->second = {std::string(type), day, 0, 0};
    it->second.count += count;
    it->second.amount += amount;
  };
  for (const ActivityCell& cell : activity_.cells(id)) {
    add(type_names_[cell.type], static_cast<int32_t>(cell.day), cell.count, cell.amount);
  }
  for (const DayActivity& a : added) add(a.type, a.day, a.count, a.amount);
  std::vector<DayActivity> merged;
  merged.reserve(sums.size());
  for (auto& [key, a] : sums) merged.push_back(std::move(a));
  set_activity(id, merged);
}

void CustomerIndex::remove(uint32_t id) {
  std::unique_lock lock(mu_);
  if (!live_.contains(id)) return;
  if (purchases_[id].orders > 0) ++purchases_version_;
  unmark_created(id);
  set_attributes(id, nullptr);
  set_activity(id, {});
  purchases_[id] = Purchases{};
  buyers_.remove(id);
  live_.remove(id);
  for (auto it = tags_.begin(); it != tags_.end();) {
    it->second.remove(id);
    it = it->second.isEmpty() ? tags_.erase(it) : std::next(it);
  }
}

void CustomerIndex::add_tag(uint32_t id, const std::string& tag) {
  std::unique_lock lock(mu_);
  if (batch_ || live_.contains(id)) add_to(tags_[tag], id, batch_.get());
}

void CustomerIndex::set_tags(uint32_t id, const std::vector<std::string>& tags) {
  std::unique_lock lock(mu_);
  if (batch_) {
    for (const auto& t : tags) add_to(tags_[t], id, batch_.get());
    return;
  }
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

void CustomerIndex::set_tag_holders(const std::string& tag, const std::vector<uint32_t>& ids,
                                    const std::vector<uint32_t>& holders) {
  std::unique_lock lock(mu_);
  Bitmap& members = tags_[tag];
  for (uint32_t id : ids) {
    const bool holds = std::binary_search(holders.begin(), holders.end(), id);
    if (holds && live_.contains(id)) members.add(id);
    else members.remove(id);
  }
  if (members.isEmpty()) tags_.erase(tag);
}

uint64_t CustomerIndex::size() const {
  std::shared_lock lock(mu_);
  return live_.cardinality();
}

void CustomerIndex::shrink() {
  std::unique_lock lock(mu_);
  activity_.shrink();
  created_.shrink_to_fit();
  last_active_.shrink_to_fit();
  purchases_.shrink_to_fit();
  live_.runOptimize();
  live_.shrinkToFit();
  for (auto& [name, b] : tags_) {
    b.runOptimize();
    b.shrinkToFit();
  }
  for (auto* buckets : {&day_levels_, &week_levels_}) {
    for (auto& by_type : *buckets) {
      for (auto& [key, levels] : by_type) {
        for (auto& b : levels) b.shrinkToFit();
      }
    }
  }
}

size_t CustomerIndex::memory_bytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = live_.getSizeInBytes() + buyers_.getSizeInBytes();
  for (const auto& [name, b] : tags_) bytes += name.size() + 64 + b.getSizeInBytes();
  for (const auto& [name, attribute] : enums_) bytes += attribute.memory_bytes();
  for (const auto& [name, column] : numbers_) bytes += column.memory_bytes();
  bytes += groups_.memory_bytes();
  for (const auto* created : {&created_days_, &created_weeks_}) {
    for (const auto& [key, b] : *created) bytes += sizeof(key) + 64 + b.getSizeInBytes();
  }
  for (const auto* buckets : {&day_levels_, &week_levels_}) {
    for (const auto& by_type : *buckets) {
      for (const auto& [key, levels] : by_type) {
        bytes += sizeof(key) + 64 + levels.capacity() * sizeof(Bitmap);
        for (const auto& b : levels) bytes += b.getSizeInBytes();
      }
    }
  }
  bytes += activity_.memory_bytes();
  bytes += created_.capacity() * sizeof(EpochMs) + last_active_.capacity() * sizeof(int32_t) +
           purchases_.capacity() * sizeof(Purchases);
  {
    std::lock_guard rfm_lock(rfm_mu_);
    bytes += rfm_.capacity() * sizeof(RfmCell);
  }
  return bytes;
}

const Bitmap& IndexView::tag(const std::string& name) const {
  auto it = ix_.tags_.find(name);
  return it == ix_.tags_.end() ? empty_bitmap() : it->second;
}

const Bitmap& IndexView::value(const std::string& attr, const std::string& value) const {
  const auto* all = values(attr);
  if (all == nullptr) return empty_bitmap();
  auto v = all->find(value);
  return v == all->end() ? empty_bitmap() : v->second;
}

const std::map<std::string, Bitmap, std::less<>>* IndexView::values(const std::string& attr) const {
  if (attr == "group") return &ix_.groups_.values();
  auto a = ix_.enums_.find(attr);
  return a == ix_.enums_.end() ? nullptr : &a->second.values();
}

const NumberColumn* IndexView::numbers(const std::string& attr) const {
  auto a = ix_.numbers_.find(attr);
  return a == ix_.numbers_.end() ? nullptr : &a->second;
}

std::optional<uint16_t> IndexView::event_type(const std::string& type) const {
  auto it = ix_.type_ids_.find(type);
  if (it == ix_.type_ids_.end()) return std::nullopt;
  return it->second;
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
