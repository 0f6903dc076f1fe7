-- Schema version 4: event properties indexed for behaviour conditions ("view of content
-- tagged 护肤"). Declared per workspace; the index then counts events per (type, value).
CREATE TABLE event_properties (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;
