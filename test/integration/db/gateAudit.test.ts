/**
 * The gate's audit and fill batches reach Postgres exactly as the gate made them: strings that need
 * quoting in an array literal (quotes, backslashes, commas, braces, "NULL", empty, non-ASCII) and
 * numbers at the edges of float8 (db/arrayLiteral.ts builds the unnest parameters).
 */
import type pg from 'pg';
import { type DecisionRecord, GateDecisionsStore } from '../../../db/stores/gateDecisions';
import { type FillRecord, FillsStore } from '../../../db/stores/fills';
import { PortfolioStore } from '../../../db/stores/portfolios';
import { testPool, uniqueId } from '../../support/env';

const HOSTILE = ['say "hi"', 'C:\\dir\\', 'a,b', '{x}', 'NULL', '', ' sp ', 'é€😀', '\\"'];

let pool: pg.Pool;
beforeAll(() => {
  pool = testPool();
});
afterAll(() => pool.end());

test('decisions: every text and number column round-trips', async () => {
  const portfolioId = uniqueId('audit');
  await new PortfolioStore(pool).ensure(portfolioId);
  const at = Date.UTC(2026, 10, 29, 12, 0, 0, 123);
  const rows: DecisionRecord[] = HOSTILE.map((s, i) => ({
    decisionId: `${portfolioId}-${i}`,
    decidedAtMs: at + i,
    rpc: 'EvaluateTrade',
    caller: `caller ${s}`,
    portfolioId,
    strategy: `strat${s}`,
    instrument: `inst${s}`,
    side: i % 2 === 0 ? 'BUY' : 'SELL',
    quantity: [1e-300, 1e300, 0.1 + 0.2, 123456.789][i % 4],
    price: [1e-300, 12.5, 1e300, 0.30000000000000004][i % 4],
    clientOrderId: s,
    decision: i % 2 === 0 ? 'APPROVE' : 'DENY',
    approvedQuantity: i % 2 === 0 ? 0.5 : 0,
    reasons: i % 2 === 0 ? [] : ['POSITION_LIMIT', 'PRICE_COLLAR'],
    detail: s,
    budgetVersion: 7,
    tradingState: 'ACTIVE',
    latencyUs: 42 + i,
  }));
  await new GateDecisionsStore(pool).insert('replica "r\\1"', rows);
  const { rows: stored } = await pool.query(
    `SELECT decision_id, (extract(epoch FROM decided_at) * 1000)::float8 AS at_ms, replica, caller, strategy, instrument, side,
            quantity, price, client_order_id, decision, approved_quantity, reasons, detail, budget_version, latency_us
     FROM gate_decisions WHERE portfolio_id = $1 ORDER BY decision_id`,
    [portfolioId],
  );
  expect(stored).toEqual(
    rows.map((r) => ({
      decision_id: r.decisionId,
      at_ms: r.decidedAtMs,
      replica: 'replica "r\\1"',
      caller: r.caller,
      strategy: r.strategy,
      instrument: r.instrument,
      side: r.side,
      quantity: r.quantity,
      price: r.price,
      client_order_id: r.clientOrderId,
      decision: r.decision,
      approved_quantity: r.approvedQuantity,
      reasons: r.reasons,
      detail: r.detail,
      budget_version: r.budgetVersion,
      latency_us: r.latencyUs,
    })),
  );
});

test('fills: every text, number and boolean column round-trips', async () => {
  const portfolioId = uniqueId('fills');
  await new PortfolioStore(pool).ensure(portfolioId);
  const at = Date.UTC(2026, 10, 29, 12, 0, 0, 456);
  const rows: FillRecord[] = HOSTILE.map((s, i) => ({
    portfolioId,
    strategy: 'trend',
    instrument: 'AAPL',
    side: 'BUY',
    clientOrderId: s,
    fillId: `${portfolioId}-${i}-${s}`,
    quantity: [1e-9, 2.5, 0.1 + 0.2][i % 3],
    price: [100, 1e-6, 1e6][i % 3],
    orderDone: i % 2 === 0,
    reportedAtMs: at + i,
  }));
  await new FillsStore(pool).insert('r1', rows);
  const { rows: stored } = await pool.query(
    `SELECT fill_id, client_order_id, quantity, price, order_done, (extract(epoch FROM reported_at) * 1000)::float8 AS at_ms
     FROM gate_fills WHERE portfolio_id = $1 ORDER BY reported_at`,
    [portfolioId],
  );
  expect(stored).toEqual(
    rows.map((r) => ({
      fill_id: r.fillId,
      client_order_id: r.clientOrderId,
      quantity: r.quantity,
      price: r.price,
      order_done: r.orderDone,
      at_ms: r.reportedAtMs,
    })),
  );
});
