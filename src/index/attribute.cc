#include "index/attribute.h"

#include <algorithm>

namespace siyu::index {

void BitmapBatch::flush() {
  for (auto& [bitmap, ids] : pending_) {
    if (ids.empty()) continue;
    bitmap->addMany(ids.size(), ids.data());
    ids.clear();
  }
}

void EnumAttribute::set(uint32_t id, std::string_view value, BitmapBatch* batch) {
  if (id >= code_.size()) code_.resize(id + 1, 0);
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
  const uint32_t old = code_[id];
  if (old == code) return;
  if (old != 0) by_code_[old]->remove(id);
  if (code != 0) add_to(*by_code_[code], id, batch);
  code_[id] = code;
}

size_t EnumAttribute::memory_bytes() const {
  size_t bytes = code_.capacity() * sizeof(uint32_t) + by_code_.capacity() * sizeof(Bitmap*);
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
  if (id >= values_.size()) values_.resize(id + 1, 0);
  if (value) {
    values_[id] = *value;
    add_to(present_, id, batch);
  } else {
    present_.remove(id);
  }
}

size_t NumberColumn::memory_bytes() const {
  return values_.capacity() * sizeof(double) + present_.getSizeInBytes();
}

}  // namespace siyu::index
