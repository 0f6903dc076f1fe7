-- Schema version 11: the active-hours rows lead with the day, as group_days does.
--
-- A write of the message figures adds one row per group, day and hour that saw messages. Keyed
-- group first, those rows landed on a page per group across the whole table; keyed day first,
-- the rows of the days being written sit together at the table's end. One group's hours over a
-- window are read day by day.
CREATE TABLE group_hours_by_day (
  workspace_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, day, group_id, hour)
) WITHOUT ROWID;
INSERT INTO group_hours_by_day (workspace_id, day, group_id, hour, messages)
  SELECT workspace_id, day, group_id, hour, messages FROM group_hours
  ORDER BY workspace_id, day, group_id, hour;
DROP TABLE group_hours;
ALTER TABLE group_hours_by_day RENAME TO group_hours;
