// libFuzzer target: any bytes as an order batch (nlohmann path with strict field readers).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const siyu::security::Vault vault = [] {
    (void)siyu::security::init();
    return siyu::security::Vault::from_key({});
  }();
  const siyu::customer::IdentityCodec codec(vault, siyu::WorkspaceId(1));
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto items = siyu::ingest::split_batch(body, false, 1000, "orders");
  if (items) {
    auto parsed = siyu::ingest::parse_orders(*items, codec, 1'800'000'000'000);
    for (const auto& o : parsed.orders) {
      if (o.order.refund_amount > o.order.amount) __builtin_trap();
    }
  }
  return 0;
}
