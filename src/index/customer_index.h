// The per-workspace in-memory index: customers on their dense 32-bit ids, a Roaring bitmap
// (CRoaring) per tag and per value of each enumerated attribute, flat columns for numbers,
// and per-customer behaviour aggregates (events per type and day, paid orders).
// Derived state: built from the Store, never the only copy of anything.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "index/attribute.h"
#include "index/bitmap.h"
#include "index/cell_pool.h"
#include "index/derived.h"

namespace siyu::index {

/// A customer's events of one type on one day of the workspace's time zone.
struct DayActivity {
  std::string type;
  int32_t day = 0;
  uint32_t count = 0;
  int64_t amount = 0;  // cents, summed
};

/// One event as the index counts it: its type (or event_key) on a day of the workspace.
struct EventOnDay {
  std::string_view type;
  int32_t day = 0;
  int64_t amount = 0;
};

/// Sums events into one DayActivity per (type, day), ordered by type and day. Sorting a
/// customer's few events beats a map of cells, which allocates for each.
std::vector<DayActivity> sum_by_type_and_day(std::vector<EventOnDay> events);

/// What the index knows of one live customer.
struct IndexedCustomer {
  uint32_t id = 0;
  std::string layer = "none";
  std::string gender = "unknown";
  std::string city;
  std::string channel_id;      // "" when none
  std::string owner_staff_id;  // "" when none
  EpochMs created_at = 0;
  std::vector<std::string> groups;  // active group memberships
  std::vector<DayActivity> activity;
  Purchases purchases;
  /// Custom fields that are not personal, by attribute name ("custom.level"): text and
  /// boolean fields as text, number fields as numbers and date fields as day numbers.
  std::vector<std::pair<std::string, std::string>> custom_text;
  std::vector<std::pair<std::string, double>> custom_numbers;
};

class IndexView;

/// The event type under which the index also counts events of `type` whose property `name`
/// is (or, for an array, contains) `value`.
std::string event_key(const std::string& type, const std::string& name, const std::string& value);

/// The event type counted under `key`: the key itself when it is a plain type.
std::string_view event_type_of_key(std::string_view key);

/// Counts of a type on a day are kept as bitmaps up to this many events.
constexpr int kCountLevels = 16;

/// Customers by count level ("more than j events"), per day or per week number.
using LevelBuckets = std::map<int32_t, std::vector<Bitmap>>;

/// The week of a day number: days 7w … 7w + 6 (weeks start on Thursdays, 1970-01-01 being one).
constexpr int64_t week_of(int64_t day) { return day >= 0 ? day / 7 : (day - 6) / 7; }

/// Thread-safe: writers take an exclusive lock for one change; readers share.
class CustomerIndex {
 public:
  /// Days are cut at this offset from UTC (Asia/Shanghai: 480).
  explicit CustomerIndex(int zone_offset_minutes = 480);

  /// Adds or replaces a customer's attributes and behaviour (tags are kept).
  void upsert(const IndexedCustomer& c);
  /// A customer's new events, for add_activity.
  using AddedActivity = std::pair<uint32_t, std::vector<DayActivity>>;
  /// Adds events to live customers' behaviour (customers not indexed are skipped), all under
  /// one hold of the write lock: readers see a batch whole, and a batch does not queue for the
  /// lock once per customer behind them.
  void add_activity(const std::vector<AddedActivity>& added);
  /// Removes a customer (erased or merged away) and its tags.
  void remove(uint32_t id);
  void add_tag(uint32_t id, const std::string& tag);
  /// Makes `tags` exactly the customer's tags.
  void set_tags(uint32_t id, const std::vector<std::string>& tags);
  void remove_tag(uint32_t id, const std::string& tag);
  /// Makes `holders` (ids in increasing order) exactly the live customers among `ids` that
  /// hold `tag`.
  void set_tag_holders(const std::string& tag, const std::vector<uint32_t>& ids,
                       const std::vector<uint32_t>& holders);

  /// Runs `fn(const IndexView&)` under the read lock and returns its result.
  template <typename F>
  auto read(F&& fn) const;

  /// Live customers.
  uint64_t size() const;
  /// Bytes held by bitmaps and columns (approximate, for /metrics).
  size_t memory_bytes() const;
  /// Returns spare capacity after a bulk build.
  void shrink();
  /// Between begin_bulk and end_bulk the index may only receive new customers in increasing
  /// id order (upsert, then add_tag) and must not be read; bitmap additions are batched, which
  /// makes a rebuild several times faster. end_bulk applies them and shrinks.
  void begin_bulk();
  void end_bulk();
  /// The day number (since 1970-01-01, workspace time) of an instant.
  int32_t day_of(EpochMs t) const;

 private:
  friend class IndexView;
  void set_attributes(uint32_t id, const IndexedCustomer* c);
  /// set_attributes for a customer new to a bulk load: it holds no value yet, so only the
  /// values it has are written.
  void set_new_attributes(uint32_t id, const IndexedCustomer& c, BitmapBatch& batch);
  void set_activity(uint32_t id, const std::vector<DayActivity>& activity);
  /// add_activity for one customer; the caller holds the write lock.
  void add_customer_activity(uint32_t id, const std::vector<DayActivity>& added);
  /// Adds `count` events and `amount` to the (type, day) whose cells are cells[first, end):
  /// the last of them takes what fits, further cells are inserted after it.
  static void top_up(std::vector<ActivityCell>& cells, size_t first, size_t end, uint16_t type,
                     uint32_t day, uint32_t count, int64_t amount);
  /// Inserts cells holding `count` events and `amount` of the (type, day) at `at`, as many as
  /// a cell's 63 events and int32 amount need (none for nothing).
  static void insert_cells(std::vector<ActivityCell>& cells, size_t at, uint16_t type, uint32_t day,
                           uint32_t count, int64_t amount);
  /// Adds `id` to the levels its count reaches on going from `from` to `to` events.
  void raise_level(uint16_t type, bool week, int32_t key, uint32_t from, uint32_t to, uint32_t id);
  /// Adds (or removes) `id` to the day and week levels of `cells` (sorted).
  void mark_days(uint32_t id, std::span<const ActivityCell> cells, bool add);
  /// Adds (or removes) `id` to the first `count` levels of the type's day or week `key`.
  void mark_level(uint16_t type, bool week, int32_t key, uint32_t count, uint32_t id, bool add);
  /// Applies a bulk load's pending additions.
  void flush_bulk();
  void unmark_created(uint32_t id);
  uint16_t type_id(const std::string& type);
  EnumAttribute& enum_attribute(std::string_view name);

  const int offset_minutes_;
  mutable std::shared_mutex mu_;
  Bitmap live_;
  std::unordered_map<std::string, Bitmap> tags_;
  /// layer, gender, city, channel_id, owner_staff_id and custom text fields.
  std::map<std::string, EnumAttribute, std::less<>> enums_;
  std::array<EnumAttribute*, 5> builtins_{};  // layer, gender, city, channel_id, owner_staff_id
  MultiAttribute groups_;
  std::map<std::string, NumberColumn, std::less<>> numbers_;  // custom number and date fields
  std::vector<EpochMs> created_;            // by id
  std::map<int64_t, Bitmap> created_days_;   // UTC day number → customers who joined that day
  std::map<int64_t, Bitmap> created_weeks_;  // week_of(UTC day) → customers who joined that week

  std::unordered_map<std::string, uint16_t> type_ids_;
  std::vector<std::string> type_names_;
  /// By type id, then day: level j holds the customers with more than j events of the type
  /// that day (j < kCountLevels), so counts up to kCountLevels are bitmap arithmetic.
  std::vector<LevelBuckets> day_levels_;
  /// The same by week, so a 90-day window is a dozen weeks and a few edge days.
  std::vector<LevelBuckets> week_levels_;
  CellPool activity_;  // sorted by (type, day)
  std::vector<int32_t> last_active_;  // by id: latest activity day or kNoDay
  std::vector<Purchases> purchases_;  // by id
  Bitmap buyers_;
  std::unique_ptr<BitmapBatch> batch_;  // during a bulk load
  /// During a bulk load, the level bitmaps to add customers to, as sortable entries (see
  /// level_entry): sorted once per 65,536 customers instead of a tree walk per day.
  std::vector<uint64_t> bulk_levels_;
  /// During a bulk load, the attributes of the last customer's custom fields by position.
  std::vector<std::pair<std::string, EnumAttribute*>> bulk_texts_;
  std::vector<std::pair<std::string, NumberColumn*>> bulk_numbers_;
  uint32_t bulk_chunk_ = 0;  // id >> 16 of the customers whose additions are pending

  // RFM scores are computed on first use after purchases change or the day turns.
  mutable std::mutex rfm_mu_;
  mutable std::vector<RfmCell> rfm_;
  mutable uint64_t rfm_version_ = UINT64_MAX;
  uint64_t purchases_version_ = 0;
};

/// Read-only accessors for evaluators; valid only inside CustomerIndex::read.
class IndexView {
 public:
  explicit IndexView(const CustomerIndex& index) : ix_(index) {}
  const Bitmap& live() const { return ix_.live_; }
  /// The tag's customers, or an empty bitmap.
  const Bitmap& tag(const std::string& name) const;
  /// Customers whose `attr` equals `value`, or an empty bitmap.
  const Bitmap& value(const std::string& attr, const std::string& value) const;
  /// Every value bitmap of `attr`, ordered by value (for prefix and exists); may include
  /// empty bitmaps.
  const std::map<std::string, Bitmap, std::less<>>* values(const std::string& attr) const;
  /// The numeric custom field `attr` ("custom.age"), or null when nobody has it.
  const NumberColumn* numbers(const std::string& attr) const;
  /// created_at by id.
  const std::vector<EpochMs>& created_at() const { return ix_.created_; }
  /// Customers by the UTC day they joined (day number since the epoch).
  const std::map<int64_t, Bitmap>& created_days() const { return ix_.created_days_; }
  /// Customers by the week (week_of their UTC day) they joined.
  const std::map<int64_t, Bitmap>& created_weeks() const { return ix_.created_weeks_; }
  int32_t day_of(EpochMs t) const { return ix_.day_of(t); }

  /// The number of an event type, if any customer in the index has such events.
  std::optional<uint16_t> event_type(const std::string& type) const;
  /// The type's customers by day and count level (see CustomerIndex::day_levels_).
  const LevelBuckets& day_levels(uint16_t type) const { return ix_.day_levels_[type]; }
  /// The same by week number.
  const LevelBuckets& week_levels(uint16_t type) const { return ix_.week_levels_[type]; }
  /// A customer's activity cells, sorted by (type, day).
  std::span<const ActivityCell> activity(uint32_t id) const { return ix_.activity_.cells(id); }
  /// A customer's latest day with any event, kNoDay when none.
  int32_t last_active(uint32_t id) const { return ix_.last_active_[id]; }
  const std::vector<Purchases>& purchases() const { return ix_.purchases_; }
  /// Customers with at least one paid order.
  const Bitmap& buyers() const { return ix_.buyers_; }
  /// RFM scores by id, as of the current purchases.
  const std::vector<RfmCell>& rfm() const;
  /// A live customer's lifecycle stage on `today`.
  Lifecycle lifecycle(uint32_t id, int32_t today) const;
  /// Calls fn(name, customers) for every tag.
  template <typename F>
  void each_tag(F&& fn) const {
    for (const auto& [name, b] : ix_.tags_) fn(name, b);
  }

 private:
  const CustomerIndex& ix_;
};

template <typename F>
auto CustomerIndex::read(F&& fn) const {
  std::shared_lock lock(mu_);
  return fn(IndexView(*this));
}

}  // namespace siyu::index
