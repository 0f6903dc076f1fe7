// The bitmap type of the index: CRoaring's compressed bitmaps of 32-bit customer ids.
#pragma once

#include <roaring/roaring.hh>

#include <string>
#include <string_view>

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

/// A bitmap's portable serialization (blobs in the store).
inline std::string to_bytes(const Bitmap& b) {
  std::string out(b.getSizeInBytes(true), '\0');
  b.write(out.data(), true);
  return out;
}

/// Reads to_bytes() output; an empty blob is an empty bitmap.
inline Bitmap from_bytes(std::string_view blob) {
  if (blob.empty()) return Bitmap();
  return Bitmap::readSafe(blob.data(), blob.size());
}

}  // namespace siyu::index
