/**
 * `ballast gate`: run a standalone pre-trade gate against the database until SIGINT/SIGTERM, then shut
 * down gracefully (in-flight calls finish, queued audit rows and fills are written).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { DEFAULT_DATABASE_URL } from '../../db/pool';
import type { AccessPolicy } from '../../grpc/access';
import { createLogger } from '../../lib/logger';
import { gateMetrics } from '../../grpc/metrics';
import { startGate } from '../../processes/gate';
import { DEFAULT_GATE_METRICS_PORT, exposeMetrics, processRegistry } from '../../processes/metricsEndpoint';
import { type MetricsFlags, addMetricsOptions, metricsListen } from '../metricsFlags';
import { UsageError, durationMs, integer, list, option } from '../flags';
import { printJson } from '../output';

interface GateFlags extends MetricsFlags {
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsClientCa?: string;
  readonly access?: string;
  readonly restricted?: string[];
  readonly staleReduceAfter?: number;
  readonly staleHaltAfter?: number;
  readonly reservationTtl?: number;
  readonly maxMessageBytes?: number;
  readonly replica?: string;
}

export function define(command: Command): void {
  command
    .description(
      'Run the gRPC pre-trade gate (ballast.gate.v1.GateService) on the latest committed budgets in the database. ' +
        'Prints {address, metrics} as JSON once it listens; stops gracefully on SIGINT or SIGTERM (in-flight calls finish, ' +
        'queued audit rows and fills are written).',
    )
    .addOption(option('--database-url <url>', 'the Ballast database').env('DATABASE_URL').default(DEFAULT_DATABASE_URL))
    .option('--host <host>', 'the interface to listen on', '127.0.0.1')
    .addOption(option('--port <port>', 'the TCP port to listen on (0: any free port)', integer(0, 65_535)).default(50_051))
    .option('--tls-cert <file>', 'serve TLS with this certificate (PEM); needs --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mTLS); needs --tls-cert')
    .option(
      '--access <file>',
      'YAML access policy: per client-certificate identity, {portfolios, strategies, control} (default: everyone may do everything, development only)',
    )
    .addOption(option('--restricted <instruments>', 'comma-separated instruments every order is denied on (default: none)', list))
    .addOption(
      option('--stale-reduce-after <duration>', 'budget age after which only risk-reducing orders pass (default: 24h)', durationMs),
    )
    .addOption(option('--stale-halt-after <duration>', 'budget age after which every order is denied (default: 72h)', durationMs))
    .addOption(
      option('--reservation-ttl <duration>', 'how long an approved order reserves its exposure without a fill (default: 24h)', durationMs),
    )
    .addOption(option('--max-message-bytes <bytes>', 'largest request accepted (default: 65536)', integer(1_024, 64 * 1024 * 1024)))
    .option('--replica <id>', "this replica's name in the audit trail (default: the host name and pid)");
  addMetricsOptions(command, DEFAULT_GATE_METRICS_PORT).action(runGate);
}

async function runGate(flags: GateFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (flags.tlsClientCa && !flags.tlsCert) throw new UsageError('--tls-client-ca (mTLS) needs --tls-cert and --tls-key');
  const logger = createLogger('gate');
  const listen = metricsListen(flags);
  const registry = listen ? processRegistry() : undefined;
  const gate = await startGate({
    databaseUrl: flags.databaseUrl,
    host: flags.host,
    port: flags.port,
    logger,
    observer: registry ? gateMetrics(registry) : undefined,
    tls: flags.tlsCert
      ? {
          cert: readFileSync(flags.tlsCert),
          key: readFileSync(flags.tlsKey!),
          clientCa: flags.tlsClientCa ? readFileSync(flags.tlsClientCa) : undefined,
        }
      : undefined,
    access: flags.access ? readAccessPolicy(flags.access) : undefined,
    restrictedInstruments: flags.restricted,
    staleReduceAfterMs: flags.staleReduceAfter,
    staleHaltAfterMs: flags.staleHaltAfter,
    reservationTtlMs: flags.reservationTtl,
    maxReceiveMessageLength: flags.maxMessageBytes,
    replicaId: flags.replica,
  });
  const metrics = registry && listen ? await exposeMetrics(registry, listen, logger) : undefined;
  await printJson({ address: gate.address, metrics: metrics?.url ?? null }, 'compact');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gate.close();
  await metrics?.close();
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
