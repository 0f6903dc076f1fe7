// Plans a segment expression to bitmap operations over the customer index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "index/customer_index.h"
#include "segment/expr.h"

namespace siyu::segment {

/// The live customers matching `e` at `now` (behaviour windows and lifecycle end today),
/// only among `among` when given: the cost then follows the size of `among`, which is how
/// sweeps re-check just the customers a write touched. Call inside CustomerIndex::read.
index::Bitmap evaluate(const index::IndexView& ix, const Expr& e, EpochMs now,
                       const index::Bitmap* among = nullptr);

/// True when a customer's membership can change through other customers' facts (RFM
/// quintiles), so checking only the touched customers is not enough.
bool depends_on_everyone(const Expr& e);

/// The event types whose arrival can change whether a customer matches `e` — its behaviour
/// conditions' types, property filters stripped — sorted; nullopt when an event of any type
/// can (lifecycle reads a customer's last activity; RFM ranks everyone's purchases).
std::optional<std::vector<std::string>> event_types_read(const Expr& e);

/// Members count of `e` at `now`, under the index's read lock.
uint64_t count(const index::CustomerIndex& ix, const Expr& e, EpochMs now);

}  // namespace siyu::segment
