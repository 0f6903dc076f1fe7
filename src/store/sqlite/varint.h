// LEB128 varints: the compact integers of the store's own binary formats (event key blocks,
// tag log id lists).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace siyu::store::sqlite {

/// Appends `v` as a varint: 7 bits a byte, low bits first, the high bit set on all but the last.
inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// Reads varints and byte strings from the front of a buffer; each read is false when the
/// buffer ends first.
class VarintReader {
 public:
  explicit VarintReader(std::string_view bytes) : bytes_(bytes) {}

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && pos_ < bytes_.size(); shift += 7) {
      const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool text(std::string& s, uint64_t n) {
    if (n > bytes_.size() - pos_) return false;
    s.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace siyu::store::sqlite
