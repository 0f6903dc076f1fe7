// Community operations on top of the store: message ingestion through moderation and
// auto-replies, the welcome greeter (one message per group for everyone who joined in the
// same minute) and message-text retention. Compiled rules and their state (flood windows,
// violation counts, cooldowns) are kept per workspace and rebuilt after an edit or a restart.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "community/auto_reply.h"
#include "community/health.h"
#include "community/moderation.h"
#include "community/text_fold.h"
#include "core/clock.h"
#include "store/store.h"

namespace siyu::community {

/// How long joins gather before one greeting goes out: every joiner is greeted within a minute.
inline constexpr EpochMs kWelcomeGatherMs = 30'000;
/// Escalation counts violations of this many days.
inline constexpr int kEscalationDays = 30;
/// Default retention of message text.
inline constexpr int kDefaultTextRetentionDays = 180;

/// A message as it arrives, before moderation.
struct IncomingMessage {
  store::GroupMessage message;
  bool qr = false;  // an image the collector found a QR code in
};

/// The health of every group of a workspace over a window, as of `built_at`.
struct HealthSnapshot {
  std::vector<store::Group> groups;
  std::vector<HealthFigures> figures;  // one per group, then the total across groups
  HealthWindow window;
  EpochMs built_at = 0;
};

/// Member activity and the day, hour and topic figures of messages are counted in memory and
/// written together at least this often while messages arrive (and before they are read).
inline constexpr EpochMs kFiguresMaxAgeMs = 10'000;
/// ... or as soon as this many members' activity waits.
inline constexpr size_t kFiguresMaxMembers = 1'000'000;

/// The health list is rebuilt when older than this, and kept warm in the background while
/// it is being looked at, so a request never waits for 50,000 groups to be summed.
inline constexpr EpochMs kHealthMaxAgeMs = 30'000;

struct IngestReport {
  int64_t stored = 0;
  int64_t duplicates = 0;
  int64_t violations = 0;
  int64_t replies = 0;
  std::vector<CustomerId> touched;  // customers whose memberships may have changed
};

/// Current members per group, 8 bytes each: the message path checks senders here instead of
/// reading the membership table.
class MemberSet {
 public:
  bool contains(GroupId group, CustomerId customer) const;
  void add(GroupId group, CustomerId customer);
  void remove(GroupId group, CustomerId customer);

 private:
  std::unordered_map<int64_t, std::vector<int64_t>> by_group_;  // sorted customer ids
};

/// Thread-safe. Batches of one workspace are moderated and stored in arrival order.
class CommunityService {
 public:
  /// `outbox_written` is called after greetings, warnings or replies were written (it wakes
  /// the dispatcher).
  CommunityService(store::Store& store, const Clock& clock,
                   std::function<void()> outbox_written = {});
  ~CommunityService();
  CommunityService(const CommunityService&) = delete;
  CommunityService& operator=(const CommunityService&) = delete;

  /// Moderates, answers and stores a batch. Messages naming unknown groups must have been
  /// refused by the caller.
  Result<IngestReport> ingest(WorkspaceId ws, std::vector<IncomingMessage> batch);
  /// Forgets the compiled rules and auto-replies of `ws` (after an edit).
  void rules_changed(WorkspaceId ws);

  /// Writes the figures of `ws`'s stored messages that are still counted only in memory —
  /// and, first thing after a start, counts the messages stored after the last written mark.
  /// Call before reading member activity or the day, hour and topic figures.
  Status settle(WorkspaceId ws);
  /// settle() for every workspace with figures waiting (at shutdown).
  Status settle_all();

  /// Writes one greeting per group whose first waiting join is at least kWelcomeGatherMs old.
  /// Returns how many greetings were written.
  Result<int> greet(EpochMs now);
  /// Clears message text older than each workspace's retention. Returns messages cleared.
  Result<int64_t> expire_texts(EpochMs now);

  /// The health of every group over the last `days` days (ending today in the workspace's
  /// zone), at most kHealthMaxAgeMs old.
  Result<std::shared_ptr<const HealthSnapshot>> health(WorkspaceId ws, int days);
  /// Drops the workspace's health snapshots (a group was created, edited or joined).
  void groups_changed(WorkspaceId ws);

  /// Text retention in days for a workspace (setting community.text_retention_days).
  Result<int> text_retention_days(WorkspaceId ws);

  /// Starts the greeter thread (every 5 s; text retention hourly); stop() joins it.
  void start();
  void stop();

 private:
  struct Workspace {
    std::mutex mu;
    std::unique_ptr<Moderator> moderator;
    std::unique_ptr<AutoResponder> responder;
    int offset_minutes = 480;
    store::MessageFigures figures;  // counted, not yet written
    EpochMs figures_since = 0;      // when the oldest of them was counted
    bool recounted = false;         // messages after the written mark are in `figures`
    /// The workspace's current memberships, loaded on first use and kept up to date from the
    /// membership facts after `members_through`; exact while the workspace's count of ended
    /// memberships is `member_leaves` (the store checks the count before trusting them).
    MemberSet members;
    bool members_loaded = false;
    int64_t members_through = 0;
    int64_t member_leaves = -1;
  };
  /// Loads or brings up to date w.members (under w.mu).
  Status sync_members(WorkspaceId ws, Workspace& w);
  Result<Workspace*> workspace(WorkspaceId ws);
  /// Counts the messages stored after the last written mark (once, under w.mu).
  Status recount(WorkspaceId ws, Workspace& w);
  /// Writes w.figures (under w.mu).
  Status write_figures(WorkspaceId ws, Workspace& w);
  /// Writes the figures that have waited longer than kFiguresMaxAgeMs.
  void write_aged_figures(EpochMs now);
  Status compile(WorkspaceId ws, Workspace& w);
  Result<std::shared_ptr<const HealthSnapshot>> build_health(WorkspaceId ws, int days);
  /// Rebuilds snapshots asked for in the last ten minutes that are getting old.
  void refresh_health(EpochMs now);
  void run();

  struct HealthEntry {
    std::shared_ptr<const HealthSnapshot> snapshot;
    EpochMs last_asked = 0;
  };

  store::Store& store_;
  const Clock& clock_;
  std::function<void()> outbox_written_;
  std::shared_ptr<const TextFolder> folder_;
  std::mutex mu_;
  std::map<int64_t, std::unique_ptr<Workspace>> workspaces_;
  std::mutex health_mu_;
  std::map<std::pair<int64_t, int>, HealthEntry> health_;  // (workspace, days)
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace siyu::community
