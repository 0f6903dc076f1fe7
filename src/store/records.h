// Rows the Store reads and writes. Personal fields arrive sealed (security::Vault) and are
// opaque bytes here: the store never sees plaintext phone numbers or e-mail addresses.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"

namespace siyu::store {

/// Roles of staff users and API keys, from most to least powerful.
enum class Role { kOwner, kAdmin, kOperator, kStaff, kAnalyst };

struct Workspace {
  WorkspaceId id;
  std::string slug;  // unique, [a-z0-9-]
  std::string name;
  std::string timezone = "Asia/Shanghai";
  EpochMs created_at = 0;
};

struct User {
  UserId id;
  WorkspaceId workspace;
  std::string email;  // login name, lower-case
  std::string display_name;
  Role role = Role::kStaff;
  std::string password_hash;  // argon2id; empty = cannot log in
  bool disabled = false;
  EpochMs created_at = 0;
};

struct ApiKey {
  ApiKeyId id;
  WorkspaceId workspace;
  std::string name;
  Role role = Role::kAnalyst;
  std::string prefix;  // first characters, shown in lists
  std::string digest;  // security::token_digest of the whole key
  EpochMs created_at = 0;
  std::optional<EpochMs> revoked_at;
  std::optional<EpochMs> last_used_at;
};

struct Session {
  std::string digest;  // token_digest of the cookie value
  UserId user;
  WorkspaceId workspace;
  std::string csrf_token;
  EpochMs expires_at = 0;
};

/// One way to recognise a person. `key` is the lookup value: the identifier itself, or a
/// blind index for personal types (phone, email); `sealed` holds the encrypted original then.
struct Identity {
  std::string type;       // wechat_unionid, wechat_openid, wecom_external_userid, phone, ...
  std::string app_id;     // namespace for wechat_openid; empty otherwise
  std::string key;
  std::string sealed;     // encrypted value for personal types; empty otherwise
  std::string display;    // non-personal value, or masked personal value
  CustomerId customer;
  EpochMs created_at = 0;
  /// For personal types: produces `sealed` when the store inserts the identity for the first
  /// time, so events of known people skip encryption. The store calls it for identities it
  /// does not know yet, before or during the write.
  std::function<std::string()> seal_on_insert;
};

struct Customer {
  CustomerId id;
  WorkspaceId workspace;
  std::string name;
  std::string gender = "unknown";  // male, female, unknown
  std::string birthday;  // YYYY-MM-DD or empty
  std::string city;
  std::string phone_sealed;
  std::string phone_masked;
  std::string email_sealed;
  std::string email_masked;
  std::string custom_json = "{}";  // declared custom fields; personal ones sealed as base64
  std::optional<UserId> owner_staff;
  std::optional<ChannelId> channel;
  std::string campaign;
  std::string content;
  std::optional<UserId> referrer_staff;
  std::string referrer_partner;
  std::string layer = "none";  // none, fan, community, friend, member
  bool anonymous = false;
  std::optional<CustomerId> merged_into;
  std::optional<EpochMs> erased_at;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
};

struct CustomerFilter {
  std::optional<std::string> layer;
  std::optional<ChannelId> channel;
  std::optional<UserId> owner_staff;
  std::optional<std::string> city;
  std::optional<std::string> tag;
  std::optional<std::string> name_prefix;
  std::optional<std::string> phone_last4;
  std::optional<CustomerId> identity_customer;  // resolved identity search
  std::optional<EpochMs> created_from;
  std::optional<EpochMs> created_to;
  bool include_anonymous = true;
  /// Sort by created_at (ties by id) instead of by id.
  bool by_created = false;
  /// Oldest first instead of newest first.
  bool ascending = false;
  /// Cursor: the last row of the previous page (exclusive bound in the chosen order).
  std::optional<CustomerId> before;
  std::optional<EpochMs> before_created;  // with by_created
  int limit = 50;

  /// Moves the cursor past `last`, the final row of a page.
  void continue_after(const Customer& last) {
    before = last.id;
    before_created = last.created_at;
  }
};

/// Declared type of a custom customer field.
struct FieldDef {
  std::string name;
  std::string type;  // string, number, boolean, date
  bool personal = false;
  std::string label;
};

/// An event property indexed for behaviour conditions: events are also counted per value of
/// it (text, or each text in an array).
struct EventProperty {
  std::string name;
  std::string label;
  EpochMs created_at = 0;
};

struct Event {
  int64_t seq = 0;  // store-assigned order of arrival
  std::string event_id;
  CustomerId customer;
  std::string type;
  EpochMs ts = 0;
  int64_t amount = 0;  // cents
  std::string channel;
  std::string campaign;
  std::string content;
  std::string staff;
  std::string properties_json = "{}";
  EpochMs received_at = 0;
};

/// A change to a relationship fact carried by an event (follow, join_group, add_friend, ...).
struct RelationChange {
  RelationChange() = default;
  RelationChange(std::string k, std::string t, bool a = true, std::string s = {}, bool r = false)
      : kind(std::move(k)), target(std::move(t)), active(a), source(std::move(s)), removed(r) {}

  std::string kind;    // follow, group, friend, membership
  std::string target;  // account, group id, staff id or tier
  bool active = true;  // false ends the relationship
  std::string source;  // groups: how the member came (channel code, invite, wecom, ...)
  bool removed = false;  // groups: ended by the group (moderation, staff), not a quit
};

/// An event whose customer is named by an identity still to be resolved in the transaction.
struct PendingEvent {
  Event event;
  std::optional<CustomerId> customer;  // set when the caller named a customer id
  std::optional<Identity> identity;    // otherwise the identity to resolve or create
  std::optional<RelationChange> relation;
};

struct Order {
  std::string order_id;
  CustomerId customer;  // 0 for a guest checkout
  std::string status;   // paid, refunded, created
  int64_t amount = 0;   // cents
  int64_t refund_amount = 0;
  std::string currency = "CNY";
  std::string store;
  std::string channel;
  std::string staff;
  std::string items_json = "[]";
  EpochMs ordered_at = 0;
  std::optional<EpochMs> paid_at;
  std::optional<EpochMs> refunded_at;
  EpochMs updated_at = 0;
};

struct PendingOrder {
  Order order;
  std::optional<CustomerId> customer;
  std::optional<Identity> identity;
  bool guest = false;
};

enum class OrderOutcome { kCreated, kUnchanged, kUpdated };

struct Channel {
  ChannelId id;
  std::string kind;  // one of the eight sources (DOMAIN.md §3)
  std::string name;
  std::string code;  // unique per workspace
  EpochMs created_at = 0;
};

struct ChannelCost {
  int64_t id = 0;
  ChannelId channel;
  std::string date;  // YYYY-MM-DD
  int64_t amount = 0;
  std::string note;
};

struct ChannelStats {
  ChannelId channel;
  int64_t customers = 0;
  int64_t cost = 0;
};

/// A community group (社群) and its design.
struct Group {
  GroupId id;
  std::string name;
  std::string kind;  // traffic, conversion, organisational
  std::optional<UserId> owner_staff;
  int capacity = 200;
  EpochMs created_at = 0;
  std::string slogan;
  std::string benefits;
  std::string rules;
  std::string threshold_json = R"({"type":"none"})";  // 门槛, checked by community::threshold
  std::string welcome;      // greeting posted within a minute of joins; empty = none
  int64_t code_id = 0;      // the channel code series it belongs to, 0 = none
  int series_no = 0;
  int64_t members = 0;      // current members (read only)
};

struct Tag {
  CustomerId customer;
  std::string tag;
  std::string added_by;
  EpochMs added_at = 0;
  std::optional<EpochMs> expires_at;  // removed by the next sweep after this time
};

/// A named family of tags (interest, lifecycle, value, source, ...).
struct TagGroup {
  int64_t id = 0;
  std::string name;
  std::string description;
  EpochMs created_at = 0;
};

/// A tag in the workspace's catalogue. Customers may carry tags with no definition.
struct TagDef {
  std::string name;
  std::optional<int64_t> group_id;
  std::string description;
  std::string created_by;
  EpochMs created_at = 0;
};

/// An auto-tag rule: while enabled, exactly the customers matching `expression_json` (a
/// segment expression) carry `tag`.
struct TagRule {
  int64_t id = 0;
  std::string name;
  std::string tag;
  std::string expression_json;
  bool enabled = false;
  std::string created_by;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
  std::optional<EpochMs> swept_at;
  int64_t last_gained = 0;
  int64_t last_lost = 0;
};

/// A customer entering or leaving a saved segment, in the order the sweeps found them.
struct SegmentChange {
  int64_t seq = 0;
  int64_t segment_id = 0;
  CustomerId customer;
  bool entered = false;
  EpochMs at = 0;
};

/// A segment's size as of the last sweep of a day (`day` is YYYY-MM-DD, workspace time).
struct SegmentSize {
  std::string day;
  int64_t size = 0;
};

/// A saved segment's recorded membership: the bitmap a sweep last wrote ("" before the first
/// sweep) and the changes recorded after it, oldest first.
struct SegmentMembers {
  std::string blob;
  std::vector<SegmentChange> since;
};

/// What one sweep found for a saved segment.
struct SegmentSweep {
  int64_t segment_id = 0;
  std::vector<CustomerId> entered;
  std::vector<CustomerId> exited;
  /// The new membership serialized by the index, when this sweep writes it; without it the
  /// stored bitmap stays and the changes recorded after it bring it up to date.
  std::optional<std::string> members_blob;
  int64_t size = 0;
  std::string day;
  EpochMs at = 0;
};

struct MergeRecord {
  int64_t id = 0;
  CustomerId survivor;
  CustomerId merged;
  std::string reason;
  EpochMs at = 0;
};

struct AuditEntry {
  int64_t id = 0;
  EpochMs at = 0;
  std::string actor;   // "user:3" or "key:7"
  std::string action;  // export.customers, customer.reveal, key.create, ...
  std::string target;
  std::string detail_json = "{}";
};

/// Headline figures of a workspace for a period (the console's overview).
struct Overview {
  std::vector<std::pair<std::string, int64_t>> layers;  // layer → live customers now
  struct NewCustomers {
    std::string date;  // YYYY-MM-DD in the workspace's time zone
    int64_t channel = 0;  // 0: no channel
    int64_t customers = 0;
  };
  std::vector<NewCustomers> new_customers;  // created in the period, by day and channel
  int64_t orders = 0;    // paid or refunded orders placed in the period
  int64_t gmv = 0;       // cents, refunds subtracted
  int64_t buyers = 0;    // distinct identified customers among them
};

/// A saved segment: a name and a validated expression (JSON text).
struct Segment {
  int64_t id = 0;
  std::string name;
  std::string expression_json;
  std::string created_by;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
};

/// One event as the index's behaviour aggregates see it.
struct ActivityRow {
  std::string type;
  EpochMs ts = 0;
  int64_t amount = 0;
  /// The event's properties; read only when the workspace declared event properties.
  std::string properties_json;
};

/// What the in-memory index needs of one customer.
struct CustomerFacts {
  CustomerId id;
  bool live = false;  // false: missing, merged away or erased
  std::string layer;
  std::string gender;
  std::string city;
  std::optional<ChannelId> channel;
  std::optional<UserId> owner_staff;
  EpochMs created_at = 0;
  std::string custom_json = "{}";  // custom fields as stored (personal ones sealed)
  std::vector<std::string> tags;
  std::vector<std::string> groups;  // active group memberships (group ids as text)
  /// Events since the `activity_since` the caller asked for, in time order.
  std::vector<ActivityRow> activity;
  /// Paid orders with a positive net amount (amount less refunds) and their sum.
  int64_t paid_orders = 0;
  int64_t spend = 0;
  std::optional<EpochMs> last_paid_at;
  /// The latest lifetime-value prediction, when a refit has covered the customer.
  std::optional<int64_t> predicted_value;  // cents over 12 months
  std::optional<double> p_alive;           // 0..1
};

/// Customer ids per block of a parted scan (Store::scan_customer_facts): the index's chunk of
/// 65,536 ids, so a block lands in one container of each bitmap.
constexpr int64_t kFactBlockIds = 65'536;
/// The most parts a scan of customer facts reads at once.
constexpr int kMaxScanParts = 8;

/// Customer facts read in one snapshot, with the snapshot's event generation: the event
/// sequence number after the newest events it includes. An EventsCommitted notice whose
/// generation is at most this one is already in the facts.
struct FactsSnapshot {
  int64_t generation = 0;
  std::vector<CustomerFacts> facts;
};

/// The events one ingest stored, told in commit order so derived indexes can add them
/// without reading the customers back.
struct EventsCommitted {
  WorkspaceId workspace;
  int64_t generation = 0;               // the event sequence after these events
  EpochMs at = 0;                       // when stored: the creation time of `created`
  std::vector<CustomerId> created;      // anonymous customers made for unknown identities
  std::vector<std::pair<CustomerId, ActivityRow>> events;
};

/// One row of a customer's timeline.
struct TimelineItem {
  EpochMs at = 0;
  std::string kind;  // event, order, tag, layer, merge
  std::string title;
  std::string detail_json = "{}";
  int64_t seq = 0;  // tie-breaker, unique within kind
};

}  // namespace siyu::store
