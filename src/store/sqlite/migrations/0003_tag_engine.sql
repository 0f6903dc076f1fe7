-- Schema version 3: the tag engine. A tag catalogue (groups and definitions), tag expiry,
-- auto-tag rules, and the change feed and daily sizes of saved segments.

-- Covering: the index reads a customer's recent behaviour (type, day, amount) from this
-- index alone, without visiting the event rows.
DROP INDEX events_by_customer;
CREATE INDEX events_by_customer ON events(workspace_id, customer_id, ts, type, amount);

ALTER TABLE customer_tags ADD COLUMN expires_at INTEGER;
CREATE INDEX customer_tags_by_expiry ON customer_tags(workspace_id, expires_at)
  WHERE expires_at IS NOT NULL;

CREATE TABLE tag_groups (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);

CREATE TABLE tag_defs (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  group_id INTEGER,
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
);

-- One rule per tag: while a rule is enabled its tag is exactly the rule's matches.
CREATE TABLE tag_rules (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  tag TEXT NOT NULL,
  expression TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  swept_at INTEGER,
  last_gained INTEGER NOT NULL DEFAULT 0,
  last_lost INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, tag)
);

-- The membership found by the last sweep, as a portable Roaring bitmap.
ALTER TABLE segments ADD COLUMN members BLOB;

CREATE TABLE segment_changes (
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  segment_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  entered INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX segment_changes_by_segment ON segment_changes(workspace_id, segment_id, id);

CREATE TABLE segment_sizes (
  workspace_id INTEGER NOT NULL,
  segment_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, day)
) WITHOUT ROWID;
