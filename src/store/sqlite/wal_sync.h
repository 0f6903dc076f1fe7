// Durability of commits made without an fsync of their own. The writer commits with
// synchronous=NORMAL, which writes a transaction's frames to the WAL file and returns; WalSync
// then flushes the file with one fdatasync outside the writer's lock, so the next group of
// writes runs while this one reaches the disk. The WAL is a log: a flush makes every frame
// written before it durable, so one flush acknowledges every commit counted before it began,
// and recovery after a crash keeps a prefix of the commits.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/status.h"

namespace siyu::store::sqlite {

/// Thread-safe.
class WalSync {
 public:
  /// `wal_path` is the database's "-wal" file; with `enabled` false nothing is flushed.
  WalSync(std::string wal_path, bool enabled);
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  /// Counts the writer's commits so far, their frames written; returns the count, to be
  /// passed to sync_through. Called by the writer after it commits.
  uint64_t committed() { return ++committed_; }
  /// Returns once the commits counted up to `count` are on disk. A failed flush fails this and
  /// every later call: what the page cache held may never reach the disk, so the store must be
  /// reopened (and recovers from what the disk has).
  Status sync_through(uint64_t count);
  /// Flushes done so far.
  uint64_t flushes() const { return flushes_.load(); }

 private:
  Status flush();

  const std::string wal_path_;
  const bool enabled_;
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> flushes_{0};
  std::mutex mu_;
  uint64_t synced_ = 0;  // guarded by mu_
  Status failed_;        // guarded by mu_
  int fd_ = -1;          // guarded by mu_
  uint64_t inode_ = 0;   // guarded by mu_: the file fd_ reads, to notice a replaced WAL
};

}  // namespace siyu::store::sqlite
