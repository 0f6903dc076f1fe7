// Channel adapters carry outbox rows to the outside world: the log (a file, for the demo),
// webhooks (signed JSON over HTTP) and WeCom. Every delivery carries its outbox row's
// idempotency key, so a receiver recognises a resend after a crash and acts once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

#include "core/json.h"
#include "store/journey_records.h"

namespace siyu::outbox {

/// What became of one delivery.
struct Receipt {
  /// kDeferred: the channel's own rules hold it until `not_before` (WeCom: one enterprise mass
  /// message a day per customer).
  enum class Outcome { kDelivered, kRetry, kRejected, kDeferred };
  Outcome outcome = Outcome::kRetry;
  std::string detail;  // the receiver's id on success, the reason otherwise
  EpochMs not_before = 0;
};

/// A channel adapter. deliver() is called from the dispatcher thread only.
class Channel {
 public:
  virtual ~Channel() = default;
  /// Delivers rows of one workspace; one receipt per row, in order.
  virtual std::vector<Receipt> deliver(const std::vector<store::OutboxItem>& items) = 0;
  /// Follow-up work of the channel (WeCom: checking mass-message tasks, reminding staff),
  /// called by the dispatcher about once a minute.
  virtual Status maintain(EpochMs now) {
    (void)now;
    return Status::ok();
  }
};

/// Makes the channel of a workspace whose delivery channel is not built in ("wecom"), or
/// kUnprocessable when the workspace cannot use it (not configured).
using ChannelFactory =
    std::function<Result<std::unique_ptr<Channel>>(WorkspaceId ws, const std::string& kind)>;

/// The JSON text a receiver gets for one row: the idempotency key and addressing, then the
/// members of the row's stored payload (spliced in, not parsed: the dispatcher's hot path).
std::string envelope_text(const store::OutboxItem& item);

}  // namespace siyu::outbox
