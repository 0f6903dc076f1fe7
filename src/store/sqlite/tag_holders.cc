#include "store/sqlite/tag_holders.h"

#include <algorithm>
#include <mutex>

#include "core/status.h"

namespace siyu::store::sqlite {

void TagHolders::StagedBits::add(uint32_t id) {
  removed_.remove(id);
  if (!committed_.contains(id)) added_.add(id);
}

void TagHolders::StagedBits::remove(uint32_t id) {
  added_.remove(id);
  if (committed_.contains(id)) removed_.add(id);
}

void TagHolders::StagedBits::clear() {
  added_ = Roaring();
  removed_ = committed_;
}

void TagHolders::StagedBits::commit() {
  committed_ |= added_;
  committed_ -= removed_;
  rollback();
}

void TagHolders::StagedBits::rollback() {
  added_ = Roaring();
  removed_ = Roaring();
}

TagHolders::Space* TagHolders::space(WorkspaceId ws) const {
  if (auto it = loading_.find(ws.value); it != loading_.end()) return it->second.get();
  auto it = spaces_.find(ws.value);
  return it == spaces_.end() ? nullptr : it->second.get();
}

const TagHolders::Bits* TagHolders::bits(WorkspaceId ws, const std::string& tag) const {
  const Space* s = space(ws);
  if (s == nullptr) return nullptr;
  auto it = s->tags.find(tag);
  return it == s->tags.end() ? nullptr : it->second.get();
}

TagHolders::Bits& TagHolders::staged(WorkspaceId ws, const std::string& tag) {
  Space* s = space(ws);
  SIYU_ASSERT(s != nullptr, "tag holders are changed only in a loaded workspace");
  auto it = s->tags.find(tag);
  if (it == s->tags.end()) {
    std::unique_lock lock(mu_);
    it = s->tags.emplace(tag, std::make_unique<Bits>()).first;
  }
  touch(*it->second);
  return *it->second;
}

void TagHolders::touch(Bits& b) {
  if (b.touched) return;
  b.touched = true;
  touched_.push_back(&b);
}

bool TagHolders::loaded(WorkspaceId ws) const { return space(ws) != nullptr; }

void TagHolders::start_load(WorkspaceId ws) { loading_[ws.value] = std::make_unique<Space>(); }

void TagHolders::load_held(WorkspaceId ws, std::string_view tag, uint32_t id, bool expiring) {
  Space& s = *loading_.at(ws.value);
  auto it = s.tags.find(std::string(tag));
  if (it == s.tags.end()) it = s.tags.emplace(std::string(tag), std::make_unique<Bits>()).first;
  it->second->holders.committed().add(id);
  if (expiring) it->second->expiring.committed().add(id);
  s.live.holders.committed().add(id);
}

void TagHolders::load_live(WorkspaceId ws, uint32_t id) {
  loading_.at(ws.value)->live.holders.committed().add(id);
}

bool TagHolders::holds(WorkspaceId ws, const std::string& tag, uint32_t id) const {
  const Bits* b = bits(ws, tag);
  return b != nullptr && b->holders.contains(id);
}

bool TagHolders::expiring(WorkspaceId ws, const std::string& tag, uint32_t id) const {
  const Bits* b = bits(ws, tag);
  return b != nullptr && b->expiring.contains(id);
}

void TagHolders::add(WorkspaceId ws, const std::string& tag, uint32_t id, bool with_expiry) {
  Bits& b = staged(ws, tag);
  b.holders.add(id);
  if (with_expiry) {
    b.expiring.add(id);
  } else {
    b.expiring.remove(id);
  }
}

void TagHolders::remove(WorkspaceId ws, const std::string& tag, uint32_t id) {
  Bits& b = staged(ws, tag);
  b.holders.remove(id);
  b.expiring.remove(id);
}

void TagHolders::drop_tag(WorkspaceId ws, const std::string& tag) {
  Bits& b = staged(ws, tag);
  b.holders.clear();
  b.expiring.clear();
}

std::vector<std::string> TagHolders::tags_of(WorkspaceId ws, uint32_t id) const {
  std::vector<std::string> out;
  const Space* s = space(ws);
  if (s == nullptr) return out;
  for (const auto& [tag, b] : s->tags) {
    if (b->holders.contains(id)) out.push_back(tag);
  }
  return out;
}

bool TagHolders::known_live(WorkspaceId ws, uint32_t id) const {
  const Space* s = space(ws);
  return s != nullptr && s->live.holders.contains(id);
}

void TagHolders::mark_live(WorkspaceId ws, uint32_t id) {
  Space* s = space(ws);
  if (s == nullptr) return;
  touch(s->live);
  s->live.holders.add(id);
}

void TagHolders::mark_gone(WorkspaceId ws, uint32_t id) {
  Space* s = space(ws);
  if (s == nullptr) return;
  for (const std::string& tag : tags_of(ws, id)) remove(ws, tag, id);
  touch(s->live);
  s->live.holders.remove(id);
}

void TagHolders::commit() {
  std::unique_lock lock(mu_);
  for (auto& [ws, s] : loading_) spaces_[ws] = std::move(s);
  loading_.clear();
  for (Bits* b : touched_) {
    b->holders.commit();
    b->expiring.commit();
    b->touched = false;
  }
  touched_.clear();
}

void TagHolders::rollback() {
  for (Bits* b : touched_) {
    b->holders.rollback();
    b->expiring.rollback();
    b->touched = false;
  }
  touched_.clear();
  std::unique_lock lock(mu_);
  loading_.clear();
}

std::optional<std::vector<CustomerId>> TagHolders::holders_among(
    WorkspaceId ws, const std::string& tag, const std::vector<CustomerId>& ids) const {
  std::shared_lock lock(mu_);
  auto s = spaces_.find(ws.value);
  if (s == spaces_.end()) return std::nullopt;
  std::vector<CustomerId> out;
  auto it = s->second->tags.find(tag);
  if (it == s->second->tags.end()) return out;
  const Roaring& holders = it->second->holders.committed();
  for (CustomerId id : ids) {
    if (id.value >= 0 && id.value <= UINT32_MAX &&
        holders.contains(static_cast<uint32_t>(id.value))) {
      out.push_back(id);
    }
  }
  std::sort(out.begin(), out.end(), [](CustomerId a, CustomerId b) { return a.value < b.value; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t TagHolders::memory_bytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = 0;
  for (const auto& [ws, s] : spaces_) {
    bytes += s->live.holders.committed().getSizeInBytes();
    for (const auto& [tag, b] : s->tags) {
      bytes += tag.size() + b->holders.committed().getSizeInBytes() +
               b->expiring.committed().getSizeInBytes();
    }
  }
  return bytes;
}

}  // namespace siyu::store::sqlite
