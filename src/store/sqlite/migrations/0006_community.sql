-- Schema version 6: community operations (社群). Group design (slogan, benefits, rules,
-- threshold, welcome), members with roles and activity, membership facts, group messages with
-- their moderation verdicts, daily and hourly activity aggregates written in the transaction
-- that stores the messages, moderation rules and log, the blacklist, keyword auto-replies and
-- group channel codes (群活码).

ALTER TABLE groups ADD COLUMN slogan TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN benefits TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN rules TEXT NOT NULL DEFAULT '';
-- JSON: {"type":"none"} | {"type":"price","price":990} | {"type":"identity","segment":{...},
-- "description":"..."} | {"type":"action","event":"form_submitted","within_days":30,...}
ALTER TABLE groups ADD COLUMN threshold TEXT NOT NULL DEFAULT '{"type":"none"}';
ALTER TABLE groups ADD COLUMN welcome TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN code_id INTEGER NOT NULL DEFAULT 0;  -- channel code series
ALTER TABLE groups ADD COLUMN series_no INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN members INTEGER NOT NULL DEFAULT 0;  -- current members

-- Current members (left_at NULL) and past ones. Activity counters are maintained by the
-- message transaction: last_active_day is the workspace day of the member's latest message.
CREATE TABLE group_members (
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  role_by TEXT NOT NULL DEFAULT '',
  role_at INTEGER,
  source TEXT NOT NULL DEFAULT '',
  joined_at INTEGER NOT NULL,
  left_at INTEGER,
  leave_kind TEXT NOT NULL DEFAULT '',   -- quit, removed
  messages INTEGER NOT NULL DEFAULT 0,
  replies_drawn INTEGER NOT NULL DEFAULT 0,
  active_days INTEGER NOT NULL DEFAULT 0,
  last_active_day INTEGER NOT NULL DEFAULT -1,
  violations INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, group_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_customer ON group_members(workspace_id, customer_id);

-- Membership facts: kind is join, quit or removed. welcomed_at is NULL for a join still to be
-- greeted (0 when the group had no welcome message).
CREATE TABLE group_member_events (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  welcomed_at INTEGER
);
CREATE INDEX group_member_events_by_group ON group_member_events(workspace_id, group_id, at);
CREATE INDEX group_joins_to_welcome ON group_member_events(workspace_id, group_id, id)
  WHERE welcomed_at IS NULL;

-- Group messages. text is NULL once older than the workspace's text retention. verdict names
-- the moderation rule the message broke ('' when clean).
CREATE TABLE group_messages (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL DEFAULT 0,
  sender TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  text TEXT,
  at INTEGER NOT NULL,
  reply_to TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX group_messages_by_msg_id ON group_messages(workspace_id, msg_id);
CREATE INDEX group_messages_by_group ON group_messages(workspace_id, group_id, at);

-- Per group and workspace day: messages, distinct active members, joins, quits, removals,
-- moderation violations, and how many of the day's joiners left within 7 days (retention).
-- Group 0 holds the sums across the workspace's groups (its active_members counts a member
-- once per group).
CREATE TABLE group_days (
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  active_members INTEGER NOT NULL DEFAULT 0,
  joins INTEGER NOT NULL DEFAULT 0,
  quits INTEGER NOT NULL DEFAULT 0,
  removals INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0,
  early_leaves INTEGER NOT NULL DEFAULT 0,  -- members who joined this day and left within 7 days
  PRIMARY KEY (workspace_id, day, group_id)
) WITHOUT ROWID;

-- Messages per group, workspace day and hour of day (the active-hours heatmap); group 0 holds
-- the sums across the workspace's groups.
CREATE TABLE group_hours (
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, group_id, day, hour)
) WITHOUT ROWID;

-- Keyword counts across all groups per workspace day (hot topics).
CREATE TABLE topic_days (
  workspace_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  term TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, day, term)
) WITHOUT ROWID;

CREATE TABLE moderation_rules (
  workspace_id INTEGER NOT NULL,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,          -- ads, links, qr_image, competitors, flood, words
  words TEXT NOT NULL DEFAULT '[]',
  action TEXT NOT NULL,        -- warn, remove, blacklist: the first action; repeats escalate
  flood_messages INTEGER NOT NULL DEFAULT 0,
  flood_seconds INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);

CREATE TABLE moderation_log (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  rule_id INTEGER NOT NULL,
  rule_name TEXT NOT NULL,
  action TEXT NOT NULL,
  msg_id TEXT NOT NULL,
  excerpt TEXT NOT NULL,
  matched TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX moderation_log_by_workspace ON moderation_log(workspace_id, id);
CREATE INDEX moderation_log_by_customer ON moderation_log(workspace_id, customer_id);

-- Customers refused by every group of the workspace.
CREATE TABLE group_blacklist (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE auto_replies (
  workspace_id INTEGER NOT NULL,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  match TEXT NOT NULL,         -- exact, contains, regex
  keywords TEXT NOT NULL,      -- JSON array of strings
  reply TEXT NOT NULL,
  group_id INTEGER NOT NULL DEFAULT 0,   -- 0: every group
  cooldown_seconds INTEGER NOT NULL DEFAULT 300,
  enabled INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);

-- When an auto-reply last answered in a group (its cooldown survives restarts).
CREATE TABLE auto_reply_fires (
  workspace_id INTEGER NOT NULL,
  reply_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, reply_id, group_id)
) WITHOUT ROWID;

-- Group channel codes (群活码): one public token per campaign that routes joiners to the first
-- group of its series with room, opening group series_no+1 (a copy of the template fields)
-- when every group is full.
CREATE TABLE group_codes (
  workspace_id INTEGER NOT NULL,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  channel_id INTEGER,
  group_name TEXT NOT NULL,     -- pattern with {n}
  kind TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  owner_staff INTEGER,
  welcome TEXT NOT NULL DEFAULT '',
  threshold TEXT NOT NULL DEFAULT '{"type":"none"}',
  scans INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);
