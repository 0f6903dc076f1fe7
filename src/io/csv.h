// CSV for import and export (RFC 4180). Input may be UTF-8 (with or without BOM) or GB18030,
// as Excel in Chinese Windows writes it; output is UTF-8 with a BOM so Excel opens it right.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace siyu::io {

using CsvRow = std::vector<std::string>;

/// Converts input to UTF-8: strips a UTF-8 BOM; text that isn't valid UTF-8 is decoded as
/// GB18030. kInvalidArgument when it is neither.
Result<std::string> to_utf8(std::string_view raw);

/// Parses CSV text (already UTF-8) into rows. Quoted fields may hold commas, quotes ("") and
/// newlines. kInvalidArgument names the line of an unterminated quote.
Result<std::vector<CsvRow>> parse_csv(std::string_view text);

/// Appends one CSV line (CRLF-terminated), quoting fields as needed. Fields starting with
/// = + - @ are prefixed with ' so spreadsheets don't run them as formulas.
void append_csv_row(std::string& out, const CsvRow& row);

/// The UTF-8 byte order mark.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

}  // namespace siyu::io
