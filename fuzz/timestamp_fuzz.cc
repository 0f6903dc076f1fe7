// libFuzzer target: timestamps and dates; whatever parses formats back to the same instant.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  if (auto t = siyu::parse_timestamp(s, 480)) {
    auto back = siyu::parse_timestamp(siyu::format_timestamp(*t));
    if (!back || *back != *t) __builtin_trap();
  }
  if (auto d = siyu::parse_date(s)) {
    if (siyu::format_date(*d) != s) __builtin_trap();
  }
  return 0;
}
