-- Up Migration

-- The risk models budgets carry (risk/riskModel.ts): the annualized covariance of the budgeted assets,
-- dense or in factor form, stored once under its content id (sha256 of the body) so the budget itself,
-- and the workflow history it travels through, holds only the id. Rows are immutable: the same id is
-- always the same body, so a write of an existing id is a no-op.
CREATE TABLE risk_models (
  id          text PRIMARY KEY CHECK (id LIKE 'sha256:%'),
  form        text NOT NULL CHECK (form IN ('dense', 'factor')),
  asset_count integer NOT NULL CHECK (asset_count > 0),
  body        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE risk_models;
