// A rebuild in two threads: the caller reads customers from the store while a builder thread
// puts them into the index. Both take a minute or more at 10 million customers, so a rebuild
// lasts about the longer of the two instead of their sum.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "index/customer_index.h"

namespace siyu::index {

/// Runs a bulk load of `index` (CustomerIndex::begin_bulk … end_bulk) on its own thread.
/// Customers must be added in increasing id order; nothing may read the index until finish().
class BulkLoad {
 public:
  explicit BulkLoad(CustomerIndex& index);
  /// Finishes the load if finish() was not called (after an error while reading).
  ~BulkLoad();
  BulkLoad(const BulkLoad&) = delete;
  BulkLoad& operator=(const BulkLoad&) = delete;

  /// Queues a customer with its tags; waits only while the builder is several batches behind.
  void add(IndexedCustomer customer, std::vector<std::string> tags);
  /// Waits until every queued customer is in the index and ends the bulk load.
  void finish();
  /// Seconds the builder spent putting customers into the index (valid after finish()).
  double index_seconds() const { return index_seconds_; }

 private:
  struct Item {
    IndexedCustomer customer;
    std::vector<std::string> tags;
  };
  static constexpr size_t kBatch = 1024;    // customers handed over at once
  static constexpr size_t kMaxQueued = 64;  // batches waiting before add() blocks

  void hand_over();
  void build();

  CustomerIndex& index_;
  std::vector<Item> filling_;  // the caller's batch being filled
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::vector<Item>> queued_;
  /// Batches the builder is done with, emptied and refilled by the caller: the items were
  /// allocated on the caller's thread, and freeing them there is several times cheaper.
  std::vector<std::vector<Item>> spent_;
  bool closing_ = false;
  bool finished_ = false;
  double index_seconds_ = 0;
  std::thread builder_;
};

}  // namespace siyu::index
