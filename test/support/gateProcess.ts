/**
 * The gate as production runs it: `node bin/ballast.js gate …` in its own process (compiled dist/,
 * which `npm test` builds first), so tests can SIGKILL it at any instant.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { DEMO_OMS_IDENTITY, ensureLocalPki, type LocalPki } from '../../infra/certs';
import { repoRoot } from '../../lib/paths';
import { localGateClient } from '../../processes/gateSecurity';

export interface GateProcess {
  readonly address: string;
  readonly child: ChildProcess;
  /** How the demo OMS of the gate's local CA reaches it (the gate serves mTLS by default). */
  readonly oms: { readonly target: string; readonly credentials: grpc.ChannelCredentials; readonly options: grpc.ClientOptions };
  /** The local CA the gate serves with (per test file): issue more client identities into it. */
  readonly pkiDir: string;
  /** SIGKILL and wait for the exit (the kernel has closed its files). */
  kill(): Promise<void>;
  /** SIGTERM (graceful) and wait for the exit. */
  stop(): Promise<void>;
}

/** Fails early when dist/ is older than the gate sources a test is about to exercise. */
export function requireFreshBuild(sources: readonly string[]): void {
  const root = repoRoot();
  for (const source of sources) {
    const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
    if (statSync(built).mtimeMs < statSync(join(root, source)).mtimeMs)
      throw new Error(`${built} is older than ${source}: run npm run build (npm test does)`);
  }
}

let testPki: LocalPki | undefined;
/** One local CA per test file, outside the user's own ~/.cache/ballast/pki. */
function pki(): LocalPki {
  return (testPki ??= ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), 'ballast-gate-pki-')) }));
}

/** The local CA's directory the gates of this test file serve with (made on first use). */
export const testPkiDir = (): string => pki().dir;

export async function startGateProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<GateProcess> {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'ballast.js'), 'gate', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', BALLAST_CERTS_DIR: pki().dir, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /"address":\s*"([^"]+)"/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`gate exited (${code}) before listening: ${stderr}`)));
  });
  return {
    address,
    child,
    oms: localGateClient(pki(), DEMO_OMS_IDENTITY, address),
    pkiDir: pki().dir,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
