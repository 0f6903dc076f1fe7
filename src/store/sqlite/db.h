// Thin RAII wrapper over the SQLite C API. Internal to the sqlite backend: nothing outside
// src/store/sqlite includes this header, so SQLite types never leak through the Store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace siyu::store::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Binds parameters by 1-based position. Returns *this for chaining.
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, std::string_view v);
  Statement& bind_real(int i, double v);
  Statement& bind_blob(int i, std::string_view v);
  Statement& bind_null(int i);
  Statement& bind_opt(int i, const std::optional<int64_t>& v);
  Statement& bind_text_or_null(int i, std::string_view v);
  /// Binds text without copying it: `v` must stay unchanged until the statement has run.
  Statement& bind_kept(int i, std::string_view v);
  /// bind_kept, or NULL for empty text.
  Statement& bind_kept_or_null(int i, std::string_view v);

  /// Steps once: true when a row is available, false when done. Errors are returned as
  /// a Status through `status()` after a false return.
  bool step();
  /// Runs to completion (for statements without results).
  Status run();
  Status status() const { return status_; }
  void reset();

  int64_t int_at(int col) const;
  std::string text_at(int col) const;
  double real_at(int col) const;
  /// The text of `col` without a copy; valid until the next step or reset.
  std::string_view view_at(int col) const;
  std::string blob_at(int col) const;
  bool is_null(int col) const;
  std::optional<int64_t> opt_int_at(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status status_;
};

/// One SQLite connection with a cache of prepared statements. Not thread-safe: one owner
/// at a time (the backend hands connections out under a lock).
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool durable);
  ~Connection();

  Status exec(std::string_view sql);
  /// A cached prepared statement, reset and ready to bind. Lives as long as the connection.
  Result<Statement*> prepare(std::string_view sql);
  /// Resets every cached statement, so none holds a read snapshot open past a transaction.
  void reset_all();
  int64_t last_insert_rowid() const;
  int changes() const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
};

/// Begins IMMEDIATE on construction; rolls back in the destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  ~Transaction();
  Status begin_status() const { return begin_; }
  Status commit();

 private:
  Connection& c_;
  Status begin_;
  bool done_ = false;
};

/// Declares `var` as the cached statement for `sql` on `conn`, returning on failure.
#define SIYU_PREPARE(var, conn, sql) SIYU_ASSIGN_OR_RETURN(Statement * var, (conn).prepare(sql))

/// The first row of `s` read by `reader`, or kNotFound with `missing`. Resets `s`.
template <typename T, typename Reader>
Result<T> one(Statement& s, Reader reader, const std::string& missing) {
  if (s.step()) {
    T out = reader(s);
    s.reset();
    return out;
  }
  Status st = s.status();
  s.reset();
  if (!st.is_ok()) return st;
  return not_found(missing);
}

/// Every row of `s` read by `reader`. Resets `s`.
template <typename T, typename Reader>
Result<std::vector<T>> all(Statement& s, Reader reader) {
  std::vector<T> out;
  while (s.step()) out.push_back(reader(s));
  Status st = s.status();
  s.reset();
  if (!st.is_ok()) return st;
  return out;
}

/// The first column of the first row, or nullopt when there is none. Resets `s`.
inline Result<std::optional<int64_t>> optional_scalar(Statement& s) {
  std::optional<int64_t> v;
  if (s.step()) v = s.int_at(0);
  Status st = s.status();
  s.reset();
  if (!st.is_ok()) return st;
  return v;
}

/// The first column of the first row (0 when there is none). Resets `s`.
inline Result<int64_t> scalar(Statement& s) {
  SIYU_ASSIGN_OR_RETURN(const auto v, optional_scalar(s));
  return v.value_or(0);
}

/// Whether `s` yields a row. Resets `s`.
inline Result<bool> has_row(Statement& s) {
  const bool found = s.step();
  Status st = s.status();
  s.reset();
  if (!st.is_ok()) return st;
  return found;
}
}  // namespace siyu::store::sqlite
