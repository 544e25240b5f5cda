/**
 * `ballast gate`: run a standalone pre-trade gate against the database until SIGINT/SIGTERM, then shut
 * down gracefully (in-flight calls finish, queued audit rows and fills are written). It serves like
 * `ballast start`'s gate: mTLS and an access policy (cli/gateFlags.ts), control RPCs over Temporal.
 */
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { DEFAULT_DATABASE_URL } from '../../db/pool';
import { createLogger } from '../../lib/logger';
import { gateMetrics } from '../../grpc/metrics';
import { startGate } from '../../processes/gate';
import { DEFAULT_GATE_METRICS_PORT, exposeMetrics, processRegistry } from '../../processes/metricsEndpoint';
import { temporalControls } from '../../processes/gateControls';
import { localPeerClient, resolveGateSecurity } from '../../processes/gateSecurity';
import type { HaOptions } from '../../grpc/ha';
import { connectionOptions } from '../../infra/temporalConfig';
import { temporalTarget } from '../context';
import { between, type Check, durationMs, integer, InvalidValue, list, option } from '../flags';
import { parseRateLimit, type RateLimit } from '../../risk/pretrade/throttle';
import { addGateSecurityFlags, type GateSecurityFlags, gateSecuritySettings } from '../gateFlags';
import { type MetricsFlags, addMetricsOptions, metricsListen } from '../metricsFlags';
import { printJson } from '../output';
import { lazyTemporalClient } from '../../infra/temporalConnection';

interface GateFlags extends GateSecurityFlags, MetricsFlags {
  readonly databaseUrl: string;
  readonly temporalAddress: string;
  readonly host: string;
  readonly port: number;
  readonly restricted?: string[];
  readonly staleReduceAfter?: number;
  readonly staleHaltAfter?: number;
  readonly reservationTtl?: number;
  readonly maxMessageBytes?: number;
  readonly replica?: string;
  readonly dataDir?: string;
  readonly maxWorkingOrders?: number;
  readonly throttleCaller?: RateLimit;
  readonly throttlePortfolio?: RateLimit;
  readonly warningLevel?: number;
  readonly ha?: boolean;
  readonly leaseTtl?: number;
  readonly peerAddress?: string;
  readonly forward: boolean;
}

/** RATE or RATE/BURST, as a flag value. */
const rateLimit: Check<RateLimit> = (text) => {
  try {
    return parseRateLimit(text);
  } catch (err) {
    throw new InvalidValue((err as Error).message);
  }
};

export function define(command: Command): void {
  addGateSecurityFlags(command)
    .description(
      'Run the gRPC pre-trade gate (ballast.gate.v1.GateService) on the latest committed budgets in the database. ' +
        'Prints {address, metrics} as JSON once it listens; stops gracefully on SIGINT or SIGTERM (in-flight calls finish, ' +
        'queued audit rows and fills are written).',
    )
    .addOption(option('--database-url <url>', 'the Ballast database').env('DATABASE_URL').default(DEFAULT_DATABASE_URL))
    .addOption(
      option('--temporal-address <host:port>', 'the Temporal frontend the control RPCs (overrides, rebalances) go to')
        .env('TEMPORAL_ADDRESS')
        .default(temporalTarget().address),
    )
    .option('--host <host>', 'the interface to listen on', '127.0.0.1')
    .addOption(option('--port <port>', 'the TCP port to listen on (0: any free port)', integer(0, 65_535)).default(50_051))
    .addOption(option('--restricted <instruments>', 'comma-separated instruments every order is denied on (default: none)', list))
    .addOption(
      option('--stale-reduce-after <duration>', 'budget age after which only risk-reducing orders pass (default: 24h)', durationMs),
    )
    .addOption(option('--stale-halt-after <duration>', 'budget age after which every order is denied (default: 72h)', durationMs))
    .addOption(
      option('--reservation-ttl <duration>', 'how long an approved order reserves its exposure without a fill (default: 24h)', durationMs),
    )
    .addOption(option('--max-message-bytes <bytes>', 'largest request accepted (default: 65536)', integer(1_024, 64 * 1024 * 1024)))
    .option('--replica <id>', "this replica's name in the audit trail (default: a name kept in --data-dir)")
    .option(
      '--data-dir <dir>',
      "this replica's own directory: the spool every acknowledged decision and fill is fsync'ed to, the quarantine file (default: $BALLAST_DATA_DIR/gate, else .data/gate)",
    )
    .addOption(
      option('--max-working-orders <n>', 'working orders a portfolio may hold on this replica (default: 100000)', integer(1, 10_000_000)),
    )
    .addOption(
      option(
        '--throttle-caller <rate[/burst]>',
        'orders per second each caller identity may send, and its burst (default: no throttle); beyond: ORDER_RATE_THROTTLED',
        rateLimit,
      ),
    )
    .addOption(
      option(
        '--throttle-portfolio <rate[/burst]>',
        'orders per second a portfolio may receive across callers (default: no throttle)',
        rateLimit,
      ),
    )
    .addOption(
      option(
        '--warning-level <fraction>',
        'fraction of a limit at which an approval raises a limit-warning alert and metric (default: 0.8)',
        between(0, 1),
      ),
    )
    .option(
      '--ha',
      'run as one of several replicas (docs/gate-ha.md): decide only the portfolios whose lease this replica holds in Postgres, forward the rest to their owner',
    )
    .addOption(
      option(
        '--lease-ttl <duration>',
        'with --ha: how long a portfolio lease lives unrenewed; a dead replica is replaced within about 4/3 of it (default: 5s)',
        durationMs,
      ),
    )
    .option('--peer-address <host:port>', 'with --ha: the address other replicas forward to (default: the address this gate binds)')
    .option(
      '--no-forward',
      'with --ha: answer UNAVAILABLE naming the owner (trailing metadata ballast-owner-address) instead of forwarding',
    );
  addMetricsOptions(command, DEFAULT_GATE_METRICS_PORT).action(runGate);
}

async function runGate(flags: GateFlags): Promise<void> {
  const security = resolveGateSecurity(gateSecuritySettings(flags.host, flags));
  const ha = flags.ha ? haSettings(flags, security.pki) : undefined;
  // Lazy: the gate serves trades while Temporal is away; only the control RPCs need it.
  // Configured as for the `temporal` CLI (envconfig: profile, namespace, TLS, API key); the flag picks the address.
  const temporal = { ...temporalTarget(), address: flags.temporalAddress };
  const connection = lazyTemporalClient(connectionOptions(temporal));
  const logger = createLogger('gate');
  const listen = metricsListen(flags);
  const registry = listen ? processRegistry() : undefined;
  try {
    const gate = await startGate({
      databaseUrl: flags.databaseUrl,
      host: flags.host,
      port: flags.port,
      logger,
      observer: registry ? gateMetrics(registry) : undefined,
      tls: security.tls,
      access: security.access,
      connectionLimits: security.connectionLimits,
      controls: temporalControls(new Client({ connection, namespace: temporal.namespace })),
      restrictedInstruments: flags.restricted,
      staleReduceAfterMs: flags.staleReduceAfter,
      staleHaltAfterMs: flags.staleHaltAfter,
      reservationTtlMs: flags.reservationTtl,
      maxReceiveMessageLength: flags.maxMessageBytes,
      replicaId: flags.replica,
      dataDir: flags.dataDir,
      maxWorkingOrders: flags.maxWorkingOrders,
      throttle: { perCaller: flags.throttleCaller, perPortfolio: flags.throttlePortfolio },
      warningLevel: flags.warningLevel,
      ha,
    });
    const metrics = registry && listen ? await exposeMetrics(registry, listen, logger) : undefined;
    await printJson({ address: gate.address, metrics: metrics?.url ?? null, certsDir: security.pki?.dir }, 'compact');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await gate.close();
    await metrics?.close();
  } finally {
    await connection.close();
  }
}

/** Gate HA settings: with the local CA, replicas forward to each other with its peer certificate; with your own PKI they redirect. */
function haSettings(flags: GateFlags, pki: Parameters<typeof localPeerClient>[0] | undefined): Omit<HaOptions, 'ports'> {
  const peers = flags.forward && pki ? localPeerClient(pki) : undefined;
  return { leaseTtlMs: flags.leaseTtl, advertiseAddress: flags.peerAddress, ...peers };
}
