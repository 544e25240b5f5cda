/**
 * Gate HA (issue 13 §1, docs/gate-ha.md): one headroom for a portfolio across 2 and 3 replicas (real
 * gates in this process, real Postgres). A load client sprays orders at random replicas,
 * concurrently; the audit shows no limit exceeded, and under light load the approvals are one gate's.
 */
import * as grpc from '@grpc/grpc-js';
import type pg from 'pg';
import { createPool } from '../../../db/pool';
import { GateLeaseStore } from '../../../db/stores/gateLeases';
import { Decision, type EvaluateTradeResponse, type EvaluateTradeStreamResponse } from '../../../grpc/generated/ballast/gate/v1/gate';
import { OWNER_ADDRESS_HEADER } from '../../../grpc/forward';
import type { RunningGate } from '../../../grpc/server';
import { call, client, type Client, commitFixture, databaseUrl, eventually, gate, newPortfolioId, withPool } from './helpers';
import { approvedExposure, auditedApprovals, overLimits, randomOrder, seeded, spray } from './haSupport';
import { openBatchStream, openTradeStream } from './tradeStreamClient';

jest.setTimeout(180_000);

const LEASE_TTL_MS = 1_000;
const insecurePeers = { credentials: grpc.credentials.createInsecure() };

let pool: pg.Pool;
const running: RunningGate[] = [];
const clients: Client[] = [];
beforeAll(() => (pool = createPool(databaseUrl(), 3)));
afterAll(() => pool.end());
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(running.splice(0).map((g) => g.close()));
});

async function replicas(n: number, forward = true): Promise<{ gates: RunningGate[]; clients: Client[] }> {
  const gates: RunningGate[] = [];
  for (let i = 0; i < n; i++) {
    const g = await gate({ ha: { leaseTtlMs: LEASE_TTL_MS, peerClient: forward ? insecurePeers : undefined } });
    running.push(g);
    gates.push(g);
  }
  const cs = gates.map((g) => client(g.address));
  clients.push(...cs);
  return { gates, clients: cs };
}

/** The replica holding the portfolio's lease, once one does. */
const ownerOf = (gates: readonly RunningGate[], portfolioId: string): Promise<RunningGate> =>
  eventually(async () => gates.find((g) => g.leases?.route(portfolioId).kind === 'local'), 10_000);

/** Every replica knows where the portfolio is decided (the owner, or a live lease row). */
const settled = async (gates: readonly RunningGate[], portfolioId: string): Promise<void> => {
  await ownerOf(gates, portfolioId);
  await eventually(async () => (gates.every((g) => g.leases?.route(portfolioId).kind !== 'unavailable') ? true : undefined), 10_000);
};

for (const n of [2, 3]) {
  test(`${n} replicas, orders sprayed at random, concurrently: the audit's approved worst case stays within every limit`, async () => {
    const pid = newPortfolioId(`ha${n}`);
    await withPool((_p, store) => commitFixture(store, pid));
    const { gates, clients: cs } = await replicas(n);
    await settled(gates, pid);
    const r = await spray(() => cs, pid, { workers: 24, perWorker: 40, seed: n, tag: `${pid}-o` });
    const report = await approvedExposure(pool, pid);
    console.log(`${n} replicas: ${r.approved.length} approved, ${r.denied} denied, ${r.failed} failed\n` + table(report));
    expect(r.failed).toBe(0);
    expect(overLimits(report)).toEqual([]);
    // Enough demand to fill the limits: the binding ones are at (or within an order of) their maximum.
    expect(r.denied).toBeGreaterThan(100);
    const audited = await auditedApprovals(pool, pid);
    expect(r.approved.filter((id) => !audited.has(id))).toEqual([]);
    expect(audited.size).toBe(r.approved.length);
    // Only the owner decided: every audited decision carries its replica name.
    const { rows } = await pool.query<{ replicas: string }>(
      `SELECT count(DISTINCT replica)::int AS replicas FROM gate_decisions WHERE portfolio_id = $1`,
      [pid],
    );
    expect(Number(rows[0].replicas)).toBe(1);
  });
}

test('under light load the approvals across 3 replicas are exactly those of one gate', async () => {
  const single = newPortfolioId('ha-one');
  const shared = newPortfolioId('ha-many');
  await withPool(async (_p, store) => {
    await commitFixture(store, single);
    await commitFixture(store, shared);
  });
  const one = await gate();
  running.push(one);
  const oneClient = client(one.address);
  clients.push(oneClient);
  const { gates, clients: cs } = await replicas(3);
  await settled(gates, shared);
  const rand = seeded(7);
  const route = seeded(8);
  const decisions: Array<[Decision, Decision]> = [];
  for (let i = 0; i < 120; i++) {
    const base = randomOrder('', `light-${i}`, rand);
    const a = await call<unknown, EvaluateTradeResponse>(oneClient, 'evaluateTrade', { order: { ...base, portfolioId: single } });
    const replica = cs[Math.floor(route() * cs.length)];
    const b = await call<unknown, EvaluateTradeResponse>(replica, 'evaluateTrade', { order: { ...base, portfolioId: shared } });
    decisions.push([a.decision, b.decision]);
  }
  expect(decisions.filter(([a, b]) => a !== b)).toEqual([]);
  expect(decisions.some(([a]) => a === Decision.DECISION_DENY)).toBe(true);
  expect(decisions.some(([a]) => a === Decision.DECISION_APPROVE)).toBe(true);
});

test('without forwarding a non-owner answers UNAVAILABLE naming the owner; a graceful stop hands the lease over at once', async () => {
  const pid = newPortfolioId('ha-redirect');
  await withPool((_p, store) => commitFixture(store, pid));
  const { gates, clients: cs } = await replicas(2, false);
  await settled(gates, pid);
  const owner = await ownerOf(gates, pid);
  const other = gates.find((g) => g !== owner)!;
  const err = await call<unknown, EvaluateTradeResponse>(cs[gates.indexOf(other)], 'evaluateTrade', {
    order: randomOrder(pid, `${pid}-r`, seeded(1)),
  }).catch((e: grpc.ServiceError) => e);
  expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
  expect((err as grpc.ServiceError).metadata.get(OWNER_ADDRESS_HEADER)).toEqual([owner.address]);
  const ok = await call<unknown, EvaluateTradeResponse>(cs[gates.indexOf(owner)], 'evaluateTrade', {
    order: randomOrder(pid, `${pid}-a`, seeded(1)),
  });
  expect(ok.decision).toBe(Decision.DECISION_APPROVE);

  // The owner stops: its lease is released, the other takes over without waiting for expiry and
  // rebuilds the approved order's reservation from Postgres.
  const stopped = Date.now();
  await owner.close();
  running.splice(running.indexOf(owner), 1);
  await eventually(async () => (other.leases?.route(pid).kind === 'local' ? true : undefined), 10_000);
  console.log(`graceful handover: ${Date.now() - stopped} ms`);
  expect(other.leases!.takeovers.find((t) => t.portfolioId === pid)?.working).toBe(1);
  const retried = await call<unknown, EvaluateTradeResponse>(cs[gates.indexOf(other)], 'evaluateTrade', {
    order: randomOrder(pid, `${pid}-a`, seeded(1)),
  });
  expect(retried).toMatchObject({ decision: Decision.DECISION_APPROVE, replayed: true });
});

test('a streamed order is decided only by the owner: a non-owner answers it UNAVAILABLE naming the owner (batched too), the stream goes on', async () => {
  const pid = newPortfolioId('ha-stream');
  await withPool((_p, store) => commitFixture(store, pid));
  const { gates, clients: cs } = await replicas(2);
  await settled(gates, pid);
  const owner = await ownerOf(gates, pid);
  const other = gates.find((g) => g !== owner)!;
  const elsewhere = openTradeStream(cs[gates.indexOf(other)]);
  elsewhere.send(randomOrder(pid, `${pid}-s1`, seeded(2)));
  elsewhere.send(randomOrder(pid, `${pid}-s2`, seeded(3)));
  const expectRedirected = (answers: readonly EvaluateTradeStreamResponse[]): void => {
    for (const a of answers) {
      expect(a.result?.$case).toBe('error');
      expect(a.result?.$case === 'error' && a.result.value).toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(a.result?.$case === 'error' && a.result.value.message).toContain(owner.address);
    }
  };
  expectRedirected(await elsewhere.waitFor(2));
  elsewhere.end();
  expect((await elsewhere.status).code).toBe(grpc.status.OK);
  // The batched stream alike: each order of a batch refused, naming the owner.
  const batchedElsewhere = openBatchStream(cs[gates.indexOf(other)]);
  batchedElsewhere.send([randomOrder(pid, `${pid}-b1`, seeded(4)), randomOrder(pid, `${pid}-b2`, seeded(5))]);
  expectRedirected(await batchedElsewhere.waitFor(2));
  batchedElsewhere.end();
  expect((await batchedElsewhere.status).code).toBe(grpc.status.OK);
  const here = openTradeStream(cs[gates.indexOf(owner)]);
  here.send(randomOrder(pid, `${pid}-s1`, seeded(2)));
  const [decided] = await here.waitFor(1);
  expect(decided.result?.$case).toBe('decision');
  here.end();
  await here.status;
  expect(await auditedApprovals(pool, pid)).toEqual(
    new Set(decided.result?.$case === 'decision' && decided.result.value.decision === Decision.DECISION_APPROVE ? [`${pid}-s1`] : []),
  );
});

test('a deposed owner cannot write: its decision is refused once another replica holds the token', async () => {
  const pid = newPortfolioId('ha-fence');
  await withPool((_p, store) => commitFixture(store, pid));
  const { gates, clients: cs } = await replicas(1);
  await ownerOf(gates, pid);
  // Another replica takes the lease behind the owner's back (as if the owner had stalled past its TTL).
  // The owner's lease round may renew between the expiry and the take (seen once): then expire it again.
  const token = await eventually(async () => {
    await pool.query(`UPDATE gate_leases SET expires_at = now() - interval '1 second' WHERE portfolio_id = $1`, [pid]);
    return new GateLeaseStore(pool).acquire(pid, 'intruder', '127.0.0.1:1', 60_000, null);
  }, 10_000);
  expect(token).toBeGreaterThan(1);
  const err = await call<unknown, EvaluateTradeResponse>(cs[0], 'evaluateTrade', { order: randomOrder(pid, `${pid}-x`, seeded(2)) }).catch(
    (e: grpc.ServiceError) => e,
  );
  expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
  expect(await auditedApprovals(pool, pid)).toEqual(new Set());
  expect(gates[0].leases!.route(pid).kind).not.toBe('local');
});

test('replica heartbeats and served budget versions are readable for the console', async () => {
  const pid = newPortfolioId('ha-status');
  await withPool((_p, store) => commitFixture(store, pid));
  const { gates } = await replicas(2);
  await settled(gates, pid);
  const status = await eventually(async () => {
    const rows = await new GateLeaseStore(pool).replicaStatus();
    const ours = rows.filter((r) => r.budgetVersions[pid] !== undefined);
    return ours.length === 2 ? ours : undefined;
  }, 10_000);
  for (const r of status) {
    expect(r.versionsBehind[pid]).toBe(0);
    expect(r.heartbeatAgeMs).toBeLessThan(5_000);
  }
  expect(status.filter((r) => r.owns.includes(pid))).toHaveLength(1);
});

const table = (report: ReadonlyArray<{ limit: string; used: number; max: number }>): string =>
  report.map((r) => `  ${r.limit.padEnd(28)} ${r.used.toFixed(0).padStart(9)} / ${r.max.toFixed(0).padStart(9)}`).join('\n');
