-- Up Migration

-- A portfolio the control loop manages and the gate trades against.
CREATE TABLE portfolios (
  id             text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  base_currency  text NOT NULL DEFAULT 'USD',
  trading_state  text NOT NULL DEFAULT 'ACTIVE' CHECK (trading_state IN ('ACTIVE', 'REDUCING', 'HALTED')),
  state_reason   text,
  state_changed_by text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Immutable budget versions. A retried commit carries the same idempotency key and never creates a
-- second version; versions are dense per portfolio (1, 2, 3, ...).
CREATE TABLE budget_versions (
  portfolio_id    text NOT NULL REFERENCES portfolios (id),
  version         integer NOT NULL CHECK (version > 0),
  idempotency_key text NOT NULL UNIQUE,
  regime          text NOT NULL,
  as_of           timestamptz NOT NULL,
  budget          jsonb NOT NULL,
  committed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portfolio_id, version)
);

-- Current positions per (strategy, asset), written by fills/reconciliation.
CREATE TABLE positions (
  portfolio_id text NOT NULL REFERENCES portfolios (id),
  strategy     text NOT NULL,
  asset        text NOT NULL,
  quantity     double precision NOT NULL,
  avg_price    double precision,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portfolio_id, strategy, asset)
);

-- Manual limit overrides with reason, approver and expiry. Expired rows simply stop applying.
CREATE TABLE limit_overrides (
  id              bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  portfolio_id    text NOT NULL REFERENCES portfolios (id),
  strategy        text,
  asset           text,
  field           text NOT NULL CHECK (field IN ('maxPositionNotional', 'maxGrossNotional', 'maxNetNotional', 'maxOrderNotional')),
  value           double precision NOT NULL CHECK (value >= 0),
  reason          text NOT NULL CHECK (length(reason) > 0),
  approver        text NOT NULL CHECK (length(approver) > 0),
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX limit_overrides_active ON limit_overrides (portfolio_id, expires_at) WHERE revoked_at IS NULL;

-- Notifications are raised by triggers so that every committed change is announced exactly when it
-- becomes visible (NOTIFY is delivered on commit), whoever wrote it.
CREATE FUNCTION ballast_notify_budget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_budget', json_build_object('portfolioId', NEW.portfolio_id, 'version', NEW.version)::text);
  RETURN NEW;
END $$;
CREATE TRIGGER budget_versions_notify AFTER INSERT ON budget_versions
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_budget();

-- Both tables share the function; fields are read through jsonb because PL/pgSQL resolves NEW.field
-- even on a CASE branch not taken (portfolios has no portfolio_id).
CREATE FUNCTION ballast_notify_control() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row jsonb := to_jsonb(NEW);
BEGIN
  PERFORM pg_notify('ballast_control', json_build_object(
    'portfolioId', CASE WHEN TG_TABLE_NAME = 'portfolios' THEN row ->> 'id' ELSE row ->> 'portfolio_id' END,
    'kind', CASE WHEN TG_TABLE_NAME = 'portfolios' THEN 'trading_state' ELSE 'override' END)::text);
  RETURN NEW;
END $$;
CREATE TRIGGER portfolios_notify AFTER UPDATE OF trading_state ON portfolios
  FOR EACH ROW WHEN (OLD.trading_state IS DISTINCT FROM NEW.trading_state) EXECUTE FUNCTION ballast_notify_control();
CREATE TRIGGER limit_overrides_notify AFTER INSERT OR UPDATE ON limit_overrides
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_control();

-- Down Migration
DROP TABLE limit_overrides;
DROP TABLE positions;
DROP TABLE budget_versions;
DROP TABLE portfolios;
DROP FUNCTION ballast_notify_control();
DROP FUNCTION ballast_notify_budget();
