-- Siyu schema version 1: workspaces, access, customers and One-ID, events, orders,
-- relationships, tags, channels, audit. Times are UTC epoch milliseconds; money is cents.
CREATE TABLE workspaces (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  next_customer_id INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (workspace_id, email)
);

CREATE TABLE sessions (
  digest TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  csrf_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  prefix TEXT NOT NULL,
  digest TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);

CREATE TABLE channels (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  code TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, code)
);

CREATE TABLE channel_costs (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  channel_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  amount INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (workspace_id, channel_id) REFERENCES channels(workspace_id, id)
);
CREATE INDEX channel_costs_by_channel ON channel_costs(workspace_id, channel_id, day);

-- Community groups (社群); the community module extends them.
CREATE TABLE groups (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  owner_staff INTEGER,
  capacity INTEGER NOT NULL DEFAULT 200,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE customers (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  gender TEXT NOT NULL DEFAULT 'unknown',
  birthday TEXT NOT NULL DEFAULT '',
  city TEXT NOT NULL DEFAULT '',
  phone_sealed BLOB,
  phone_masked TEXT NOT NULL DEFAULT '',
  phone_last4 TEXT NOT NULL DEFAULT '',
  email_sealed BLOB,
  email_masked TEXT NOT NULL DEFAULT '',
  custom TEXT NOT NULL DEFAULT '{}',
  owner_staff INTEGER,
  channel_id INTEGER,
  campaign TEXT NOT NULL DEFAULT '',
  content TEXT NOT NULL DEFAULT '',
  referrer_staff INTEGER,
  referrer_partner TEXT NOT NULL DEFAULT '',
  layer TEXT NOT NULL DEFAULT 'none',
  anonymous INTEGER NOT NULL DEFAULT 0,
  merged_into INTEGER,
  erased_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
-- Partial indexes: anonymous customers created by events carry none of these attributes, so
-- creating one costs two B-tree inserts instead of six.
CREATE INDEX customers_by_layer ON customers(workspace_id, layer, id)
  WHERE merged_into IS NULL AND erased_at IS NULL;
CREATE INDEX customers_by_channel ON customers(workspace_id, channel_id, id)
  WHERE channel_id IS NOT NULL AND merged_into IS NULL AND erased_at IS NULL;
CREATE INDEX customers_by_owner ON customers(workspace_id, owner_staff, id)
  WHERE owner_staff IS NOT NULL;
CREATE INDEX customers_by_last4 ON customers(workspace_id, phone_last4, id) WHERE phone_last4 <> '';
CREATE INDEX customers_by_name ON customers(workspace_id, name, id) WHERE name <> '';
-- Sorts the customer list by joining time and covers the overview's new customers by day
-- and channel.
CREATE INDEX customers_by_created ON customers(workspace_id, created_at, id, channel_id)
  WHERE merged_into IS NULL AND erased_at IS NULL;

CREATE TABLE identities (
  workspace_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  app_id TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL,
  sealed BLOB,
  display TEXT NOT NULL DEFAULT '',
  customer_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, type, app_id, key),
  FOREIGN KEY (workspace_id, customer_id) REFERENCES customers(workspace_id, id)
);
CREATE INDEX identities_by_customer ON identities(workspace_id, customer_id);

CREATE TABLE field_defs (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  personal INTEGER NOT NULL DEFAULT 0,
  label TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (workspace_id, name)
);

CREATE TABLE merges (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  survivor INTEGER NOT NULL,
  merged INTEGER NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX merges_by_survivor ON merges(workspace_id, survivor);

-- Keyed by the idempotency key without a separate rowid tree: storing an event touches two
-- B-trees (this one and events_by_customer). seq is the arrival order, assigned by the writer.
CREATE TABLE events (
  workspace_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  amount INTEGER NOT NULL DEFAULT 0,
  channel TEXT,
  campaign TEXT,
  content TEXT,
  staff TEXT,
  properties TEXT,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, event_id)
) WITHOUT ROWID;
-- Counters the writer keeps in memory and saves with each transaction that advances them.
CREATE TABLE store_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO store_counters (name, value) VALUES ('next_event_seq', 1);
CREATE INDEX events_by_customer ON events(workspace_id, customer_id, ts);

CREATE TABLE orders (
  workspace_id INTEGER NOT NULL,
  order_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  amount INTEGER NOT NULL,
  refund_amount INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  store TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  staff TEXT NOT NULL DEFAULT '',
  items TEXT NOT NULL DEFAULT '[]',
  ordered_at INTEGER NOT NULL,
  paid_at INTEGER,
  refunded_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, order_id)
);
CREATE INDEX orders_by_customer ON orders(workspace_id, customer_id, ordered_at);
-- Covers sales figures for a period (count, GMV, buyers) without reading the order rows.
CREATE INDEX orders_by_time
  ON orders(workspace_id, ordered_at, status, amount, refund_amount, customer_id);

-- Relationship facts: kind is follow, group, friend or membership; target names the account,
-- group, staff member or tier. Active while until_at is NULL.
CREATE TABLE relations (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  since INTEGER NOT NULL,
  until_at INTEGER,
  PRIMARY KEY (workspace_id, customer_id, kind, target)
);

CREATE TABLE layer_changes (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  from_layer TEXT NOT NULL,
  to_layer TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX layer_changes_by_customer ON layer_changes(workspace_id, customer_id, at);

CREATE TABLE customer_tags (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, tag)
);
CREATE INDEX customer_tags_by_tag ON customer_tags(workspace_id, tag, customer_id);

CREATE TABLE tag_history (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  action TEXT NOT NULL,
  by TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX tag_history_by_customer ON tag_history(workspace_id, customer_id, at);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_workspace ON audit_log(workspace_id, id);
