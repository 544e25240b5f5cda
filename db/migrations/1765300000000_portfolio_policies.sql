-- Up Migration

-- Every version of a portfolio's risk_budgeting policy. The document is `json`, not `jsonb`: jsonb
-- reorders keys, and the order of regime_allocations is meaningful (calm → turbulent).
CREATE TABLE portfolio_policies (
  portfolio_id      text NOT NULL REFERENCES portfolios (id),
  version           integer NOT NULL CHECK (version > 0),
  document          json NOT NULL,
  -- PROPOSED: written, not yet seen by the loop; PENDING_APPROVAL: adds risk, waits for a human;
  -- ACTIVE: the loop runs it (the newest ACTIVE is the one in force); the rest are final.
  status            text NOT NULL CHECK (status IN ('PROPOSED', 'PENDING_APPROVAL', 'ACTIVE', 'REJECTED', 'EXPIRED', 'SUPERSEDED')),
  adds_risk         boolean,
  risk_reasons      text[] NOT NULL DEFAULT '{}',
  recommendation_id text,
  requested_by      text NOT NULL,
  reason            text NOT NULL,
  source            text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  decided_at        timestamptz,
  PRIMARY KEY (portfolio_id, version)
);

-- Down Migration
DROP TABLE portfolio_policies;
