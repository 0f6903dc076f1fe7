-- Schema version 9: group messages indexed in time order, their figures written behind.
--
-- A message is identified by its group, time and msg_id (a repeat carries all three). Its one
-- index leads with the ten-minute slot of its time, so messages arriving in time order land at
-- the index's right edge instead of among 50,000 groups' tails or at random msg_ids; a group's
-- messages over a window are read slot by slot.
DROP INDEX group_messages_by_msg_id;
DROP INDEX group_messages_by_group;
CREATE UNIQUE INDEX group_messages_by_slot
  ON group_messages(workspace_id, at / 600000, group_id, at, msg_id);

-- Member activity and the day, hour and topic figures of messages are kept in memory and
-- written together every few seconds; through is the id of the last message they count.
-- Messages after it are counted again at start.
CREATE TABLE message_figures_marks (
  workspace_id INTEGER PRIMARY KEY,
  through INTEGER NOT NULL
);
INSERT INTO message_figures_marks (workspace_id, through)
  SELECT workspace_id, max(id) FROM group_messages GROUP BY workspace_id;

-- Memberships that ended, counted per workspace: while it is unchanged, a sender known to be a
-- member still is one, so the message store need not look the membership up again.
ALTER TABLE workspaces ADD COLUMN member_leaves INTEGER NOT NULL DEFAULT 0;
