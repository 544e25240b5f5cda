-- Up Migration

-- The outbox as a stream for the OMS. Each plan gets a dense per-portfolio sequence (the subscriber's
-- cursor) assigned under a lock on the portfolio row, so sequence order is commit order; a stable id;
-- the budget version it supersedes; an expiry; and the times it was delivered, acknowledged,
-- superseded or expired. A new plan supersedes every earlier one not yet acknowledged.
ALTER TABLE rebalance_outbox
  ADD COLUMN sequence           integer,
  ADD COLUMN plan_id            text UNIQUE,
  ADD COLUMN supersedes_version integer,
  ADD COLUMN supersedes_plan_id text,
  ADD COLUMN expires_at         timestamptz,
  ADD COLUMN delivered_at       timestamptz,
  ADD COLUMN acknowledged_at    timestamptz,
  ADD COLUMN ack_outcome        text CHECK (ack_outcome IN ('ACCEPTED', 'EXECUTED', 'PARTIALLY_EXECUTED', 'DECLINED')),
  ADD COLUMN acknowledged_by    text,
  ADD COLUMN superseded_at      timestamptz,
  ADD COLUMN superseded_by      text,
  ADD COLUMN expired_at         timestamptz;

-- Plans written before this migration get their sequence in creation order.
UPDATE rebalance_outbox o SET sequence = s.seq, plan_id = o.portfolio_id || '/' || s.seq,
  expires_at = o.created_at + interval '15 minutes'
FROM (SELECT idempotency_key, row_number() OVER (PARTITION BY portfolio_id ORDER BY created_at, idempotency_key) AS seq
      FROM rebalance_outbox) s
WHERE s.idempotency_key = o.idempotency_key;
ALTER TABLE rebalance_outbox ALTER COLUMN sequence SET NOT NULL, ALTER COLUMN plan_id SET NOT NULL, ALTER COLUMN expires_at SET NOT NULL;
CREATE UNIQUE INDEX rebalance_outbox_stream ON rebalance_outbox (portfolio_id, sequence);

CREATE FUNCTION ballast_plan_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous rebalance_outbox%ROWTYPE;
BEGIN
  -- Serializes plan writers per portfolio until commit: sequences are dense and in commit order.
  PERFORM 1 FROM portfolios WHERE id = NEW.portfolio_id FOR UPDATE;
  -- A retried write (same key) is skipped here, before it could supersede anything.
  IF EXISTS (SELECT 1 FROM rebalance_outbox WHERE idempotency_key = NEW.idempotency_key) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO previous FROM rebalance_outbox WHERE portfolio_id = NEW.portfolio_id ORDER BY sequence DESC LIMIT 1;
  NEW.sequence := COALESCE(previous.sequence, 0) + 1;
  NEW.plan_id := NEW.portfolio_id || '/' || NEW.sequence;
  NEW.supersedes_version := previous.budget_version;
  NEW.supersedes_plan_id := previous.plan_id;
  NEW.expires_at := COALESCE(NEW.expires_at, now() + interval '15 minutes');
  UPDATE rebalance_outbox SET superseded_at = now(), superseded_by = NEW.plan_id
   WHERE portfolio_id = NEW.portfolio_id AND acknowledged_at IS NULL AND superseded_at IS NULL AND expired_at IS NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER rebalance_outbox_sequence BEFORE INSERT ON rebalance_outbox
  FOR EACH ROW EXECUTE FUNCTION ballast_plan_sequence();

-- Announced on commit, like budgets: subscribers re-read from their cursor, so a lost NOTIFY loses nothing.
CREATE FUNCTION ballast_notify_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ballast_plan', json_build_object('portfolioId', NEW.portfolio_id, 'sequence', NEW.sequence)::text);
  RETURN NEW;
END $$;
CREATE TRIGGER rebalance_outbox_notify AFTER INSERT ON rebalance_outbox
  FOR EACH ROW EXECUTE FUNCTION ballast_notify_plan();

-- Down Migration
DROP TRIGGER rebalance_outbox_notify ON rebalance_outbox;
DROP FUNCTION ballast_notify_plan();
DROP TRIGGER rebalance_outbox_sequence ON rebalance_outbox;
DROP FUNCTION ballast_plan_sequence();
DROP INDEX rebalance_outbox_stream;
ALTER TABLE rebalance_outbox
  DROP COLUMN sequence, DROP COLUMN plan_id, DROP COLUMN supersedes_version, DROP COLUMN supersedes_plan_id,
  DROP COLUMN expires_at, DROP COLUMN delivered_at, DROP COLUMN acknowledged_at, DROP COLUMN ack_outcome,
  DROP COLUMN acknowledged_by, DROP COLUMN superseded_at, DROP COLUMN superseded_by, DROP COLUMN expired_at;
