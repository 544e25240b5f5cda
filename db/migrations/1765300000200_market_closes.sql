-- Up Migration

-- Closes fed by a firm's market-data system through the gate's IngestCloses RPC. One row per
-- instrument and timestamp: a repeated close is a no-op (idempotent retries), a different close for a
-- stored key is reported as a conflict and not applied. received_at measures the feed's staleness.
CREATE TABLE market_closes (
  instrument  text NOT NULL,
  at          timestamptz NOT NULL,
  close       double precision NOT NULL CHECK (close > 0 AND close < 'Infinity'::double precision),
  source      text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instrument, at)
);
CREATE INDEX market_closes_received ON market_closes (instrument, received_at DESC);

-- Down Migration
DROP TABLE market_closes;
