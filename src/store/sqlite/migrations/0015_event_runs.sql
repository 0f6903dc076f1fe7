-- Schema version 15: each customer's events found through sorted runs of event keys
-- (docs/design/event-runs.md) instead of the B-tree events_by_customer, whose entry per event
-- dirtied a page of its own once events arrive in random customer order. The store files the
-- existing events into runs when it opens (events_filed_through starts at 0).
CREATE TABLE event_runs (
  id INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  keys INTEGER NOT NULL
);
-- A run's keys of one workspace, a block of consecutive customers per row (event_keys.h).
CREATE TABLE event_run_blocks (
  run INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  first_customer INTEGER NOT NULL,
  last_customer INTEGER NOT NULL,
  keys BLOB NOT NULL,
  PRIMARY KEY (run, workspace_id, first_customer)
) WITHOUT ROWID;
-- Customers merged into others: their keys left in older runs no longer count.
CREATE TABLE event_run_drops (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
) WITHOUT ROWID;
INSERT INTO store_counters (name, value) VALUES ('events_filed_through', 0);
DROP INDEX events_by_customer;
