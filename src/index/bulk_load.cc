#include "index/bulk_load.h"

#include <chrono>

namespace siyu::index {

BulkLoad::BulkLoad(CustomerIndex& index) : index_(index) {
  index_.begin_bulk();
  filling_.reserve(kBatch);
  builder_ = std::thread([this] { build(); });
}

BulkLoad::~BulkLoad() { finish(); }

void BulkLoad::add(IndexedCustomer customer, std::vector<std::string> tags) {
  filling_.push_back({std::move(customer), std::move(tags)});
  if (filling_.size() == kBatch) hand_over();
}

void BulkLoad::hand_over() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return queued_.size() < kMaxQueued; });
  queued_.push_back(std::move(filling_));
  filling_ = {};
  if (!spent_.empty()) {
    filling_ = std::move(spent_.back());
    spent_.pop_back();
  }
  lock.unlock();
  changed_.notify_all();
  filling_.clear();
  filling_.reserve(kBatch);
}

void BulkLoad::finish() {
  if (finished_) return;
  finished_ = true;
  if (!filling_.empty()) hand_over();
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  changed_.notify_all();
  builder_.join();
  index_.end_bulk();
}

void BulkLoad::build() {
  using Clock = std::chrono::steady_clock;
  Clock::duration busy{};
  for (;;) {
    std::vector<Item> batch;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return !queued_.empty() || closing_; });
      if (queued_.empty()) break;
      batch = std::move(queued_.front());
      queued_.pop_front();
    }
    changed_.notify_all();
    const auto start = Clock::now();
    for (const Item& item : batch) {
      index_.upsert(item.customer);
      index_.set_tags(item.customer.id, item.tags);
    }
    busy += Clock::now() - start;
    std::lock_guard lock(mu_);
    spent_.push_back(std::move(batch));
  }
  index_seconds_ = std::chrono::duration<double>(busy).count();
}

}  // namespace siyu::index
