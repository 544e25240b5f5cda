/**
 * The Temporal side of the bootstrap: find a `temporal` CLI (PATH, then a per-version cache outside
 * the repo) or build it from Go modules, and run its dev server (SQLite, UI, bound to loopback).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type ConnectionOptions } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { connectTemporalClient } from './temporalConnection';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** A custom search attribute as the workflows define it (workflows/searchAttributes.ts). */
export interface SearchAttributeSpec {
  readonly name: string;
  readonly type: SearchAttributeType;
}

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ballast');
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function goBinary(): string | undefined {
  return onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** Returns the path of a usable `temporal` CLI, building it once per version when none is found. */
export async function ensureTemporalCli(logger: Logger): Promise<string> {
  const explicit = process.env.TEMPORAL_CLI;
  if (explicit) return explicit;
  const found = onPath('temporal');
  if (found) return found;
  const binDir = join(cacheDir(), 'temporal-cli', TEMPORAL_CLI_VERSION);
  const cached = join(binDir, 'temporal');
  if (existsSync(cached)) return cached;

  const go = goBinary();
  if (!go) {
    throw new Error(
      'no `temporal` CLI on PATH and no Go toolchain to build one: install Go, or set TEMPORAL_ADDRESS to an existing server',
    );
  }
  mkdirSync(binDir, { recursive: true });
  logger.info(
    { version: TEMPORAL_CLI_VERSION, into: binDir },
    'building the temporal CLI from Go modules (first run only; takes several minutes)',
  );
  await runWithProgress(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { GOBIN: binDir, GOFLAGS: '-mod=mod' },
    label: 'building temporal CLI',
  });
  if (!existsSync(cached)) throw new Error(`go install finished but ${cached} is missing`);
  return cached;
}

export interface ProgressOptions {
  readonly label: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Packages to compile, when known: `go build -v` prints each package it compiles on a line. */
  readonly packages?: number;
}

/** Runs a long Go command, printing what it has done every 15 s on stderr (downloads, packages compiled). */
export function runWithProgress(cmd: string, args: string[], options: ProgressOptions): Promise<void> {
  const { label, packages } = options;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let downloaded = 0;
    let compiled = 0;
    let lastLine = '';
    const onData = (buf: Buffer) => {
      for (const raw of buf.toString().split('\n')) {
        const line = raw.trim();
        if (!line) continue;
        if (line.startsWith('go: downloading')) downloaded++;
        else if (packages !== undefined && !line.includes(' ')) compiled++; // a package path
        lastLine = line;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const ticker = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      const done =
        packages !== undefined
          ? `${compiled} of at most ${packages} packages compiled`
          : `${downloaded} modules downloaded${downloaded ? '' : ', compiling'}`;
      process.stderr.write(`[ballast] ${label}: ${secs}s elapsed, ${done}…\n`);
    }, 15_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`${label} failed (exit ${code}): ${lastLine}`));
    });
  });
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  readonly cli: string;
  readonly port: number;
  readonly uiPort: number;
  /** SQLite file to persist to; omitted = in-memory (tests). */
  readonly dbFile?: string;
  /** Custom search attributes to register at start (the workflows define them: workflows/searchAttributes.ts). */
  readonly searchAttributes?: readonly SearchAttributeSpec[];
  /** A namespace to create besides `default` (TEMPORAL_NAMESPACE). */
  readonly namespace?: string;
  readonly logger: Logger;
}

/** Starts `temporal server start-dev` on loopback and resolves once its frontend answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--log-level',
    'error',
    '--namespace',
    'default',
    ...(options.namespace && options.namespace !== 'default' ? ['--namespace', options.namespace] : []),
  ];
  if (options.dbFile) {
    mkdirSync(join(options.dbFile, '..'), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const key of options.searchAttributes ?? []) args.push('--search-attribute', `${key.name}=${cliTypeName(key.type)}`);
  // Own process group: a Ctrl-C in the terminal must not stop the server before the worker has drained.
  const child: ChildProcess = spawn(options.cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while (!(await answers(address))) {
    if (exited) throw new Error(`temporal dev server exited during start-up: ${stderr.trim().split('\n').pop() ?? ''}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer on ${address} within 60s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  options.logger.info({ address, ui: `http://127.0.0.1:${options.uiPort}` }, 'temporal dev server ready');
  return {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    stop: () => stopChild(child),
  };
}

/** The CLI spells search attribute types in CamelCase: KEYWORD_LIST → KeywordList. */
export function cliTypeName(type: SearchAttributeType): string {
  return type
    .split('_')
    .map((part) => part[0] + part.slice(1).toLowerCase())
    .join('');
}

/** True when a Temporal frontend answers a health check at `address`. */
export async function answers(address: string): Promise<boolean> {
  try {
    const connection = await connectTemporalClient({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A free TCP port on loopback, for servers started by tests. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Registers the given custom search attributes in `namespace` where the server lacks them (idempotent).
 * `server`: an address, or the connection options of a configured endpoint (TLS, API key: temporalConfig.ts).
 */
export async function ensureSearchAttributes(
  server: string | ConnectionOptions,
  namespace: string,
  attributes: readonly SearchAttributeSpec[],
  logger: Logger,
  metadata?: Record<string, string>,
): Promise<string[]> {
  const target = typeof server === 'string' ? { address: server } : server;
  const connection = await connectTemporalClient({ ...target, ...(metadata ? { metadata } : {}) });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = attributes.filter((key) => !have.has(key.name));
    if (missing.length === 0) return [];
    const searchAttributes = Object.fromEntries(
      missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
    );
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    const added = missing.map((key) => key.name);
    logger.info({ namespace, added }, 'registered search attributes');
    return added;
  } finally {
    await connection.close();
  }
}
