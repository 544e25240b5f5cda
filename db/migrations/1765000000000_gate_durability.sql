-- Up Migration

-- Every decision carries the id the gate gave it, so a decision replayed from the gate's spool after a
-- crash is written once (INSERT … ON CONFLICT (decision_id) DO NOTHING). Rows written before have none.
ALTER TABLE gate_decisions ADD COLUMN decision_id text;
CREATE UNIQUE INDEX gate_decisions_decision_id ON gate_decisions (decision_id);

-- A restarting gate reads back its approved orders that are still working (grpc/server.ts rebuild).
CREATE INDEX gate_decisions_approved ON gate_decisions (replica, decided_at)
  WHERE rpc = 'EvaluateTrade' AND decision = 'APPROVE';
CREATE INDEX gate_fills_order ON gate_fills (portfolio_id, client_order_id);
CREATE INDEX gate_fills_replica_time ON gate_fills (replica, reported_at);

-- Down Migration
DROP INDEX gate_fills_replica_time;
DROP INDEX gate_fills_order;
DROP INDEX gate_decisions_approved;
DROP INDEX gate_decisions_decision_id;
ALTER TABLE gate_decisions DROP COLUMN decision_id;
