-- Lifetime-value predictions of the analytics engine (BG/NBD and Gamma-Gamma), one row per
-- customer, replaced by every refit; segments read them through the customer index.
CREATE TABLE customer_predictions (
  workspace_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  expected_purchases REAL NOT NULL,
  p_alive REAL NOT NULL,
  predicted_value INTEGER NOT NULL,
  fitted_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
) WITHOUT ROWID;
