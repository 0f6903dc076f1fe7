-- Schema version 8: events stored in arrival order. seq becomes the table's key, so storing an
-- event appends the row at the table's right edge instead of inserting it among the others by
-- event id; the idempotency key moves to a unique index, and events_by_seq (which only ordered
-- by seq) goes. The same three B-trees a PostgreSQL heap with two indexes would keep, two of
-- them small.
CREATE TABLE events_v8 (
  seq INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  customer_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  amount INTEGER NOT NULL DEFAULT 0,
  channel TEXT,
  campaign TEXT,
  content TEXT,
  staff TEXT,
  properties TEXT,
  received_at INTEGER NOT NULL
);
INSERT INTO events_v8 (seq, workspace_id, event_id, customer_id, type, ts, amount, channel,
                       campaign, content, staff, properties, received_at)
  SELECT seq, workspace_id, event_id, customer_id, type, ts, amount, channel, campaign, content,
         staff, properties, received_at FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v8 RENAME TO events;
CREATE UNIQUE INDEX events_by_id ON events(workspace_id, event_id);
CREATE INDEX events_by_customer ON events(workspace_id, customer_id, ts, type, amount);
