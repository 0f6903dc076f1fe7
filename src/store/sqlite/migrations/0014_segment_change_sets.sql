-- Schema version 14: a sweep's changes to one segment are stored as one row.
--
-- A sweep after busy writes changes thousands of memberships across hundreds of segments; as
-- one row per change, each went into the table and two indexes (one of them spread over every
-- segment's range), which cost the single writer more than the events that caused them. A set
-- holds the changes first_id .. last_id of one segment from one sweep, so change ids stay the
-- dense, growing cursor that readers page by: the entered customers come first (the first
-- `entered` ids of the list), then the exited ones. Customer ids are decimal text separated by
-- commas; an erased customer's entry becomes 0 and keeps its place, so no later id moves.
CREATE TABLE segment_change_sets (
  first_id INTEGER PRIMARY KEY,
  last_id INTEGER NOT NULL,
  workspace_id INTEGER NOT NULL,
  segment_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  entered INTEGER NOT NULL,
  customers TEXT NOT NULL
);
CREATE INDEX segment_change_sets_by_segment
  ON segment_change_sets(workspace_id, segment_id, last_id);
CREATE INDEX segment_change_sets_by_last ON segment_change_sets(workspace_id, last_id);

-- The newest change id ever given out: ids are never reused, even after the newest sets are
-- deleted with their segment, so a reader's cursor never passes changes yet to come.
CREATE TABLE segment_change_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_id INTEGER NOT NULL
);

INSERT INTO segment_change_sets (first_id, last_id, workspace_id, segment_id, at, entered,
                                 customers)
  SELECT id, id, workspace_id, segment_id, at, entered, CAST(customer_id AS TEXT)
  FROM segment_changes;
INSERT INTO segment_change_head (id, last_id)
  SELECT 1, coalesce(max(id), 0) FROM segment_changes;
DROP TABLE segment_changes;
