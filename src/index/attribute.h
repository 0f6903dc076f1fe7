// Columns of customer attributes inside the index: enumerated text with a bitmap per value,
// multi-valued memberships, and numbers. Not thread-safe; the owning index serialises access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/bitmap.h"

namespace siyu::index {

/// Bitmap additions collected during a bulk load and applied bitmap by bitmap: adding a
/// customer to forty bitmaps one after another misses the cache forty times, while appending
/// each bitmap's ids in one go does not. Ids must arrive in increasing order per bitmap.
class BitmapBatch {
 public:
  void add(Bitmap& b, uint32_t id) { pending_[&b].push_back(id); }
  /// Applies every pending addition.
  void flush();

 private:
  std::unordered_map<Bitmap*, std::vector<uint32_t>> pending_;
};

/// Adds `id` to `b` now, or through `batch` when one is given.
inline void add_to(Bitmap& b, uint32_t id, BitmapBatch* batch) {
  if (batch != nullptr) {
    batch->add(b, id);
  } else {
    b.add(id);
  }
}

/// An attribute with at most one text value per customer, e.g. city: a bitmap per value and
/// the customer's value by number, so a change touches only the two bitmaps involved.
class EnumAttribute {
 public:
  /// Gives the customer `value`; empty means none. Additions go through `batch` if given.
  void set(uint32_t id, std::string_view value, BitmapBatch* batch = nullptr);
  /// value → customers, ordered by value (prefix queries walk a range). May hold empty bitmaps.
  const std::map<std::string, Bitmap, std::less<>>& values() const { return bitmaps_; }
  size_t memory_bytes() const;

 private:
  uint32_t code_at(uint32_t id) const;
  void put_code(uint32_t id, uint32_t code);

  std::map<std::string, Bitmap, std::less<>> bitmaps_;
  std::vector<Bitmap*> by_code_ = {nullptr};  // code → bitmap; code 0 is "none"
  std::unordered_map<std::string_view, uint32_t> code_of_;  // keys point into bitmaps_
  // The customer's code by id: 2 bytes each until an attribute has more than 65,535 values.
  std::vector<uint16_t> narrow_;
  std::vector<uint32_t> wide_;
  bool is_wide_ = false;
};

/// An attribute with any number of values per customer, e.g. group memberships. Customers
/// without values cost nothing.
class MultiAttribute {
 public:
  /// Makes `values` exactly the customer's values.
  void set(uint32_t id, const std::vector<std::string>& values, BitmapBatch* batch = nullptr);
  const std::map<std::string, Bitmap, std::less<>>& values() const { return bitmaps_; }
  size_t memory_bytes() const;

 private:
  std::map<std::string, Bitmap, std::less<>> bitmaps_;
  std::unordered_map<uint32_t, std::vector<Bitmap*>> of_;  // customer → its values' bitmaps
};

/// A numeric attribute (a number or a date as a day number): a flat column, the set of
/// customers who have a value, and while there are few distinct values (ages, scores), a
/// bitmap per value so ranges are unions instead of scans.
class NumberColumn {
 public:
  static constexpr size_t kMaxValueBitmaps = 256;

  void set(uint32_t id, std::optional<double> value, BitmapBatch* batch = nullptr);
  const Bitmap& present() const { return present_; }
  double at(uint32_t id) const { return is_wide_ ? wide_[id] : narrow_[id]; }
  /// value → customers, or null once the column has more than kMaxValueBitmaps values.
  const std::map<double, Bitmap>* by_value() const { return by_value_ok_ ? &by_value_ : nullptr; }
  size_t memory_bytes() const;

 private:
  Bitmap present_;
  // By customer id, meaningful where present: 4-byte floats while every value is exactly a
  // float (counts, ages, day numbers), doubles from the first value that is not.
  std::vector<float> narrow_;
  std::vector<double> wide_;
  bool is_wide_ = false;
  std::map<double, Bitmap> by_value_;
  bool by_value_ok_ = true;
};

}  // namespace siyu::index
