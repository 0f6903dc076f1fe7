#include "outbox/channel.h"

#include "core/time_format.h"

namespace siyu::outbox {

std::string envelope_text(const store::OutboxItem& item) {
  Json head = {{"idempotency_key", item.idem_key},
               {"kind", item.kind},
               {"class", item.message_class},
               {"journey", item.journey_id},
               {"step", item.step},
               {"created_at", format_timestamp(item.created_at)}};
  if (item.customer.valid()) head["customer"] = item.customer.value;
  if (item.group.valid()) head["group"] = item.group.value;
  if (!item.staff.empty()) head["staff"] = item.staff;
  if (!item.variant.empty()) head["variant"] = item.variant;
  std::string out = head.dump(-1, ' ', false, Json::error_handler_t::replace);
  // The stored payload is a JSON object written by Siyu: splice its members in.
  const std::string_view payload = item.payload_json;
  const size_t open = payload.find('{');
  const size_t close = payload.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open + 1) {
    return out;
  }
  out.pop_back();  // the closing brace
  out += ',';
  out += payload.substr(open + 1, close - open - 1);
  out += '}';
  return out;
}

}  // namespace siyu::outbox
