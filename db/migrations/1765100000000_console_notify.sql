-- Up Migration
-- The console's live page: recommendations, alerts and regime changes announce themselves on
-- `ballast_console` (per row; these are rare), and the gate's audit batches on `ballast_decisions`
-- (once per statement with the portfolios it touched, so a batch of a thousand decisions is one
-- notification per portfolio, not a thousand). Payloads: {"portfolioId": …, "kind": …}.
CREATE FUNCTION ballast_notify_console() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_console', json_build_object('portfolioId', NEW.portfolio_id, 'kind', TG_TABLE_NAME)::text);
  RETURN NEW;
END $$;
CREATE TRIGGER recommendations_console_notify AFTER INSERT OR UPDATE OF status ON recommendations
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_console();
CREATE TRIGGER alerts_console_notify AFTER INSERT ON alerts
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_console();
CREATE TRIGGER regime_changes_console_notify AFTER INSERT ON regime_changes
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_console();

CREATE FUNCTION ballast_notify_decisions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p text;
BEGIN
  FOR p IN SELECT DISTINCT portfolio_id FROM inserted LOOP
    PERFORM pg_notify('ballast_decisions', json_build_object('portfolioId', p, 'kind', 'gate_decisions')::text);
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER gate_decisions_console_notify AFTER INSERT ON gate_decisions
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ballast_notify_decisions();

-- Down Migration
DROP TRIGGER gate_decisions_console_notify ON gate_decisions;
DROP FUNCTION ballast_notify_decisions();
DROP TRIGGER regime_changes_console_notify ON regime_changes;
DROP TRIGGER alerts_console_notify ON alerts;
DROP TRIGGER recommendations_console_notify ON recommendations;
DROP FUNCTION ballast_notify_console();
