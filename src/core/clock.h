// Injected time, so schedulers and expiry are tested with a manual clock, never with sleep.
#pragma once

#include <atomic>

#include "core/ids.h"

namespace siyu {

/// Source of the current UTC time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual EpochMs now_ms() const = 0;
};

/// Wall clock.
class SystemClock final : public Clock {
 public:
  EpochMs now_ms() const override;
  /// Process-wide instance.
  static const SystemClock& instance();
};

/// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(EpochMs start) : now_(start) {}
  EpochMs now_ms() const override { return now_.load(); }
  void set(EpochMs t) { now_.store(t); }
  void advance(EpochMs delta) { now_.fetch_add(delta); }

 private:
  std::atomic<EpochMs> now_;
};

}  // namespace siyu
