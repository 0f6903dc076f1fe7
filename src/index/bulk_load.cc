#include "index/bulk_load.h"

#include <chrono>
#include <limits>

#include "store/records.h"

namespace siyu::index {

BulkLoad::BulkLoad(CustomerIndex& index, int lanes)
    : index_(index), lanes_(static_cast<size_t>(std::max(1, lanes))) {
  index_.begin_bulk();
  for (Lane& lane : lanes_) lane.filling.items.reserve(kBatch);
  builder_ = std::thread([this] { build(); });
}

BulkLoad::~BulkLoad() { finish(); }

void BulkLoad::add(int lane_index, IndexedCustomer customer, std::vector<std::string> tags) {
  Lane& lane = lanes_[static_cast<size_t>(lane_index)];
  const int64_t block = customer.id / store::kFactBlockIds;
  // The lane's earlier blocks are complete once it reaches a new one.
  if (block != lane.filling.block) hand_over(lane, block);
  lane.filling.block = block;
  lane.filling.items.push_back({std::move(customer), std::move(tags)});
  if (lane.filling.items.size() == kBatch) hand_over(lane, block);
}

void BulkLoad::hand_over(Lane& lane, int64_t done_below) {
  const int64_t block = lane.filling.block;
  std::unique_lock lock(mu_);
  if (!lane.filling.items.empty()) {
    changed_.wait(lock, [&] { return lane.queued.size() < kMaxQueued; });
    lane.queued.push_back(std::move(lane.filling));
    lane.filling = {};
    if (!lane.spent.empty()) {
      lane.filling = std::move(lane.spent.back());
      lane.spent.pop_back();
    }
  }
  lane.done_below = done_below;
  lock.unlock();
  changed_.notify_all();
  lane.filling.block = block;
  lane.filling.items.clear();
  lane.filling.items.reserve(kBatch);
}

void BulkLoad::done(int lane) {
  hand_over(lanes_[static_cast<size_t>(lane)], std::numeric_limits<int64_t>::max());
}

void BulkLoad::finish() {
  if (finished_) return;
  finished_ = true;
  for (int lane = 0; lane < static_cast<int>(lanes_.size()); ++lane) done(lane);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  changed_.notify_all();
  builder_.join();
  index_.end_bulk();
}

BulkLoad::Lane& BulkLoad::lane_of(int64_t block) {
  return lanes_[static_cast<size_t>(block % static_cast<int64_t>(lanes_.size()))];
}

std::optional<BulkLoad::Batch> BulkLoad::next_of(int64_t block) {
  Lane& lane = lane_of(block);
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !lane.queued.empty() || lane.done_below > block; });
  if (lane.queued.empty() || lane.queued.front().block != block) return std::nullopt;
  Batch batch = std::move(lane.queued.front());
  lane.queued.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

void BulkLoad::build() {
  using Clock = std::chrono::steady_clock;
  Clock::duration busy{};
  for (int64_t block = 0;; ++block) {
    while (std::optional<Batch> batch = next_of(block)) {
      const auto start = Clock::now();
      for (const Item& item : batch->items) {
        index_.upsert(item.customer);
        index_.set_tags(item.customer.id, item.tags);
      }
      busy += Clock::now() - start;
      std::lock_guard lock(mu_);
      lane_of(block).spent.push_back(std::move(*batch));
    }
    std::lock_guard lock(mu_);
    bool drained = closing_;
    for (const Lane& lane : lanes_) drained = drained && lane.queued.empty();
    if (drained) break;
  }
  index_seconds_ = std::chrono::duration<double>(busy).count();
}

}  // namespace siyu::index
