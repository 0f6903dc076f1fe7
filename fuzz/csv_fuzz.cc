// libFuzzer target: CSV import text (UTF-8 or GB18030), and the CSV writer round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto text = siyu::io::to_utf8(raw);
  if (!text) return 0;
  auto rows = siyu::io::parse_csv(*text);
  if (!rows) return 0;
  // Writing rows and reading them back gives the same fields, apart from the formula guard.
  std::string out;
  for (const auto& row : *rows) siyu::io::append_csv_row(out, row);
  auto again = siyu::io::parse_csv(out);
  if (!again || again->size() > rows->size()) __builtin_trap();
  return 0;
}
