-- Up Migration

-- The console's regime timeline follows each cycle live: the cycle's metrics end with its
-- `index_realized_vol` point (activities/writes.ts writes it last, after the regime probabilities), and
-- that row announces the cycle on `ballast_cycle`. One notification per portfolio per cycle; the
-- console coalesces them per page.
CREATE FUNCTION ballast_notify_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_cycle', json_build_object('portfolioId', NEW.portfolio_id, 'kind', 'cycle')::text);
  RETURN NEW;
END $$;
CREATE TRIGGER metrics_cycle_notify AFTER INSERT ON metrics
  FOR EACH ROW WHEN (NEW.name = 'index_realized_vol') EXECUTE FUNCTION ballast_notify_cycle();

-- Down Migration

DROP TRIGGER metrics_cycle_notify ON metrics;
DROP FUNCTION ballast_notify_cycle();
