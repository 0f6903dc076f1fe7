-- Schema version 17: the tag log.
-- Tag changes are appended to a log, one row per operation with its customers as a sorted
-- list of delta varints, and applied to customer_tags and tag_history later, in customer
-- order (docs/design/tag-log.md). A row holds only real changes: customers who gained the tag
-- (op 0), lost it (op 1) or kept it with a new expiry (op 2). Applied rows are deleted.
CREATE TABLE tag_log (
  seq INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  op INTEGER NOT NULL,
  by TEXT NOT NULL,
  at INTEGER NOT NULL,
  expires_at INTEGER,
  ids BLOB NOT NULL
);
CREATE INDEX tag_log_by_workspace ON tag_log(workspace_id, seq);
