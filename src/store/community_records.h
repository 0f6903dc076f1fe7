// Records of community operations (社群): members, messages, moderation, auto-replies,
// channel codes and the activity aggregates the health views read (migration 0006).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "store/journey_records.h"
#include "store/records.h"

namespace siyu::store {

/// A customer's membership of one group, with the activity the message store maintains.
struct GroupMember {
  GroupId group;
  CustomerId customer;
  std::string name;          // the customer's display name (read only)
  std::string role;          // one of community::kRoles, '' when unset
  std::string role_by;
  std::string source;
  EpochMs joined_at = 0;
  std::optional<EpochMs> left_at;
  std::string leave_kind;    // quit, removed
  int64_t messages = 0;
  int64_t replies_drawn = 0;  // messages of others that replied to this member
  int64_t active_days = 0;
  int64_t last_active_day = -1;
  int64_t violations = 0;
};

/// A membership fact: kind is join, quit or removed.
struct GroupMemberEvent {
  int64_t id = 0;
  GroupId group;
  CustomerId customer;
  std::string kind;
  std::string source;
  EpochMs at = 0;
};

/// What moderation did about one message (the message store writes it with the message).
struct ModerationAction {
  int64_t rule_id = 0;
  std::string rule_name;
  std::string action;   // warn, remove, blacklist
  std::string matched;  // the word or pattern that matched
  std::string warning;  // text posted to the group for warn; '' = none
};

/// An auto-reply to post in answer to one message.
struct AutoReplyFire {
  int64_t reply_id = 0;
  std::string text;
};

/// Memberships as the message path keeps them: (group, customer) pairs, and the id of the
/// last membership fact (join, quit, removal) they reflect with the workspace's count of ended
/// memberships at that point.
struct MembershipFacts {
  struct Change {
    GroupId group;
    CustomerId customer;
    bool joined = false;
  };
  std::vector<Change> changes;  // in the order they happened
  int64_t through = 0;
  int64_t member_leaves = 0;
};

/// One group message to store, already moderated.
struct GroupMessage {
  int64_t id = 0;
  GroupId group;
  std::string msg_id;        // the sender system's id; with group and time it names the message
  CustomerId customer;       // 0 for staff or unknown senders
  std::string sender;        // staff e-mail or external id when customer is 0
  std::string type = "text";  // text, image, link, file, voice, video, mini_program
  std::string text;
  EpochMs at = 0;
  std::string reply_to;      // msg_id of the message this one answers
  CustomerId reply_author;   // the customer who wrote reply_to (read back by the store)
  std::vector<std::string> terms;  // topic keywords of the text (counted per day)
  std::optional<ModerationAction> moderation;
  std::vector<AutoReplyFire> replies;
};

/// The messages of one batch and the workspace day cut (minutes east of UTC).
struct MessageBatch {
  std::vector<GroupMessage> messages;
  int offset_minutes = 480;
  /// Per message: its sender was a current member of its group when the workspace's count of
  /// ended memberships was `member_leaves`. The store trusts these only if the count has not
  /// moved since, and looks every other sender up.
  std::vector<bool> sender_known;
  int64_t member_leaves = -1;
};

/// Per-message outcome: stored, or a repeat of a stored message (nothing changed). For a
/// stored message, its id and the author of the message it replies to (0 when none is known).
struct MessageBatchResult {
  std::vector<bool> stored;
  std::vector<int64_t> ids;
  std::vector<CustomerId> reply_authors;
  int64_t violations = 0;
  int64_t replies = 0;
};

struct ModerationRule {
  int64_t id = 0;
  std::string name;
  std::string kind;  // ads, links, qr_image, competitors, flood, words
  std::vector<std::string> words;
  std::string action = "warn";
  int flood_messages = 0;
  int flood_seconds = 0;
  bool enabled = true;
  EpochMs updated_at = 0;
};

struct ModerationLogEntry {
  int64_t id = 0;
  GroupId group;
  CustomerId customer;
  int64_t rule_id = 0;
  std::string rule_name;
  std::string action;
  std::string msg_id;
  std::string excerpt;
  std::string matched;
  EpochMs at = 0;
};

struct BlacklistEntry {
  CustomerId customer;
  std::string reason;
  std::string by;
  EpochMs at = 0;
};

struct AutoReply {
  int64_t id = 0;
  std::string name;
  std::string match = "contains";  // exact, contains, regex
  std::vector<std::string> keywords;
  std::string reply;
  GroupId group;                   // 0: every group
  int cooldown_seconds = 300;
  bool enabled = true;
  EpochMs updated_at = 0;
};

/// A group channel code (群活码) and the template of the groups it opens.
struct GroupCode {
  int64_t id = 0;
  std::string name;
  std::string token;
  std::optional<ChannelId> channel;
  std::string group_name = "{name} {n}群";
  std::string kind = "traffic";
  int capacity = 200;
  std::optional<UserId> owner_staff;
  std::string welcome;
  std::string threshold_json = R"({"type":"none"})";
  int64_t scans = 0;
  EpochMs created_at = 0;
};

/// The group a channel-code join landed in.
struct CodeJoin {
  Group group;
  bool opened = false;   // the group was opened by this join
  bool already_member = false;
};

/// One group's figures for one workspace day.
struct GroupDay {
  GroupId group;
  int64_t day = 0;
  int64_t messages = 0;
  int64_t active_members = 0;
  int64_t joins = 0;
  int64_t quits = 0;
  int64_t removals = 0;
  int64_t violations = 0;
  int64_t early_leaves = 0;  // of this day's joiners, those who left within 7 days
};

struct GroupHour {
  GroupId group;
  int64_t day = 0;
  int hour = 0;
  int64_t messages = 0;
};

/// One member's activity in messages whose figures are not written yet.
struct MemberFigures {
  int64_t messages = 0;
  int64_t replies_drawn = 0;
  int64_t violations = 0;
  /// The member's message days in arrival order, each later than the one before: a day is an
  /// active day when it is later than every earlier one (a late message adds no active day).
  std::vector<int64_t> days;
};

/// Hashes the keys of MessageFigures' maps.
struct FigureKeyHash {
  static size_t mix(uint64_t x) noexcept {
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ULL;
    return static_cast<size_t>(x ^ (x >> 29));
  }
  size_t operator()(const std::pair<int64_t, int64_t>& k) const noexcept {
    return mix(static_cast<uint64_t>(k.first) * 0x100000001B3ULL ^ static_cast<uint64_t>(k.second));
  }
  size_t operator()(const std::tuple<int64_t, int64_t, int>& k) const noexcept {
    return mix((static_cast<uint64_t>(std::get<0>(k)) * 0x100000001B3ULL ^
                static_cast<uint64_t>(std::get<1>(k))) * 31 + static_cast<uint64_t>(std::get<2>(k)));
  }
  size_t operator()(const std::pair<int64_t, std::string>& k) const noexcept {
    return mix(static_cast<uint64_t>(k.first)) ^ std::hash<std::string>{}(k.second);
  }
};

/// The figures of stored messages, kept in memory and written together: messages and
/// violations per (group, day), messages per (day, group, hour) with group 0 the sums across
/// groups, topic keywords per (day, term) and member activity per (group, customer).
/// `through` is the id of the last message counted.
struct MessageFigures {
  template <typename K, typename V>
  using Map = std::unordered_map<K, V, FigureKeyHash>;
  Map<std::pair<int64_t, int64_t>, GroupDay> days;
  Map<std::tuple<int64_t, int64_t, int>, int64_t> hours;
  Map<std::pair<int64_t, std::string>, int64_t> terms;
  Map<std::pair<int64_t, int64_t>, MemberFigures> members;
  int64_t through = 0;
  int64_t messages = 0;  // messages counted
};

/// Joins of one group still to be greeted, oldest first.
struct PendingWelcome {
  WorkspaceId workspace;
  GroupId group;
  std::vector<int64_t> join_ids;
  std::vector<CustomerId> customers;
  EpochMs first_join_at = 0;
};

}  // namespace siyu::store
