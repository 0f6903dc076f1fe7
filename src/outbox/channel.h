// Channel adapters carry outbox rows to the outside world: the log (a file, for the demo),
// webhooks (signed JSON over HTTP) and WeCom. Every delivery carries its outbox row's
// idempotency key, so a receiver recognises a resend after a crash and acts once.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "store/journey_records.h"

namespace siyu::outbox {

/// What became of one delivery.
struct Receipt {
  enum class Outcome { kDelivered, kRetry, kRejected };
  Outcome outcome = Outcome::kRetry;
  std::string detail;  // the receiver's id on success, the reason otherwise
};

/// A channel adapter. deliver() is called from the dispatcher thread only.
class Channel {
 public:
  virtual ~Channel() = default;
  /// Delivers rows of one workspace; one receipt per row, in order.
  virtual std::vector<Receipt> deliver(const std::vector<store::OutboxItem>& items) = 0;
};

/// The JSON a receiver gets for one row: its payload plus the idempotency key and addressing.
Json envelope(const store::OutboxItem& item);

}  // namespace siyu::outbox
