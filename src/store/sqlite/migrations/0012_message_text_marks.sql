-- Schema version 12: message text is cleared from where the last clearing stopped.
--
-- cleared_before is the time before which the workspace's message text is gone (retention).
-- The hourly clearing walks only the ten-minute slots since the last one instead of every older
-- message, and a message stored later with a time before it keeps no text.
CREATE TABLE message_text_marks (
  workspace_id INTEGER PRIMARY KEY,
  cleared_before INTEGER NOT NULL
);
