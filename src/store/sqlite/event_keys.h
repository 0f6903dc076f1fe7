// Event keys: what the per-customer event index knows of a stored event, and the block format
// its sorted runs are kept in (docs/design/event-runs.md). No SQL here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/status.h"

namespace siyu::store::sqlite::event_keys {

/// One event as a customer's history reads it: the fact scans need nothing else, and the
/// event row is found again by `seq`.
struct EventKey {
  int64_t customer = 0;
  int64_t ts = 0;
  int64_t seq = 0;
  int64_t amount = 0;
  std::string type;

  friend bool operator==(const EventKey&, const EventKey&) = default;
};

/// The index order: by customer, then time, then arrival.
inline bool key_less(const EventKey& a, const EventKey& b) {
  return std::tie(a.customer, a.ts, a.seq) < std::tie(b.customer, b.ts, b.seq);
}

/// A run's keys of consecutive customers, encoded.
struct Block {
  int64_t first_customer = 0;
  int64_t last_customer = 0;
  std::string bytes;
};

/// Encodes keys sorted by key_less into blocks of about `target_bytes` each. A block ends only
/// where the customer changes, so one customer's keys are always in one block.
std::vector<Block> encode_blocks(std::span<const EventKey> sorted, size_t target_bytes = 4096);

/// The keys of one block, in order; an error if the bytes are not a block.
Result<std::vector<EventKey>> decode_block(std::string_view bytes);

/// Merges runs each sorted by key_less into one sorted run.
std::vector<EventKey> merge_runs(std::vector<std::vector<EventKey>> runs);

}  // namespace siyu::store::sqlite::event_keys
