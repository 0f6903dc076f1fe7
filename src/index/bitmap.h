// The bitmap type of the index: CRoaring's compressed bitmaps of 32-bit customer ids.
#pragma once

#include <roaring/roaring.hh>

namespace siyu::index {

using Bitmap = Roaring;  // CRoaring 0.2 puts its C++ class in the global namespace

/// A union of many bitmaps. Adding them one by one with |= merges sorted arrays again and
/// again (quadratic in a container's size); this accumulates lazily into bitset containers and
/// repairs the cardinalities once.
class UnionBuilder {
 public:
  void add(const Bitmap& b) { roaring_bitmap_lazy_or_inplace(&acc_.roaring, &b.roaring, true); }
  /// The union; the builder is empty afterwards.
  Bitmap finish() {
    roaring_bitmap_repair_after_lazy(&acc_.roaring);
    Bitmap out = std::move(acc_);
    acc_ = Bitmap();
    return out;
  }

 private:
  Bitmap acc_;
};

}  // namespace siyu::index
