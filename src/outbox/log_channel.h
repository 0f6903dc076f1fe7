// The log channel: appends each delivery as one JSON line (channel.h's envelope) to a file,
// synced to disk before the receipt. File format: NDJSON, one envelope per line, in delivery
// order; a resend after a crash appears again with the same idempotency_key.
#pragma once

#include <mutex>
#include <string>

#include "outbox/channel.h"

namespace siyu::outbox {

class LogChannel final : public Channel {
 public:
  /// Appends to `path` (created with mode 0600 when missing).
  explicit LogChannel(std::string path) : path_(std::move(path)) {}
  std::vector<Receipt> deliver(const std::vector<store::OutboxItem>& items) override;

 private:
  std::string path_;
  std::mutex mu_;
};

}  // namespace siyu::outbox
