// Plans a segment expression to bitmap operations over the customer index.
#pragma once

#include "index/customer_index.h"
#include "segment/expr.h"

namespace siyu::segment {

/// The live customers matching `e` at `now` (behaviour windows and lifecycle end today).
/// Call inside CustomerIndex::read.
index::Bitmap evaluate(const index::IndexView& ix, const Expr& e, EpochMs now);

/// Members count of `e` at `now`, under the index's read lock.
uint64_t count(const index::CustomerIndex& ix, const Expr& e, EpochMs now);

}  // namespace siyu::segment
