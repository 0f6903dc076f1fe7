// JSON helpers over nlohmann::json: parsing to a Status, and strict field readers that name
// the exact path of a bad field ("events[3].amount").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace siyu {

using Json = nlohmann::json;

/// Parses a JSON document; malformed input or broken UTF-8 gives kInvalidArgument.
Result<Json> parse_json(std::string_view text);

/// Reads fields of one JSON object strictly. The first error sticks: later reads return
/// empty values, and finish() returns that error. finish() also rejects fields that were
/// never read, so a misspelt field is an error rather than silently ignored.
class JsonFields {
 public:
  /// `path` prefixes field names in errors; empty for the top level.
  JsonFields(const Json& object, std::string path);

  std::optional<std::string> opt_string(std::string_view key, size_t max_chars);
  std::string req_string(std::string_view key, size_t max_chars);
  /// One of `allowed`; error lists them.
  std::optional<std::string> opt_enum(std::string_view key,
                                      std::initializer_list<std::string_view> allowed);
  std::optional<std::string> opt_enum(std::string_view key,
                                      std::span<const std::string_view> allowed);
  std::optional<int64_t> opt_int(std::string_view key, int64_t min, int64_t max);
  std::optional<bool> opt_bool(std::string_view key);
  /// Any JSON value; null counts as present (callers use it to clear a field).
  const Json* opt_any(std::string_view key);
  /// Whether the key exists with a null value.
  bool is_null(std::string_view key) const;
  /// Marks a key as understood without reading it.
  void allow(std::string_view key);

  /// Records an error for `key` unless one is already recorded.
  void fail(std::string_view key, std::string message);
  bool ok() const { return status_.is_ok(); }
  /// The first error, or an error naming the first unknown field.
  Status finish();
  std::string path_of(std::string_view key) const;

 private:
  const Json* find(std::string_view key);

  const Json& object_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
  Status status_;
};

/// Checks a user-supplied text: valid UTF-8, no control characters except tab and newline,
/// at most `max_chars` code points. Returns the reason when it fails.
std::optional<std::string> text_problem(std::string_view s, size_t max_chars);

}  // namespace siyu
