-- Up Migration

-- The base migration's ballast_notify_control() references NEW.portfolio_id inside a CASE, which
-- PL/pgSQL resolves even on the branch not taken, so every UPDATE of portfolios.trading_state failed
-- with 'record "new" has no field "portfolio_id"'. Read the field through jsonb instead, which works
-- for both tables. Same payload as before: {"portfolioId": ..., "kind": "trading_state" | "override"}.
CREATE OR REPLACE FUNCTION ballast_notify_control() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row jsonb := to_jsonb(NEW);
BEGIN
  PERFORM pg_notify('ballast_control', json_build_object(
    'portfolioId', CASE WHEN TG_TABLE_NAME = 'portfolios' THEN row ->> 'id' ELSE row ->> 'portfolio_id' END,
    'kind', CASE WHEN TG_TABLE_NAME = 'portfolios' THEN 'trading_state' ELSE 'override' END)::text);
  RETURN NEW;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION ballast_notify_control() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_control', json_build_object('portfolioId',
    CASE WHEN TG_TABLE_NAME = 'portfolios' THEN NEW.id ELSE NEW.portfolio_id END,
    'kind', CASE WHEN TG_TABLE_NAME = 'portfolios' THEN 'trading_state' ELSE 'override' END)::text);
  RETURN NEW;
END $$;
