-- Up Migration

-- Gate HA's fenced decision writes in one round trip (db/stores/gateDecisions.ts `insertFenced`): the
-- group goes as `SELECT ballast_gate_fence(…); COPY gate_decisions … FROM STDIN` in one simple query,
-- one implicit transaction. The fence locks the group's lease rows FOR SHARE until that transaction
-- commits (a takeover's UPDATE waits for it, as with the single-statement insert) and refuses the whole
-- group, with SQLSTATE BLF01, unless `replica` still holds every portfolio under the given token.
CREATE FUNCTION ballast_gate_fence(replica text, portfolios text[], tokens bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  held integer;
BEGIN
  SELECT count(*) INTO held FROM (
    SELECT l.portfolio_id FROM gate_leases l
    JOIN unnest(portfolios, tokens) AS h(portfolio_id, token)
      ON h.portfolio_id = l.portfolio_id AND h.token = l.fencing_token
    WHERE l.owner = replica
    FOR SHARE OF l
  ) locked;
  -- NULL arrays count as refused, not as nothing to check.
  IF portfolios IS NULL OR held IS DISTINCT FROM cardinality(portfolios) THEN
    RAISE EXCEPTION USING ERRCODE = 'BLF01',
      MESSAGE = format('replica %s no longer holds every lease of the group (%s of %s)', replica, held, cardinality(portfolios));
  END IF;
END $$;

-- Down Migration

DROP FUNCTION ballast_gate_fence(text, text[], bigint[]);
