// The Store: Siyu's system of record. Every acknowledged write has been committed durably
// before the call returns. Callers see only this interface; backends come from open_store().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/records.h"

namespace siyu::store {

struct StoreConfig {
  std::string backend = "sqlite";
  std::string data_dir;      // sqlite: directory holding siyu.db
  bool durable = true;       // fsync on every commit (synchronous=FULL)
  int reader_connections = 4;
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
  int customers_created = 0;
};

/// Per-order outcome of an order batch; a failed status means that order was not stored.
struct OrderResult {
  OrderOutcome outcome = OrderOutcome::kUnchanged;
  Status status;
};

struct StoreStats {
  int64_t commits = 0;
  int64_t commit_micros = 0;
  int64_t reads = 0;
  int64_t read_micros = 0;
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
  /// The membership recorded by the last sweep ("" before the first).
  virtual Result<std::string> segment_members_blob(WorkspaceId ws, int64_t id) = 0;
  /// Stores one sweep's changes, new membership and the day's size, atomically.
  /// Records the sweeps of several segments in one transaction.
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
  virtual Result<std::vector<CustomerFacts>> customer_facts(WorkspaceId ws,
                                                            const std::vector<CustomerId>& ids,
                                                            EpochMs activity_since,
                                                            bool with_properties) = 0;
  /// Calls `fn` for every live customer of the workspace, in id order, from one snapshot.
  virtual Status scan_customer_facts(WorkspaceId ws, EpochMs activity_since, bool with_properties,
                                     const std::function<void(const CustomerFacts&)>& fn) = 0;

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

  // Groups
  virtual Result<Group> create_group(WorkspaceId ws, const Group& g) = 0;
  virtual Result<std::vector<Group>> groups(WorkspaceId ws) = 0;

  /// Figures for [from, to) with days cut at `offset_minutes` from UTC.
  virtual Result<Overview> overview(WorkspaceId ws, EpochMs from, EpochMs to,
                                    int offset_minutes) = 0;

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
