-- Up Migration
-- Trading states an operator sets on one strategy or one instrument of a portfolio (the portfolio's own
-- stays in portfolios.trading_state). One row per scope, holding the state in force and who set it,
-- why and when; every change is also in operator_actions. The gate reloads the portfolio on
-- `ballast_control` like for a portfolio-wide change.
CREATE TABLE scoped_trading_states (
  portfolio_id text        NOT NULL REFERENCES portfolios (id),
  scope_kind   text        NOT NULL CHECK (scope_kind IN ('strategy', 'instrument')),
  scope_name   text        NOT NULL CHECK (scope_name <> ''),
  state        text        NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
  reason       text        NOT NULL,
  changed_by   text        NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portfolio_id, scope_kind, scope_name)
);

CREATE FUNCTION ballast_notify_scoped_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_control', json_build_object('portfolioId', NEW.portfolio_id, 'kind', 'trading_state')::text);
  RETURN NEW;
END $$;
CREATE TRIGGER scoped_trading_states_notify AFTER INSERT OR UPDATE ON scoped_trading_states
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_scoped_state();

-- Down Migration
DROP TRIGGER scoped_trading_states_notify ON scoped_trading_states;
DROP FUNCTION ballast_notify_scoped_state();
DROP TABLE scoped_trading_states;
