#include "store/sqlite/wal_sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace siyu::store::sqlite {

WalSync::WalSync(std::string wal_path, bool enabled)
    : wal_path_(std::move(wal_path)), enabled_(enabled) {}

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

Status WalSync::sync_through(uint64_t count) {
  if (!enabled_) return Status::ok();
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (synced_ >= count) return Status::ok();
  // Every commit counted by now has its frames in the file: one flush covers them all.
  const uint64_t target = committed_.load();
  Status st = flush();
  if (!st.is_ok()) {
    failed_ = st;
    return st;
  }
  synced_ = target;
  ++flushes_;
  return Status::ok();
}

Status WalSync::flush() {
  struct stat now {};
  if (::stat(wal_path_.c_str(), &now) != 0) {
    // SQLite removes the WAL only after copying all of it into the database file and syncing
    // that: nothing is left to flush.
    if (errno == ENOENT) return Status::ok();
    return internal_error("cannot stat " + wal_path_ + ": " + std::strerror(errno));
  }
  if (fd_ < 0 || inode_ != now.st_ino) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return internal_error("cannot open " + wal_path_ + ": " + std::strerror(errno));
    inode_ = now.st_ino;
  }
  if (::fdatasync(fd_) != 0) {
    return internal_error("cannot flush " + wal_path_ + " to disk: " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace siyu::store::sqlite
