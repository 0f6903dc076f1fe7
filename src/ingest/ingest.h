// Parsing and validation of incoming events and orders (POST /v1/events, /v1/orders, import).
// Each item is checked on its own; the caller stores the valid ones and reports the rest by
// position, so one bad event never blocks a batch.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "customer/identity.h"
#include "store/records.h"

namespace siyu::ingest {

inline constexpr size_t kMaxBatchEvents = 10'000;
inline constexpr size_t kMaxBatchBytes = 8 * 1024 * 1024;
inline constexpr size_t kMaxBatchOrders = 1'000;

/// Event types Siyu understands; workspace-specific types start with "x_".
bool is_known_event_type(std::string_view type);

/// Why one input item was rejected.
struct ItemError {
  size_t index = 0;
  Status status;
};

struct ParsedEvents {
  std::vector<store::PendingEvent> events;
  std::vector<size_t> positions;  // input index of each parsed event
  std::vector<ItemError> errors;
};

/// Splits a body into JSON items: a JSON array, or NDJSON (one object per line).
/// kInvalidArgument for a malformed body, kPayloadTooLarge over `max_items`.
Result<std::vector<Json>> split_batch(std::string_view body, bool ndjson, size_t max_items,
                                      const char* what);

/// Parses and validates an event batch (a JSON array, one object, or NDJSON when `ndjson`).
/// kInvalidArgument for a malformed body, kPayloadTooLarge over kMaxBatchEvents; each invalid
/// event is reported by position. `now` bounds timestamps (at most one day ahead).
Result<ParsedEvents> parse_event_batch(std::string_view body, bool ndjson,
                                       const customer::IdentityCodec& codec, EpochMs now);

struct ParsedOrders {
  std::vector<store::PendingOrder> orders;
  std::vector<size_t> positions;
  std::vector<ItemError> errors;
};

ParsedOrders parse_orders(const std::vector<Json>& items, const customer::IdentityCodec& codec,
                          EpochMs now);

/// Reads a timestamp given as ISO 8601 text or epoch milliseconds.
Result<EpochMs> read_time(const Json& v, const std::string& path);

}  // namespace siyu::ingest
