/**
 * What the gate acknowledges cannot poison storage or be lost (issue 10 §2–4), against the real gate and
 * Postgres: out-of-range values refused at the door, a row Postgres refuses quarantined while the rest
 * of its batch is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ReportFillRequest, ReportFillResponse } from '../../../grpc/generated/ballast/gate/v1/gate';
import { Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { DecisionRecord } from '../../../db/stores/gateDecisions';
import type { RunningGate } from '../../../grpc/server';
import { Spool } from '../../../grpc/spool';
import { buy, call, client, commitFixture, eventually, gate, newDataDir, newPortfolioId, quietLogger, withPool } from './helpers';

const running: RunningGate[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(running.splice(0).map((g) => g.close()));
});

const fill = (portfolioId: string, fillId: string, r: Partial<ReportFillRequest> = {}): ReportFillRequest => ({
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_BUY,
  clientOrderId: `o-${fillId}`,
  fillId,
  quantity: 10,
  price: 100,
  orderDone: true,
  ...r,
});

/**
 * A gate on a new data dir whose Postgres refuses the row of `table` whose `column` is `refused`, though
 * the gate accepts it (a constraint naming that one value, NOT VALID: old rows unchecked); dropped after `fn`.
 */
async function withRefusedRow(
  pid: string,
  table: 'gate_fills' | 'gate_decisions',
  column: string,
  refused: string,
  fn: (g: RunningGate, c: ReturnType<typeof client>, dataDir: string) => Promise<void>,
): Promise<void> {
  await withPool(async (pool, store) => {
    await commitFixture(store, pid);
    await pool.query(`ALTER TABLE ${table} ADD CONSTRAINT "refuse_${pid}" CHECK (${column} <> '${refused}') NOT VALID`);
  });
  try {
    const dataDir = newDataDir();
    const g = await gate({ dataDir });
    running.push(g);
    const c = client(g.address);
    clients.push(c);
    await fn(g, c, dataDir);
  } finally {
    await withPool((pool) => pool.query(`ALTER TABLE ${table} DROP CONSTRAINT "refuse_${pid}"`));
  }
}

/** The portfolio's ids in `table`'s `column`, sorted, once there are `count` of them. */
const storedIds = (table: 'gate_fills' | 'gate_decisions', column: string, pid: string, count: number): Promise<string[]> =>
  eventually(
    () =>
      withPool(async (pool) => {
        const { rows } = await pool.query<{ id: string }>(`SELECT ${column} AS id FROM ${table} WHERE portfolio_id = $1 ORDER BY 1`, [pid]);
        return rows.length === count ? rows.map((r) => r.id) : undefined;
      }),
    10_000,
  );

/** What the gate kept in its quarantine file. */
const quarantined = (dataDir: string): Array<{ kind: string; sqlstate: string; row: unknown }> =>
  readFileSync(join(dataDir, 'quarantine.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; sqlstate: string; row: unknown });

test('the 1e-300 fill is refused; a row Postgres refuses is quarantined and the fills after it are written', async () => {
  const pid = newPortfolioId('poison');
  const poison = `${pid}-f3`;
  await withRefusedRow(pid, 'gate_fills', 'fill_id', poison, async (g, c, dataDir) => {
    const tiny = call<unknown, ReportFillResponse>(c, 'reportFill', fill(pid, `${pid}-tiny`, { quantity: 1e-300, price: 1e-300 }));
    await expect(tiny).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('quantity 1e-300 is below'),
    });
    const huge = call<unknown, ReportFillResponse>(c, 'reportFill', fill(pid, `${pid}-huge`, { quantity: 1e300, price: 1e10 }));
    await expect(huge).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });

    // Five fills in one batch (sent together, well inside one 50 ms flush), the third refused by Postgres.
    const ids = [1, 2, 3, 4, 5].map((i) => `${pid}-f${i}`);
    await Promise.all(ids.map((id) => call<unknown, ReportFillResponse>(c, 'reportFill', fill(pid, id))));
    expect(await storedIds('gate_fills', 'fill_id', pid, 4)).toEqual(ids.filter((id) => id !== poison));
    expect(g.stats()).toMatchObject({ quarantined: 1, fillsQueued: 0 });
    expect(quarantined(dataDir)).toEqual([
      expect.objectContaining({ kind: 'fill', sqlstate: '23514', row: expect.objectContaining({ fillId: poison, quantity: 10 }) }),
    ]);
    const alert = await eventually(
      () =>
        withPool(async (pool) => {
          const { rows } = await pool.query('SELECT severity, kind FROM alerts WHERE idempotency_key = $1', [
            `gate-quarantine:fill:${poison}`,
          ]);
          return rows[0] as { severity: string; kind: string } | undefined;
        }),
      5_000,
    );
    expect(alert).toEqual({ severity: 'critical', kind: 'gate-quarantine' });
    // Positions hold the four written fills only.
    const position = await withPool((pool) => pool.query('SELECT quantity FROM positions WHERE portfolio_id = $1', [pid]));
    expect(position.rows).toEqual([{ quantity: 40 }]);
  });
});

test('a decision Postgres refuses is quarantined, readable, and the decisions of its batch around it are written', async () => {
  const pid = newPortfolioId('poison-d');
  const poison = `${pid}-o3`;
  await withRefusedRow(pid, 'gate_decisions', 'client_order_id', poison, async (g, c, dataDir) => {
    // Five orders in one batch (one 50 ms flush): one COPY, refused as a whole, split down to the third.
    const ids = [1, 2, 3, 4, 5].map((i) => `${pid}-o${i}`);
    await Promise.all(ids.map((id) => call(c, 'evaluateTrade', { order: buy(pid, { clientOrderId: id, quantity: 1 }) })));
    expect(await storedIds('gate_decisions', 'client_order_id', pid, 4)).toEqual(ids.filter((id) => id !== poison));
    expect(g.stats()).toMatchObject({ quarantined: 1 });
    expect(quarantined(dataDir)).toEqual([
      expect.objectContaining({
        kind: 'decision',
        sqlstate: '23514',
        row: expect.objectContaining({ clientOrderId: poison, portfolioId: pid, decision: 'APPROVE', quantity: 1 }),
      }),
    ]);
  });
});

test('a spool of the earlier format (decisions as JSON objects) is replayed into Postgres at start', async () => {
  const pid = newPortfolioId('legacy');
  await withPool((_pool, store) => commitFixture(store, pid));
  const dataDir = newDataDir();
  const replica = `legacy-${pid}`;
  // What a gate before the one-encoding change left: the record object itself in the spool.
  const spool = new Spool({ dir: dataDir, logger: quietLogger, deliver: () => undefined });
  await spool.open();
  const record: DecisionRecord = {
    decisionId: `${pid}-d1`,
    decidedAtMs: Date.UTC(2026, 10, 30, 8, 0, 0, 5),
    rpc: 'EvaluateTrade',
    caller: 'oms\tdesk',
    portfolioId: pid,
    strategy: 'trend',
    instrument: 'AAPL',
    side: 'BUY',
    quantity: 3,
    price: 100,
    clientOrderId: `${pid}-legacy`,
    decision: 'DENY',
    approvedQuantity: 0,
    reasons: ['POSITION_LIMIT'],
    detail: 'line one\nline two',
    budgetVersion: 1,
    tradingState: 'ACTIVE',
    latencyUs: 9,
  };
  await spool.append('decision', replica, record);
  await spool.close();
  const g = await gate({ dataDir, replicaId: replica });
  running.push(g);
  const row = await eventually(
    () =>
      withPool(async (pool) => {
        const { rows } = await pool.query('SELECT replica, caller, reasons, detail FROM gate_decisions WHERE decision_id = $1', [
          record.decisionId,
        ]);
        return rows[0] as Record<string, unknown> | undefined;
      }),
    10_000,
  );
  expect(row).toEqual({ replica, caller: 'oms\tdesk', reasons: ['POSITION_LIMIT'], detail: 'line one\nline two' });
});
