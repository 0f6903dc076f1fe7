-- Schema version 13: a saved segment's member bitmap is written now and then, not on every sweep.
--
-- members_through is the id of the last segment_changes row the stored members reflect; the
-- current members are that bitmap with the changes after it applied in order. Each change sets
-- a customer's membership outright, so replaying changes the bitmap already reflects is
-- harmless: existing rows start at their segment's newest change.
ALTER TABLE segments ADD COLUMN members_through INTEGER NOT NULL DEFAULT 0;
UPDATE segments SET members_through = coalesce((SELECT max(c.id) FROM segment_changes c
  WHERE c.workspace_id = segments.workspace_id AND c.segment_id = segments.id), 0);
