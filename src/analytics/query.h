// What every analytics query shares: the period, the time grain of a series, the customers it
// covers, and how it breaks figures down.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/dataset.h"

namespace siyu::analytics {

/// A half-open span of time [from, to) in epoch seconds.
struct Period {
  uint32_t from = 0;
  uint32_t to = 0;
  bool contains(uint32_t t) const { return t >= from && t < to; }
  /// The period of the same length that ends where this one starts.
  Period previous() const;
};

enum class Grain { kDay, kWeek, kMonth };
std::optional<Grain> parse_grain(std::string_view s);

/// The first local day of the day's bucket: the day, its Monday, or the first of its month.
int32_t bucket_of(int32_t day, Grain g);
/// The bucket after the one starting at `bucket`.
int32_t next_bucket(int32_t bucket, Grain g);
/// "YYYY-MM-DD" (day, week) or "YYYY-MM" (month) of a bucket.
std::string bucket_label(int32_t bucket, Grain g);
/// "YYYY-MM-DD" of a day number.
std::string day_label(int32_t day);

/// A set of customer ids as a dense bit vector; `all` covers every live customer.
class CustomerMask {
 public:
  static CustomerMask all() { return CustomerMask(); }
  /// Exactly `ids` (sorted or not).
  static CustomerMask of(const std::vector<uint32_t>& ids, uint32_t size);
  bool has(uint32_t id) const {
    return all_ || (id / 64 < bits_.size() && ((bits_[id / 64] >> (id % 64)) & 1) != 0);
  }
  bool covers_all() const { return all_; }

 private:
  bool all_ = true;
  std::vector<uint64_t> bits_;
};

/// What a figure can be broken down by. Customer dimensions describe the customer now;
/// order dimensions the order; segments place a customer in every listed segment it is in.
enum class Dimension {
  kNone, kLayer, kChannel, kCampaign, kContent, kOwnerStaff, kReferrerStaff, kPartner, kCity,
  kGender, kAgeBand, kStore, kOrderChannel, kOrderStaff, kSegment
};
std::optional<Dimension> parse_dimension(std::string_view s);
std::string_view dimension_name(Dimension d);
bool is_order_dimension(Dimension d);

/// A named segment's members, for Dimension::kSegment.
struct NamedMask {
  std::string name;
  CustomerMask members;
};

/// Places customers (and orders) in the groups of a breakdown, numbering groups as they are
/// first met; labels are the dimension's values ("" for none).
class Breakdown {
 public:
  Breakdown(const Dataset& d, Dimension dim, std::vector<NamedMask> segments, int32_t today);
  /// Calls fn(group) for every group the customer (and, for order dimensions, the order) is in.
  template <typename F>
  void each(uint32_t customer, const OrderRow* order, F&& fn) {
    if (dim_ == Dimension::kSegment) {
      for (size_t i = 0; i < segments_.size(); ++i) {
        if (segments_[i].members.has(customer)) fn(i);
      }
      return;
    }
    fn(group_of(key(customer, order)));
  }
  size_t size() const { return labels_.size(); }
  const std::string& label(size_t group) const { return labels_[group]; }
  Dimension dimension() const { return dim_; }

 private:
  uint32_t key(uint32_t customer, const OrderRow* order) const;
  size_t group_of(uint32_t key);
  std::string key_label(uint32_t key) const;

  const Dataset& d_;
  Dimension dim_;
  std::vector<NamedMask> segments_;
  int32_t year_ = 0;
  std::vector<int32_t> group_by_key_;  // -1: not met yet
  std::vector<std::string> labels_;
};

/// The age band of a birth year in `year`: "<18", "18-24", "25-34", "35-44", "45-54", "55+",
/// or "" when unknown.
std::string_view age_band(uint16_t birth_year, int32_t year);
/// The civil year of a local day number.
int32_t year_of(int32_t day);

/// Sum-safe ratio: 0 when the denominator is 0.
inline double ratio(double num, double den) { return den == 0 ? 0 : num / den; }

}  // namespace siyu::analytics
