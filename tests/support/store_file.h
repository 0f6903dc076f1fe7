// Direct SQL on a test store's database file while the store is closed, for tests that take a
// store back to an older schema version and open it again.
#pragma once

#include <sqlite3.h>

#include <string>

#include "support/temp_dir.h"

namespace siyu::testing {

/// Runs `sql` on the siyu.db in `dir`; returns SQLite's error message, or "" when it ran.
inline std::string run_sql_on_store(const TempDir& dir, const char* sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open((dir.str() + "/siyu.db").c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return error;
}

}  // namespace siyu::testing
