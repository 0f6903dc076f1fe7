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

std::vector<DayActivity> sum_by_type_and_day(std::vector<EventOnDay> events) {
  std::sort(events.begin(), events.end(), [](const EventOnDay& a, const EventOnDay& b) {
    const int by_type = a.type.compare(b.type);
    return by_type != 0 ? by_type < 0 : a.day < b.day;
  });
  std::vector<DayActivity> out;
  out.reserve(events.size());
  for (const EventOnDay& e : events) {
    if (out.empty() || out.back().day != e.day || out.back().type != e.type) {
      out.push_back({std::string(e.type), e.day, 0, 0});
    }
    ++out.back().count;
    out.back().amount += e.amount;
  }
  return out;
}

std::string event_key(const std::string& type, const std::string& name, const std::string& value) {
  return type + "[" + name + "=" + value + "]";
}

std::string_view event_type_of_key(std::string_view key) { return key.substr(0, key.find('[')); }

EnumAttribute& CustomerIndex::enum_attribute(std::string_view name) {
  auto it = enums_.find(name);
  if (it == enums_.end()) it = enums_.try_emplace(std::string(name)).first;
  return it->second;
}

namespace {
std::string_view builtin_text(const IndexedCustomer& c, size_t builtin) {
  switch (builtin) {
    case 0: return c.layer;
    case 1: return c.gender;
    case 2: return c.city;
    case 3: return c.channel_id;
    default: return c.owner_staff_id;
  }
}

/// The customer's named values ordered by name (the first of equal names first), to walk
/// beside the index's attributes, which a std::map keeps in the same order.
template <typename V>
std::vector<const std::pair<std::string, V>*> by_name(const std::vector<std::pair<std::string, V>>& values) {
  std::vector<const std::pair<std::string, V>*> out;
  out.reserve(values.size());
  // Insertion: a customer has a handful of fields, and a stable sort would allocate.
  for (const auto& v : values) {
    auto at = out.end();
    while (at != out.begin() && v.first < (*std::prev(at))->first) --at;
    out.insert(at, &v);
  }
  return out;
}

/// The value named `name` in a by_name() list, looking from `at` (which moves past smaller
/// names); null when there is none.
template <typename It>
auto value_named(It& at, It end, const std::string& name) -> decltype(&(*at)->second) {
  while (at != end && (*at)->first < name) ++at;
  return at != end && (*at)->first == name ? &(*at)->second : nullptr;
}
}  // namespace

CustomerIndex::CustomerIndex(int zone_offset_minutes) : offset_minutes_(zone_offset_minutes) {
  for (size_t i = 0; i < builtins_.size(); ++i) builtins_[i] = &enum_attribute(kBuiltinEnums[i]);
}

void CustomerIndex::set_attributes(uint32_t id, const IndexedCustomer* c) {
  BitmapBatch* batch = batch_.get();
  if (c == nullptr) {
    for (auto& [name, attribute] : enums_) attribute.set(id, "", batch);
    for (auto& [name, column] : numbers_) column.set(id, std::nullopt, batch);
    groups_.set(id, {}, batch);
    return;
  }
  if (batch && !live_.contains(id)) {
    set_new_attributes(id, *c, *batch);
    return;
  }
  for (const auto& [name, value] : c->custom_text) enum_attribute(name);
  for (const auto& [name, value] : c->custom_numbers) {
    if (numbers_.find(name) == numbers_.end()) numbers_.try_emplace(name);
  }
  // Every known attribute is written, so values the customer no longer has are cleared.
  const auto texts = by_name(c->custom_text);
  auto text = texts.begin();
  for (auto& [name, attribute] : enums_) {
    const auto builtin = static_cast<size_t>(
        std::find(builtins_.begin(), builtins_.end(), &attribute) - builtins_.begin());
    if (builtin < builtins_.size()) {
      attribute.set(id, builtin_text(*c, builtin), batch);
    } else {
      const std::string* value = value_named(text, texts.end(), name);
      attribute.set(id, value != nullptr ? std::string_view(*value) : std::string_view(), batch);
    }
  }
  const auto numbers = by_name(c->custom_numbers);
  auto number = numbers.begin();
  for (auto& [name, column] : numbers_) {
    const double* value = value_named(number, numbers.end(), name);
    column.set(id, value != nullptr ? std::optional<double>(*value) : std::nullopt, batch);
  }
  groups_.set(id, c->groups, batch);
}

namespace {
/// The attribute named `name` in `all`, made when missing, and remembered at position `i` of
/// `cache`: the next customer's fields usually come with the same names in the same order.
/// (Attributes are never removed, so the remembered ones stay valid.)
template <typename Value>
Value& remembered(std::vector<std::pair<std::string, Value*>>& cache, size_t i,
                  std::map<std::string, Value, std::less<>>& all, const std::string& name) {
  if (i < cache.size() && cache[i].first == name) return *cache[i].second;
  auto it = all.find(name);
  if (it == all.end()) it = all.try_emplace(name).first;
  if (i >= cache.size()) cache.resize(i + 1);
  cache[i] = {name, &it->second};
  return it->second;
}
}  // namespace

void CustomerIndex::set_new_attributes(uint32_t id, const IndexedCustomer& c, BitmapBatch& batch) {
  for (size_t i = 0; i < builtins_.size(); ++i) builtins_[i]->set(id, builtin_text(c, i), &batch);
  // Backwards, so that the first of equal names is the one set, as in set_attributes.
  for (size_t i = c.custom_text.size(); i-- > 0;) {
    const auto& [name, value] = c.custom_text[i];
    remembered(bulk_texts_, i, enums_, name).set(id, value, &batch);
  }
  for (size_t i = c.custom_numbers.size(); i-- > 0;) {
    const auto& [name, value] = c.custom_numbers[i];
    remembered(bulk_numbers_, i, numbers_, name).set(id, value, &batch);
  }
  groups_.set(id, c.groups, &batch);
}

namespace {
// A bulk load's level entry: (type, week or day, day or week number, level) above the id, so
// sorting the entries groups each level bitmap's ids in increasing order.
constexpr uint64_t level_entry(uint16_t type, bool week, int32_t key, int level, uint32_t id) {
  return uint64_t{type} << 53 | uint64_t{week} << 52 | (uint64_t(key) & 0xFFFFU) << 36 |
         uint64_t(level) << 32 | id;
}
}  // namespace

void CustomerIndex::mark_level(uint16_t type, bool week, int32_t key, uint32_t count,
                               uint32_t id, bool add) {
  const int levels = static_cast<int>(std::min<uint32_t>(count, kCountLevels));
  if (add && batch_) {
    for (int l = 0; l < levels; ++l) bulk_levels_.push_back(level_entry(type, week, key, l, id));
    return;
  }
  LevelBuckets& buckets = (week ? week_levels_ : day_levels_)[type];
  if (add) {
    auto& bucket = buckets[key];
    if (static_cast<int>(bucket.size()) < levels) bucket.resize(static_cast<size_t>(levels));
    for (int l = 0; l < levels; ++l) bucket[static_cast<size_t>(l)].add(id);
  } else if (auto b = buckets.find(key); b != buckets.end()) {
    for (int l = 0; l < levels && l < static_cast<int>(b->second.size()); ++l) {
      b->second[static_cast<size_t>(l)].remove(id);
    }
    while (!b->second.empty() && b->second.back().isEmpty()) b->second.pop_back();
    if (b->second.empty()) buckets.erase(b);
  }
}

namespace {
/// Orders level entries by their upper 32 bits (the level bitmap), keeping the order of equal
/// keys: entries arrive in increasing id order, so each bitmap's ids come out ascending. Three
/// passes of 11 bits; several times faster than a comparison sort at a million entries.
void sort_by_bitmap(std::vector<uint64_t>& entries, std::vector<uint64_t>& scratch) {
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  scratch.resize(entries.size());
  for (int shift = 32; shift < 64; shift += kBits) {
    std::vector<size_t> start(kBuckets + 1, 0);
    for (uint64_t e : entries) ++start[((e >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    for (uint64_t e : entries) scratch[start[(e >> shift) & (kBuckets - 1)]++] = e;
    entries.swap(scratch);
  }
}
}  // namespace

void CustomerIndex::flush_bulk() {
  std::vector<uint64_t> scratch;
  sort_by_bitmap(bulk_levels_, scratch);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < bulk_levels_.size();) {
    const uint64_t group = bulk_levels_[i] >> 32;
    ids.clear();
    for (; i < bulk_levels_.size() && bulk_levels_[i] >> 32 == group; ++i) {
      ids.push_back(static_cast<uint32_t>(bulk_levels_[i]));
    }
    const auto type = static_cast<uint16_t>(group >> 21);
    const bool week = ((group >> 20) & 1U) != 0;
    const auto key = static_cast<int32_t>((group >> 4) & 0xFFFFU);
    const auto level = static_cast<size_t>(group & 0xFU);
    auto& bucket = (week ? week_levels_ : day_levels_)[type][key];
    if (bucket.size() <= level) bucket.resize(level + 1);
    bucket[level].addMany(ids.size(), ids.data());
  }
  bulk_levels_.clear();
  batch_->flush();
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
      mark_level(static_cast<uint16_t>(type), false, static_cast<int32_t>(day), count, id, add);
      week_count += count;
    }
    mark_level(static_cast<uint16_t>(type), true, week, week_count, id, add);
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
  // Cells come grouped by type: its number is looked up once per type, not per day.
  const std::string* named = nullptr;
  uint16_t type = 0;
  for (const DayActivity& a : activity) {
    if (named == nullptr || *named != a.type) {
      named = &a.type;
      type = type_id(a.type);
    }
    const auto day = static_cast<uint32_t>(std::clamp(a.day, 0, int32_t{UINT16_MAX}));
    insert_cells(cells, cells.size(), type, day, a.count, a.amount);
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
  // A bulk load applies its additions per 65,536 customers: one container of each bitmap.
  if (batch_ && c.id >> 16 != bulk_chunk_) {
    flush_bulk();
    bulk_chunk_ = c.id >> 16;
  }
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
}

void CustomerIndex::begin_bulk() {
  std::unique_lock lock(mu_);
  batch_ = std::make_unique<BitmapBatch>();
}

void CustomerIndex::end_bulk() {
  {
    std::unique_lock lock(mu_);
    if (batch_) flush_bulk();
    batch_.reset();
  }
  shrink();
}

void CustomerIndex::add_activity(const std::vector<AddedActivity>& added) {
  std::unique_lock lock(mu_);
  for (const auto& [id, activity] : added) add_customer_activity(id, activity);
}

void CustomerIndex::add_customer_activity(uint32_t id, const std::vector<DayActivity>& added) {
  if (!live_.contains(id) || added.empty()) return;
  // Counts only grow: each added (type, day) tops up the customer's cells and sets only the
  // level bits its day and week newly reach, instead of unmarking and re-marking every cell.
  const std::span<const ActivityCell> had = activity_.cells(id);
  std::vector<ActivityCell> cells(had.begin(), had.end());
  int32_t last = last_active_[id];
  for (const DayActivity& a : added) {
    const uint16_t type = type_id(a.type);
    const auto day = static_cast<uint32_t>(std::clamp(a.day, 0, int32_t{UINT16_MAX}));
    const auto week = week_of(day);
    const auto bound = [&](int64_t on_day, bool upper) {
      ActivityCell probe{};
      probe.type = type & ActivityCell::kMaxType;
      probe.day = static_cast<uint32_t>(std::clamp<int64_t>(on_day, 0, UINT16_MAX)) & 0xFFFFU;
      return static_cast<size_t>(
          (upper ? std::upper_bound(cells.begin(), cells.end(), probe, cell_before)
                 : std::lower_bound(cells.begin(), cells.end(), probe, cell_before)) -
          cells.begin());
    };
    const auto count_in = [&](size_t from, size_t to) {
      uint32_t n = 0;
      for (size_t i = from; i < to; ++i) n += cells[i].count;
      return n;
    };
    const size_t day_first = bound(day, false), day_end = bound(day, true);
    const uint32_t day_count = count_in(day_first, day_end);
    const uint32_t week_count = count_in(bound(week * 7, false), bound(week * 7 + 6, true));
    top_up(cells, day_first, day_end, type, day, a.count, a.amount);
    raise_level(type, false, static_cast<int32_t>(day), day_count, day_count + a.count, id);
    raise_level(type, true, static_cast<int32_t>(week), week_count, week_count + a.count, id);
    last = std::max(last, a.day);
  }
  activity_.assign(id, cells);
  last_active_[id] = last;
}

void CustomerIndex::top_up(std::vector<ActivityCell>& cells, size_t first, size_t end,
                           uint16_t type, uint32_t day, uint32_t count, int64_t amount) {
  if (first < end) {
    ActivityCell& room = cells[end - 1];
    const uint32_t c = std::min(count, ActivityCell::kMaxCount - room.count);
    const int64_t sum = int64_t{room.amount} + amount;
    const auto part = static_cast<int32_t>(std::clamp<int64_t>(sum, INT32_MIN, INT32_MAX));
    room.count = (room.count + c) & ActivityCell::kMaxCount;
    room.amount = part;
    count -= c;
    amount = sum - part;
  }
  insert_cells(cells, end, type, day, count, amount);
}

void CustomerIndex::insert_cells(std::vector<ActivityCell>& cells, size_t at, uint16_t type,
                                 uint32_t day, uint32_t count, int64_t amount) {
  // Counts above a cell's 63 and amounts beyond int32 continue in further cells.
  while (count > 0 || amount != 0) {
    const uint32_t c = std::min(count, ActivityCell::kMaxCount);
    const auto part = static_cast<int32_t>(std::clamp<int64_t>(amount, INT32_MIN, INT32_MAX));
    ActivityCell cell{};
    cell.day = day & 0xFFFFU;
    cell.type = type & ActivityCell::kMaxType;
    cell.count = c & ActivityCell::kMaxCount;
    cell.amount = part;
    cells.insert(cells.begin() + static_cast<ptrdiff_t>(at++), cell);
    count -= c;
    amount -= part;
  }
}

void CustomerIndex::raise_level(uint16_t type, bool week, int32_t key, uint32_t from, uint32_t to,
                                uint32_t id) {
  const auto top = static_cast<size_t>(std::min<uint32_t>(to, kCountLevels));
  const auto bottom = static_cast<size_t>(std::min<uint32_t>(from, kCountLevels));
  if (bottom >= top) return;
  auto& bucket = (week ? week_levels_ : day_levels_)[type][key];
  if (bucket.size() < top) bucket.resize(top);
  for (size_t l = bottom; l < top; ++l) bucket[l].add(id);
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
