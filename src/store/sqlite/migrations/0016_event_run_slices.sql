-- Schema version 16: a level of event runs merged in slices (docs/design/event-runs.md), each
-- in a write transaction of its own, so no merge holds the writer for long. The merged run is
-- written while in state 1 (building), which readers ignore, up to the (workspace, customer)
-- its slices have reached; its inputs name it in merging_into. The last slice makes it live
-- and its inputs retired (state 2, also ignored), whose blocks later steps delete.
ALTER TABLE event_runs ADD COLUMN state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_runs ADD COLUMN merging_into INTEGER;
ALTER TABLE event_runs ADD COLUMN after_workspace INTEGER;
ALTER TABLE event_runs ADD COLUMN after_customer INTEGER;
