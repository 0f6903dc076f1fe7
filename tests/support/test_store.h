// A store for tests: SQLite in a temporary directory, without fsync (the crash tests that
// check durability run the real server instead).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "store/store.h"
#include "support/temp_dir.h"

namespace siyu::testing {

/// Opens a non-durable store in `dir`. A store that cannot open makes every later check
/// meaningless, so that ends the test binary with the reason.
inline std::unique_ptr<store::Store> open_test_store(const TempDir& dir) {
  store::StoreConfig cfg;
  cfg.data_dir = dir.str();
  cfg.durable = false;
  auto opened = store::open_store(cfg);
  if (!opened.has_value()) {
    std::fprintf(stderr, "test store: %s\n", opened.error().to_string().c_str());
    std::abort();
  }
  return std::move(opened).value();
}

}  // namespace siyu::testing
