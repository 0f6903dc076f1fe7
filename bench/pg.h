// A few libpq calls for the benchmarks: statements, COPY streams and single-number queries.
// Any failure ends the program with PostgreSQL's message: a benchmark has no way to recover.
#pragma once

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace siyu::bench {

class Pg {
 public:
  explicit Pg(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) die("connect");
  }
  ~Pg() { PQfinish(conn_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;

  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) die(sql.c_str());
  }
  /// The first column of the first row as a number.
  uint64_t count(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      die(sql.c_str());
    }
    const uint64_t n = std::strtoull(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
    return n;
  }
  /// The first row's columns as numbers (NULL as 0).
  std::vector<int64_t> row(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      die(sql.c_str());
    }
    std::vector<int64_t> out;
    for (int i = 0; PQntuples(r) > 0 && i < PQnfields(r); ++i) out.push_back(std::strtoll(PQgetvalue(r, 0, i), nullptr, 10));
    PQclear(r);
    return out;
  }
  /// Starts `COPY … FROM STDIN`; then put() lines of text format and end().
  void copy_begin(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    PQclear(r);
    if (status != PGRES_COPY_IN) die(sql.c_str());
  }
  void put(const std::string& data) {
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) die("copy");
  }
  void copy_end() {
    if (PQputCopyEnd(conn_, nullptr) != 1) die("copy end");
    PGresult* r = PQgetResult(conn_);
    const auto status = PQresultStatus(r);
    PQclear(r);
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
    if (status != PGRES_COMMAND_OK) die("copy end");
  }

 private:
  [[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "postgres: %s: %s\n", what, PQerrorMessage(conn_));
    std::exit(1);
  }
  PGconn* conn_;
};

}  // namespace siyu::bench
