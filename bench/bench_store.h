// A throw-away durable store with one workspace of plain customers, for the benchmarks that
// drive Siyu's own write path. Failures end the program with the store's message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace siyu::bench {

class BenchStore {
 public:
  /// Opens a fresh store under `dir` (removed again on destruction) with workspace `slug`.
  BenchStore(const std::string& dir, const std::string& slug)
      : data_(dir + "/siyu-" + slug + "-" + std::to_string(::getpid())) {
    store::StoreConfig cfg;
    cfg.data_dir = data_;
    auto opened = store::open_store(cfg);
    if (!opened) die(opened.error().to_string());
    db_ = std::move(*opened);
    ws_ = db_->create_workspace({WorkspaceId(), slug, slug, "Asia/Shanghai", 0})->id;
  }
  ~BenchStore() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(data_, ec);
  }
  BenchStore(const BenchStore&) = delete;
  BenchStore& operator=(const BenchStore&) = delete;

  store::Store& db() { return *db_; }
  WorkspaceId workspace() const { return ws_; }

  /// Creates `n` customers joined at `created_at`, in transactions of 10,000; `shape` may set
  /// more attributes of each.
  void add_customers(int64_t n, EpochMs created_at,
                     const std::function<void(store::Customer&)>& shape = nullptr) {
    for (int64_t first = 0; first < n; first += 10'000) {
      std::vector<std::pair<store::Customer, std::vector<store::Identity>>> chunk;
      for (int64_t i = first; i < std::min(n, first + 10'000); ++i) {
        store::Customer c;
        c.workspace = ws_;
        c.created_at = c.updated_at = created_at;
        if (shape) shape(c);
        chunk.emplace_back(std::move(c), std::vector<store::Identity>());
      }
      if (auto made = db_->create_customers(ws_, chunk); !made) die(made.error().to_string());
    }
  }

 private:
  [[noreturn]] static void die(const std::string& what) {
    std::fprintf(stderr, "store: %s\n", what.c_str());
    std::exit(1);
  }
  std::string data_;
  std::unique_ptr<store::Store> db_;
  WorkspaceId ws_;
};

}  // namespace siyu::bench
