// `siyu demo`: a realistic tea-drink chain (茶语时光) so every screen is alive on first run —
// staff, groups, channels with costs, customers with identities, and a year of events and
// orders with weekly and holiday seasonality (Spring Festival, Mid-Autumn), repeat buyers
// and churners. Deterministic for a seed and an end date.
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "security/crypto.h"
#include "store/store.h"

namespace siyu::demo {

struct DemoOptions {
  std::string slug = "demo";
  int64_t customers = 100'000;
  uint64_t seed = 42;
};

struct DemoResult {
  WorkspaceId workspace;
  bool created = false;  // false: the workspace existed and was reused
  std::string owner_email;
  std::string owner_password;
  int64_t customers = 0;
  int64_t events = 0;
  int64_t orders = 0;
  int64_t group_messages = 0;
};

/// The demo owner's password (printed by `siyu demo`; change it in real use).
inline constexpr const char* kDemoPassword = "siyu-demo-2026";

/// Creates the demo workspace, or reports the existing one unchanged.
Result<DemoResult> build_demo(store::Store& store, const security::Vault& vault,
                              const DemoOptions& options, const Clock& clock);

}  // namespace siyu::demo
