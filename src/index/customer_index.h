// The per-workspace in-memory index: customers on their dense 32-bit ids, a Roaring bitmap
// (CRoaring) per tag and per value of each enumerated attribute, and flat columns for numbers.
// Derived state: built from the Store, never the only copy of anything.
#pragma once

#include <roaring/roaring.hh>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"

namespace siyu::index {

using Bitmap = Roaring;  // CRoaring 0.2 puts its C++ class in the global namespace

/// What the index knows of one live customer.
struct IndexedCustomer {
  uint32_t id = 0;
  std::string layer = "none";
  std::string gender = "unknown";
  std::string city;
  std::string channel_id;      // "" when none
  std::string owner_staff_id;  // "" when none
  EpochMs created_at = 0;
};

class IndexView;

/// Thread-safe: writers take an exclusive lock for one change; readers share.
class CustomerIndex {
 public:
  /// Adds or replaces a customer's attributes (tags are kept).
  void upsert(const IndexedCustomer& c);
  /// Removes a customer (erased or merged away) and its tags.
  void remove(uint32_t id);
  void add_tag(uint32_t id, const std::string& tag);
  /// Makes `tags` exactly the customer's tags.
  void set_tags(uint32_t id, const std::vector<std::string>& tags);
  void remove_tag(uint32_t id, const std::string& tag);

  /// Runs `fn(const IndexView&)` under the read lock and returns its result.
  template <typename F>
  auto read(F&& fn) const;

  /// Live customers.
  uint64_t size() const;
  /// Bytes held by bitmaps and columns (approximate, for /metrics).
  size_t memory_bytes() const;

 private:
  friend class IndexView;
  void unset_attributes(uint32_t id);

  mutable std::shared_mutex mu_;
  Bitmap live_;
  std::unordered_map<std::string, Bitmap> tags_;
  /// attribute → value → customers; attributes are layer, gender, city, channel_id,
  /// owner_staff_id.
  std::map<std::string, std::map<std::string, Bitmap>, std::less<>> values_;
  std::vector<IndexedCustomer> rows_;  // by id; id 0 unused
  std::vector<EpochMs> created_;       // by id
  std::map<int64_t, Bitmap> created_days_;  // UTC day number → customers who joined that day
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
  /// Every value bitmap of `attr`, ordered by value (for prefix and exists).
  const std::map<std::string, Bitmap>* values(const std::string& attr) const;
  /// created_at by id.
  const std::vector<EpochMs>& created_at() const { return ix_.created_; }
  /// Customers by the UTC day they joined (day number since the epoch).
  const std::map<int64_t, Bitmap>& created_days() const { return ix_.created_days_; }

 private:
  const CustomerIndex& ix_;
};

template <typename F>
auto CustomerIndex::read(F&& fn) const {
  std::shared_lock lock(mu_);
  return fn(IndexView(*this));
}

}  // namespace siyu::index
