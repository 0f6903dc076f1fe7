// Plans a segment expression to bitmap operations over the customer index.
#pragma once

#include "index/customer_index.h"
#include "segment/expr.h"

namespace siyu::segment {

/// The live customers matching `e`. Call inside CustomerIndex::read.
index::Bitmap evaluate(const index::IndexView& ix, const Expr& e);

/// Members count of `e`, under the index's read lock.
uint64_t count(const index::CustomerIndex& ix, const Expr& e);

}  // namespace siyu::segment
