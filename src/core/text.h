// Small string utilities shared by every module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace siyu {

/// True when `s` is well-formed UTF-8 without overlong forms, surrogates or NUL bytes.
bool is_valid_utf8(std::string_view s);
/// Number of code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);
/// Code points of UTF-8 text; a malformed sequence becomes U+FFFD.
std::u32string decode_utf8(std::string_view s);
/// UTF-8 of code points.
std::string encode_utf8(std::u32string_view s);
/// ASCII lower-casing; other bytes are kept.
std::string ascii_lower(std::string_view s);
/// Removes ASCII white space at both ends.
std::string_view trim(std::string_view s);
/// Splits on a single character; keeps empty pieces.
std::vector<std::string_view> split(std::string_view s, char sep);
/// Lower-case hex of bytes.
std::string to_hex(std::string_view bytes);
/// Base64 with the standard alphabet and padding.
std::string base64_encode(std::string_view bytes);
/// Inverse of base64_encode; kInvalidArgument for other characters.
Result<std::string> base64_decode(std::string_view text);
bool starts_with(std::string_view s, std::string_view prefix);

}  // namespace siyu
