-- Schema version 10: member activity in its own narrow table.
--
-- The figures written behind the messages update the activity of every member who spoke since
-- the last write, at random across the workspace's memberships. On the wide membership rows
-- (role, source, join and leave facts) such a write dirtied about one page per member; a row
-- of counters only, kept just for members who ever spoke, packs five times as many to a page.
-- Memberships stay in group_members; a member without a row here has no activity yet.
CREATE TABLE member_activity (
  workspace_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  replies_drawn INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0,
  active_days INTEGER NOT NULL DEFAULT 0,
  last_active_day INTEGER NOT NULL DEFAULT -1,
  PRIMARY KEY (workspace_id, group_id, customer_id)
) WITHOUT ROWID;
INSERT INTO member_activity (workspace_id, group_id, customer_id, messages, replies_drawn,
                             violations, active_days, last_active_day)
  SELECT workspace_id, group_id, customer_id, messages, replies_drawn, violations, active_days,
         last_active_day
  FROM group_members
  WHERE messages <> 0 OR replies_drawn <> 0 OR violations <> 0 OR active_days <> 0
  ORDER BY workspace_id, group_id, customer_id;
ALTER TABLE group_members DROP COLUMN messages;
ALTER TABLE group_members DROP COLUMN replies_drawn;
ALTER TABLE group_members DROP COLUMN violations;
ALTER TABLE group_members DROP COLUMN active_days;
ALTER TABLE group_members DROP COLUMN last_active_day;
