-- Up Migration

-- Every pre-trade decision the gate made, written in batches off the request path.
CREATE TABLE gate_decisions (
  id              bigserial PRIMARY KEY,
  decided_at      timestamptz NOT NULL,
  replica         text NOT NULL,
  rpc             text NOT NULL CHECK (rpc IN ('EvaluateTrade', 'SizePosition')),
  caller          text NOT NULL,
  portfolio_id    text NOT NULL,
  strategy        text NOT NULL,
  instrument      text NOT NULL,
  side            text NOT NULL,
  quantity        double precision NOT NULL,
  price           double precision NOT NULL,
  client_order_id text NOT NULL,
  decision        text NOT NULL CHECK (decision IN ('APPROVE', 'DENY', 'SIZE')),
  approved_quantity double precision NOT NULL,
  reasons         text[] NOT NULL,
  detail          text NOT NULL,
  budget_version  integer NOT NULL,
  trading_state   text NOT NULL,
  latency_us      integer NOT NULL
);
CREATE INDEX gate_decisions_portfolio_time ON gate_decisions (portfolio_id, decided_at);
CREATE INDEX gate_decisions_order ON gate_decisions (portfolio_id, client_order_id) WHERE client_order_id <> '';

-- Executions reported by the OMS. fill_id makes a re-reported fill a no-op; positions are updated
-- in the same statement as the insert so the two never disagree.
CREATE TABLE gate_fills (
  fill_id         text PRIMARY KEY,
  portfolio_id    text NOT NULL REFERENCES portfolios (id),
  strategy        text NOT NULL,
  instrument      text NOT NULL,
  side            text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  client_order_id text NOT NULL,
  quantity        double precision NOT NULL CHECK (quantity >= 0),
  price           double precision NOT NULL,
  order_done      boolean NOT NULL,
  reported_at     timestamptz NOT NULL,
  replica         text NOT NULL
);

-- Down Migration
DROP TABLE gate_fills;
DROP TABLE gate_decisions;
