#include "rules/touched.h"

namespace siyu::rules {

void Touched::add_any(const index::Bitmap& ids) {
  any_ |= ids;
  all_ |= ids;
}

void Touched::add_events(std::string_view type, std::span<const uint32_t> ids) {
  auto it = by_event_type_.find(type);
  if (it == by_event_type_.end()) it = by_event_type_.try_emplace(std::string(type)).first;
  it->second.addMany(ids.size(), ids.data());
  all_.addMany(ids.size(), ids.data());
}

void Touched::merge(const Touched& other) {
  add_any(other.any_);
  for (const auto& [type, ids] : other.by_event_type_) {
    by_event_type_[type] |= ids;
    all_ |= ids;
  }
}

index::Bitmap Touched::relevant_to(const std::optional<std::vector<std::string>>& types) const {
  if (!types) return all_;
  index::Bitmap out = any_;
  for (const std::string& type : *types) {
    if (auto it = by_event_type_.find(type); it != by_event_type_.end()) out |= it->second;
  }
  return out;
}

}  // namespace siyu::rules
