-- Up Migration

-- Every output of the control loop carries an idempotency key, so activity retries and worker
-- crashes never write it twice.

ALTER TABLE portfolios ADD COLUMN loop_heartbeat_at timestamptz;
ALTER TABLE portfolios ADD COLUMN market_data jsonb;

CREATE TABLE recommendations (
  id              text PRIMARY KEY,
  portfolio_id    text NOT NULL REFERENCES portfolios (id),
  status          text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'COMMITTED', 'SUPERSEDED')),
  adds_risk       boolean NOT NULL,
  reason          text NOT NULL,
  base_version    integer,
  committed_version integer,
  triggers        jsonb NOT NULL,
  summary         jsonb NOT NULL,
  detail          jsonb,
  budget          jsonb NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz,
  decided_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recommendations_by_portfolio ON recommendations (portfolio_id, created_at DESC);

CREATE TABLE approval_decisions (
  idempotency_key   text PRIMARY KEY,
  recommendation_id text NOT NULL REFERENCES recommendations (id),
  portfolio_id      text NOT NULL REFERENCES portfolios (id),
  decision          text NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED', 'EXPIRED')),
  approver          text NOT NULL,
  reason            text NOT NULL,
  latency_ms        bigint NOT NULL,
  decided_at        timestamptz NOT NULL DEFAULT now()
);

-- Rebalancing plans for the OMS: target allocation and per-asset order deltas (transactional outbox).
CREATE TABLE rebalance_outbox (
  idempotency_key text PRIMARY KEY,
  portfolio_id    text NOT NULL REFERENCES portfolios (id),
  budget_version  integer NOT NULL,
  plan            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  dispatched_at   timestamptz
);
CREATE INDEX rebalance_outbox_undispatched ON rebalance_outbox (created_at) WHERE dispatched_at IS NULL;

CREATE TABLE alerts (
  idempotency_key text PRIMARY KEY,
  portfolio_id    text NOT NULL,
  severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  kind            text NOT NULL,
  message         text NOT NULL,
  details         jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  webhook_status  text
);
CREATE INDEX alerts_by_portfolio ON alerts (portfolio_id, created_at DESC);

CREATE TABLE regime_changes (
  idempotency_key   text PRIMARY KEY,
  portfolio_id      text NOT NULL REFERENCES portfolios (id),
  from_regime       text,
  to_regime         text NOT NULL,
  detected_as_of    text NOT NULL,
  detected_at       timestamptz NOT NULL,
  committed_at      timestamptz,
  committed_version integer,
  response_ms       bigint
);

-- Success metrics as a time series (one row per portfolio, metric, observation).
CREATE TABLE metrics (
  idempotency_key text PRIMARY KEY,
  portfolio_id    text NOT NULL,
  name            text NOT NULL,
  value           double precision NOT NULL,
  labels          jsonb NOT NULL DEFAULT '{}',
  observed_at     timestamptz NOT NULL
);
CREATE INDEX metrics_series ON metrics (portfolio_id, name, observed_at);

-- Operator actions (pause/resume, trading state, overrides, manual rebalances): the audit trail.
CREATE TABLE operator_actions (
  idempotency_key text PRIMARY KEY,
  portfolio_id    text NOT NULL,
  action          text NOT NULL,
  operator        text NOT NULL,
  reason          text NOT NULL,
  details         jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE operator_actions;
DROP TABLE metrics;
DROP TABLE regime_changes;
DROP TABLE alerts;
DROP TABLE rebalance_outbox;
DROP TABLE approval_decisions;
DROP TABLE recommendations;
ALTER TABLE portfolios DROP COLUMN loop_heartbeat_at;
ALTER TABLE portfolios DROP COLUMN market_data;
