// A bound on how many threads run one CPU-heavy stage at once.
#pragma once

#include <cstddef>
#include <semaphore>
#include <utility>

namespace siyu {

class WorkSlots {
 public:
  /// `slots` ≥ 1 threads may be inside run() at once.
  explicit WorkSlots(size_t slots) : free_(static_cast<std::ptrdiff_t>(slots)) {}

  /// Runs `fn` once a slot is free and returns its result.
  template <typename F>
  auto run(F&& fn) {
    free_.acquire();
    struct Release {
      std::counting_semaphore<>& s;
      ~Release() { s.release(); }
    } release{free_};
    return std::forward<F>(fn)();
  }

 private:
  std::counting_semaphore<> free_;
};

}  // namespace siyu
