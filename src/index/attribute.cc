#include "index/attribute.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace siyu::index {

void BitmapBatch::flush() {
  for (auto& [bitmap, ids] : pending_) {
    if (ids.empty()) continue;
    bitmap->addMany(ids.size(), ids.data());
    ids.clear();
  }
}

uint32_t EnumAttribute::code_at(uint32_t id) const {
  if (is_wide_) return id < wide_.size() ? wide_[id] : 0;
  return id < narrow_.size() ? narrow_[id] : 0;
}

void EnumAttribute::put_code(uint32_t id, uint32_t code) {
  if (!is_wide_ && code > UINT16_MAX) {
    wide_.assign(narrow_.begin(), narrow_.end());
    narrow_ = {};
    is_wide_ = true;
  }
  if (is_wide_) {
    if (id >= wide_.size()) wide_.resize(id + 1, 0);
    wide_[id] = code;
  } else {
    if (id >= narrow_.size()) narrow_.resize(id + 1, 0);
    narrow_[id] = static_cast<uint16_t>(code);
  }
}

void EnumAttribute::set(uint32_t id, std::string_view value, BitmapBatch* batch) {
  uint32_t code = 0;
  if (!value.empty()) {
    if (auto it = code_of_.find(value); it != code_of_.end()) {
      code = it->second;
    } else {
      auto [node, fresh] = bitmaps_.try_emplace(std::string(value));
      code = static_cast<uint32_t>(by_code_.size());
      by_code_.push_back(&node->second);
      code_of_.emplace(node->first, code);
    }
  }
  const uint32_t old = code_at(id);
  if (old == code) return;
  if (old != 0) by_code_[old]->remove(id);
  if (code != 0) add_to(*by_code_[code], id, batch);
  put_code(id, code);
}

size_t EnumAttribute::memory_bytes() const {
  size_t bytes = narrow_.capacity() * sizeof(uint16_t) + wide_.capacity() * sizeof(uint32_t) +
                 by_code_.capacity() * sizeof(Bitmap*);
  for (const auto& [value, b] : bitmaps_) bytes += value.size() + 64 + b.getSizeInBytes();
  return bytes;
}

void MultiAttribute::set(uint32_t id, const std::vector<std::string>& values, BitmapBatch* batch) {
  if (auto it = of_.find(id); it != of_.end()) {
    for (Bitmap* b : it->second) b->remove(id);
    of_.erase(it);
  }
  if (values.empty()) return;
  std::vector<Bitmap*>& mine = of_[id];
  for (const auto& v : values) {
    Bitmap* b = &bitmaps_[v];
    if (std::find(mine.begin(), mine.end(), b) != mine.end()) continue;
    add_to(*b, id, batch);
    mine.push_back(b);
  }
}

size_t MultiAttribute::memory_bytes() const {
  size_t bytes = 0;
  for (const auto& [value, b] : bitmaps_) bytes += value.size() + 64 + b.getSizeInBytes();
  for (const auto& [id, mine] : of_) bytes += 48 + mine.capacity() * sizeof(Bitmap*);
  return bytes;
}

void NumberColumn::set(uint32_t id, std::optional<double> value, BitmapBatch* batch) {
  const bool had = present_.contains(id);
  if (by_value_ok_ && had) {
    if (value && at(id) == *value) return;
    if (auto it = by_value_.find(at(id)); it != by_value_.end()) it->second.remove(id);
  }
  if (!value) {
    if (had) present_.remove(id);
    return;
  }
  if (!is_wide_ && (std::fabs(*value) > std::numeric_limits<float>::max() ||
                    static_cast<double>(static_cast<float>(*value)) != *value)) {
    wide_.assign(narrow_.begin(), narrow_.end());
    narrow_ = {};
    is_wide_ = true;
  }
  if (is_wide_) {
    if (id >= wide_.size()) wide_.resize(id + 1, 0);
    wide_[id] = *value;
  } else {
    if (id >= narrow_.size()) narrow_.resize(id + 1, 0);
    narrow_[id] = static_cast<float>(*value);
  }
  if (!had) add_to(present_, id, batch);
  if (by_value_ok_) {
    auto [it, fresh] = by_value_.try_emplace(*value);
    if (fresh && by_value_.size() > kMaxValueBitmaps) {
      // Too many values for bitmaps to pay off: ranges scan the column instead. Pending
      // bulk additions may point into these bitmaps, so apply them first.
      if (batch != nullptr) batch->flush();
      by_value_.clear();
      by_value_ok_ = false;
      return;
    }
    add_to(it->second, id, batch);
  }
}

size_t NumberColumn::memory_bytes() const {
  size_t bytes = narrow_.capacity() * sizeof(float) + wide_.capacity() * sizeof(double) +
                 present_.getSizeInBytes();
  for (const auto& [value, b] : by_value_) bytes += sizeof(value) + 64 + b.getSizeInBytes();
  return bytes;
}

}  // namespace siyu::index
