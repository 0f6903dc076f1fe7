// A rebuild in several threads: readers ("lanes") convert customers read from the store while
// a builder thread puts them into the index, in id order. At 10 million customers reading takes
// longer than building, so the store is read in two lanes at once (Store::scan_customer_facts
// in parts) and a rebuild lasts about the longer of reading and building, not their sum.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "index/customer_index.h"

namespace siyu::index {

/// Runs a bulk load of `index` (CustomerIndex::begin_bulk … end_bulk) on its own thread, fed
/// by `lanes` callers at once. Customer ids are cut into blocks of store::kFactBlockIds; lane
/// l owns the blocks b with b % lanes == l and adds their customers in increasing id order.
/// Each lane is used by one thread; nothing may read the index until finish().
class BulkLoad {
 public:
  explicit BulkLoad(CustomerIndex& index, int lanes = 1);
  /// Finishes the load if finish() was not called (after an error while reading).
  ~BulkLoad();
  BulkLoad(const BulkLoad&) = delete;
  BulkLoad& operator=(const BulkLoad&) = delete;

  /// Queues a customer with its tags from `lane`; waits only while the builder is several
  /// batches behind that lane.
  void add(int lane, IndexedCustomer customer, std::vector<std::string> tags);
  /// Declares `lane` done adding: the builder stops waiting for its blocks. A lane that has
  /// no more customers must say so, or a lane with many may wait for it forever.
  void done(int lane);
  /// Waits until every queued customer is in the index and ends the bulk load. Every lane
  /// must be done adding (finish() declares them done).
  void finish();
  /// Seconds the builder spent putting customers into the index (valid after finish()).
  double index_seconds() const { return index_seconds_; }

 private:
  struct Item {
    IndexedCustomer customer;
    std::vector<std::string> tags;
  };
  /// Customers of one block, handed over together.
  struct Batch {
    int64_t block = 0;
    std::vector<Item> items;
  };
  struct Lane {
    Batch filling;  // the lane's batch being filled (its caller's only)
    std::deque<Batch> queued;
    /// Batches the builder is done with, emptied and refilled by the lane: the items were
    /// allocated on the lane's thread, and freeing them there is several times cheaper.
    std::vector<Batch> spent;
    int64_t done_below = 0;  // every block of the lane below this one is queued in full
  };
  static constexpr size_t kBatch = 1024;    // customers handed over at once
  static constexpr size_t kMaxQueued = 64;  // batches a lane queues before add() blocks

  void hand_over(Lane& lane, int64_t done_below);
  /// The lane that owns `block`.
  Lane& lane_of(int64_t block);
  /// The next batch of block `block` from its lane, or nullopt once that block is complete;
  /// waits for the lane in between.
  std::optional<Batch> next_of(int64_t block);
  void build();

  CustomerIndex& index_;
  std::vector<Lane> lanes_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool closing_ = false;
  bool finished_ = false;
  double index_seconds_ = 0;
  std::thread builder_;
};

}  // namespace siyu::index
