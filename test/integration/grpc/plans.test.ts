/**
 * Rebalancing plans out to the OMS through the real gate and Postgres: the outbox's NOTIFY on commit
 * reaches a subscriber at once; a subscriber that dies and resumes from its cursor gets every plan
 * committed meanwhile exactly once, in order; a superseded plan cannot be accepted (so is never
 * executed); subscribers see only their portfolios (mTLS identities and the gate's access policy);
 * an unauthorised identity is refused; the outbox records delivery, acknowledgement and supersession.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../../../db/pool';
import { BudgetStore } from '../../../db/stores/budgets';
import { RebalancePlanStore } from '../../../db/stores/rebalancePlans';
import { AckOutcome, PlanState } from '../../../grpc/generated/ballast/gate/v1/plans';
import type { RunningGate } from '../../../grpc/server';
import type { RebalancePlan } from '../../../risk/rebalancePlan';
import { databaseUrl, gate, newPortfolioId } from './helpers';
import { type PlanClient, ackPlan, planClient, watchPlans } from './planClient';

const dir = mkdtempSync(join(tmpdir(), 'ballast-plans-'));
const pem = (name: string): Buffer => readFileSync(join(dir, name));
const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
function issue(name: string, cn: string, serverSan?: string): void {
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  );
  writeFileSync(join(dir, `${name}.ext`), serverSan ? `subjectAltName=${serverSan}\n` : 'extendedKeyUsage=clientAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  );
}

const portfolioA = newPortfolioId('plans-a');
const portfolioB = newPortfolioId('plans-b');
let pool: pg.Pool;
let g: RunningGate;
const clients: PlanClient[] = [];

function as(name: string): PlanClient {
  const c = planClient(
    g.address.replace('127.0.0.1', 'localhost'),
    grpc.credentials.createSsl(pem('ca.crt'), pem(`${name}.key`), pem(`${name}.crt`)),
  );
  clients.push(c);
  return c;
}

let planNumber = 0;
/** Commits a plan to the outbox as the loop does (its own transaction, keyed). */
async function commitPlan(portfolioId: string, budgetVersion = ++planNumber): Promise<void> {
  const plan: RebalancePlan = {
    budgetVersion,
    regime: 'calm',
    cashWeight: 0.1,
    grossLeverage: 0.9,
    orders: [
      {
        strategy: 'core',
        asset: 'EQ',
        referencePrice: 100,
        currentQuantity: 0,
        targetQuantity: 50,
        deltaQuantity: 50,
        targetNotional: 5_000,
      },
    ],
  };
  await new RebalancePlanStore(pool).emit(`${portfolioId}:test:${budgetVersion}:${Math.random()}`, portfolioId, () => plan);
}

const codeOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => -1,
    (e: grpc.ServiceError) => e.code,
  );

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=ballast-test-ca',
  );
  issue('server', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  issue('oms-a', 'oms-a');
  issue('oms-b', 'oms-b');
  issue('stranger', 'stranger');
  pool = createPool(databaseUrl(), 2);
  const budgets = new BudgetStore(pool);
  await budgets.ensurePortfolio(portfolioA);
  await budgets.ensurePortfolio(portfolioB);
  g = await gate({
    tls: { cert: pem('server.crt'), key: pem('server.key'), clientCa: pem('ca.crt') },
    access: {
      'oms-a': { portfolios: [portfolioA], strategies: ['*'] },
      'oms-b': { portfolios: [portfolioB], strategies: ['*'] },
    },
    planStream: { keepaliveMs: 300, batchSize: 2 },
  });
}, 60_000);

afterAll(async () => {
  clients.forEach((c) => c.close());
  await g?.close();
  await pool?.end();
  rmSync(dir, { recursive: true, force: true });
});

const outboxRow = async (planId: string) =>
  (
    await pool.query<{
      delivered_at: Date | null;
      acknowledged_at: Date | null;
      ack_outcome: string | null;
      superseded_at: Date | null;
      superseded_by: string | null;
    }>('SELECT delivered_at, acknowledged_at, ack_outcome, superseded_at, superseded_by FROM rebalance_outbox WHERE plan_id = $1', [planId])
  ).rows[0];

describe('WatchRebalancePlans and AckRebalancePlan', () => {
  it('delivers a committed plan to a subscriber within a second, with its id, versions and expiry', async () => {
    const oms = as('oms-a');
    const watch = watchPlans(oms, portfolioA, 0);
    await new Promise((r) => setTimeout(r, 300)); // subscribed and caught up (nothing yet)
    const committedAt = Date.now();
    await commitPlan(portfolioA, 7);
    const [plan] = await watch.waitFor(1, 5_000);
    const latencyMs = watch.received[0].atMs - committedAt;
    expect(latencyMs).toBeLessThan(1_000);
    expect(plan).toMatchObject({
      planId: `${portfolioA}/1`,
      portfolioId: portfolioA,
      sequence: 1,
      budgetVersion: 7,
      supersedesBudgetVersion: 0,
      state: PlanState.PLAN_STATE_OPEN,
      regime: 'calm',
    });
    expect((plan.expiresAt?.seconds ?? 0) * 1000).toBeGreaterThan(Date.now());
    expect(plan.orders[0]).toMatchObject({ asset: 'EQ', deltaQuantity: 50 });
    // Idle streams get keepalives carrying the latest sequence.
    await new Promise((r) => setTimeout(r, 800));
    expect(watch.keepalives).toBeGreaterThan(0);
    watch.cancel();
    expect((await outboxRow(plan.planId))?.delivered_at).not.toBeNull();
    await ackPlan(oms, plan.planId, AckOutcome.ACK_OUTCOME_ACCEPTED);
    const executed = await ackPlan(oms, plan.planId, AckOutcome.ACK_OUTCOME_EXECUTED);
    expect(executed.plan).toMatchObject({ state: PlanState.PLAN_STATE_ACKNOWLEDGED, ackOutcome: AckOutcome.ACK_OUTCOME_EXECUTED });
    expect(await outboxRow(plan.planId)).toMatchObject({ ack_outcome: 'EXECUTED', acknowledged_at: expect.any(Date) });
  }, 60_000);

  it('resumes from the cursor after the subscriber died: every plan committed meanwhile, once, in order', async () => {
    const oms = as('oms-a');
    const before = (
      await pool.query<{ s: number }>('SELECT COALESCE(MAX(sequence), 0) AS s FROM rebalance_outbox WHERE portfolio_id = $1', [portfolioA])
    ).rows[0].s;
    const first = watchPlans(oms, portfolioA, before);
    await commitPlan(portfolioA);
    await commitPlan(portfolioA);
    const handled = await first.waitFor(2);
    first.cancel(); // killed mid-stream
    for (let i = 0; i < 5; i++) await commitPlan(portfolioA); // committed while it was away
    const cursor = handled[handled.length - 1].sequence;
    const second = watchPlans(oms, portfolioA, cursor);
    const resumed = await second.waitFor(5);
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    second.cancel();
    const ids = [...handled, ...second.received.map((r) => r.plan)].map((p) => p.planId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(second.received).toHaveLength(5);
    expect(resumed.map((p) => p.sequence)).toEqual([1, 2, 3, 4, 5].map((i) => cursor + i));
    // Each one supersedes the one before it: only the newest is open.
    expect(resumed.slice(1).map((p) => p.supersedesPlanId)).toEqual(resumed.slice(0, -1).map((p) => p.planId));
  }, 60_000);

  it('refuses to accept a superseded plan, so only the newest is executed', async () => {
    const oms = as('oms-a');
    const cursor = (
      await pool.query<{ s: number }>('SELECT MAX(sequence) AS s FROM rebalance_outbox WHERE portfolio_id = $1', [portfolioA])
    ).rows[0].s;
    await commitPlan(portfolioA, 100);
    await commitPlan(portfolioA, 101);
    const watch = watchPlans(oms, portfolioA, cursor);
    const [older, newer] = await watch.waitFor(2);
    watch.cancel();
    // Committed before it was accepted, the newer plan superseded the older: the stream says so.
    expect(older).toMatchObject({ state: PlanState.PLAN_STATE_SUPERSEDED, supersededBy: newer.planId, budgetVersion: 100 });
    expect(newer).toMatchObject({ state: PlanState.PLAN_STATE_OPEN, supersedesPlanId: older.planId, supersedesBudgetVersion: 100 });
    expect(await codeOf(ackPlan(oms, older.planId, AckOutcome.ACK_OUTCOME_ACCEPTED))).toBe(grpc.status.FAILED_PRECONDITION);
    expect((await ackPlan(oms, newer.planId, AckOutcome.ACK_OUTCOME_ACCEPTED)).plan?.state).toBe(PlanState.PLAN_STATE_ACKNOWLEDGED);
    expect(await outboxRow(older.planId)).toMatchObject({ superseded_by: newer.planId, acknowledged_at: null });
    // An accepted plan is no longer superseded by the next one (it is being executed).
    await commitPlan(portfolioA, 102);
    expect((await outboxRow(newer.planId))?.superseded_at).toBeNull();
  }, 60_000);

  it('shows each subscriber only its own portfolio, and refuses an unauthorised identity', async () => {
    const a = watchPlans(as('oms-a'), portfolioA, 1_000_000);
    const b = watchPlans(as('oms-b'), portfolioB, 0);
    await new Promise((r) => setTimeout(r, 300));
    await commitPlan(portfolioB, 1);
    await commitPlan(portfolioA, 200);
    await commitPlan(portfolioB, 2);
    const bPlans = await b.waitFor(2);
    expect(bPlans.every((p) => p.portfolioId === portfolioB)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received.every((r) => r.plan.portfolioId === portfolioA)).toBe(true);
    a.cancel();
    b.cancel();
    // oms-b may not watch nor acknowledge A's plans; a stranger may watch nothing.
    const denied = watchPlans(as('oms-b'), portfolioA, 0);
    await expect(denied.waitFor(1, 5_000)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const stranger = watchPlans(as('stranger'), portfolioB, 0);
    await expect(stranger.waitFor(1, 5_000)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(await codeOf(ackPlan(as('oms-b'), `${portfolioA}/1`, AckOutcome.ACK_OUTCOME_ACCEPTED))).toBe(grpc.status.PERMISSION_DENIED);
    expect(await codeOf(ackPlan(as('oms-b'), `${portfolioB}/999`, AckOutcome.ACK_OUTCOME_ACCEPTED))).toBe(grpc.status.NOT_FOUND);
  }, 60_000);
});
