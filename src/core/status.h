// Status and Result: expected failures as values (house style, see STYLE.md "Errors").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace siyu {

/// Closed set of failure kinds. api/error_table.cc maps each to one HTTP status.
enum class ErrorCode {
  kOk,
  kInvalidArgument,     // malformed or semantically wrong input (400)
  kUnauthenticated,     // no or bad credentials (401)
  kPermissionDenied,    // authenticated but the role does not allow it (403)
  kNotFound,            // object does not exist in this workspace (404)
  kConflict,            // state conflict, e.g. duplicate unique name (409)
  kPayloadTooLarge,     // body or batch over the documented limit (413)
  kUnprocessable,       // well-formed but rejected by a domain rule (422)
  kRateLimited,         // too many attempts (429)
  kInternal,            // bug or storage failure (500)
  kUnavailable,         // shutting down or dependency down (503)
};

/// Stable lower-case name of a code, used in JSON errors ("invalid_argument").
std::string_view error_code_name(ErrorCode code);

/// Outcome of an operation: ok, or a code with a lower-case message naming the object and,
/// where one input field is at fault, that field's path ("events[3].timestamp").
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status invalid(std::string message, std::string field = {}) {
  return {ErrorCode::kInvalidArgument, std::move(message), std::move(field)};
}
inline Status not_found(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Status conflict(std::string message, std::string field = {}) {
  return {ErrorCode::kConflict, std::move(message), std::move(field)};
}
inline Status internal_error(std::string message) {
  return {ErrorCode::kInternal, std::move(message)};
}
inline Status permission_denied(std::string message) {
  return {ErrorCode::kPermissionDenied, std::move(message)};
}
inline Status unprocessable(std::string message, std::string field = {}) {
  return {ErrorCode::kUnprocessable, std::move(message), std::move(field)};
}

/// A value or a failed Status; shaped like std::expected so it can become that later.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  /// The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }
  /// The failure; only valid when !has_value().
  const Status& error() const { return std::get<1>(v_); }
  Status status() const { return has_value() ? Status::ok() : error(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace siyu

/// Returns the Status of `expr` from the enclosing function when it failed.
#define SIYU_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::siyu::Status siyu_status_ = (expr);     \
    if (!siyu_status_.is_ok()) return siyu_status_; \
  } while (0)

#define SIYU_CONCAT_INNER(a, b) a##b
#define SIYU_CONCAT(a, b) SIYU_CONCAT_INNER(a, b)
/// Declares `lhs` from a Result, or returns its error from the enclosing function.
#define SIYU_ASSIGN_OR_RETURN(lhs, expr) \
  SIYU_ASSIGN_OR_RETURN_IMPL(SIYU_CONCAT(siyu_result_, __LINE__), lhs, expr)
#define SIYU_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.has_value()) return tmp.error();        \
  lhs = std::move(tmp).value()

/// Aborts with a message on a programmer error. Never for user input.
#define SIYU_ASSERT(cond, why) \
  ((cond) ? (void)0 : ::siyu::assert_fail(#cond, why, __FILE__, __LINE__))

namespace siyu {
[[noreturn]] void assert_fail(const char* cond, const char* why, const char* file, int line);
}
