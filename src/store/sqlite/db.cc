#include "store/sqlite/db.h"

#include <sqlite3.h>

namespace siyu::store::sqlite {
namespace {

Status sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const ErrorCode code = (rc == SQLITE_CONSTRAINT || (rc & 0xFF) == SQLITE_CONSTRAINT)
                             ? ErrorCode::kConflict
                             : ErrorCode::kInternal;
  return Status(code, std::string(what) + ": " + sqlite3_errmsg(db));
}

}  // namespace

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind_real(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
double Statement::real_at(int col) const { return sqlite3_column_double(stmt_, col); }
Statement& Statement::bind_kept(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
  if (v.empty()) return bind_null(i);
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
Statement& Statement::bind_opt(int i, const std::optional<int64_t>& v) {
  return v ? bind(i, *v) : bind_null(i);
}
Statement& Statement::bind_kept_or_null(int i, std::string_view v) {
  return v.empty() ? bind_null(i) : bind_kept(i, v);
}

Statement& Statement::bind_text_or_null(int i, std::string_view v) {
  return v.empty() ? bind_null(i) : bind(i, v);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = sqlite_error(db_, rc, "sqlite step");
  return false;
}

Status Statement::run() {
  while (step()) {
  }
  Status s = status_;
  reset();
  return s;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::ok();
}

int64_t Statement::int_at(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Statement::text_at(int col) const { return std::string(view_at(col)); }
std::string_view Statement::view_at(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p == nullptr ? std::string_view()
                      : std::string_view(reinterpret_cast<const char*>(p),
                                         static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}
std::string Statement::blob_at(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p),
                                    static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::optional<int64_t> Statement::opt_int_at(int col) const {
  if (is_null(col)) return std::nullopt;
  return int_at(col);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool durable) {
  // SQLite's memory statistics take a global mutex on every allocation; nothing reads them.
  static const int unmetered = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)unmetered;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    Status s = internal_error("cannot open " + path + ": " + sqlite3_errstr(rc));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Connection> c(new Connection(db));
  sqlite3_busy_timeout(db, 10'000);
  SIYU_RETURN_IF_ERROR(c->exec("PRAGMA journal_mode=WAL"));
  // A durable store flushes the WAL itself after each group commit, outside the writer's lock
  // (WalSync); NORMAL still syncs the WAL's header and every checkpoint.
  SIYU_RETURN_IF_ERROR(c->exec(durable ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=OFF"));
  SIYU_RETURN_IF_ERROR(c->exec("PRAGMA foreign_keys=ON"));
  SIYU_RETURN_IF_ERROR(c->exec("PRAGMA cache_size=-65536"));
  SIYU_RETURN_IF_ERROR(c->exec("PRAGMA temp_store=MEMORY"));
  // Checkpoints run on a background connection of the store, not inside writers' commits.
  SIYU_RETURN_IF_ERROR(c->exec("PRAGMA wal_autocheckpoint=0"));
  return c;
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close(db_);
}

Status Connection::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(rc == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kInternal,
                  "sqlite exec: " + msg);
  }
  return Status::ok();
}

Result<Statement*> Connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "sqlite prepare");
  auto owned = std::make_unique<Statement>(db_, stmt);
  Statement* raw = owned.get();
  cache_.emplace(sql, std::move(owned));
  return raw;
}

void Connection::reset_all() {
  for (auto& [sql, stmt] : cache_) stmt->reset();
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

Transaction::Transaction(Connection& c) : c_(c) { begin_ = c_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_ && begin_.is_ok()) {
    c_.reset_all();
    (void)c_.exec("ROLLBACK");
  }
}

Status Transaction::commit() {
  done_ = true;
  c_.reset_all();
  Status s = c_.exec("COMMIT");
  if (!s.is_ok()) (void)c_.exec("ROLLBACK");
  return s;
}

}  // namespace siyu::store::sqlite
