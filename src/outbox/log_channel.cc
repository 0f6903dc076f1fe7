#include "outbox/log_channel.h"

#include <fcntl.h>
#include <unistd.h>

namespace siyu::outbox {

std::vector<Receipt> LogChannel::deliver(const std::vector<store::OutboxItem>& items) {
  std::string lines;
  for (const store::OutboxItem& item : items) {
    lines += envelope_text(item);
    lines += '\n';
  }
  std::lock_guard lock(mu_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  size_t written = 0;
  while (ok && written < lines.size()) {
    const ssize_t n = ::write(fd, lines.data() + written, lines.size() - written);
    if (n <= 0) ok = false;
    else written += static_cast<size_t>(n);
  }
  if (ok) ok = ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  Receipt r;
  r.outcome = ok ? Receipt::Outcome::kDelivered : Receipt::Outcome::kRetry;
  r.detail = ok ? "log" : "cannot append to " + path_;
  return std::vector<Receipt>(items.size(), r);
}

}  // namespace siyu::outbox
