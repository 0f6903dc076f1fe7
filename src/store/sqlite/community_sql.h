// SQL of community operations (migration 0006) as functions over a connection. The
// SqliteStore runs them inside its read snapshots and write transactions; writes that need
// join_group/leave_group events get them through callbacks into the store.
#pragma once

#include <functional>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace siyu::store::sqlite::community_sql {

/// Writes a group membership fact (group_members, group_member_events, group_days) for a
/// group relation change; relations to ids that are not groups of the workspace are left alone.
Status apply_membership(Connection& c, WorkspaceId ws, CustomerId cust, const RelationChange& r,
                        EpochMs at);

/// The workspace's UTC offset in minutes.
Result<int> offset_of(Connection& c, WorkspaceId ws);

Result<Group> create_group(Connection& c, WorkspaceId ws, const Group& g);
Result<std::vector<Group>> groups(Connection& c, WorkspaceId ws);
Result<Group> group(Connection& c, WorkspaceId ws, GroupId id);
Status update_group(Connection& c, WorkspaceId ws, const Group& g);
Result<std::vector<GroupMember>> members(Connection& c, WorkspaceId ws, GroupId group,
                                         bool include_past);
Result<std::vector<GroupId>> groups_of(Connection& c, WorkspaceId ws, CustomerId customer);
Result<bool> is_member(Connection& c, WorkspaceId ws, GroupId group, CustomerId customer);
Status set_role(Connection& c, WorkspaceId ws, GroupId group, CustomerId customer,
                const std::string& role, const std::string& by, EpochMs at);
Result<MembershipFacts> current_members(Connection& c, WorkspaceId ws);
Result<MembershipFacts> membership_changes_after(Connection& c, WorkspaceId ws, int64_t after);
Result<std::vector<GroupMemberEvent>> member_events(Connection& c, WorkspaceId ws, GroupId group,
                                                    EpochMs since, int limit);

/// Removes a customer from a group (a leave_group event), as the message transaction needs.
using RemoveMember = std::function<Status(GroupId, CustomerId, EpochMs)>;
/// Adds a sender seen in a group it was not known to be a member of.
using AddMember = std::function<Status(GroupId, CustomerId, EpochMs)>;

Result<MessageBatchResult> store_messages(Connection& c, WorkspaceId ws, const MessageBatch& batch,
                                          EpochMs now, const AddMember& add,
                                          const RemoveMember& remove);
/// Writes figures kept in memory (member activity, day, hour and topic counts) and their mark.
Status apply_figures(Connection& c, WorkspaceId ws, const MessageFigures& f);
/// The id of the last message the written figures count (0 before any).
Result<int64_t> figures_mark(Connection& c, WorkspaceId ws);
/// Messages with ids after `after_id` in id order, with the authors of the messages they reply to.
Result<std::vector<GroupMessage>> messages_after(Connection& c, WorkspaceId ws, int64_t after_id,
                                                 int limit);
Result<std::vector<GroupMessage>> messages(Connection& c, WorkspaceId ws, GroupId group,
                                           EpochMs from, EpochMs to, int limit);
Result<int64_t> expire_text(Connection& c, WorkspaceId ws, EpochMs before);
Result<std::vector<GroupDay>> days(Connection& c, WorkspaceId ws, std::optional<GroupId> group,
                                   int64_t from_day, int64_t to_day);
Result<std::vector<GroupHour>> hours(Connection& c, WorkspaceId ws, std::optional<GroupId> group,
                                     int64_t from_day, int64_t to_day);
Result<std::vector<std::pair<std::string, int64_t>>> topics(Connection& c, WorkspaceId ws,
                                                            int64_t from_day, int64_t to_day,
                                                            int limit);

Result<ModerationRule> put_rule(Connection& c, WorkspaceId ws, const ModerationRule& r);
Result<std::vector<ModerationRule>> rules(Connection& c, WorkspaceId ws);
Status delete_rule(Connection& c, WorkspaceId ws, int64_t id);
Result<std::vector<ModerationLogEntry>> moderation_log(Connection& c, WorkspaceId ws,
                                                       int64_t before, int limit);
Result<std::vector<std::pair<CustomerId, int64_t>>> violation_counts(Connection& c, WorkspaceId ws,
                                                                     EpochMs since);
Result<std::vector<BlacklistEntry>> blacklist(Connection& c, WorkspaceId ws);
Result<bool> is_blacklisted(Connection& c, WorkspaceId ws, CustomerId customer);
/// Adds or lifts an entry; a new entry removes the customer from every group through `remove`.
Status set_blacklisted(Connection& c, WorkspaceId ws, CustomerId customer, bool listed,
                       const std::string& reason, const std::string& by, EpochMs at,
                       const RemoveMember& remove);

Result<AutoReply> put_auto_reply(Connection& c, WorkspaceId ws, const AutoReply& r);
Result<std::vector<AutoReply>> auto_replies(Connection& c, WorkspaceId ws);
Status delete_auto_reply(Connection& c, WorkspaceId ws, int64_t id);
Result<std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>> auto_reply_fires(
    Connection& c, WorkspaceId ws);

Result<std::vector<PendingWelcome>> pending_welcomes(Connection& c);
Status record_welcome(Connection& c, WorkspaceId ws, const std::vector<int64_t>& join_ids,
                      const OutboxItem& post);

Result<GroupCode> create_code(Connection& c, WorkspaceId ws, const GroupCode& code);
Status update_code(Connection& c, WorkspaceId ws, const GroupCode& code);
Result<std::vector<GroupCode>> codes(Connection& c, WorkspaceId ws);
Result<GroupCode> code(Connection& c, WorkspaceId ws, int64_t id);
Result<std::pair<WorkspaceId, GroupCode>> code_by_token(Connection& c, const std::string& token);
/// The lowest-numbered group of the code's series with room, if any.
Result<std::optional<Group>> open_group_of(Connection& c, WorkspaceId ws, int64_t code_id);
Status count_scan(Connection& c, WorkspaceId ws, int64_t code_id);
/// Opens the next group of the code's series.
Result<Group> open_next_group(Connection& c, WorkspaceId ws, const GroupCode& code, EpochMs at);
/// Sets the customer's acquisition channel when none is set.
Status set_channel_if_unset(Connection& c, WorkspaceId ws, CustomerId customer,
                            ChannelId channel, EpochMs at);

}  // namespace siyu::store::sqlite::community_sql
