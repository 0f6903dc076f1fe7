#include "store/sqlite/community_sql.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "core/json.h"
#include "core/time_format.h"
#include "store/sqlite/journey_sql.h"

namespace siyu::store::sqlite::community_sql {
namespace {

constexpr int64_t kDayMs = 86'400'000;

constexpr const char* kGroupColumns =
    "id, name, kind, owner_staff, capacity, created_at, slogan, benefits, rules, threshold, "
    "welcome, code_id, series_no, members";

Group read_group(const Statement& r) {
  Group g;
  g.id = GroupId(r.int_at(0));
  g.name = r.text_at(1);
  g.kind = r.text_at(2);
  if (auto v = r.opt_int_at(3)) g.owner_staff = UserId(*v);
  g.capacity = static_cast<int>(r.int_at(4));
  g.created_at = r.int_at(5);
  g.slogan = r.text_at(6);
  g.benefits = r.text_at(7);
  g.rules = r.text_at(8);
  g.threshold_json = r.text_at(9);
  g.welcome = r.text_at(10);
  g.code_id = r.int_at(11);
  g.series_no = static_cast<int>(r.int_at(12));
  g.members = r.int_at(13);
  return g;
}

std::string words_json(const std::vector<std::string>& words) { return Json(words).dump(); }

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& w : j) {
    if (w.is_string()) out.push_back(w.get<std::string>());
  }
  return out;
}

std::optional<int64_t> group_number(const std::string& target) {
  int64_t v = 0;
  const char* end = target.data() + target.size();
  auto [p, ec] = std::from_chars(target.data(), end, v);
  if (ec != std::errc() || p != end || v <= 0) return std::nullopt;
  return v;
}

Status add_day_figures(Connection& c, WorkspaceId ws, GroupId group, int64_t day,
                       const GroupDay& d) {
  SIYU_PREPARE(s, c,
               "INSERT INTO group_days (workspace_id, group_id, day, messages, active_members, "
               "joins, quits, removals, violations, early_leaves) VALUES (?,?,?,?,?,?,?,?,?,?) ON "
               "CONFLICT DO UPDATE SET messages=messages+excluded.messages, "
               "active_members=active_members+excluded.active_members, "
               "joins=joins+excluded.joins, quits=quits+excluded.quits, "
               "removals=removals+excluded.removals, violations=violations+excluded.violations, "
               "early_leaves=early_leaves+excluded.early_leaves");
  s->bind(1, ws.value)
      .bind(2, group.value)
      .bind(3, day)
      .bind(4, d.messages)
      .bind(5, d.active_members)
      .bind(6, d.joins)
      .bind(7, d.quits)
      .bind(8, d.removals)
      .bind(9, d.violations)
      .bind(10, d.early_leaves);
  return s->run();
}

OutboxItem group_post(WorkspaceId ws, GroupId group, std::string idem_key, const std::string& text,
                      const std::string& step, EpochMs now) {
  OutboxItem o;
  o.workspace = ws;
  o.idem_key = std::move(idem_key);
  o.kind = "group_post";
  o.message_class = "key";
  o.group = group;
  o.step = step;
  o.payload_json = Json{{"content", {{"text", text}}}}.dump();
  o.state = "pending";
  o.not_before = now;
  o.created_at = now;
  return o;
}

/// Messages are indexed by (workspace, ten-minute slot, group, time, msg_id): the slot is the
/// expression of migration 0009's index, spelled the same way so the index serves the query.
constexpr int64_t kSlotMs = 600'000;
constexpr int64_t kSlotsPerDay = kDayMs / kSlotMs;
/// How far back a reply's quoted message is looked for.
constexpr int64_t kReplyLookbackSlots = 7 * kSlotsPerDay;

int64_t slot_of(EpochMs at) { return at >= 0 ? at / kSlotMs : (at - kSlotMs + 1) / kSlotMs; }

/// The slots of the workspace's first and last messages, or nullopt when it has none.
Result<std::optional<std::pair<int64_t, int64_t>>> slot_span(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(span, c,
               "SELECT (SELECT min(at/600000) FROM group_messages WHERE workspace_id=?1), "
               "(SELECT max(at/600000) FROM group_messages WHERE workspace_id=?1)");
  span->bind(1, ws.value);
  std::optional<std::pair<int64_t, int64_t>> out;
  if (span->step() && !span->is_null(0)) out = std::pair(span->int_at(0), span->int_at(1));
  Status st = span->status();
  span->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

/// The time before which the workspace's message text was cleared, if it ever was.
Result<std::optional<EpochMs>> text_cleared_before(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c, "SELECT cleared_before FROM message_text_marks WHERE workspace_id=?");
  s->bind(1, ws.value);
  return optional_scalar(*s);
}

/// The author of message `msg_id` of `group`, looked for from the slot of `at` back a week.
Result<std::optional<CustomerId>> author_of(Connection& c, WorkspaceId ws, GroupId group,
                                            const std::string& msg_id, EpochMs at) {
  SIYU_PREPARE(s, c,
               "SELECT customer_id FROM group_messages WHERE workspace_id=? AND at/600000=? AND "
               "group_id=? AND msg_id=?");
  for (int64_t slot = slot_of(at); slot > slot_of(at) - kReplyLookbackSlots; --slot) {
    s->bind(1, ws.value).bind(2, slot).bind(3, group.value).bind(4, msg_id);
    const bool found = s->step();
    const int64_t customer = found ? s->int_at(0) : 0;
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (found) return customer != 0 ? std::optional(CustomerId(customer)) : std::nullopt;
  }
  return std::optional<CustomerId>();
}

/// How many memberships of the workspace have ended.
Result<int64_t> member_leaves(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c, "SELECT member_leaves FROM workspaces WHERE id=?");
  s->bind(1, ws.value);
  return one<int64_t>(*s, [](const Statement& r) { return r.int_at(0); },
                      "workspace " + std::to_string(ws.value));
}

/// Adds one member's written-behind activity to its member_activity row; returns the days that
/// became active days (later than the member's latest one), or nothing when the customer was
/// never a member of the group.
Result<std::vector<int64_t>> apply_activity(Connection& c, WorkspaceId ws, GroupId group,
                                            CustomerId customer, const MemberFigures& a) {
  SIYU_PREPARE(q, c,
               "SELECT last_active_day FROM member_activity WHERE workspace_id=? AND group_id=? "
               "AND customer_id=?");
  q->bind(1, ws.value).bind(2, group.value).bind(3, customer.value);
  SIYU_ASSIGN_OR_RETURN(const auto last_day, optional_scalar(*q));
  const int64_t last = last_day.value_or(-1);
  std::vector<int64_t> fresh;
  if (!last_day) {
    SIYU_PREPARE(m, c,
                 "SELECT 1 FROM group_members WHERE workspace_id=? AND group_id=? AND customer_id=?");
    m->bind(1, ws.value).bind(2, group.value).bind(3, customer.value);
    SIYU_ASSIGN_OR_RETURN(const bool ever_member, has_row(*m));
    if (!ever_member) return fresh;
  }
  for (int64_t d : a.days) {
    if (d > last) fresh.push_back(d);
  }
  SIYU_PREPARE(u, c,
               "INSERT INTO member_activity (workspace_id, group_id, customer_id, messages, "
               "replies_drawn, violations, active_days, last_active_day) VALUES (?,?,?,?,?,?,?,?) "
               "ON CONFLICT DO UPDATE SET messages=messages+excluded.messages, "
               "replies_drawn=replies_drawn+excluded.replies_drawn, "
               "violations=violations+excluded.violations, "
               "active_days=active_days+excluded.active_days, "
               "last_active_day=max(last_active_day, excluded.last_active_day)");
  u->bind(1, ws.value)
      .bind(2, group.value)
      .bind(3, customer.value)
      .bind(4, a.messages)
      .bind(5, a.replies_drawn)
      .bind(6, a.violations)
      .bind(7, static_cast<int64_t>(fresh.size()))
      .bind(8, fresh.empty() ? last : fresh.back());
  SIYU_RETURN_IF_ERROR(u->run());
  return fresh;
}

GroupMessage read_message(const Statement& r) {
  GroupMessage m;
  m.id = r.int_at(0);
  m.group = GroupId(r.int_at(1));
  m.msg_id = r.text_at(2);
  m.customer = CustomerId(r.int_at(3));
  m.sender = r.text_at(4);
  m.type = r.text_at(5);
  m.text = r.text_at(6);
  m.at = r.int_at(7);
  m.reply_to = r.text_at(8);
  if (!r.text_at(9).empty()) {
    m.moderation = ModerationAction{};
    m.moderation->rule_name = r.text_at(9);
  }
  return m;
}

constexpr const char* kMessageColumns =
    "id, group_id, msg_id, customer_id, sender, type, coalesce(text, ''), at, reply_to, verdict";

}  // namespace

Result<int> offset_of(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c, "SELECT timezone FROM workspaces WHERE id=?");
  s->bind(1, ws.value);
  SIYU_ASSIGN_OR_RETURN(std::string zone,
                        one<std::string>(*s, [](const Statement& r) { return r.text_at(0); },
                                         "workspace " + std::to_string(ws.value)));
  return zone_offset_minutes(zone);
}

Status apply_membership(Connection& c, WorkspaceId ws, CustomerId cust, const RelationChange& r,
                        EpochMs at) {
  const auto number = group_number(r.target);
  if (!number) return Status::ok();
  const GroupId group(*number);
  SIYU_PREPARE(g, c, "SELECT welcome FROM groups WHERE workspace_id=? AND id=?");
  g->bind(1, ws.value).bind(2, group.value);
  const bool exists = g->step();
  const bool greets = exists && !g->text_at(0).empty();
  Status st = g->status();
  g->reset();
  SIYU_RETURN_IF_ERROR(st);
  if (!exists) return Status::ok();
  SIYU_ASSIGN_OR_RETURN(int offset, offset_of(c, ws));
  GroupDay figures;
  std::string kind;
  if (r.active) {
    SIYU_PREPARE(m, c,
                 "INSERT INTO group_members (workspace_id, group_id, customer_id, source, "
                 "joined_at) VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET joined_at=excluded.joined_at, "
                 "source=excluded.source, left_at=NULL, leave_kind='' WHERE left_at IS NOT NULL");
    m->bind(1, ws.value).bind(2, group.value).bind(3, cust.value).bind(4, r.source).bind(5, at);
    SIYU_RETURN_IF_ERROR(m->run());
    if (c.changes() == 0) return Status::ok();  // already a member
    kind = "join";
    figures.joins = 1;
  } else {
    SIYU_PREPARE(m, c,
                 "UPDATE group_members SET left_at=?, leave_kind=? WHERE workspace_id=? AND "
                 "group_id=? AND customer_id=? AND left_at IS NULL RETURNING joined_at");
    kind = r.removed ? "removed" : "quit";
    m->bind(1, at).bind(2, kind).bind(3, ws.value).bind(4, group.value).bind(5, cust.value);
    const bool was_member = m->step();
    const EpochMs joined_at = was_member ? m->int_at(0) : 0;
    st = m->status();
    m->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (!was_member) return Status::ok();
    (r.removed ? figures.removals : figures.quits) = 1;
    SIYU_PREPARE(leaves, c, "UPDATE workspaces SET member_leaves=member_leaves+1 WHERE id=?");
    leaves->bind(1, ws.value);
    SIYU_RETURN_IF_ERROR(leaves->run());
    if (at - joined_at < 7 * kDayMs) {
      GroupDay early;
      early.early_leaves = 1;
      for (GroupId target : {group, GroupId(0)}) {
        SIYU_RETURN_IF_ERROR(add_day_figures(c, ws, target, local_day(joined_at, offset), early));
      }
    }
  }
  SIYU_PREPARE(n, c, "UPDATE groups SET members=members+? WHERE workspace_id=? AND id=?");
  n->bind(1, int64_t{r.active ? 1 : -1}).bind(2, ws.value).bind(3, group.value);
  SIYU_RETURN_IF_ERROR(n->run());
  SIYU_PREPARE(e, c,
               "INSERT INTO group_member_events (workspace_id, group_id, customer_id, kind, "
               "source, at, welcomed_at) VALUES (?,?,?,?,?,?,?)");
  e->bind(1, ws.value).bind(2, group.value).bind(3, cust.value).bind(4, kind).bind(5, r.source).bind(6, at);
  if (kind == "join" && greets) {
    e->bind_null(7);
  } else {
    e->bind(7, int64_t{0});
  }
  SIYU_RETURN_IF_ERROR(e->run());
  SIYU_RETURN_IF_ERROR(add_day_figures(c, ws, group, local_day(at, offset), figures));
  return add_day_figures(c, ws, GroupId(0), local_day(at, offset), figures);
}

Result<Group> create_group(Connection& c, WorkspaceId ws, const Group& g) {
  SIYU_PREPARE(s, c,
               "INSERT INTO groups (workspace_id, id, name, kind, owner_staff, capacity, "
               "created_at, slogan, benefits, rules, threshold, welcome, code_id, series_no) "
               "VALUES (?1, (SELECT coalesce(max(id), 0) + 1 FROM groups WHERE workspace_id=?1), "
               "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id");
  s->bind(1, ws.value).bind(2, g.name).bind(3, g.kind);
  s->bind_opt(4, g.owner_staff ? std::optional<int64_t>(g.owner_staff->value) : std::nullopt);
  s->bind(5, int64_t{g.capacity})
      .bind(6, g.created_at)
      .bind(7, g.slogan)
      .bind(8, g.benefits)
      .bind(9, g.rules)
      .bind(10, g.threshold_json)
      .bind(11, g.welcome)
      .bind(12, g.code_id)
      .bind(13, int64_t{g.series_no});
  Group out = g;
  out.members = 0;
  if (s->step()) out.id = GroupId(s->int_at(0));
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<std::vector<Group>> groups(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kGroupColumns +
                   " FROM groups WHERE workspace_id=? ORDER BY id");
  s->bind(1, ws.value);
  return all<Group>(*s, read_group);
}

Result<Group> group(Connection& c, WorkspaceId ws, GroupId id) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kGroupColumns + " FROM groups WHERE workspace_id=? AND id=?");
  s->bind(1, ws.value).bind(2, id.value);
  return one<Group>(*s, read_group, "group " + std::to_string(id.value) + " not found");
}

Status update_group(Connection& c, WorkspaceId ws, const Group& g) {
  SIYU_PREPARE(s, c,
               "UPDATE groups SET name=?, kind=?, owner_staff=?, capacity=?, slogan=?, "
               "benefits=?, rules=?, threshold=?, welcome=? WHERE workspace_id=? AND id=?");
  s->bind(1, g.name).bind(2, g.kind);
  s->bind_opt(3, g.owner_staff ? std::optional<int64_t>(g.owner_staff->value) : std::nullopt);
  s->bind(4, int64_t{g.capacity})
      .bind(5, g.slogan)
      .bind(6, g.benefits)
      .bind(7, g.rules)
      .bind(8, g.threshold_json)
      .bind(9, g.welcome)
      .bind(10, ws.value)
      .bind(11, g.id.value);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("group " + std::to_string(g.id.value) + " not found");
  return Status::ok();
}

Result<std::vector<GroupMember>> members(Connection& c, WorkspaceId ws, GroupId group,
                                         bool include_past) {
  SIYU_PREPARE(s, c,
               "SELECT m.customer_id, coalesce(cu.name, ''), m.role, m.role_by, m.source, "
               "m.joined_at, m.left_at, m.leave_kind, coalesce(a.messages, 0), "
               "coalesce(a.replies_drawn, 0), coalesce(a.active_days, 0), "
               "coalesce(a.last_active_day, -1), coalesce(a.violations, 0) FROM group_members m "
               "LEFT JOIN member_activity a ON a.workspace_id=m.workspace_id AND "
               "a.group_id=m.group_id AND a.customer_id=m.customer_id LEFT JOIN customers cu ON "
               "cu.workspace_id=m.workspace_id AND cu.id=m.customer_id WHERE m.workspace_id=? "
               "AND m.group_id=? AND (? OR m.left_at IS NULL) ORDER BY m.joined_at, m.customer_id");
  s->bind(1, ws.value).bind(2, group.value).bind(3, int64_t{include_past ? 1 : 0});
  return all<GroupMember>(*s, [&](const Statement& r) {
    GroupMember m;
    m.group = group;
    m.customer = CustomerId(r.int_at(0));
    m.name = r.text_at(1);
    m.role = r.text_at(2);
    m.role_by = r.text_at(3);
    m.source = r.text_at(4);
    m.joined_at = r.int_at(5);
    m.left_at = r.opt_int_at(6);
    m.leave_kind = r.text_at(7);
    m.messages = r.int_at(8);
    m.replies_drawn = r.int_at(9);
    m.active_days = r.int_at(10);
    m.last_active_day = r.int_at(11);
    m.violations = r.int_at(12);
    return m;
  });
}

Result<std::vector<GroupId>> groups_of(Connection& c, WorkspaceId ws, CustomerId customer) {
  // Without statistics the planner prefers the covering primary key and walks every membership
  // of the workspace (0.5 s at 10 M); the by-customer index finds a customer's few directly.
  // Sorted here: ORDER BY group_id would tempt it the same way.
  SIYU_PREPARE(s, c,
               "SELECT group_id FROM group_members INDEXED BY group_members_by_customer WHERE "
               "workspace_id=? AND customer_id=? AND left_at IS NULL");
  s->bind(1, ws.value).bind(2, customer.value);
  SIYU_ASSIGN_OR_RETURN(auto out, all<GroupId>(*s, [](const Statement& r) { return GroupId(r.int_at(0)); }));
  std::sort(out.begin(), out.end(), [](GroupId a, GroupId b) { return a.value < b.value; });
  return out;
}

Result<bool> is_member(Connection& c, WorkspaceId ws, GroupId group, CustomerId customer) {
  SIYU_PREPARE(q, c,
               "SELECT 1 FROM group_members WHERE workspace_id=? AND group_id=? AND customer_id=? "
               "AND left_at IS NULL");
  q->bind(1, ws.value).bind(2, group.value).bind(3, customer.value);
  return has_row(*q);
}

Status set_role(Connection& c, WorkspaceId ws, GroupId group, CustomerId customer,
                const std::string& role, const std::string& by, EpochMs at) {
  SIYU_PREPARE(s, c,
               "UPDATE group_members SET role=?, role_by=?, role_at=? WHERE workspace_id=? AND "
               "group_id=? AND customer_id=? AND left_at IS NULL");
  s->bind(1, role).bind(2, by).bind(3, at).bind(4, ws.value).bind(5, group.value).bind(6, customer.value);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) {
    return not_found("customer " + std::to_string(customer.value) + " is not a member of group " +
                     std::to_string(group.value));
  }
  return Status::ok();
}

/// The newest membership fact of any workspace, and the workspace's count of ended memberships.
Status membership_mark(Connection& c, WorkspaceId ws, MembershipFacts& out) {
  SIYU_PREPARE(s, c, "SELECT coalesce(max(id), 0) FROM group_member_events");
  SIYU_ASSIGN_OR_RETURN(out.through, scalar(*s));
  SIYU_ASSIGN_OR_RETURN(out.member_leaves, member_leaves(c, ws));
  return Status::ok();
}

Result<MembershipFacts> current_members(Connection& c, WorkspaceId ws) {
  MembershipFacts out;
  SIYU_RETURN_IF_ERROR(membership_mark(c, ws, out));
  SIYU_PREPARE(s, c,
               "SELECT group_id, customer_id FROM group_members WHERE workspace_id=? AND left_at "
               "IS NULL");
  s->bind(1, ws.value);
  while (s->step()) out.changes.push_back({GroupId(s->int_at(0)), CustomerId(s->int_at(1)), true});
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<MembershipFacts> membership_changes_after(Connection& c, WorkspaceId ws, int64_t after) {
  MembershipFacts out;
  SIYU_RETURN_IF_ERROR(membership_mark(c, ws, out));
  SIYU_PREPARE(s, c,
               "SELECT group_id, customer_id, kind FROM group_member_events WHERE id>? AND "
               "id<=? AND workspace_id=? ORDER BY id");
  s->bind(1, after).bind(2, out.through).bind(3, ws.value);
  while (s->step()) {
    out.changes.push_back({GroupId(s->int_at(0)), CustomerId(s->int_at(1)), s->text_at(2) == "join"});
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<std::vector<GroupMemberEvent>> member_events(Connection& c, WorkspaceId ws, GroupId group,
                                                    EpochMs since, int limit) {
  SIYU_PREPARE(s, c,
               "SELECT id, customer_id, kind, source, at FROM group_member_events WHERE "
               "workspace_id=? AND group_id=? AND at>=? ORDER BY at DESC, id DESC LIMIT ?");
  s->bind(1, ws.value).bind(2, group.value).bind(3, since).bind(4, int64_t{limit});
  return all<GroupMemberEvent>(*s, [&](const Statement& r) {
    return GroupMemberEvent{r.int_at(0), group, CustomerId(r.int_at(1)), r.text_at(2),
                            r.text_at(3), r.int_at(4)};
  });
}

Result<MessageBatchResult> store_messages(Connection& c, WorkspaceId ws, const MessageBatch& batch,
                                          EpochMs now, const AddMember& add,
                                          const RemoveMember& remove) {
  MessageBatchResult out;
  out.stored.reserve(batch.messages.size());
  out.ids.reserve(batch.messages.size());
  out.reply_authors.reserve(batch.messages.size());
  std::set<std::pair<int64_t, int64_t>> checked;  // (group, customer) whose membership was read
  SIYU_ASSIGN_OR_RETURN(const int64_t leaves, member_leaves(c, ws));
  // Text older than the last retention clearing is not kept, whenever the message arrives.
  SIYU_ASSIGN_OR_RETURN(auto cleared, text_cleared_before(c, ws));
  const EpochMs keep_text_from = cleared.value_or(INT64_MIN);
  const bool trust_known = batch.member_leaves == leaves &&
                           batch.sender_known.size() == batch.messages.size();
  size_t index = 0;
  SIYU_PREPARE(ins, c,
               "INSERT INTO group_messages (workspace_id, group_id, msg_id, customer_id, sender, "
               "type, text, at, reply_to, verdict) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO "
               "NOTHING");
  for (const GroupMessage& m : batch.messages) {
    const bool known = trust_known && batch.sender_known[index++];
    ins->bind(1, ws.value)
        .bind(2, m.group.value)
        .bind(3, m.msg_id)
        .bind(4, m.customer.value)
        .bind(5, m.sender)
        .bind(6, m.type)
        .bind_text_or_null(7, m.at < keep_text_from ? std::string_view() : m.text)
        .bind(8, m.at)
        .bind(9, m.reply_to)
        .bind(10, m.moderation ? m.moderation->rule_name : std::string());
    SIYU_RETURN_IF_ERROR(ins->run());
    const bool stored = c.changes() > 0;
    out.stored.push_back(stored);
    out.ids.push_back(stored ? c.last_insert_rowid() : 0);
    out.reply_authors.emplace_back();
    if (!stored) continue;
    if (m.customer.valid() && !known && checked.insert({m.group.value, m.customer.value}).second) {
      SIYU_ASSIGN_OR_RETURN(bool member, is_member(c, ws, m.group, m.customer));
      if (!member) {
        // A sender we did not know was in the group joined unseen, unless blacklisted (a
        // late message from before the removal).
        SIYU_ASSIGN_OR_RETURN(bool listed, is_blacklisted(c, ws, m.customer));
        if (!listed) SIYU_RETURN_IF_ERROR(add(m.group, m.customer, m.at));
      }
    }
    if (!m.reply_to.empty()) {
      SIYU_ASSIGN_OR_RETURN(auto author, author_of(c, ws, m.group, m.reply_to, m.at));
      if (author && *author != m.customer) out.reply_authors.back() = *author;
    }
    if (m.moderation) {
      const ModerationAction& act = *m.moderation;
      ++out.violations;
      SIYU_PREPARE(log, c,
                   "INSERT INTO moderation_log (workspace_id, group_id, customer_id, rule_id, "
                   "rule_name, action, msg_id, excerpt, matched, at) VALUES (?,?,?,?,?,?,?,?,?,?)");
      log->bind(1, ws.value)
          .bind(2, m.group.value)
          .bind(3, m.customer.value)
          .bind(4, act.rule_id)
          .bind(5, act.rule_name)
          .bind(6, act.action)
          .bind(7, m.msg_id)
          .bind(8, m.text.substr(0, std::min<size_t>(m.text.size(), 300)))
          .bind(9, act.matched)
          .bind(10, m.at);
      SIYU_RETURN_IF_ERROR(log->run());
      if (!act.warning.empty()) {
        SIYU_RETURN_IF_ERROR(journey_sql::insert_outbox(
                                 c, ws,
                                 group_post(ws, m.group, "w" + std::to_string(ws.value) + "-mod-" + m.msg_id,
                                            act.warning, "moderation", now),
                                 CapLimits{}, false)
                                 .status());
      }
      if (m.customer.valid() && act.action == "blacklist") {
        SIYU_RETURN_IF_ERROR(set_blacklisted(c, ws, m.customer, true,
                                             "rule \"" + act.rule_name + "\": " + act.matched,
                                             "moderation", m.at, remove));
      } else if (m.customer.valid() && act.action == "remove") {
        SIYU_RETURN_IF_ERROR(remove(m.group, m.customer, m.at));
      }
    }
    for (const AutoReplyFire& f : m.replies) {
      ++out.replies;
      SIYU_RETURN_IF_ERROR(
          journey_sql::insert_outbox(
              c, ws,
              group_post(ws, m.group,
                         "w" + std::to_string(ws.value) + "-ar" + std::to_string(f.reply_id) + "-" + m.msg_id,
                         f.text, "auto_reply", now),
              CapLimits{}, false)
              .status());
      SIYU_PREPARE(fire, c,
                   "INSERT INTO auto_reply_fires (workspace_id, reply_id, group_id, at) VALUES "
                   "(?,?,?,?) ON CONFLICT DO UPDATE SET at=max(at, excluded.at)");
      fire->bind(1, ws.value).bind(2, f.reply_id).bind(3, m.group.value).bind(4, m.at);
      SIYU_RETURN_IF_ERROR(fire->run());
    }
  }
  return out;
}

/// The entries of a figures map in key order: rows written in key order share pages.
template <typename Map>
std::vector<const typename Map::value_type*> in_key_order(const Map& m) {
  std::vector<const typename Map::value_type*> out;
  out.reserve(m.size());
  for (const auto& entry : m) out.push_back(&entry);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return out;
}

Status apply_figures(Connection& c, WorkspaceId ws, const MessageFigures& f) {
  auto days = f.days;  // (group, day), gaining the members' fresh active days below
  for (const auto* entry : in_key_order(f.members)) {
    const auto& [key, a] = *entry;
    SIYU_ASSIGN_OR_RETURN(auto fresh,
                          apply_activity(c, ws, GroupId(key.first), CustomerId(key.second), a));
    for (int64_t d : fresh) ++days[{key.first, d}].active_members;
  }
  // Written in the table's order, day then group.
  std::vector<const decltype(days)::value_type*> by_day;
  by_day.reserve(days.size());
  for (const auto& entry : days) by_day.push_back(&entry);
  std::sort(by_day.begin(), by_day.end(), [](auto* a, auto* b) {
    return std::pair(a->first.second, a->first.first) < std::pair(b->first.second, b->first.first);
  });
  std::map<int64_t, GroupDay> across;  // group 0: the sums across groups per day
  for (const auto* entry : by_day) {
    const auto& [key, d] = *entry;
    SIYU_RETURN_IF_ERROR(add_day_figures(c, ws, GroupId(key.first), key.second, d));
    GroupDay& sum = across[key.second];
    sum.messages += d.messages;
    sum.active_members += d.active_members;
    sum.violations += d.violations;
  }
  for (const auto& [day, d] : across) {
    SIYU_RETURN_IF_ERROR(add_day_figures(c, ws, GroupId(0), day, d));
  }
  SIYU_PREPARE(h, c,
               "INSERT INTO group_hours (workspace_id, day, group_id, hour, messages) VALUES "
               "(?,?,?,?,?) ON CONFLICT DO UPDATE SET messages=messages+excluded.messages");
  for (const auto* entry : in_key_order(f.hours)) {
    const auto& [key, n] = *entry;
    h->bind(1, ws.value)
        .bind(2, std::get<0>(key))
        .bind(3, std::get<1>(key))
        .bind(4, int64_t{std::get<2>(key)})
        .bind(5, n);
    SIYU_RETURN_IF_ERROR(h->run());
  }
  SIYU_PREPARE(t, c,
               "INSERT INTO topic_days (workspace_id, day, term, n) VALUES (?,?,?,?) ON CONFLICT "
               "DO UPDATE SET n=n+excluded.n");
  for (const auto* entry : in_key_order(f.terms)) {
    const auto& [key, n] = *entry;
    t->bind(1, ws.value).bind(2, key.first).bind(3, key.second).bind(4, n);
    SIYU_RETURN_IF_ERROR(t->run());
  }
  SIYU_PREPARE(mark, c,
               "INSERT INTO message_figures_marks (workspace_id, through) VALUES (?,?) ON CONFLICT "
               "DO UPDATE SET through=max(through, excluded.through)");
  mark->bind(1, ws.value).bind(2, f.through);
  return mark->run();
}

Result<int64_t> figures_mark(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c, "SELECT through FROM message_figures_marks WHERE workspace_id=?");
  s->bind(1, ws.value);
  return scalar(*s);
}

Result<std::vector<GroupMessage>> messages_after(Connection& c, WorkspaceId ws, int64_t after_id,
                                                 int limit) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kMessageColumns +
                   " FROM group_messages WHERE id>? AND workspace_id=? ORDER BY id LIMIT ?");
  s->bind(1, after_id).bind(2, ws.value).bind(3, int64_t{limit});
  SIYU_ASSIGN_OR_RETURN(auto out, all<GroupMessage>(*s, read_message));
  for (GroupMessage& m : out) {
    if (m.reply_to.empty()) continue;
    SIYU_ASSIGN_OR_RETURN(auto author, author_of(c, ws, m.group, m.reply_to, m.at));
    if (author && *author != m.customer) m.reply_author = *author;
  }
  return out;
}

Result<std::vector<GroupMessage>> messages(Connection& c, WorkspaceId ws, GroupId group,
                                           EpochMs from, EpochMs to, int limit) {
  std::vector<GroupMessage> out;
  if (from >= to || limit <= 0) return out;
  // Slot by slot from the newest, within the slots of the workspace's first and last messages.
  SIYU_ASSIGN_OR_RETURN(auto span, slot_span(c, ws));
  if (!span) return out;
  const auto [first_slot, last_slot] = *span;
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kMessageColumns +
                   " FROM group_messages WHERE workspace_id=? AND at/600000=? AND group_id=? AND "
                   "at>=? AND at<? ORDER BY at DESC, id DESC LIMIT ?");
  for (int64_t slot = std::min(slot_of(to - 1), last_slot); slot >= std::max(slot_of(from), first_slot);
       --slot) {
    s->bind(1, ws.value)
        .bind(2, slot)
        .bind(3, group.value)
        .bind(4, from)
        .bind(5, to)
        .bind(6, static_cast<int64_t>(limit) - static_cast<int64_t>(out.size()));
    SIYU_ASSIGN_OR_RETURN(auto rows, all<GroupMessage>(*s, read_message));
    for (GroupMessage& m : rows) out.push_back(std::move(m));
    if (out.size() >= static_cast<size_t>(limit)) break;
  }
  return out;
}

Result<int64_t> expire_text(Connection& c, WorkspaceId ws, EpochMs before) {
  SIYU_ASSIGN_OR_RETURN(auto cleared, text_cleared_before(c, ws));
  if (cleared && before <= *cleared) return int64_t{0};
  int64_t first_slot = 0;
  if (cleared) {
    first_slot = slot_of(*cleared);
  } else {
    SIYU_ASSIGN_OR_RETURN(auto span, slot_span(c, ws));
    first_slot = span ? span->first : slot_of(before);
  }
  SIYU_PREPARE(s, c,
               "UPDATE group_messages SET text=NULL WHERE workspace_id=? AND at/600000 BETWEEN ? "
               "AND ? AND at<? AND text IS NOT NULL");
  s->bind(1, ws.value).bind(2, first_slot).bind(3, slot_of(before)).bind(4, before);
  SIYU_RETURN_IF_ERROR(s->run());
  const int64_t changed = c.changes();
  SIYU_PREPARE(mark, c,
               "INSERT INTO message_text_marks (workspace_id, cleared_before) VALUES (?,?) ON "
               "CONFLICT DO UPDATE SET cleared_before=excluded.cleared_before");
  mark->bind(1, ws.value).bind(2, before);
  SIYU_RETURN_IF_ERROR(mark->run());
  return changed;
}

Result<std::vector<GroupDay>> days(Connection& c, WorkspaceId ws, std::optional<GroupId> group,
                                   int64_t from_day, int64_t to_day) {
  SIYU_PREPARE(s, c,
               "SELECT group_id, day, messages, active_members, joins, quits, removals, violations, "
               "early_leaves FROM group_days WHERE workspace_id=?1 AND day BETWEEN ?2 AND ?3 AND (?4<0 OR "
               "group_id=?4) ORDER BY day, group_id");
  s->bind(1, ws.value).bind(2, from_day).bind(3, to_day).bind(4, group ? group->value : int64_t{-1});
  return all<GroupDay>(*s, [](const Statement& r) {
    return GroupDay{GroupId(r.int_at(0)), r.int_at(1), r.int_at(2), r.int_at(3), r.int_at(4),
                    r.int_at(5),          r.int_at(6), r.int_at(7), r.int_at(8)};
  });
}

Result<std::vector<GroupHour>> hours(Connection& c, WorkspaceId ws, std::optional<GroupId> group,
                                     int64_t from_day, int64_t to_day) {
  // Group 0 holds the sums across the workspace's groups. Rows lead with the day, so a group's
  // are found day by day rather than among every group's rows of the window.
  const GroupId wanted = group.value_or(GroupId(0));
  SIYU_PREPARE(s, c,
               "SELECT hour, messages FROM group_hours WHERE workspace_id=? AND day=? AND "
               "group_id=?");
  std::vector<GroupHour> out;
  for (int64_t day = from_day; day <= to_day; ++day) {
    s->bind(1, ws.value).bind(2, day).bind(3, wanted.value);
    SIYU_ASSIGN_OR_RETURN(auto rows, all<GroupHour>(*s, [&](const Statement& r) {
      return GroupHour{wanted, day, static_cast<int>(r.int_at(0)), r.int_at(1)};
    }));
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> topics(Connection& c, WorkspaceId ws,
                                                            int64_t from_day, int64_t to_day,
                                                            int limit) {
  SIYU_PREPARE(s, c,
               "SELECT term, sum(n) AS total FROM topic_days WHERE workspace_id=? AND day BETWEEN "
               "? AND ? GROUP BY term ORDER BY total DESC, term LIMIT ?");
  s->bind(1, ws.value).bind(2, from_day).bind(3, to_day).bind(4, int64_t{limit});
  return all<std::pair<std::string, int64_t>>(
      *s, [](const Statement& r) { return std::pair(r.text_at(0), r.int_at(1)); });
}

Result<ModerationRule> put_rule(Connection& c, WorkspaceId ws, const ModerationRule& r) {
  ModerationRule out = r;
  if (r.id == 0) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO moderation_rules (workspace_id, id, name, kind, words, action, "
                 "flood_messages, flood_seconds, enabled, updated_at) VALUES (?1, (SELECT "
                 "coalesce(max(id), 0) + 1 FROM moderation_rules WHERE workspace_id=?1), ?2, ?3, "
                 "?4, ?5, ?6, ?7, ?8, ?9) RETURNING id");
    s->bind(1, ws.value)
        .bind(2, r.name)
        .bind(3, r.kind)
        .bind(4, words_json(r.words))
        .bind(5, r.action)
        .bind(6, int64_t{r.flood_messages})
        .bind(7, int64_t{r.flood_seconds})
        .bind(8, int64_t{r.enabled ? 1 : 0})
        .bind(9, r.updated_at);
    if (s->step()) out.id = s->int_at(0);
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    return out;
  }
  SIYU_PREPARE(s, c,
               "UPDATE moderation_rules SET name=?, kind=?, words=?, action=?, flood_messages=?, "
               "flood_seconds=?, enabled=?, updated_at=? WHERE workspace_id=? AND id=?");
  s->bind(1, r.name)
      .bind(2, r.kind)
      .bind(3, words_json(r.words))
      .bind(4, r.action)
      .bind(5, int64_t{r.flood_messages})
      .bind(6, int64_t{r.flood_seconds})
      .bind(7, int64_t{r.enabled ? 1 : 0})
      .bind(8, r.updated_at)
      .bind(9, ws.value)
      .bind(10, r.id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("moderation rule " + std::to_string(r.id) + " not found");
  return out;
}

Result<std::vector<ModerationRule>> rules(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               "SELECT id, name, kind, words, action, flood_messages, flood_seconds, enabled, "
               "updated_at FROM moderation_rules WHERE workspace_id=? ORDER BY id");
  s->bind(1, ws.value);
  return all<ModerationRule>(*s, [](const Statement& r) {
    ModerationRule m;
    m.id = r.int_at(0);
    m.name = r.text_at(1);
    m.kind = r.text_at(2);
    m.words = words_of(r.text_at(3));
    m.action = r.text_at(4);
    m.flood_messages = static_cast<int>(r.int_at(5));
    m.flood_seconds = static_cast<int>(r.int_at(6));
    m.enabled = r.int_at(7) != 0;
    m.updated_at = r.int_at(8);
    return m;
  });
}

Status delete_rule(Connection& c, WorkspaceId ws, int64_t id) {
  SIYU_PREPARE(s, c, "DELETE FROM moderation_rules WHERE workspace_id=? AND id=?");
  s->bind(1, ws.value).bind(2, id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("moderation rule " + std::to_string(id) + " not found");
  return Status::ok();
}

Result<std::vector<ModerationLogEntry>> moderation_log(Connection& c, WorkspaceId ws,
                                                       int64_t before, int limit) {
  SIYU_PREPARE(s, c,
               "SELECT id, group_id, customer_id, rule_id, rule_name, action, msg_id, excerpt, "
               "matched, at FROM moderation_log WHERE workspace_id=? AND id<? ORDER BY id DESC "
               "LIMIT ?");
  s->bind(1, ws.value).bind(2, before > 0 ? before : INT64_MAX).bind(3, int64_t{limit});
  return all<ModerationLogEntry>(*s, [](const Statement& r) {
    return ModerationLogEntry{r.int_at(0),  GroupId(r.int_at(1)), CustomerId(r.int_at(2)),
                              r.int_at(3),  r.text_at(4),         r.text_at(5),
                              r.text_at(6), r.text_at(7),         r.text_at(8),
                              r.int_at(9)};
  });
}

Result<std::vector<std::pair<CustomerId, int64_t>>> violation_counts(Connection& c, WorkspaceId ws,
                                                                     EpochMs since) {
  SIYU_PREPARE(s, c,
               "SELECT customer_id, count(*) FROM moderation_log WHERE workspace_id=? AND at>=? "
               "AND customer_id<>0 GROUP BY customer_id");
  s->bind(1, ws.value).bind(2, since);
  return all<std::pair<CustomerId, int64_t>>(
      *s, [](const Statement& r) { return std::pair(CustomerId(r.int_at(0)), r.int_at(1)); });
}

Result<std::vector<BlacklistEntry>> blacklist(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               "SELECT customer_id, reason, by, at FROM group_blacklist WHERE workspace_id=? "
               "ORDER BY at DESC");
  s->bind(1, ws.value);
  return all<BlacklistEntry>(*s, [](const Statement& r) {
    return BlacklistEntry{CustomerId(r.int_at(0)), r.text_at(1), r.text_at(2), r.int_at(3)};
  });
}

Result<bool> is_blacklisted(Connection& c, WorkspaceId ws, CustomerId customer) {
  SIYU_PREPARE(s, c, "SELECT count(*) FROM group_blacklist WHERE workspace_id=? AND customer_id=?");
  s->bind(1, ws.value).bind(2, customer.value);
  SIYU_ASSIGN_OR_RETURN(int64_t n, scalar(*s));
  return n > 0;
}

Status set_blacklisted(Connection& c, WorkspaceId ws, CustomerId customer, bool listed,
                       const std::string& reason, const std::string& by, EpochMs at,
                       const RemoveMember& remove) {
  if (!listed) {
    SIYU_PREPARE(s, c, "DELETE FROM group_blacklist WHERE workspace_id=? AND customer_id=?");
    s->bind(1, ws.value).bind(2, customer.value);
    return s->run();
  }
  SIYU_PREPARE(s, c,
               "INSERT INTO group_blacklist (workspace_id, customer_id, reason, by, at) VALUES "
               "(?,?,?,?,?) ON CONFLICT DO NOTHING");
  s->bind(1, ws.value).bind(2, customer.value).bind(3, reason).bind(4, by).bind(5, at);
  SIYU_RETURN_IF_ERROR(s->run());
  SIYU_ASSIGN_OR_RETURN(auto in, groups_of(c, ws, customer));
  for (GroupId g : in) SIYU_RETURN_IF_ERROR(remove(g, customer, at));
  return Status::ok();
}

Result<AutoReply> put_auto_reply(Connection& c, WorkspaceId ws, const AutoReply& r) {
  AutoReply out = r;
  if (r.id == 0) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO auto_replies (workspace_id, id, name, match, keywords, reply, "
                 "group_id, cooldown_seconds, enabled, updated_at) VALUES (?1, (SELECT "
                 "coalesce(max(id), 0) + 1 FROM auto_replies WHERE workspace_id=?1), ?2, ?3, ?4, "
                 "?5, ?6, ?7, ?8, ?9) RETURNING id");
    s->bind(1, ws.value)
        .bind(2, r.name)
        .bind(3, r.match)
        .bind(4, words_json(r.keywords))
        .bind(5, r.reply)
        .bind(6, r.group.value)
        .bind(7, int64_t{r.cooldown_seconds})
        .bind(8, int64_t{r.enabled ? 1 : 0})
        .bind(9, r.updated_at);
    if (s->step()) out.id = s->int_at(0);
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    return out;
  }
  SIYU_PREPARE(s, c,
               "UPDATE auto_replies SET name=?, match=?, keywords=?, reply=?, group_id=?, "
               "cooldown_seconds=?, enabled=?, updated_at=? WHERE workspace_id=? AND id=?");
  s->bind(1, r.name)
      .bind(2, r.match)
      .bind(3, words_json(r.keywords))
      .bind(4, r.reply)
      .bind(5, r.group.value)
      .bind(6, int64_t{r.cooldown_seconds})
      .bind(7, int64_t{r.enabled ? 1 : 0})
      .bind(8, r.updated_at)
      .bind(9, ws.value)
      .bind(10, r.id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("auto-reply " + std::to_string(r.id) + " not found");
  return out;
}

Result<std::vector<AutoReply>> auto_replies(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               "SELECT id, name, match, keywords, reply, group_id, cooldown_seconds, enabled, "
               "updated_at FROM auto_replies WHERE workspace_id=? ORDER BY id");
  s->bind(1, ws.value);
  return all<AutoReply>(*s, [](const Statement& r) {
    AutoReply a;
    a.id = r.int_at(0);
    a.name = r.text_at(1);
    a.match = r.text_at(2);
    a.keywords = words_of(r.text_at(3));
    a.reply = r.text_at(4);
    a.group = GroupId(r.int_at(5));
    a.cooldown_seconds = static_cast<int>(r.int_at(6));
    a.enabled = r.int_at(7) != 0;
    a.updated_at = r.int_at(8);
    return a;
  });
}

Status delete_auto_reply(Connection& c, WorkspaceId ws, int64_t id) {
  SIYU_PREPARE(s, c, "DELETE FROM auto_replies WHERE workspace_id=? AND id=?");
  s->bind(1, ws.value).bind(2, id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("auto-reply " + std::to_string(id) + " not found");
  return Status::ok();
}

Result<std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>> auto_reply_fires(
    Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c, "SELECT reply_id, group_id, at FROM auto_reply_fires WHERE workspace_id=?");
  s->bind(1, ws.value);
  return all<std::pair<std::pair<int64_t, GroupId>, EpochMs>>(*s, [](const Statement& r) {
    return std::pair(std::pair(r.int_at(0), GroupId(r.int_at(1))), r.int_at(2));
  });
}

Result<std::vector<PendingWelcome>> pending_welcomes(Connection& c) {
  SIYU_PREPARE(s, c,
               "SELECT workspace_id, group_id, id, customer_id, at FROM group_member_events "
               "WHERE welcomed_at IS NULL ORDER BY workspace_id, group_id, id LIMIT 10000");
  std::vector<PendingWelcome> out;
  while (s->step()) {
    const WorkspaceId ws(s->int_at(0));
    const GroupId g(s->int_at(1));
    if (out.empty() || out.back().workspace != ws || out.back().group != g) {
      out.push_back(PendingWelcome{ws, g, {}, {}, s->int_at(4)});
    }
    out.back().join_ids.push_back(s->int_at(2));
    out.back().customers.push_back(CustomerId(s->int_at(3)));
    out.back().first_join_at = std::min(out.back().first_join_at, s->int_at(4));
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Status record_welcome(Connection& c, WorkspaceId ws, const std::vector<int64_t>& join_ids,
                      const OutboxItem& post) {
  SIYU_PREPARE(s, c,
               "UPDATE group_member_events SET welcomed_at=? WHERE workspace_id=? AND id=? AND "
               "welcomed_at IS NULL");
  for (int64_t id : join_ids) {
    s->bind(1, post.created_at).bind(2, ws.value).bind(3, id);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  return journey_sql::insert_outbox(c, ws, post, CapLimits{}, false).status();
}

namespace {

constexpr const char* kCodeColumns =
    "id, name, token, channel_id, group_name, kind, capacity, owner_staff, welcome, threshold, "
    "scans, created_at";

GroupCode read_code(const Statement& r) {
  GroupCode g;
  g.id = r.int_at(0);
  g.name = r.text_at(1);
  g.token = r.text_at(2);
  if (auto v = r.opt_int_at(3)) g.channel = ChannelId(*v);
  g.group_name = r.text_at(4);
  g.kind = r.text_at(5);
  g.capacity = static_cast<int>(r.int_at(6));
  if (auto v = r.opt_int_at(7)) g.owner_staff = UserId(*v);
  g.welcome = r.text_at(8);
  g.threshold_json = r.text_at(9);
  g.scans = r.int_at(10);
  g.created_at = r.int_at(11);
  return g;
}

std::string series_name(const GroupCode& code, int n) {
  std::string out = code.group_name;
  const std::string num = std::to_string(n);
  for (size_t p = out.find("{n}"); p != std::string::npos; p = out.find("{n}", p + num.size())) {
    out.replace(p, 3, num);
  }
  for (size_t p = out.find("{name}"); p != std::string::npos;
       p = out.find("{name}", p + code.name.size())) {
    out.replace(p, 6, code.name);
  }
  return out;
}

}  // namespace

Result<GroupCode> create_code(Connection& c, WorkspaceId ws, const GroupCode& code) {
  SIYU_PREPARE(s, c,
               "INSERT INTO group_codes (workspace_id, id, name, token, channel_id, group_name, "
               "kind, capacity, owner_staff, welcome, threshold, created_at) VALUES (?1, (SELECT "
               "coalesce(max(id), 0) + 1 FROM group_codes WHERE workspace_id=?1), ?2, ?3, ?4, ?5, "
               "?6, ?7, ?8, ?9, ?10, ?11) RETURNING id");
  s->bind(1, ws.value).bind(2, code.name).bind(3, code.token);
  s->bind_opt(4, code.channel ? std::optional<int64_t>(code.channel->value) : std::nullopt);
  s->bind(5, code.group_name).bind(6, code.kind).bind(7, int64_t{code.capacity});
  s->bind_opt(8, code.owner_staff ? std::optional<int64_t>(code.owner_staff->value) : std::nullopt);
  s->bind(9, code.welcome).bind(10, code.threshold_json).bind(11, code.created_at);
  GroupCode out = code;
  if (s->step()) out.id = s->int_at(0);
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Status update_code(Connection& c, WorkspaceId ws, const GroupCode& code) {
  SIYU_PREPARE(s, c,
               "UPDATE group_codes SET name=?, channel_id=?, group_name=?, kind=?, capacity=?, "
               "owner_staff=?, welcome=?, threshold=? WHERE workspace_id=? AND id=?");
  s->bind(1, code.name);
  s->bind_opt(2, code.channel ? std::optional<int64_t>(code.channel->value) : std::nullopt);
  s->bind(3, code.group_name).bind(4, code.kind).bind(5, int64_t{code.capacity});
  s->bind_opt(6, code.owner_staff ? std::optional<int64_t>(code.owner_staff->value) : std::nullopt);
  s->bind(7, code.welcome).bind(8, code.threshold_json).bind(9, ws.value).bind(10, code.id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("channel code " + std::to_string(code.id) + " not found");
  return Status::ok();
}

Result<std::vector<GroupCode>> codes(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kCodeColumns +
                   " FROM group_codes WHERE workspace_id=? ORDER BY id");
  s->bind(1, ws.value);
  return all<GroupCode>(*s, read_code);
}

Result<GroupCode> code(Connection& c, WorkspaceId ws, int64_t id) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kCodeColumns +
                   " FROM group_codes WHERE workspace_id=? AND id=?");
  s->bind(1, ws.value).bind(2, id);
  return one<GroupCode>(*s, read_code, "channel code " + std::to_string(id) + " not found");
}

Result<std::pair<WorkspaceId, GroupCode>> code_by_token(Connection& c, const std::string& token) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kCodeColumns + ", workspace_id FROM group_codes WHERE token=?");
  s->bind(1, token);
  return one<std::pair<WorkspaceId, GroupCode>>(
      *s, [](const Statement& r) { return std::pair(WorkspaceId(r.int_at(12)), read_code(r)); },
      "channel code not found");
}

Result<std::optional<Group>> open_group_of(Connection& c, WorkspaceId ws, int64_t code_id) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kGroupColumns +
                   " FROM groups WHERE workspace_id=? AND code_id=? AND members<capacity ORDER BY "
                   "series_no LIMIT 1");
  s->bind(1, ws.value).bind(2, code_id);
  std::optional<Group> out;
  if (s->step()) out = read_group(*s);
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Status count_scan(Connection& c, WorkspaceId ws, int64_t code_id) {
  SIYU_PREPARE(s, c, "UPDATE group_codes SET scans=scans+1 WHERE workspace_id=? AND id=?");
  s->bind(1, ws.value).bind(2, code_id);
  return s->run();
}

Result<Group> open_next_group(Connection& c, WorkspaceId ws, const GroupCode& code, EpochMs at) {
  SIYU_PREPARE(s, c, "SELECT coalesce(max(series_no), 0) FROM groups WHERE workspace_id=? AND code_id=?");
  s->bind(1, ws.value).bind(2, code.id);
  SIYU_ASSIGN_OR_RETURN(int64_t last, scalar(*s));
  Group g;
  g.series_no = static_cast<int>(last + 1);
  g.name = series_name(code, g.series_no);
  g.kind = code.kind;
  g.capacity = code.capacity;
  g.owner_staff = code.owner_staff;
  g.welcome = code.welcome;
  g.threshold_json = code.threshold_json;
  g.code_id = code.id;
  g.created_at = at;
  return create_group(c, ws, g);
}

Status set_channel_if_unset(Connection& c, WorkspaceId ws, CustomerId customer,
                            ChannelId channel, EpochMs at) {
  SIYU_PREPARE(s, c,
               "UPDATE customers SET channel_id=?, updated_at=? WHERE workspace_id=? AND id=? AND "
               "channel_id IS NULL");
  s->bind(1, channel.value).bind(2, at).bind(3, ws.value).bind(4, customer.value);
  return s->run();
}

}  // namespace siyu::store::sqlite::community_sql
