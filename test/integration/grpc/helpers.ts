/** Shared plumbing for the gate's integration tests: database, gate lifecycle and a promisified client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type ChildProcess, spawn } from 'node:child_process';
import pino from 'pino';
import type pg from 'pg';
import { BudgetStore } from '../../../db/stores/budgets';
import { createPool } from '../../../db/pool';
import { GateServiceClient, type Order, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../../grpc/server';
import { type GateProcessOptions, startGate } from '../../../processes/gate';
import { repoRoot } from '../../../lib/paths';
import { budget } from '../../unit/risk/pretrade/fixtures';

export function databaseUrl(): string {
  const url = process.env.BALLAST_TEST_DATABASE_URL;
  if (!url) throw new Error('BALLAST_TEST_DATABASE_URL is not set: run through jest (globalSetup) or point it at a migrated database');
  return url;
}

export const quietLogger = pino({ level: 'warn' });

let unique = 0;
/** A fresh portfolio id per test so tests sharing the database never see each other's state. */
export const newPortfolioId = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++unique}`;

export async function withPool<T>(fn: (pool: pg.Pool, store: BudgetStore) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl(), 2);
  try {
    return await fn(pool, new BudgetStore(pool));
  } finally {
    await pool.end();
  }
}

/** Creates the portfolio and commits the fixture budget for it; returns the committed version. */
export async function commitFixture(
  store: BudgetStore,
  portfolioId: string,
  tweak: (b: ReturnType<typeof budget>) => ReturnType<typeof budget> = (b) => b,
): Promise<number> {
  await store.ensurePortfolio(portfolioId);
  const res = await store.commitBudget(`${portfolioId}-${Date.now()}-${Math.random()}`, tweak(budget(portfolioId)));
  return res.version.version;
}

/** A fresh data dir (spool, quarantine file) per gate unless the test names one (a restart reuses it). */
export const newDataDir = (): string => mkdtempSync(join(tmpdir(), 'ballast-gate-'));

/** A gate on a fresh data dir (removed when it closes) unless the test names one. */
export async function gate(options: Partial<GateProcessOptions> = {}): Promise<RunningGate> {
  const ownDir = options.dataDir === undefined ? newDataDir() : undefined;
  const g = await startGate({ databaseUrl: databaseUrl(), port: 0, logger: quietLogger, dataDir: ownDir, ...options }).catch(
    (err: unknown) => {
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      throw err;
    },
  );
  if (!ownDir) return g;
  return { ...g, close: () => g.close().then(() => rmSync(ownDir, { recursive: true, force: true })) };
}

export type Client = InstanceType<typeof GateServiceClient>;
export const client = (address: string, creds = grpc.credentials.createInsecure(), opts: grpc.ClientOptions = {}): Client =>
  new GateServiceClient(address, creds, opts);

/** Promisify one unary method of the generated client. */
export function call<Req, Res>(c: Client, method: string, req: Req, deadlineMs = 5_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      c as unknown as Record<
        string,
        (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => void
      >
    )[method];
    fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export const buy = (portfolioId: string, o: Partial<Order> = {}): Order => ({
  portfolioId,
  strategy: 'trend',
  instrument: 'AAPL',
  side: Side.SIDE_BUY,
  quantity: 100,
  price: 100,
  clientOrderId: `c-${Math.random().toString(36).slice(2)}`,
  ...o,
});

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Runs `ballast <args>` as a real process on the test Postgres and Temporal; resolves once its stdout
 * matches `addressPattern` (the gate address is the first group), rejects if it exits first.
 */
export function runBallast(
  args: string[],
  addressPattern: RegExp,
  env: Record<string, string> = {},
  options: { openFilesLimit?: number } = {},
): Promise<{ child: ChildProcess; address: string }> {
  const argv = [process.execPath, join(repoRoot(), 'bin', 'ballast.js'), ...args];
  // With a file limit: the process runs under `ulimit -n` (e.g. the usual 1,024).
  const [file, ...rest] = options.openFilesLimit
    ? ['/bin/sh', '-c', `ulimit -n ${options.openFilesLimit} && exec "$@"`, 'sh', ...argv]
    : argv;
  const child = spawn(file, rest, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(),
      TEMPORAL_ADDRESS: process.env.BALLAST_TEST_TEMPORAL_ADDRESS ?? '',
      BALLAST_WORKFLOW_BUNDLE: process.env.BALLAST_TEST_WORKFLOW_BUNDLE ?? '',
      LOG_LEVEL: 'warn',
      // Each process its own data dir: two gates may not share a spool (the second refuses to start).
      BALLAST_DATA_DIR: mkdtempSync(join(tmpdir(), 'ballast-process-data-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = addressPattern.exec(out);
      if (m) resolve({ child, address: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`ballast ${args[0]} exited with ${code}: ${err.slice(-2_000)}`)));
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 20 s. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}
