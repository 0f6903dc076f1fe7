// libFuzzer target: any bytes as an event batch body, as JSON and as NDJSON.
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
  for (bool ndjson : {false, true}) {
    auto parsed = siyu::ingest::parse_event_batch(body, ndjson, codec, 1'800'000'000'000);
    if (parsed) {
      for (const auto& e : parsed->events) {
        // Whatever was accepted must satisfy the documented limits.
        if (e.event.event_id.empty() || e.event.properties_json.size() > 16 * 1024) __builtin_trap();
      }
    }
  }
  return 0;
}
