// The bitmap type of the index: CRoaring's compressed bitmaps of 32-bit customer ids.
#pragma once

#include <roaring/roaring.hh>

namespace siyu::index {

using Bitmap = Roaring;  // CRoaring 0.2 puts its C++ class in the global namespace

}  // namespace siyu::index
