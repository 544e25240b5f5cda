-- Up Migration

-- Gate HA (docs/gate-ha.md): one owner replica per portfolio. The owner decides that portfolio's
-- orders in memory; others forward to it. fencing_token grows by one at every change of owner, and
-- every decision and fill the owner writes is conditional on it (row locked FOR SHARE), so a deposed
-- owner's late writes are refused and a new owner reads every write the old one committed.
CREATE TABLE gate_leases (
  portfolio_id   text PRIMARY KEY REFERENCES portfolios (id),
  owner          text NOT NULL,
  -- Where other replicas forward this portfolio's calls (host:port).
  owner_address  text NOT NULL,
  fencing_token  bigint NOT NULL,
  acquired_at    timestamptz NOT NULL,
  renewed_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  -- The budget version the owner serves for this portfolio (staleness, read by the console).
  budget_version integer
);

-- Every HA replica's heartbeat and the budget version it holds for each portfolio it knows.
CREATE TABLE gate_replicas (
  replica         text PRIMARY KEY,
  address         text NOT NULL,
  started_at      timestamptz NOT NULL,
  heartbeat_at    timestamptz NOT NULL,
  lease_ttl_ms    integer NOT NULL,
  budget_versions jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX gate_fills_portfolio_time ON gate_fills (portfolio_id, reported_at);

-- Down Migration
DROP INDEX gate_fills_portfolio_time;
DROP TABLE gate_replicas;
DROP TABLE gate_leases;
