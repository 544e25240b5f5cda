/**
 * Gate HA clients that route to the owner (grpc/ownerRouting.ts, docs/gate-ha.md): real
 * `ballast gate --ha` processes (mTLS, local CA), real Postgres. A routing client seeded with the
 * non-owner only:
 *   - with forwarding, its first decision is forwarded (the audit's caller says "… via …") and the
 *     later ones go to the owner directly;
 *   - with --no-forward, it follows the redirect and every call is decided by the owner;
 *   - after the owner is SIGKILLed, its next calls are answered by the replica that takes over, and
 *     the last order retried under the same client order id gets its original approval back,
 *     reserved once (the sizing is what it was before the kill);
 *   - the reference OMS given both replicas executes a plan with every order decided by the owner directly.
 */
import type pg from 'pg';
import { createPool } from '../../../db/pool';
import { BudgetStore } from '../../../db/stores/budgets';
import { RebalancePlanStore } from '../../../db/stores/rebalancePlans';
import { Decision, type Order, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import { OwnerRoutingClient } from '../../../grpc/ownerRouting';
import { type ReferenceOms, startReferenceOms } from '../../../processes/referenceOms';
import { rebalancePlan } from '../../../risk/rebalancePlan';
import { type GateProcess, requireFreshBuild, startGateProcess } from '../../support/gateProcess';
import { budget } from '../../unit/risk/pretrade/fixtures';
import { commitFixture, databaseUrl, eventually, newDataDir, newPortfolioId, withPool } from './helpers';

jest.setTimeout(120_000);
beforeAll(() => requireFreshBuild(['grpc/forward.ts', 'grpc/ha.ts', 'grpc/server.ts', 'cli/commands/gate.ts']));

const LEASE_TTL = '1s';
const PAIR = budget('ha').assets[0];

let pool: pg.Pool;
const gates: GateProcess[] = [];
const routers: OwnerRoutingClient[] = [];
beforeAll(() => (pool = createPool(databaseUrl(), 2)));
afterEach(async () => {
  routers.splice(0).forEach((r) => r.close());
  await Promise.all(gates.splice(0).map((g) => g.kill()));
});
afterAll(() => pool.end());

/** Two replicas, started one after the other (the first issues the local CA's peer certificate). */
async function pair(name: string, extra: readonly string[] = []): Promise<GateProcess[]> {
  const started: GateProcess[] = [];
  for (const r of ['a', 'b']) {
    const args = [
      '--database-url',
      databaseUrl(),
      '--data-dir',
      newDataDir(),
      '--replica',
      `${name}-${r}`,
      '--ha',
      '--lease-ttl',
      LEASE_TTL,
    ];
    const g = await startGateProcess([...args, ...extra]);
    gates.push(g);
    started.push(g);
  }
  return started;
}

/** The portfolio's owner replica (name and advertised address) once a live lease names it. */
const lease = (portfolioId: string): Promise<{ owner: string; owner_address: string }> =>
  eventually(async () => {
    const { rows } = await pool.query<{ owner: string; owner_address: string }>(
      `SELECT owner, owner_address FROM gate_leases WHERE portfolio_id = $1 AND expires_at > now()`,
      [portfolioId],
    );
    return rows[0];
  }, 15_000);

/** Owner and non-owner, once both replicas know the lease (a routing client then needs no retry). */
async function roles(replicas: readonly GateProcess[], portfolioId: string) {
  const { owner: name, owner_address: address } = await lease(portfolioId);
  const owner = replicas.find((g) => g.address === address)!;
  const other = replicas.find((g) => g !== owner)!;
  expect(owner).toBeDefined();
  await new Promise((r) => setTimeout(r, 1_000)); // a lease round (TTL/3) for the other to learn it
  return { name, owner, other };
}

const routingClient = (seeds: readonly GateProcess[]): OwnerRoutingClient => {
  const r = new OwnerRoutingClient({
    seeds: seeds.map((g) => g.oms.target),
    credentials: seeds[0].oms.credentials,
    channelOptions: seeds[0].oms.options,
  });
  routers.push(r);
  return r;
};

/** A buy on the fixture's first pair: `share` of its position limit. */
const buy = (portfolioId: string, clientOrderId: string, share: number): Order => ({
  portfolioId,
  strategy: PAIR.strategy,
  instrument: PAIR.asset,
  side: Side.SIDE_BUY,
  quantity: Math.round((PAIR.maxPositionNotional / (PAIR.referencePrice as number)) * share),
  price: PAIR.referencePrice as number,
  clientOrderId,
});

async function audit(portfolioId: string): Promise<Map<string, { caller: string; replica: string; decision: string }>> {
  const { rows } = await pool.query<{ client_order_id: string; caller: string; replica: string; decision: string }>(
    `SELECT client_order_id, caller, replica, decision FROM gate_decisions WHERE portfolio_id = $1 AND rpc = 'EvaluateTrade'`,
    [portfolioId],
  );
  return new Map(rows.map((r) => [r.client_order_id, r]));
}

test('seeded with the non-owner, forwarding on: the first decision is forwarded, the later ones go to the owner; after a SIGKILL of the owner the next calls are answered by the new one, a retry gets its original approval', async () => {
  const pid = newPortfolioId('ha-route');
  await withPool((_p, store) => commitFixture(store, pid));
  const replicas = await pair('route');
  const { name, owner, other } = await roles(replicas, pid);
  const client = routingClient([other]);
  const ids = [1, 2, 3, 4, 5].map((i) => `${pid}-o${i}`);
  for (const id of ids) {
    const res = await client.evaluateTrade({ order: buy(pid, id, 0.15) }, Date.now() + 5_000);
    expect(res.decision).toBe(Decision.DECISION_APPROVE);
  }
  expect(client.ownerOf(pid)).toBe(owner.address);
  const rows = await audit(pid);
  expect(ids.map((id) => rows.get(id)?.caller)).toEqual([
    'ballast-demo-oms via ballast-gate-peer',
    ...ids.slice(1).map(() => 'ballast-demo-oms'),
  ]);
  expect(new Set(ids.map((id) => rows.get(id)?.replica))).toEqual(new Set([name]));

  // The failover: a client given every replica, whose cached owner dies.
  const both = routingClient([other, owner]);
  const last = ids[ids.length - 1];
  expect((await both.evaluateTrade({ order: buy(pid, last, 0.15) }, Date.now() + 5_000)).replayed).toBe(true);
  expect(both.ownerOf(pid)).toBe(owner.address);
  const probe = { order: buy(pid, '', 10) };
  const room = (await both.sizePosition(probe, Date.now() + 5_000)).approvedQuantity;
  expect(room).toBeGreaterThan(0);
  const killedAt = Date.now();
  await owner.kill();
  const retried = await both.evaluateTrade({ order: buy(pid, last, 0.15) }, Date.now() + 10_000);
  const servedAfterMs = Date.now() - killedAt;
  console.log(`routing client answered by the new owner ${servedAfterMs} ms after the SIGKILL (lease TTL ${LEASE_TTL})`);
  expect(retried).toMatchObject({ decision: Decision.DECISION_APPROVE, replayed: true });
  expect(servedAfterMs).toBeLessThan(8_000);
  expect(both.ownerOf(pid)).toBe(other.address);
  // The approval is reserved once: the room left (the pair's position limit binds: 75 % used) is what it was before the kill.
  expect((await both.sizePosition(probe, Date.now() + 5_000)).approvedQuantity).toBeCloseTo(room, 6);
  const next = `${pid}-o6`;
  expect((await both.evaluateTrade({ order: buy(pid, next, 0.05) }, Date.now() + 5_000)).decision).toBe(Decision.DECISION_APPROVE);
  const after = await audit(pid);
  expect(after.get(next)).toMatchObject({ caller: 'ballast-demo-oms', replica: (await lease(pid)).owner });
  expect(after.get(next)?.replica).not.toBe(name);
  expect([...after.values()].filter((r) => r.decision === 'APPROVE')).toHaveLength(ids.length + 1);
});

test('seeded with the non-owner, --no-forward: the client follows the redirect, every call is decided by the owner, none forwarded', async () => {
  const pid = newPortfolioId('ha-redirect-route');
  await withPool((_p, store) => commitFixture(store, pid));
  const replicas = await pair('redirect', ['--no-forward']);
  const { name, owner, other } = await roles(replicas, pid);
  const client = routingClient([other]);
  const ids = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${pid}-o${i}`);
  const decisions = [];
  // Big enough that the last ones are denied: a DENY is an answer too.
  for (const id of ids) decisions.push((await client.evaluateTrade({ order: buy(pid, id, 0.3) }, Date.now() + 5_000)).decision);
  expect(decisions.slice(0, 3)).toEqual([Decision.DECISION_APPROVE, Decision.DECISION_APPROVE, Decision.DECISION_APPROVE]);
  expect(decisions).toContain(Decision.DECISION_DENY);
  expect(client.ownerOf(pid)).toBe(owner.address);
  const rows = await audit(pid);
  expect(ids.map((id) => rows.get(id)?.caller)).toEqual(ids.map(() => 'ballast-demo-oms'));
  expect(new Set(ids.map((id) => rows.get(id)?.replica))).toEqual(new Set([name]));
});

test('the reference OMS given both replicas (the non-owner first) executes a plan with every order decided by the owner directly', async () => {
  const pid = newPortfolioId('ha-oms');
  const replicas = await pair('oms');
  await withPool((_p, store) => commitFixture(store, pid));
  const { name, owner, other } = await roles(replicas, pid);
  const oms: ReferenceOms = startReferenceOms({
    gateAddress: other.oms.target,
    gateAddresses: [owner.oms.target],
    credentials: other.oms.credentials,
    channelOptions: other.oms.options,
    portfolioId: pid,
    seed: 5,
  });
  try {
    const b = budget(pid);
    const { version } = await new BudgetStore(pool).commitBudget(`${pid}-plan-${Date.now()}`, b);
    await new RebalancePlanStore(pool).emit(`${pid}:v${version.version}:plan`, pid, (positions) =>
      rebalancePlan(b, version.version, positions),
    );
    const report = await eventually(async () => oms.reports.find((r) => r.budgetVersion === version.version), 30_000);
    expect(report.outcome).not.toBe('SKIPPED');
    expect(report.childOrders).toBeGreaterThan(0);
  } finally {
    await oms.stop();
  }
  // The first trade call (a SizePosition) was forwarded and named the owner; every order went to it.
  const rows = [...(await audit(pid)).values()];
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.filter((r) => r.caller !== 'ballast-demo-oms' || r.replica !== name)).toEqual([]);
});
