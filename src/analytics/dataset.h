// The analytics engine's columnar snapshot of one workspace: customers on their ids, their
// events and orders grouped by customer in time order (CSR layout), layer changes and channel
// costs, with text columns coded through dictionaries. Built from the store in one scan;
// derived state, never the only copy of anything. Immutable once built.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace siyu::analytics {

/// Hashes texts for lookups by string_view without building a string.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// Texts of one column coded as dense numbers; code 0 is the empty text.
class Dictionary {
 public:
  Dictionary() { names_.emplace_back(); }
  uint32_t code(std::string_view text);
  /// The code of `text`, or nullopt when the column never holds it.
  std::optional<uint32_t> find(std::string_view text) const;
  const std::string& name(uint32_t code) const { return names_[code]; }
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> codes_;
};

/// Relationship layers in order of closeness (DOMAIN.md §1); kLayerNone before any.
enum Layer : uint8_t { kLayerNone, kLayerFan, kLayerCommunity, kLayerFriend, kLayerMember };
constexpr int kLayers = 5;
/// "none", "fan", "community", "friend", "member".
std::string_view layer_name(uint8_t layer);
uint8_t parse_layer(std::string_view s);

/// A live customer. Times are epoch seconds; text attributes are dictionary codes.
struct CustomerRow {
  bool live = false;
  uint8_t layer = kLayerNone;
  uint16_t birth_year = 0;  // 0: unknown
  uint32_t created = 0;
  uint32_t gender = 0, city = 0, channel = 0, campaign = 0, content = 0, owner = 0,
           referrer_staff = 0, partner = 0;
};

/// An event: its time (epoch seconds), type and attribute set (see Dataset::attrs).
struct EventRow {
  uint32_t t = 0;
  uint32_t type = 0;
  uint32_t attrs = 0;
};

/// The times of the first and last of a customer's events.
struct EventSpan {
  uint32_t first = 0, last = 0;
};

/// An event's attribution and its declared properties, interned: many events share one.
struct EventAttrs {
  uint32_t channel = 0, campaign = 0, content = 0, staff = 0;  // codes in Dataset::event_text
  std::vector<std::pair<std::string, std::string>> properties;  // declared ones, by name
  bool operator==(const EventAttrs&) const = default;
};

enum class OrderStatus : uint8_t { kCreated, kPaid, kRefunded };

/// An order. `paid` and `refunded` are 0 when it never was.
struct OrderRow {
  uint32_t ordered = 0, paid = 0, refunded = 0;
  uint32_t store = 0, channel = 0, staff = 0;  // codes in Dataset::order_text
  OrderStatus status = OrderStatus::kCreated;
  int64_t amount = 0;  // cents
  int64_t refund = 0;  // cents
};

struct LayerMove {
  uint32_t customer = 0;
  uint8_t from = kLayerNone, to = kLayerNone;
  uint32_t at = 0;
};

struct CostRow {
  uint32_t channel = 0;  // code in Dataset::customer_text (the channel id as text)
  int32_t day = 0;       // local day number
  int64_t amount = 0;
};

/// Rows grouped by customer id: rows of customer c are rows[start[c] .. start[c + 1]).
template <typename Row>
struct ByCustomer {
  std::vector<uint64_t> start;
  std::vector<Row> rows;
  std::span<const Row> of(uint32_t customer) const {
    if (customer + 1 >= start.size()) return {};
    return {rows.data() + start[customer], rows.data() + start[customer + 1]};
  }
};

class Dataset {
 public:
  /// Customer ids run 1 .. customers.size() - 1; index 0 holds guest orders only.
  std::vector<CustomerRow> customers;
  /// By id, whether the customer is live: `customers[c].live` packed densely, so a scan that
  /// needs nothing else of the customer does not stream the whole rows.
  std::vector<uint8_t> live;
  ByCustomer<EventRow> events;  // each customer's in time order (ties by arrival)
  /// By id, the times of the customer's first and last events (0 and 0 without any), so a
  /// scan asking whether customers were active need not touch most of their events.
  std::vector<EventSpan> event_spans;
  ByCustomer<OrderRow> orders;  // each customer's in order time
  std::vector<LayerMove> layer_moves;  // by customer, then time
  std::vector<CostRow> costs;
  std::vector<EventAttrs> attrs;
  Dictionary event_types;
  Dictionary event_text;     // event channel, campaign, content, staff
  Dictionary customer_text;  // gender, city, channel id, campaign, content, staff ids, partner
  Dictionary order_text;     // store, channel, staff
  int offset_minutes = 480;  // the workspace's time zone
  EpochMs built_at = 0;
  uint64_t generation = 0;  // the store's write generation when built

  /// The local day number of epoch second `t`.
  int32_t day(uint32_t t) const {
    return static_cast<int32_t>((static_cast<int64_t>(t) + offset_minutes * 60) / 86400);
  }
  /// Whether customer c has an event at a time in [from, to).
  bool has_event_in(uint32_t c, uint32_t from, uint32_t to) const;
  /// Number of customer slots (max id + 1).
  uint32_t size() const { return static_cast<uint32_t>(customers.size()); }
  size_t memory_bytes() const;
};

/// Reads the workspace from `store` into a Dataset; `properties` are the declared event
/// properties to keep (others are not kept, so the attribute sets stay few).
Result<Dataset> load_dataset(store::Store& store, WorkspaceId ws, int offset_minutes,
                             const std::vector<std::string>& properties);

/// Builds a Dataset from facts handed over one by one (the loader and the benchmarks).
class DatasetBuilder final : public store::AnalyticsSink {
 public:
  DatasetBuilder(int offset_minutes, std::vector<std::string> properties);
  void customer(const store::CustomerProfile& c) override;
  void event(const store::EventFact& e) override;
  void order(const store::OrderFact& o) override;
  void layer_change(const store::LayerChange& c) override;
  void cost(const store::CostFact& c) override;
  /// Groups the rows by customer and returns the dataset; the builder is spent.
  Dataset finish();

 private:
  uint32_t slot(CustomerId id);
  uint32_t intern(EventAttrs a);

  Dataset d_;
  std::vector<std::string> properties_;
  std::vector<std::pair<uint32_t, EventRow>> events_;
  std::vector<std::pair<uint32_t, OrderRow>> orders_;
  std::unordered_map<std::string, uint32_t> attr_ids_;  // sets with properties
  struct CodesHash {
    size_t operator()(const std::array<uint32_t, 4>& a) const {
      uint64_t h = 0x9E3779B97F4A7C15ULL;
      for (uint32_t x : a) h = (h ^ x) * 0x100000001B3ULL;
      return static_cast<size_t>(h);
    }
  };
  std::unordered_map<std::array<uint32_t, 4>, uint32_t, CodesHash> plain_ids_;  // sets without
};

/// Seconds since the epoch, clamped to the 32-bit range the dataset stores.
uint32_t to_seconds(EpochMs t);

}  // namespace siyu::analytics
