// The Store: Siyu's system of record. Every acknowledged write has been committed durably
// before the call returns. Callers see only this interface; backends come from open_store().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/analytics_records.h"
#include "store/community_records.h"
#include "store/journey_records.h"
#include "store/records.h"

namespace siyu::store {

struct StoreConfig {
  std::string backend = "sqlite";
  std::string data_dir;      // sqlite: directory holding siyu.db
  bool durable = true;       // a write returns once it is on disk (an fsync per group commit)
  int reader_connections = 4;
  /// Per-customer event index (docs/design/event-runs.md): unfiled event keys that make the
  /// writer file a run, runs of one level merged into one of the next, and the keys a merge
  /// moves on by after a group commit.
  size_t event_keys_file_at = 65'536;
  size_t event_runs_per_level = 8;
  size_t event_merge_slice = 65'536;
  /// Tag log (docs/design/tag-log.md): customer changes the applier moves into the tag tables
  /// per step while the writer is busy (16 times as many while it is idle: larger steps write
  /// each page of the tables for more changes), and whether it runs in the background (off,
  /// only readers and restarts apply it).
  size_t tag_apply_step = 16'384;
  bool apply_tags_in_background = true;
};

/// Result of resolving a set of identities to one customer.
struct IdentifyOutcome {
  CustomerId customer;
  bool created = false;
  std::vector<CustomerId> merged;  // customers merged into `customer` by this call
  int identities_added = 0;
};

/// Per-event outcome of an ingest batch, in input order.
enum class IngestOutcome { kStored, kDuplicate, kUnknownCustomer };

struct IngestResult {
  std::vector<IngestOutcome> outcomes;
  std::vector<CustomerId> created;  // anonymous customers made for unknown identities
};

/// Per-order outcome of an order batch; a failed status means that order was not stored.
struct OrderResult {
  OrderOutcome outcome = OrderOutcome::kUnchanged;
  Status status;
};

struct StoreStats {
  int64_t commits = 0;
  int64_t commit_micros = 0;
  int64_t disk_flushes = 0;  // fsyncs acknowledging commits (several commits share one)
  int64_t reads = 0;
  int64_t read_micros = 0;
  int64_t tag_log_rows = 0;       // tag operations appended and not yet applied to the tables
  int64_t tag_holders_bytes = 0;  // the writer's in-memory tag holders
};

/// Thread-safe. Errors: kNotFound for missing objects of the workspace, kConflict for a
/// violated uniqueness rule, kInternal for storage failures (the write did not happen).
class Store {
 public:
  virtual ~Store() = default;

  // Workspaces
  virtual Result<Workspace> create_workspace(const Workspace& w) = 0;
  virtual Result<Workspace> workspace_by_slug(const std::string& slug) = 0;
  virtual Result<Workspace> workspace(WorkspaceId id) = 0;
  virtual Result<std::vector<Workspace>> workspaces() = 0;
  /// Changes a workspace's slug; kConflict when the new one is taken.
  virtual Status rename_workspace(WorkspaceId id, const std::string& slug) = 0;

  // Staff users and sessions
  virtual Result<User> create_user(const User& u) = 0;
  virtual Result<User> user(WorkspaceId ws, UserId id) = 0;
  virtual Result<User> user_by_email(WorkspaceId ws, const std::string& email) = 0;
  virtual Result<std::vector<User>> users(WorkspaceId ws) = 0;
  virtual Status update_user(const User& u) = 0;
  virtual Status create_session(const Session& s) = 0;
  virtual Result<Session> session(const std::string& digest) = 0;
  virtual Status delete_session(const std::string& digest) = 0;

  // API keys
  virtual Result<ApiKey> create_api_key(const ApiKey& k) = 0;
  virtual Result<ApiKey> api_key_by_digest(const std::string& digest) = 0;
  virtual Result<std::vector<ApiKey>> api_keys(WorkspaceId ws) = 0;
  virtual Status revoke_api_key(WorkspaceId ws, ApiKeyId id, EpochMs at) = 0;
  /// Records that a key was used at `at`.
  virtual Status touch_api_key(ApiKeyId id, EpochMs at) = 0;

  // Customers and identities
  /// Allocates the next dense id of the workspace. kConflict when an identity is taken.
  virtual Result<Customer> create_customer(const Customer& c,
                                           const std::vector<Identity>& identities) = 0;
  /// Creates many customers in one transaction (bulk import, demo); returns their ids.
  virtual Result<std::vector<CustomerId>> create_customers(
      WorkspaceId ws, const std::vector<std::pair<Customer, std::vector<Identity>>>& batch) = 0;
  /// The customer row, also when merged away (merged_into set) or erased (erased_at set).
  virtual Result<Customer> customer(WorkspaceId ws, CustomerId id) = 0;
  /// The rows of the given customers that exist, in the order asked, from one snapshot.
  virtual Result<std::vector<Customer>> customers_by_id(WorkspaceId ws,
                                                        const std::vector<CustomerId>& ids) = 0;
  /// Replaces the attributes of a live customer; kNotFound when merged away or erased.
  virtual Status update_customer(const Customer& c) = 0;
  virtual Result<std::vector<Customer>> customers(WorkspaceId ws, const CustomerFilter& f) = 0;
  virtual Result<int64_t> count_customers(WorkspaceId ws) = 0;
  /// Erases personal data, identities, tags and relationships; events and orders are kept
  /// without a link to the person's identity. The row stays as a tombstone.
  virtual Status erase_customer(WorkspaceId ws, CustomerId id, EpochMs at) = 0;
  virtual Result<std::vector<Identity>> identities(WorkspaceId ws, CustomerId id) = 0;
  virtual Result<std::optional<Identity>> find_identity(WorkspaceId ws, const std::string& type,
                                                        const std::string& app_id,
                                                        const std::string& key) = 0;
  /// Attaches identities to one person, creating or merging customers as needed (One-ID).
  /// Repeating the same call changes nothing.
  virtual Result<IdentifyOutcome> identify(WorkspaceId ws, const std::vector<Identity>& ids,
                                           EpochMs at) = 0;
  virtual Result<std::vector<MergeRecord>> merges(WorkspaceId ws, CustomerId survivor) = 0;
  virtual Status put_field_def(WorkspaceId ws, const FieldDef& f) = 0;
  virtual Result<std::vector<FieldDef>> field_defs(WorkspaceId ws) = 0;
  /// Declares an event property for behaviour conditions (or relabels it).
  virtual Status put_event_property(WorkspaceId ws, const EventProperty& p) = 0;
  /// Declared event properties, by name.
  virtual Result<std::vector<EventProperty>> event_properties(WorkspaceId ws) = 0;

  // Events, orders, relationships
  /// Stores a batch in one transaction: all or nothing. Duplicate event ids are skipped.
  virtual Result<IngestResult> ingest_events(WorkspaceId ws, std::vector<PendingEvent>& batch,
                                             EpochMs at) = 0;
  virtual Result<std::vector<Event>> events(WorkspaceId ws, CustomerId c,
                                            std::optional<EpochMs> before, int limit) = 0;
  virtual Result<int64_t> count_events(WorkspaceId ws) = 0;
  /// Upserts orders by id in one transaction. A changed status or refund updates the order;
  /// other changes to an existing order are kConflict.
  virtual Result<std::vector<OrderResult>> upsert_orders(WorkspaceId ws,
                                                          std::vector<PendingOrder>& batch,
                                                          EpochMs at) = 0;
  virtual Result<Order> order(WorkspaceId ws, const std::string& order_id) = 0;
  /// Orders of the workspace by order id, descending; `before` is the last id seen. With
  /// `placed_from`, only orders placed at or after it (the overview's period).
  virtual Result<std::vector<Order>> orders(WorkspaceId ws, std::optional<std::string> before,
                                            int limit,
                                            std::optional<EpochMs> placed_from = std::nullopt) = 0;
  /// A customer's most recent orders, newest first.
  virtual Result<std::vector<Order>> customer_orders(WorkspaceId ws, CustomerId c, int limit) = 0;
  /// Active relationship facts of a customer as (kind, target) pairs.
  virtual Result<std::vector<std::pair<std::string, std::string>>> relations(WorkspaceId ws,
                                                                             CustomerId c) = 0;

  // Tags
  /// Adds a tag (or moves its expiry when the customer has it already).
  virtual Status add_tag(WorkspaceId ws, const Tag& t) = 0;
  virtual Status remove_tag(WorkspaceId ws, CustomerId c, const std::string& tag,
                            const std::string& by, EpochMs at) = 0;
  virtual Result<std::vector<Tag>> tags(WorkspaceId ws, CustomerId c) = 0;

  // Saved segments
  /// kConflict when the name is taken in the workspace.
  virtual Result<Segment> create_segment(WorkspaceId ws, const Segment& s) = 0;
  virtual Result<Segment> segment(WorkspaceId ws, int64_t id) = 0;
  virtual Result<std::vector<Segment>> segments(WorkspaceId ws) = 0;
  /// Replaces name and expression.
  virtual Status update_segment(WorkspaceId ws, const Segment& s) = 0;
  virtual Status delete_segment(WorkspaceId ws, int64_t id) = 0;
  /// Adds (or with `remove`, removes) one tag on many customers in one transaction, with
  /// history; returns how many customers changed. Ids that are not live are skipped.
  virtual Result<int64_t> bulk_tag(WorkspaceId ws, const std::vector<CustomerId>& ids,
                                   const std::string& tag, bool remove, const std::string& by,
                                   EpochMs at, std::optional<EpochMs> expires_at) = 0;
  /// Those of `ids` that are live customers holding `tag` now, in id order.
  virtual Result<std::vector<CustomerId>> tagged_among(WorkspaceId ws, const std::string& tag,
                                                       const std::vector<CustomerId>& ids) = 0;
  /// Removes every tag whose expiry is at or before `now` (history by "expiry"); returns the
  /// customers that lost one.
  virtual Result<std::vector<CustomerId>> expire_tags(WorkspaceId ws, EpochMs now) = 0;

  // Tag catalogue: groups and definitions. kConflict for a taken name.
  virtual Result<TagGroup> create_tag_group(WorkspaceId ws, const TagGroup& g) = 0;
  virtual Result<std::vector<TagGroup>> tag_groups(WorkspaceId ws) = 0;
  virtual Status update_tag_group(WorkspaceId ws, const TagGroup& g) = 0;
  /// Tags of a deleted group become ungrouped.
  virtual Status delete_tag_group(WorkspaceId ws, int64_t id) = 0;
  /// Creates or replaces a definition; kNotFound for an unknown group.
  virtual Status put_tag_def(WorkspaceId ws, const TagDef& d) = 0;
  virtual Result<std::vector<TagDef>> tag_defs(WorkspaceId ws) = 0;
  /// Deletes the definition and removes the tag from every customer (with history).
  virtual Result<std::vector<CustomerId>> delete_tag(WorkspaceId ws, const std::string& name,
                                                     const std::string& by, EpochMs at) = 0;

  // Auto-tag rules. kConflict when another rule manages the same tag.
  virtual Result<TagRule> create_tag_rule(WorkspaceId ws, const TagRule& r) = 0;
  virtual Result<TagRule> tag_rule(WorkspaceId ws, int64_t id) = 0;
  virtual Result<std::vector<TagRule>> tag_rules(WorkspaceId ws) = 0;
  /// Replaces name, tag, expression and enabled.
  virtual Status update_tag_rule(WorkspaceId ws, const TagRule& r) = 0;
  virtual Status delete_tag_rule(WorkspaceId ws, int64_t id) = 0;
  /// Records the outcome of a sweep of the rule.
  virtual Status note_rule_sweep(WorkspaceId ws, int64_t id, EpochMs at, int64_t gained,
                                 int64_t lost) = 0;

  // Segment change feed
  /// The membership recorded by the sweeps: the last bitmap written and the changes after it.
  virtual Result<SegmentMembers> segment_members(WorkspaceId ws, int64_t id) = 0;
  /// Stores the sweeps of several segments in one transaction: each one's changes, its new
  /// membership when given, and the day's size.
  virtual Status record_segment_sweeps(WorkspaceId ws, const std::vector<SegmentSweep>& sweeps) = 0;
  /// Changes after `after_seq`, oldest first.
  virtual Result<std::vector<SegmentChange>> segment_changes(WorkspaceId ws, int64_t id,
                                                             int64_t after_seq, int limit) = 0;
  /// Daily sizes from `from_day` (YYYY-MM-DD) on, oldest first.
  virtual Result<std::vector<SegmentSize>> segment_sizes(WorkspaceId ws, int64_t id,
                                                         const std::string& from_day) = 0;

  // Index feeds
  /// Current facts of the given customers, in the same order (live=false for gone ones), with
  /// their events at or after `activity_since`, and the events' properties when
  /// `with_properties` (the workspace declared event properties).
  virtual Result<FactsSnapshot> customer_facts(WorkspaceId ws, const std::vector<CustomerId>& ids,
                                               EpochMs activity_since, bool with_properties) = 0;
  /// Calls `fn(part, facts)` for every live customer of the workspace, from one snapshot, read
  /// in `parts` parts at once (1 to kMaxScanParts): customer ids are cut into blocks of
  /// kFactBlockIds, block b goes to part b % parts, and each part calls `fn` on its own thread
  /// (part 0 on the caller's) in increasing id order, then `part_done(part)` once it has no
  /// more (also when it stops at an error). Returns the snapshot's event generation (see
  /// FactsSnapshot).
  virtual Result<int64_t> scan_customer_facts(
      WorkspaceId ws, EpochMs activity_since, bool with_properties, int parts,
      const std::function<void(int part, const CustomerFacts&)>& fn,
      const std::function<void(int part)>& part_done) = 0;
  /// Calls `listener` with the events of every ingest_events as it commits: on the committing
  /// thread, in commit order, before the ingest returns. It must only queue the notice (the
  /// writer holds its lock). Replaces any earlier listener.
  virtual void on_events_committed(std::function<void(EventsCommitted)> listener) = 0;

  // Analytics feeds (analytics_records.h)
  /// Streams every fact analytics reads of the workspace to `sink`, from one snapshot.
  virtual Status scan_analytics(WorkspaceId ws, AnalyticsSink& sink) = 0;
  /// Replaces the workspace's lifetime-value predictions (customer facts carry them).
  virtual Status put_predictions(WorkspaceId ws, const std::vector<Prediction>& predictions,
                                 EpochMs at) = 0;
  /// Counts committed write transactions since the store opened: unchanged means no data
  /// changed, so derived snapshots are still current.
  virtual uint64_t write_generation() const = 0;

  // Timeline
  virtual Result<std::vector<TimelineItem>> timeline(WorkspaceId ws, CustomerId c,
                                                     std::optional<EpochMs> before,
                                                     int limit) = 0;

  // Channels
  virtual Result<Channel> create_channel(WorkspaceId ws, const Channel& c) = 0;
  virtual Result<std::vector<Channel>> channels(WorkspaceId ws) = 0;
  virtual Result<Channel> channel(WorkspaceId ws, ChannelId id) = 0;
  virtual Result<ChannelCost> add_channel_cost(WorkspaceId ws, const ChannelCost& c) = 0;
  virtual Result<std::vector<ChannelCost>> channel_costs(WorkspaceId ws, ChannelId id) = 0;
  virtual Result<std::vector<ChannelStats>> channel_stats(WorkspaceId ws) = 0;

  // Groups (社群) and community operations (community_records.h)
  virtual Result<Group> create_group(WorkspaceId ws, const Group& g) = 0;
  /// Every group with its current member count, by id.
  virtual Result<std::vector<Group>> groups(WorkspaceId ws) = 0;
  virtual Result<Group> group(WorkspaceId ws, GroupId id) = 0;
  /// Replaces the design fields (name, kind, owner, capacity, texts, threshold, welcome).
  virtual Status update_group(WorkspaceId ws, const Group& g) = 0;
  /// Members of a group (current ones, or everyone who ever joined), by join time.
  virtual Result<std::vector<GroupMember>> group_members(WorkspaceId ws, GroupId group,
                                                         bool include_past) = 0;
  /// Groups the customer is a current member of.
  virtual Result<std::vector<GroupId>> groups_of(WorkspaceId ws, CustomerId customer) = 0;
  /// Sets (or clears with '') a member's role; kNotFound when not a current member.
  virtual Status set_member_role(WorkspaceId ws, GroupId group, CustomerId customer,
                                 const std::string& role, const std::string& by, EpochMs at) = 0;
  /// Adds the customer to the group with a join_group event (relations, layer, journeys);
  /// with `check_capacity`, kConflict when the group is full. A current member is a no-op.
  virtual Result<bool> join_group(WorkspaceId ws, GroupId group, CustomerId customer,
                                  const std::string& source, bool check_capacity, EpochMs at) = 0;
  /// Ends a membership with a leave_group event (removed: by the group rather than a quit).
  virtual Status leave_group(WorkspaceId ws, GroupId group, CustomerId customer, bool removed,
                             const std::string& source, EpochMs at) = 0;
  /// Membership facts of a group since `since`, newest first.
  virtual Result<std::vector<GroupMemberEvent>> group_member_events(WorkspaceId ws, GroupId group,
                                                                    EpochMs since, int limit) = 0;

  /// Every current membership of the workspace (as joins), as of the returned mark.
  virtual Result<MembershipFacts> current_members(WorkspaceId ws) = 0;
  /// The workspace's joins and leaves after mark `after` (from current_members or an earlier
  /// call), in order, with the new mark.
  virtual Result<MembershipFacts> membership_changes_after(WorkspaceId ws, int64_t after) = 0;

  /// Stores moderated messages in one transaction with their moderation log rows, blacklist
  /// entries and removals, warnings and auto-replies (outbox group posts) and the joins of
  /// senders not known to be members. A message repeating the group, time and msg_id of a
  /// stored one changes nothing. Member activity and the day, hour and topic figures are the
  /// caller's to count and write with apply_message_figures.
  virtual Result<MessageBatchResult> store_group_messages(WorkspaceId ws,
                                                          const MessageBatch& batch,
                                                          EpochMs at) = 0;
  /// Adds the figures of messages up to `figures.through` to the member rows and the day, hour
  /// and topic aggregates, and records that mark, in one transaction.
  virtual Status apply_message_figures(WorkspaceId ws, const MessageFigures& figures) = 0;
  /// The id of the last message whose figures are written (0 before any).
  virtual Result<int64_t> message_figures_mark(WorkspaceId ws) = 0;
  /// Stored messages with ids after `after_id`, in id order, with reply authors.
  virtual Result<std::vector<GroupMessage>> group_messages_after(WorkspaceId ws, int64_t after_id,
                                                                 int limit) = 0;
  /// Messages of a group in [from, to), newest first.
  virtual Result<std::vector<GroupMessage>> group_messages(WorkspaceId ws, GroupId group,
                                                           EpochMs from, EpochMs to,
                                                           int limit) = 0;
  /// Clears the text of messages older than `before`, from where the last clearing stopped;
  /// returns how many were cleared. A message stored later with an older time keeps no text.
  virtual Result<int64_t> expire_message_text(WorkspaceId ws, EpochMs before) = 0;

  /// Day figures of every group (or one) for workspace days [from_day, to_day]; group 0 holds
  /// the sums across groups.
  virtual Result<std::vector<GroupDay>> group_days(WorkspaceId ws, std::optional<GroupId> group,
                                                   int64_t from_day, int64_t to_day) = 0;
  /// Messages per day and hour of one group, or summed across groups (nullopt).
  virtual Result<std::vector<GroupHour>> group_hours(WorkspaceId ws, std::optional<GroupId> group,
                                                     int64_t from_day, int64_t to_day) = 0;
  /// Keyword counts across groups for days [from_day, to_day], largest first.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> topics(WorkspaceId ws,
                                                                      int64_t from_day,
                                                                      int64_t to_day,
                                                                      int limit) = 0;

  // Moderation
  /// Creates (id 0) or replaces a rule; kConflict for a taken name.
  virtual Result<ModerationRule> put_moderation_rule(WorkspaceId ws, const ModerationRule& r) = 0;
  virtual Result<std::vector<ModerationRule>> moderation_rules(WorkspaceId ws) = 0;
  virtual Status delete_moderation_rule(WorkspaceId ws, int64_t id) = 0;
  /// Log entries, newest first, before id `before` (0 = from the newest).
  virtual Result<std::vector<ModerationLogEntry>> moderation_log(WorkspaceId ws, int64_t before,
                                                                 int limit) = 0;
  /// Violations per customer in the workspace since `since` (escalation state).
  virtual Result<std::vector<std::pair<CustomerId, int64_t>>> violation_counts(WorkspaceId ws,
                                                                               EpochMs since) = 0;
  virtual Result<std::vector<BlacklistEntry>> blacklist(WorkspaceId ws) = 0;
  virtual Result<bool> is_blacklisted(WorkspaceId ws, CustomerId customer) = 0;
  /// Adds (and removes the customer from every group) or lifts a blacklist entry.
  virtual Status set_blacklisted(WorkspaceId ws, CustomerId customer, bool listed,
                                 const std::string& reason, const std::string& by,
                                 EpochMs at) = 0;

  // Auto-replies
  virtual Result<AutoReply> put_auto_reply(WorkspaceId ws, const AutoReply& r) = 0;
  virtual Result<std::vector<AutoReply>> auto_replies(WorkspaceId ws) = 0;
  virtual Status delete_auto_reply(WorkspaceId ws, int64_t id) = 0;
  /// Last fire time per (reply, group): the cooldown state after a restart.
  virtual Result<std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>> auto_reply_fires(
      WorkspaceId ws) = 0;

  // Welcome (one greeting per group per minute of joins)
  /// Groups with joins still to be greeted, across workspaces.
  virtual Result<std::vector<PendingWelcome>> pending_welcomes() = 0;
  /// Marks the joins greeted and writes the greeting's outbox row, in one transaction.
  virtual Status record_welcome(WorkspaceId ws, const std::vector<int64_t>& join_ids,
                                const OutboxItem& post) = 0;

  // Group channel codes (群活码)
  virtual Result<GroupCode> create_group_code(WorkspaceId ws, const GroupCode& c) = 0;
  virtual Status update_group_code(WorkspaceId ws, const GroupCode& c) = 0;
  virtual Result<std::vector<GroupCode>> group_codes(WorkspaceId ws) = 0;
  virtual Result<GroupCode> group_code(WorkspaceId ws, int64_t id) = 0;
  /// The code of a public token, with its workspace; kNotFound when unknown.
  virtual Result<std::pair<WorkspaceId, GroupCode>> group_code_by_token(
      const std::string& token) = 0;
  /// Counts a scan and returns the group a joiner would land in now (nullopt: the next join
  /// opens a new group).
  virtual Result<std::optional<Group>> scan_group_code(WorkspaceId ws, int64_t id) = 0;
  /// Joins the customer through the code in one transaction: the lowest-numbered group of the
  /// series with room, or a newly opened one; records the code's channel as the customer's
  /// acquisition channel when none is set. Never puts a group over capacity.
  virtual Result<CodeJoin> join_by_code(WorkspaceId ws, int64_t code_id, CustomerId customer,
                                        EpochMs at) = 0;

  /// Figures for [from, to) with days cut at `offset_minutes` from UTC.
  virtual Result<Overview> overview(WorkspaceId ws, EpochMs from, EpochMs to,
                                    int offset_minutes) = 0;


  // Journeys (journey_records.h). Definitions are JSON checked by journey::parse_journey.
  /// Creates a journey with `j.definition_json` as version 1. kConflict for a taken name.
  virtual Result<Journey> create_journey(WorkspaceId ws, const Journey& j) = 0;
  /// The journey with the definition of its current version.
  virtual Result<Journey> journey(WorkspaceId ws, int64_t id) = 0;
  virtual Result<std::vector<Journey>> journeys(WorkspaceId ws) = 0;
  /// Saves `definition_json` as the next version (new entrants follow it; runs keep theirs)
  /// and renames the journey; returns the new version. kConflict for a taken name.
  virtual Result<int> save_journey_version(WorkspaceId ws, int64_t id, const std::string& name,
                                           const std::string& definition_json,
                                           const std::string& by, EpochMs at) = 0;
  /// The definition of one version; kNotFound when it does not exist.
  virtual Result<std::string> journey_definition(WorkspaceId ws, int64_t id, int version) = 0;
  virtual Status set_journey_status(WorkspaceId ws, int64_t id, const std::string& status,
                                    EpochMs at) = 0;
  /// Starts runs and records their entrants; a run whose (journey, trigger_key) exists is
  /// skipped with its entrants. In the same transaction, moves trigger cursors
  /// (name → value) and journeys' fired_until (id → time). Returns how many runs started.
  virtual Result<int64_t> start_runs(WorkspaceId ws, const std::vector<RunStart>& starts,
                                     const std::vector<std::pair<std::string, int64_t>>& cursors,
                                     const std::vector<std::pair<int64_t, EpochMs>>& fired) = 0;
  /// A trigger cursor's value, or nullopt before its first move.
  virtual Result<std::optional<int64_t>> journey_cursor(WorkspaceId ws, const std::string& name) = 0;
  /// Runs of every workspace due at or before `until`, soonest first.
  virtual Result<std::vector<JourneyRun>> due_runs(EpochMs until, int limit) = 0;
  /// The runs with these ids that still exist (finished runs are gone), in id order.
  virtual Result<std::vector<JourneyRun>> runs_by_id(const std::vector<int64_t>& ids) = 0;
  /// The newest event seq and segment change id of the workspace (trigger cursors start here).
  virtual Result<std::pair<int64_t, int64_t>> trigger_heads(WorkspaceId ws) = 0;
  /// Live customers whose date `field` ("birthday" or "custom.NAME") falls on `month_day`
  /// ("MM-DD") in any year.
  virtual Result<std::vector<CustomerId>> customers_with_anniversary(WorkspaceId ws,
                                                                     const std::string& field,
                                                                     const std::string& month_day) = 0;
  /// Unfinished runs of one journey.
  virtual Result<std::vector<JourneyRun>> journey_runs(WorkspaceId ws, int64_t journey_id) = 0;
  /// Customers who entered the journey at or after `since`.
  virtual Result<std::vector<CustomerId>> journey_entrants(WorkspaceId ws, int64_t journey_id,
                                                           EpochMs since) = 0;
  /// Applies one step of a run atomically (see RunAdvance). kConflict when the run is gone or
  /// no longer at `expected_pc`.
  virtual Result<AdvanceOutcome> advance_run(WorkspaceId ws, const RunAdvance& a) = 0;
  /// Events stored after `after_seq`, in arrival order.
  virtual Result<std::vector<Event>> events_after(WorkspaceId ws, int64_t after_seq,
                                                  int limit) = 0;
  /// Segment changes of every segment after change id `after_seq`, oldest first.
  virtual Result<std::vector<SegmentChange>> segment_changes_after(WorkspaceId ws,
                                                                   int64_t after_seq,
                                                                   int limit) = 0;
  /// Counts of a journey; goals are `goal_event` events within `goal_within_ms` of entry
  /// (none when the event is empty).
  virtual Result<JourneyStats> journey_stats(WorkspaceId ws, int64_t id,
                                             const std::string& goal_event,
                                             EpochMs goal_within_ms) = 0;

  // Outbox
  /// Rows of every workspace waiting for delivery (pending, deferred, retry) due at or before
  /// `until`, soonest first.
  virtual Result<std::vector<OutboxItem>> due_outbox(EpochMs until, int limit) = 0;
  /// Records delivery outcomes in one transaction.
  virtual Status update_outbox(const std::vector<OutboxUpdate>& updates) = 0;
  /// The delivery log, newest first.
  virtual Result<std::vector<OutboxItem>> outbox_items(WorkspaceId ws, const OutboxFilter& f) = 0;
  /// Outbox rows per state for the workspace (the console's delivery summary).
  virtual Result<std::vector<std::pair<std::string, int64_t>>> outbox_counts(WorkspaceId ws) = 0;

  // WeCom
  /// Reserves the customers' enterprise mass message of `day` (workspace day number); returns
  /// those that had none yet that day, now reserved, in one transaction.
  virtual Result<std::vector<CustomerId>> reserve_mass_day(WorkspaceId ws,
                                                           const std::vector<CustomerId>& ids,
                                                           int64_t day) = 0;
  /// Gives back reservations of a task WeCom refused.
  virtual Status release_mass_day(WorkspaceId ws, const std::vector<CustomerId>& ids,
                                  int64_t day) = 0;
  virtual Status record_wecom_task(WorkspaceId ws, const WecomTask& t) = 0;
  /// Tasks of the workspace, newest first; only those not yet sent with `open_only`.
  virtual Result<std::vector<WecomTask>> wecom_tasks(WorkspaceId ws, bool open_only, int limit) = 0;
  /// Records a check of a task: when it was checked, sent (if now known) and reminded.
  virtual Status update_wecom_task(WorkspaceId ws, const WecomTask& t) = 0;

  // Staff tasks
  virtual Result<std::vector<StaffTask>> staff_tasks(WorkspaceId ws, bool open_only,
                                                     std::optional<UserId> staff, int limit) = 0;
  /// Marks a task done; kNotFound for another workspace's task.
  virtual Status complete_task(WorkspaceId ws, int64_t id, const std::string& by, EpochMs at) = 0;

  // Opt-outs and settings
  /// Records (or with `opted_out` false, withdraws) a customer's opt-out from messages.
  virtual Status set_opt_out(WorkspaceId ws, CustomerId c, bool opted_out,
                             const std::string& source, EpochMs at) = 0;
  /// The given customers that have opted out.
  virtual Result<std::vector<CustomerId>> opted_out(WorkspaceId ws,
                                                    const std::vector<CustomerId>& ids) = 0;
  /// A workspace setting's JSON value, or nullopt when never set.
  virtual Result<std::optional<std::string>> setting(WorkspaceId ws, const std::string& name) = 0;
  virtual Status put_setting(WorkspaceId ws, const std::string& name, const std::string& value,
                             EpochMs at) = 0;

  // Audit log
  virtual Status audit(WorkspaceId ws, const AuditEntry& e) = 0;
  virtual Result<std::vector<AuditEntry>> audit_log(WorkspaceId ws, std::optional<int64_t> before,
                                                    int limit) = 0;

  virtual StoreStats stats() const = 0;
};

/// Opens the configured backend, creating and migrating its database as needed.
Result<std::unique_ptr<Store>> open_store(const StoreConfig& config);

/// Text names of roles ("owner", ...), and the inverse.
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

}  // namespace siyu::store
