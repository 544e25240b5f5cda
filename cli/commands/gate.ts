/**
 * `ballast gate`: run a standalone pre-trade gate against the database until SIGINT/SIGTERM, then shut
 * down gracefully (in-flight calls finish, queued audit rows and fills are written).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_DATABASE_URL } from '../../db/pool';
import type { AccessPolicy } from '../../grpc/access';
import { createLogger } from '../../lib/logger';
import { startGate } from '../../processes/gate';
import { duration } from '../../risk/config';
import { parseFlags } from '../args';
import { UsageError } from '../main';

export const summary = 'run the gRPC pre-trade gate (--port, --tls-cert/--tls-key[/--tls-client-ca], --access policy.yaml)';

const FLAGS = {
  'database-url': 'string',
  host: 'string',
  port: 'string',
  'tls-cert': 'string',
  'tls-key': 'string',
  'tls-client-ca': 'string',
  access: 'string',
  restricted: 'string',
  'stale-reduce-after': 'string',
  'stale-halt-after': 'string',
  'reservation-ttl': 'string',
  'max-message-bytes': 'string',
  replica: 'string',
} as const;

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}"`);
  const port = intFlag(flags.port, 'port', 0, 65_535) ?? 50_051;
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (flags['tls-client-ca'] && !flags['tls-cert']) throw new UsageError('--tls-client-ca (mTLS) needs --tls-cert and --tls-key');
  const logger = createLogger('gate');
  const gate = await startGate({
    databaseUrl: flags['database-url'] ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    host: flags.host ?? '127.0.0.1',
    port,
    logger,
    tls: flags['tls-cert']
      ? {
          cert: readFileSync(flags['tls-cert']),
          key: readFileSync(flags['tls-key']!),
          clientCa: flags['tls-client-ca'] ? readFileSync(flags['tls-client-ca']) : undefined,
        }
      : undefined,
    access: flags.access ? readAccessPolicy(flags.access) : undefined,
    restrictedInstruments: flags.restricted
      ? flags.restricted
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    staleReduceAfterMs: flags['stale-reduce-after'] ? duration(flags['stale-reduce-after'], '--stale-reduce-after') : undefined,
    staleHaltAfterMs: flags['stale-halt-after'] ? duration(flags['stale-halt-after'], '--stale-halt-after') : undefined,
    reservationTtlMs: flags['reservation-ttl'] ? duration(flags['reservation-ttl'], '--reservation-ttl') : undefined,
    maxReceiveMessageLength: intFlag(flags['max-message-bytes'], 'max-message-bytes', 1_024, 64 * 1024 * 1024),
    replicaId: flags.replica,
  });
  process.stdout.write(`${JSON.stringify({ address: gate.address })}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gate.close();
  return 0;
}

function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

/** `identity: { portfolios: [...], strategies: [...], control: bool }` per client-certificate CN. */
function readAccessPolicy(file: string): AccessPolicy {
  const doc = parse(readFileSync(file, 'utf8')) as unknown;
  if (!doc || typeof doc !== 'object') throw new UsageError(`access policy ${file} must map identities to grants`);
  const policy: Record<string, AccessPolicy[string]> = {};
  for (const [identity, grant] of Object.entries(doc as Record<string, unknown>)) {
    const g = grant as { portfolios?: unknown; strategies?: unknown; control?: unknown };
    const list = (v: unknown, key: string): string[] => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        throw new UsageError(`access policy ${file}: ${identity}.${key} must be a list of strings`);
      return v;
    };
    policy[identity] = {
      portfolios: list(g.portfolios, 'portfolios'),
      strategies: list(g.strategies ?? ['*'], 'strategies'),
      control: g.control === true,
    };
  }
  return policy;
}
