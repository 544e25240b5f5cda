/**
 * Secure by default, in every start mode: `ballast gate` and `ballast start` (what `npm start` runs),
 * as real processes on the test Postgres and Temporal, with no security flags at all. Each makes the
 * local CA on first run and serves mTLS with its access policy: callers without a certificate of that
 * CA do not get past the handshake (UNAVAILABLE); a verified identity without `control`, even one that
 * names itself the operator, gets PERMISSION_DENIED on every control RPC; the operator's certificate
 * succeeds. Compose runs `ballast start` with the same defaults (test/unit/deploy/compose.test.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LimitField, type OverrideLimitResponse, type TriggerRebalanceResponse } from '../../../grpc/generated/ballast/gate/v1/gate';
import { DEMO_OMS_IDENTITY, OPERATOR_IDENTITY, issueCertificate } from '../../../infra/certs';
import { loopWorkflowId, manualRebalanceWorkflowId } from '../../../workflows/types';
import { runCliJson } from '../../support/cli';
import { testClient } from '../../support/env';
import { buy, call, client, type Client, commitFixture, eventually, newPortfolioId, runBallast, stopProcess, withPool } from './helpers';

const certsDir = mkdtempSync(join(tmpdir(), 'ballast-secure-start-'));
const strangerDir = mkdtempSync(join(tmpdir(), 'ballast-stranger-ca-'));
const children: ChildProcess[] = [];
const clients: Client[] = [];

afterAll(async () => {
  clients.forEach((c) => c.close());
  await Promise.all(children.map(stopProcess));
  rmSync(certsDir, { recursive: true, force: true });
  rmSync(strangerDir, { recursive: true, force: true });
});

/** Runs `ballast <args>` with no security flags; resolves with the gate address it prints. */
async function ballast(args: string[], addressPattern: RegExp): Promise<string> {
  const { child, address } = await runBallast(args, addressPattern, { BALLAST_CERTS_DIR: certsDir });
  children.push(child);
  return address;
}

const pem = (file: string): Buffer => readFileSync(file);
/** A client of the gate at `address`: with a certificate of the local CA, another CA's, none, or plaintext. */
function as(address: string, who: 'plaintext' | 'no-certificate' | 'stranger' | string): Client {
  const ca = pem(join(certsDir, 'ca.crt'));
  const creds =
    who === 'plaintext'
      ? grpc.credentials.createInsecure()
      : who === 'no-certificate'
        ? grpc.credentials.createSsl(ca)
        : who === 'stranger'
          ? grpc.credentials.createSsl(ca, pem(join(strangerDir, 'ballast-operator.key')), pem(join(strangerDir, 'ballast-operator.crt')))
          : grpc.credentials.createSsl(ca, pem(join(certsDir, `${who}.key`)), pem(join(certsDir, `${who}.crt`)));
  const c = client(address.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:'), creds, { 'grpc.ssl_target_name_override': 'localhost' });
  clients.push(c);
  return c;
}

/** A caller naming itself the operator, as the audit label would have recorded it before. */
function selfNamed<Req>(c: Client, method: string, req: Req): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const md = new grpc.Metadata();
    md.set('x-ballast-caller', OPERATOR_IDENTITY);
    const fn = (c as unknown as Record<string, (...a: unknown[]) => void>)[method];
    fn.call(c, req, md, { deadline: Date.now() + 5_000 }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)));
  });
}

const codeOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => -1,
    (e: grpc.ServiceError) => e.code,
  );

const override = (portfolioId: string) => ({
  portfolioId,
  field: LimitField.LIMIT_FIELD_MAX_GROSS_NOTIONAL,
  value: 1e12,
  strategy: '',
  asset: '',
  reason: 'lift every limit',
  expiresAt: new Date(Date.now() + 29 * 86_400_000).toISOString(),
  requestedBy: 'desk-head',
  requestId: '',
});
const rebalance = (portfolioId: string) => ({ portfolioId, reason: 'because I can', requestId: '' });

/** Every control RPC, refused to every caller who is not the operator. */
async function expectControlRefused(address: string, portfolioId: string): Promise<void> {
  for (const [method, req] of [
    ['overrideLimit', override(portfolioId)],
    ['triggerRebalance', rebalance(portfolioId)],
  ] as const) {
    for (const who of ['plaintext', 'no-certificate', 'stranger']) {
      expect([who, method, await codeOf(call(as(address, who), method, req, 5_000))]).toEqual([who, method, grpc.status.UNAVAILABLE]);
    }
    // A verified identity without a control grant, claiming to be the operator.
    expect([method, await codeOf(selfNamed(as(address, DEMO_OMS_IDENTITY), method, req))]).toEqual([method, grpc.status.PERMISSION_DENIED]);
    expect([method, await codeOf(call(as(address, DEMO_OMS_IDENTITY), method, req))]).toEqual([method, grpc.status.PERMISSION_DENIED]);
  }
}

async function terminate(...workflowIds: string[]): Promise<void> {
  const t = await testClient();
  try {
    for (const id of workflowIds)
      await t.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
  } finally {
    await t.close();
  }
}

beforeAll(() => {
  // A CA of someone else's, with a certificate that names itself the operator.
  issueCertificate(strangerDir, OPERATOR_IDENTITY, 'client');
});

test('ballast gate: mTLS and the local policy by default; control only for the operator', async () => {
  const pid = newPortfolioId('secure-gate');
  await withPool((_p, store) => commitFixture(store, pid));
  const address = await ballast(['gate', '--port', '0'], /"address":"([^"]+)"/);
  // The demo OMS trades; a caller outside the CA cannot.
  expect(await codeOf(call(as(address, DEMO_OMS_IDENTITY), 'evaluateTrade', { order: buy(pid) }))).toBe(-1);
  // `ballast load` calls with the local CA's demo OMS certificate by default.
  const report = await runCliJson<{ requests: number; errors: Record<string, number>; decisions: Record<string, number> }>([
    'load',
    '--target',
    address,
    '--portfolio',
    pid,
    '--duration',
    '500ms',
    '--warmup',
    '100ms',
    '--concurrency',
    '2',
    '--certs-dir',
    certsDir,
  ]);
  expect(report.requests).toBeGreaterThan(0);
  expect(report.errors).toEqual({});
  // Its orders come from the portfolio's budget (GetCurrentBudget, under the same certificate): approved.
  expect(report.decisions.APPROVE).toBeGreaterThan(0);
  expect(await codeOf(call(as(address, 'plaintext'), 'evaluateTrade', { order: buy(pid) }))).toBe(grpc.status.UNAVAILABLE);
  await expectControlRefused(address, pid);
  // The operator reaches Temporal: the rebalance workflow starts.
  const operator = as(address, OPERATOR_IDENTITY);
  const r = await call<unknown, TriggerRebalanceResponse>(operator, 'triggerRebalance', rebalance(pid));
  expect(r.workflowId).toBe(manualRebalanceWorkflowId(pid));
  // A second one while the first runs: ALREADY_EXISTS, not INTERNAL.
  expect(await codeOf(call(operator, 'triggerRebalance', rebalance(pid)))).toBe(grpc.status.ALREADY_EXISTS);
  await terminate(manualRebalanceWorkflowId(pid));
  // No loop runs for this portfolio, so the override fails in Temporal, after authorization.
  expect(await codeOf(call(operator, 'overrideLimit', override(pid)))).not.toBe(grpc.status.PERMISSION_DENIED);
}, 120_000);

test('ballast start (npm start): the demo order flow trades over mTLS; the operator overrides a limit, no one else can', async () => {
  const pid = newPortfolioId('secure-start');
  const address = await ballast(
    ['start', '--gate-port', '0', '--orders-per-second', '20', '--portfolio', pid, '--interval-ms', '60000'],
    /gRPC gate\s+(\S+)/,
  );
  // The demo OMS's decisions are recorded under its certificate's identity.
  const demoDecisions = () =>
    withPool(async (pool) => {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM gate_decisions WHERE portfolio_id = $1 AND caller = $2',
        [pid, DEMO_OMS_IDENTITY],
      );
      return rows[0].n > 0 ? rows[0].n : undefined;
    });
  expect(await eventually(demoDecisions, 90_000)).toBeGreaterThan(0);
  await expectControlRefused(address, pid);
  const operator = as(address, OPERATOR_IDENTITY);
  const r = await call<unknown, OverrideLimitResponse>(
    operator,
    'overrideLimit',
    { ...override(pid), value: 2e7, reason: 'earnings' },
    30_000,
  );
  expect(r.overrideId).toBeGreaterThan(0);
  // Four eyes: the operator may not approve an override they requested themselves.
  const selfRequested = { ...override(pid), value: 2e7, reason: 'earnings', requestedBy: OPERATOR_IDENTITY };
  expect(await codeOf(call(operator, 'overrideLimit', selfRequested, 30_000))).toBe(grpc.status.INVALID_ARGUMENT);
  const reb = await call<unknown, TriggerRebalanceResponse>(operator, 'triggerRebalance', rebalance(pid));
  expect(reb.workflowId).toBe(manualRebalanceWorkflowId(pid));
  await terminate(manualRebalanceWorkflowId(pid), loopWorkflowId(pid));
}, 240_000);
