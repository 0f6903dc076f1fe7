-- Schema version 2: saved segments (人群). The expression is the validated JSON of
-- src/segment/expr.h; members are computed by the in-memory index, never stored here.
CREATE TABLE segments (
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  expression TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);
