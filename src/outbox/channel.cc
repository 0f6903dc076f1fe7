#include "outbox/channel.h"

#include "core/time_format.h"

namespace siyu::outbox {

Json envelope(const store::OutboxItem& item) {
  Json payload = Json::parse(item.payload_json, nullptr, false);
  if (!payload.is_object()) payload = Json::object();
  Json out = {{"idempotency_key", item.idem_key},
              {"kind", item.kind},
              {"class", item.message_class},
              {"journey", item.journey_id},
              {"step", item.step},
              {"created_at", format_timestamp(item.created_at)}};
  if (item.customer.valid()) out["customer"] = item.customer.value;
  if (item.group.valid()) out["group"] = item.group.value;
  if (!item.staff.empty()) out["staff"] = item.staff;
  if (!item.variant.empty()) out["variant"] = item.variant;
  for (auto it = payload.begin(); it != payload.end(); ++it) out[it.key()] = it.value();
  return out;
}

}  // namespace siyu::outbox
