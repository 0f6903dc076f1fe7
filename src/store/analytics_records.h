// What the analytics engine reads from the store: compact facts of customers, events, orders
// and layer changes, streamed from one snapshot; and the lifetime-value predictions it writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"

namespace siyu::store {

/// A live customer's attributes that analytics breaks figures down by.
struct CustomerProfile {
  CustomerId id;
  EpochMs created_at = 0;
  std::string_view layer, gender, city, birthday, campaign, content, referrer_partner;
  std::optional<int64_t> channel;         // channel id
  std::optional<int64_t> owner_staff;     // user id
  std::optional<int64_t> referrer_staff;  // user id
};

/// One stored event. Views are valid only during the callback.
struct EventFact {
  CustomerId customer;
  EpochMs ts = 0;
  int64_t amount = 0;
  std::string_view type, channel, campaign, content, staff, properties_json;
};

/// One stored order (customer 0: a guest checkout). Views are valid only during the callback.
struct OrderFact {
  CustomerId customer;
  std::string_view status, store, channel, staff;
  int64_t amount = 0;
  int64_t refund_amount = 0;
  EpochMs ordered_at = 0;
  std::optional<EpochMs> paid_at;
  std::optional<EpochMs> refunded_at;
};

/// A customer's move from one relationship layer to another.
struct LayerChange {
  CustomerId customer;
  std::string_view from, to;
  EpochMs at = 0;
};

/// A channel's spend on one day.
struct CostFact {
  int64_t channel = 0;
  std::string_view day;  // YYYY-MM-DD
  int64_t amount = 0;    // cents
};

/// Receives one workspace's facts from a single snapshot: customers in id order, then events,
/// orders, layer changes and costs (each in no particular order).
class AnalyticsSink {
 public:
  virtual ~AnalyticsSink() = default;
  virtual void customer(const CustomerProfile& c) = 0;
  virtual void event(const EventFact& e) = 0;
  virtual void order(const OrderFact& o) = 0;
  virtual void layer_change(const LayerChange& c) = 0;
  virtual void cost(const CostFact& c) = 0;
};

/// A customer's lifetime-value prediction, written by a refit.
struct Prediction {
  CustomerId customer;
  double expected_purchases = 0;  // in the prediction horizon
  double p_alive = 0;             // 0..1
  int64_t predicted_value = 0;    // cents, over the horizon
};

}  // namespace siyu::store
