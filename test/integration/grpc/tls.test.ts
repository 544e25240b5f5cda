/**
 * TLS and mTLS: the client certificate's CN is the caller identity, mapped by the access policy to the
 * portfolios and strategies it may trade; control RPCs need a control grant. Certificates are made
 * with openssl in a temporary directory.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Decision,
  type EvaluateTradeResponse,
  LimitField,
  type OverrideLimitResponse,
  type TriggerRebalanceResponse,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import type { LimitOverrideCommand } from '../../../grpc/ports';
import type { RunningGate } from '../../../grpc/server';
import { buy, call, client, type Client, commitFixture, gate, newPortfolioId, withPool } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'ballast-gate-tls-'));
const pem = (name: string): Buffer => readFileSync(join(dir, name));
const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

function issue(name: string, cn: string, serverSan?: string): void {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, serverSan ? `subjectAltName=${serverSan}\n` : 'extendedKeyUsage=clientAuth\n');
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
    ext,
  );
}

const pid = newPortfolioId('tls');
const other = newPortfolioId('tls-other');
let g: RunningGate;
const started: Client[] = [];
const rebalances: Array<[string, string, string] | [string, string, string, string]> = [];
const overrides: Array<[string, LimitOverrideCommand] | [string, LimitOverrideCommand, string]> = [];

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
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
  issue('oms', 'oms-desk-a');
  issue('ops', 'risk-ops');
  issue('stranger', 'stranger');
  await withPool(async (_p, store) => {
    await commitFixture(store, pid);
    await commitFixture(store, other);
  });
  g = await gate({
    tls: { cert: pem('server.crt'), key: pem('server.key'), clientCa: pem('ca.crt') },
    access: {
      'oms-desk-a': { portfolios: [pid], strategies: ['trend'] },
      'risk-ops': { portfolios: ['*'], strategies: ['*'], control: true },
    },
    controls: {
      limitOverrider: {
        override: async (p, command, requestId) => (
          overrides.push(requestId === undefined ? [p, command] : [p, command, requestId]),
          { overrideId: 42 }
        ),
      },
      rebalanceStarter: {
        start: async (p, by, reason, requestId) => (
          rebalances.push(requestId === undefined ? [p, by, reason] : [p, by, reason, requestId]),
          { workflowId: `rebalance-${p}` }
        ),
      },
    },
  });
}, 60_000);

afterAll(async () => {
  started.forEach((c) => c.close());
  await g.close();
  rmSync(dir, { recursive: true, force: true });
});

function as(name: string | undefined): Client {
  const creds = name
    ? grpc.credentials.createSsl(pem('ca.crt'), pem(`${name}.key`), pem(`${name}.crt`))
    : grpc.credentials.createSsl(pem('ca.crt'));
  const c = client(g.address.replace('127.0.0.1', 'localhost'), creds);
  started.push(c);
  return c;
}
const codeOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => -1,
    (e: grpc.ServiceError) => e.code,
  );

test('an identity trades what it is granted and nothing else', async () => {
  const oms = as('oms');
  const ok = await call<unknown, EvaluateTradeResponse>(oms, 'evaluateTrade', { order: buy(pid) });
  expect(ok.decision).toBe(Decision.DECISION_APPROVE);
  expect(await codeOf(call(oms, 'evaluateTrade', { order: buy(other) }))).toBe(grpc.status.PERMISSION_DENIED);
  expect(await codeOf(call(oms, 'evaluateTrade', { order: buy(pid, { strategy: 'carry', instrument: 'XOM', price: 50 }) }))).toBe(
    grpc.status.PERMISSION_DENIED,
  );
});

test('control RPCs need a control grant; the caller identity reaches the workflow starter', async () => {
  expect(await codeOf(call(as('oms'), 'triggerRebalance', { portfolioId: pid, reason: 'desk request' }))).toBe(
    grpc.status.PERMISSION_DENIED,
  );
  const r = await call<unknown, TriggerRebalanceResponse>(as('ops'), 'triggerRebalance', {
    portfolioId: pid,
    reason: 'vol spike',
    requestId: '',
  });
  expect(r.workflowId).toBe(`rebalance-${pid}`);
  expect(rebalances).toEqual([[pid, 'risk-ops', 'vol spike']]);
  // An idempotency key travels to the port (processes/gateControls.ts makes the retry return the first result).
  await call<unknown, TriggerRebalanceResponse>(as('ops'), 'triggerRebalance', {
    portfolioId: pid,
    reason: 'vol spike',
    requestId: 'rb-7',
  });
  expect(rebalances[1]).toEqual([pid, 'risk-ops', 'vol spike', 'rb-7']);
  expect(await codeOf(call(as('ops'), 'triggerRebalance', { portfolioId: pid, reason: 'vol spike', requestId: 'bad id\n' }))).toBe(
    grpc.status.INVALID_ARGUMENT,
  );
});

test('limit overrides need a control grant; the approver is the verified identity, not a request field', async () => {
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  const req = {
    portfolioId: pid,
    field: LimitField.LIMIT_FIELD_MAX_ORDER_NOTIONAL,
    value: 5_000,
    strategy: '',
    asset: '',
    reason: 'earnings',
    expiresAt,
    requestedBy: 'desk-head',
    // Untyped requests must set it: ts-proto encodes an absent string field as "undefined".
    requestId: '',
  };
  expect(await codeOf(call(as('oms'), 'overrideLimit', req))).toBe(grpc.status.PERMISSION_DENIED);
  const r = await call<unknown, OverrideLimitResponse>(as('ops'), 'overrideLimit', req);
  expect(r.overrideId).toBe(42);
  expect(overrides).toEqual([
    [
      pid,
      {
        field: 'maxOrderNotional',
        value: 5_000,
        reason: 'earnings',
        requestedBy: 'desk-head',
        approver: 'risk-ops',
        expiresAt,
        strategy: undefined,
        asset: undefined,
      },
    ],
  ]);
  await call<unknown, OverrideLimitResponse>(as('ops'), 'overrideLimit', { ...req, requestId: 'ov-1' });
  expect(overrides[1][2]).toBe('ov-1');
  overrides.length = 1;
  expect(await codeOf(call(as('ops'), 'overrideLimit', { ...req, expiresAt: '2001-01-01T00:00:00Z' }))).toBe(grpc.status.INVALID_ARGUMENT);
  expect(await codeOf(call(as('ops'), 'overrideLimit', { ...req, field: LimitField.LIMIT_FIELD_UNSPECIFIED }))).toBe(
    grpc.status.INVALID_ARGUMENT,
  );
  expect(await codeOf(call(as('ops'), 'overrideLimit', { ...req, value: NaN }))).toBe(grpc.status.INVALID_ARGUMENT);
});

test('a certificate from the right CA but unknown to the policy is refused', async () => {
  expect(await codeOf(call(as('stranger'), 'evaluateTrade', { order: buy(pid) }))).toBe(grpc.status.PERMISSION_DENIED);
});

test('a client without a certificate cannot connect (mTLS)', async () => {
  expect(await codeOf(call(as(undefined), 'evaluateTrade', { order: buy(pid) }, 3_000))).toBe(grpc.status.UNAVAILABLE);
});
