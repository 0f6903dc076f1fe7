-- Schema version 5: journeys and SOPs, their runs, the delivery outbox, frequency-cap counts,
-- staff tasks, opt-outs and workspace settings.

-- Journeys read new events in arrival order from a cursor; seq only grows, so this index
-- is appended at its right edge.
CREATE INDEX events_by_seq ON events(workspace_id, seq);
CREATE INDEX segment_changes_by_id ON segment_changes(workspace_id, id);

CREATE TABLE journeys (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,            -- draft, active, paused, archived
  version INTEGER NOT NULL,        -- the version new entrants follow
  template TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  fired_until INTEGER,             -- schedule and date triggers: fires up to here are done
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);

-- Every saved definition; runs keep the version they entered with.
CREATE TABLE journey_versions (
  workspace_id INTEGER NOT NULL,
  journey_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, journey_id, version)
) WITHOUT ROWID;

-- Customers who entered a journey, and when (re-entry rules, goal conversions).
CREATE TABLE journey_entries (
  workspace_id INTEGER NOT NULL,
  journey_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  entered_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  run_id INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, journey_id, customer_id, entered_at)
) WITHOUT ROWID;

-- A run: customers (a Roaring bitmap) who entered together and stand at the same step.
-- pc is the index of that step in the compiled program of `version`; group posts run with
-- an empty bitmap. Finished runs are deleted; AUTOINCREMENT never hands their ids out again,
-- because idempotency keys of deliveries are made from them.
CREATE TABLE journey_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id INTEGER NOT NULL,
  journey_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  pc INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  members BLOB,                    -- NULL for no customers
  size INTEGER NOT NULL,
  context TEXT NOT NULL DEFAULT '{}',
  trigger_key TEXT NOT NULL,       -- what started it (event id, fire time): starts once
  entered_at INTEGER NOT NULL,
  UNIQUE (workspace_id, journey_id, trigger_key)
);
CREATE INDEX journey_runs_by_due ON journey_runs(due_at);

-- Trigger cursors: the last event seq / segment change id a workspace's journeys consumed.
CREATE TABLE journey_cursors (
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;

-- The outbox: one row per delivery. idem_key is unique and travels with the delivery.
-- state: pending (due at not_before), deferred (quiet hours or rate limit; due at not_before),
-- retry (a delivery failed; tried again at not_before), sent, dead (gave up after the retry
-- limit), capped, skipped (opt-out, do not disturb), invalid (content could not be rendered).
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  journey_id INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 0,
  step TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,              -- message, group_post, webhook
  class TEXT NOT NULL,             -- marketing, key
  customer_id INTEGER NOT NULL DEFAULT 0,
  group_id INTEGER NOT NULL DEFAULT 0,
  staff TEXT NOT NULL DEFAULT '',
  variant TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  receipt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(not_before) WHERE state IN ('pending', 'deferred', 'retry');
CREATE INDEX outbox_by_workspace ON outbox(workspace_id, id);
-- Without state, so a delivery's state change leaves this index alone.
CREATE INDEX outbox_by_journey ON outbox(workspace_id, journey_id, step);

-- Marketing messages counted toward frequency caps, per customer, delivery day and journey.
CREATE TABLE cap_counts (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  day INTEGER NOT NULL,            -- days since 1970-01-01 in the workspace's time zone
  journey_id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, day, journey_id)
) WITHOUT ROWID;

CREATE TABLE staff_tasks (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  journey_id INTEGER NOT NULL DEFAULT 0,
  customer_id INTEGER NOT NULL DEFAULT 0,
  staff_user_id INTEGER,
  title TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  due_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  done_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_tasks_open ON staff_tasks(workspace_id, done_at, due_at);

CREATE TABLE opt_outs (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE workspace_settings (
  workspace_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;

-- WeCom: enterprise mass-message tasks (a staff member confirms each in the WeCom client;
-- Siyu polls whether it was sent and reminds once), and the customers that received an
-- enterprise mass message on a day (WeCom allows one a day per customer).
CREATE TABLE wecom_tasks (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  msgid TEXT NOT NULL,
  sender TEXT NOT NULL,           -- the staff member's WeCom userid
  chat_type TEXT NOT NULL,        -- single, group
  recipients INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  checked_at INTEGER,
  sent_at INTEGER,                -- when WeCom reported the staff member sent it
  reminded_at INTEGER,
  UNIQUE (workspace_id, msgid)
);
CREATE INDEX wecom_tasks_open ON wecom_tasks(workspace_id, sent_at);

CREATE TABLE wecom_mass_days (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, day)
) WITHOUT ROWID;
