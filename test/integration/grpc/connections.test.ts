/**
 * Connections are bounded: an attacker holding 2,000 idle TCP sockets (no TLS hello) against a real
 * `ballast gate` process capped at 500 connections does not lock out an OMS, which (re)connects and
 * trades; a socket that never completes its handshake is closed at the handshake timeout (TLS and
 * plaintext); a connection idle past the idle timeout is closed by the gate; at the cap with every
 * connection established, the new one is refused and the established ones keep working.
 */
import * as grpc from '@grpc/grpc-js';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decision, type EvaluateTradeResponse } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../../grpc/server';
import { DEMO_OMS_IDENTITY, ensureLocalPki } from '../../../infra/certs';
import {
  buy,
  call,
  client,
  type Client,
  commitFixture,
  eventually,
  gate,
  newPortfolioId,
  runBallast,
  stopProcess,
  withPool,
} from './helpers';

const certsDir = mkdtempSync(join(tmpdir(), 'ballast-connections-'));
const pki = ensureLocalPki({ dir: certsDir });
const pem = (file: string): Buffer => readFileSync(file);
const pid = newPortfolioId('connections');
const ATTACKERS = 2_000;

let child: ChildProcess | undefined;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  raiseOpenFilesLimit(ATTACKERS + 1_000);
  await withPool((_p, store) => commitFixture(store, pid));
});

/** This test process holds the attacker's sockets: raise its soft file limit if it is below `need` (up to the hard limit). */
function raiseOpenFilesLimit(need: number): void {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((v) =>
    v === 'unlimited' ? Infinity : Number(v),
  );
  if (!(soft < need)) return;
  const target = Math.min(hard, Math.max(need, 8_192));
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${Number.isFinite(hard) ? hard : target}`]);
}
afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  if (child) await stopProcess(child);
  rmSync(certsDir, { recursive: true, force: true });
});

function oms(address: string): Client {
  const files = pki.clients[DEMO_OMS_IDENTITY];
  return client(address, grpc.credentials.createSsl(pem(pki.caFile), pem(files.keyFile), pem(files.certFile)), {
    'grpc.ssl_target_name_override': 'localhost',
  });
}

/** Opens a TCP connection that never sends a byte; resolves when connected (or refused/closed). */
function idleSocket(port: number, closed: { count: number }): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    sockets.push(s);
    s.on('error', () => undefined);
    s.once('close', () => {
      closed.count++;
      resolve();
    });
    s.once('connect', () => resolve());
  });
}

test(`${ATTACKERS} idle sockets do not lock an OMS out of a gate capped at 500 connections under a 1,024 file limit`, async () => {
  const started = await runBallast(
    ['gate', '--port', '0', '--max-connections', '500', '--handshake-timeout', '60s'],
    /"address":"([^"]+)"/,
    { BALLAST_CERTS_DIR: certsDir },
    { openFilesLimit: 1_024 },
  );
  child = started.child;
  const port = Number(started.address.split(':').pop());
  // The OMS is connected and trading before the attack.
  const before = oms(started.address);
  expect((await call<unknown, EvaluateTradeResponse>(before, 'evaluateTrade', { order: buy(pid) })).decision).toBe(
    Decision.DECISION_APPROVE,
  );
  before.close();

  const closed = { count: 0 };
  for (let i = 0; i < ATTACKERS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => idleSocket(port, closed)));
  }
  // The gate shed the oldest handshaking sockets to stay at its cap; the attacker still holds the rest.
  await eventually(async () => (closed.count >= ATTACKERS - 500 ? true : undefined), 10_000);
  expect(sockets.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(500);

  // An OMS reconnecting now gets through and trades.
  const after = oms(started.address);
  const r = await call<unknown, EvaluateTradeResponse>(after, 'evaluateTrade', { order: buy(pid) }, 10_000);
  expect(r.decision).toBe(Decision.DECISION_APPROVE);
  after.close();
}, 120_000);

describe('timeouts', () => {
  let g: RunningGate;
  beforeAll(async () => {
    g = await gate({
      tls: { cert: pem(pki.server.certFile), key: pem(pki.server.keyFile), clientCa: pem(pki.caFile) },
      access: { [DEMO_OMS_IDENTITY]: { portfolios: ['*'], strategies: ['*'] } },
      connectionLimits: { handshakeTimeoutMs: 500, idleTimeoutMs: 1_000 },
    });
  });
  afterAll(() => g.close());

  test('a socket that never sends the TLS hello is closed at the handshake timeout', async () => {
    const port = Number(g.address.split(':').pop());
    const closed = { count: 0 };
    const startedAt = Date.now();
    await idleSocket(port, closed);
    await eventually(async () => (closed.count === 1 ? true : undefined), 5_000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(g.connections().timedOut).toBeGreaterThanOrEqual(1);
  });

  test('a connection with no call for the idle timeout is closed by the gate; the client reconnects', async () => {
    const c = oms(g.address);
    try {
      await call(c, 'evaluateTrade', { order: buy(pid) });
      expect(g.connections().open).toBe(1);
      await eventually(async () => (g.connections().open === 0 ? true : undefined), 5_000);
      const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid) });
      expect(r.decision).toBe(Decision.DECISION_APPROVE);
    } finally {
      c.close();
    }
  });
});

test('plaintext on loopback: a connection that sent the HTTP/2 preface outlives the handshake timeout', async () => {
  const g = await gate({ connectionLimits: { handshakeTimeoutMs: 300 } });
  const c = client(g.address);
  try {
    await call(c, 'evaluateTrade', { order: buy(pid) });
    await new Promise((r) => setTimeout(r, 800));
    const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(pid) });
    expect(r.decision).toBe(Decision.DECISION_APPROVE);
    expect(g.connections()).toMatchObject({ open: 1, handshaking: 0, timedOut: 0 });
    // A silent plaintext socket is still closed.
    const closed = { count: 0 };
    await idleSocket(Number(g.address.split(':').pop()), closed);
    await eventually(async () => (closed.count === 1 ? true : undefined), 3_000);
    expect(g.connections().timedOut).toBe(1);
  } finally {
    c.close();
    await g.close();
  }
});

test('at the cap with every connection established, a new one is refused (not an established one dropped)', async () => {
  const g = await gate({ connectionLimits: { maxConnections: 2 } });
  // Distinct channel options: each client gets its own connection.
  const clients = [0, 1, 2].map((i) => client(g.address, undefined, { 'grpc.test_channel': i }));
  try {
    for (const c of clients.slice(0, 2)) await call(c, 'evaluateTrade', { order: buy(pid) });
    expect(g.connections()).toMatchObject({ open: 2, handshaking: 0 });
    const code = await call(clients[2], 'evaluateTrade', { order: buy(pid) }, 2_000).then(
      () => -1,
      (e: grpc.ServiceError) => e.code,
    );
    expect(code).toBe(grpc.status.UNAVAILABLE);
    expect(g.connections().refused).toBeGreaterThanOrEqual(1);
    // The two established clients were not disturbed.
    for (const c of clients.slice(0, 2)) await call(c, 'evaluateTrade', { order: buy(pid) });
  } finally {
    clients.forEach((c) => c.close());
    await g.close();
  }
});
