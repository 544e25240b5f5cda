/**
 * The all-in-one process behind `npm start` (`ballast start`): infrastructure (Postgres and a Temporal
 * dev server, unless DATABASE_URL / TEMPORAL_ADDRESS point at running ones), the worker, the pre-trade
 * gate, a demo portfolio's control loop on the synthetic feed and a demo order flow, then a live status
 * line and key controls until Ctrl-C, q, SIGINT or SIGTERM. Whatever started is stopped in reverse
 * order, also when a later step fails.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import { BudgetStore } from '../db/stores/budgets';
import { createPool } from '../db/pool';
import type { RunningGate } from '../grpc/server';
import { startGate } from './gate';
import { type Infrastructure, bootInfrastructure } from '../infra/bootstrap';
import { createLogger } from '../lib/logger';
import { repoRoot } from '../lib/paths';
import { PortfolioPolicyStore } from '../db/stores/portfolioPolicies';
import { loadPortfolioSpecText } from '../risk/portfolioSpec';
import { createPortfolio } from './portfolios';
import { FeedStore } from '../db/stores/marketFeeds';
import { temporalControls } from './gateControls';
import { temporalMarketEvents } from './marketEvents';
import { startWorker } from './worker';
import { resolveDeploymentVersion } from './buildId';
import { adoptLoopOfStoppedBuild, setCurrentVersion } from './deployment';
import { connectionOptions } from '../infra/temporalConfig';
import type { portfolioLoop } from '../workflows';
import { statusQuery } from '../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../workflows/types';
import { type OrderFlow, startOrderFlow } from './demoOrderFlow';
import { type GateSecurity, type GateSecuritySettings, localGateClient, resolveGateSecurity } from './gateSecurity';
import { DEMO_OMS_IDENTITY, OPERATOR_IDENTITY } from '../infra/certs';
import { type ReferenceOms, startReferenceOms } from './referenceOms';
import type { RunningConsole } from '../console/server';
import { type DemoUser, consoleAuth, startConsoleProcess } from './console';
import { keyControls, statusLine, stopRequest } from './terminal';
import { gateMetrics } from '../grpc/metrics';
import { type MetricsListen, exposeMetrics, processRegistry } from './metricsEndpoint';
import { connectTemporalClient } from '../infra/temporalConnection';

export interface AllInOneOptions {
  /** The demo portfolio; its synthetic feed has the same id. */
  readonly portfolioId: string;
  readonly monitoringIntervalMs: number;
  readonly gateHost: string;
  readonly gatePort: number;
  /** TLS, client certificates, access policy and connection bounds: the same as `ballast gate` (gateSecurity.ts). */
  readonly gateSecurity: Omit<GateSecuritySettings, 'host'>;
  /** Orders per second of the demo order flow; 0 runs none. */
  readonly ordersPerSecond: number;
  readonly alertWebhookUrl?: string;
  readonly logLevel: string;
  /** One /metrics endpoint for the gate, the worker and the Temporal SDK; undefined serves none. */
  readonly metrics?: MetricsListen;
  /** The build id of this run's worker (default: derived from the package version and git commit). */
  readonly buildId?: string;
  /** The risk desk console; port 0 picks a free one. */
  readonly consoleHost: string;
  readonly consolePort: number;
  /** YAML with the console's users (bcrypt hashes) and trusted proxy; without it, on loopback only, demo users. */
  readonly consoleUsersFile?: string;
}

const DEMO_ASSETS = ['US_EQUITY', 'EU_EQUITY', 'EM_EQUITY', 'TREASURIES', 'GOLD'];

interface System {
  readonly infra: Infrastructure;
  readonly gate: RunningGate;
  readonly security: GateSecurity;
  readonly feeds: FeedStore;
  readonly loop: WorkflowHandle<typeof portfolioLoop>;
  readonly flow: OrderFlow | undefined;
  readonly metricsUrl: string | undefined;
  readonly oms: ReferenceOms | undefined;
  readonly console: RunningConsole;
  /** Printed once in the banner; none when users come from a file. */
  readonly demoUsers: readonly DemoUser[];
}

const say = (msg: string): void => void process.stderr.write(`[ballast] ${msg}\n`);

/** Runs the whole system until asked to stop. */
export async function runAllInOne(options: AllInOneOptions): Promise<void> {
  // Listen for Ctrl-C from the start: one pressed while booting stops what has started so far.
  const stop = stopRequest();
  const teardown = new Teardown();
  // The status line and the keys stop first, so that nothing is drawn over the shutdown messages.
  const terminal = new Teardown();
  try {
    const system = await startSystem(options, createLogger('ballast', options.logLevel), teardown);
    process.stdout.write(banner(system, options.portfolioId));
    terminal.defer(
      'status line',
      statusLine(() => renderStatus(system)),
    );
    terminal.defer(
      'key controls',
      keyControls(
        {
          c: () => void system.feeds.setRegime(options.portfolioId, 'crisis'),
          n: () => void system.feeds.setRegime(options.portfolioId, 'calm'),
        },
        stop.request,
      ),
    );
    await stop.requested;
  } finally {
    await terminal.run();
    say('shutting down…');
    await teardown.run();
    stop.dispose();
  }
  say('stopped. The loop workflow is durable: it resumes where it was on the next `npm start`.');
}

async function startSystem(options: AllInOneOptions, logger: Logger, teardown: Teardown): Promise<System> {
  say('starting infrastructure (Postgres, Temporal)…');
  const infra = await bootInfrastructure(logger);
  teardown.defer('infrastructure', () => infra.shutdown());
  const pool = createPool(infra.databaseUrl);
  teardown.defer('database pool', () => pool.end());
  const connection = await connectTemporalClient(connectionOptions(infra.temporal));
  teardown.defer('Temporal connection', () => connection.close());
  const client = new Client({ connection, namespace: infra.temporal.namespace });

  const registry = options.metrics ? processRegistry() : undefined;
  const deployment = resolveDeploymentVersion({ buildId: options.buildId });
  say(`starting the worker, build ${deployment.buildId} (bundling workflows)…`);
  const worker = await startWorker({
    metrics: registry,
    temporal: infra.temporal,
    databaseUrl: infra.databaseUrl,
    logger,
    alertWebhookUrl: options.alertWebhookUrl,
    // As for `ballast worker`: a prebuilt bundle skips bundling at start.
    workflowBundle: process.env.BALLAST_WORKFLOW_BUNDLE ? { codePath: process.env.BALLAST_WORKFLOW_BUNDLE } : undefined,
    deployment,
  });
  teardown.defer('worker', () => worker.shutdown());
  // One machine, one build: this build becomes current at once, and a demo loop left by an earlier
  // build (whose worker stopped with it) is moved onto it (docs/deploys.md, "npm start").
  await setCurrentVersion(client, deployment, { logger });
  await adoptLoopOfStoppedBuild(client, loopWorkflowId(options.portfolioId), deployment, logger);
  // The local CA and its certificates are made on first run: the demo gate serves mTLS like any other.
  const security = resolveGateSecurity({ host: options.gateHost, ...options.gateSecurity });
  const gate = await startGate({
    databaseUrl: infra.databaseUrl,
    host: options.gateHost,
    port: options.gatePort,
    logger,
    tls: security.tls,
    access: security.access,
    connectionLimits: security.connectionLimits,
    controls: temporalControls(client),
    observer: registry ? gateMetrics(registry) : undefined,
    marketEvents: temporalMarketEvents(client),
  });
  teardown.defer('gate', () => gate.close());
  const metrics = registry && options.metrics ? await exposeMetrics(registry, options.metrics, logger) : undefined;
  if (metrics) teardown.defer('metrics endpoint', () => metrics.close());

  const feeds = new FeedStore(pool);
  // Three hundred bars of history with one past crisis (bars 100–139): inside an HMM's training
  // history, so it has both regimes to learn, but outside the 126-bar covariance lookback at start.
  await feeds.ensureFeed({
    id: options.portfolioId,
    seed: 42,
    assets: DEMO_ASSETS,
    barMs: 1_000,
    historyBars: 300,
    pastEpisodes: [
      { fromBar: 100, regime: 'crisis' },
      { fromBar: 140, regime: 'calm' },
    ],
  });
  const loop = await startDemoPortfolio(client, pool, options);
  if (options.ordersPerSecond > 0 && !security.pki)
    say("no demo order flow: it calls the gate with the local CA's certificates, and this gate uses its own (--tls-cert)");
  const flow =
    options.ordersPerSecond > 0 && security.pki
      ? startOrderFlow({
          gate: localGateClient(security.pki, DEMO_OMS_IDENTITY, gate.address),
          portfolioId: options.portfolioId,
          store: new BudgetStore(pool),
          ordersPerSecond: options.ordersPerSecond,
        })
      : undefined;
  if (flow) teardown.defer('demo order flow', () => flow.stop());
  // The reference OMS executes the demo's rebalancing plans beside the random flow, as the demo OMS.
  const omsClient = security.pki ? localGateClient(security.pki, DEMO_OMS_IDENTITY, gate.address) : undefined;
  const oms = omsClient
    ? startReferenceOms({
        gateAddress: omsClient.target,
        credentials: omsClient.credentials,
        channelOptions: omsClient.options,
        portfolioId: options.portfolioId,
      })
    : undefined;
  if (oms) teardown.defer('reference OMS', () => oms.stop());

  const { auth, demoUsers } = await consoleAuth(options.consoleHost, options.consoleUsersFile);
  const consoleServer = await startConsoleProcess({
    databaseUrl: infra.databaseUrl,
    client,
    host: options.consoleHost,
    port: options.consolePort,
    auth,
    logger,
  });
  teardown.defer('console', () => consoleServer.close());
  return { infra, gate, security, feeds, loop, flow, oms, metricsUrl: metrics?.url, console: consoleServer, demoUsers };
}

function banner({ infra, gate, security, loop, metricsUrl, console: desk, demoUsers }: System, portfolioId: string): string {
  const pki = security.pki;
  const certs = pki
    ? [
        `  Certificates    ${pki.dir}   (mTLS; policy ${pki.accessFile})`,
        `                  operator: --cacert ${pki.caFile} --cert ${pki.clients[OPERATOR_IDENTITY].certFile} --key ${pki.clients[OPERATOR_IDENTITY].keyFile}`,
      ]
    : ['  Certificates    the files given with --tls-cert / --tls-client-ca'];
  return [
    '',
    `  Console         ${desk.url}/#/p/${encodeURIComponent(portfolioId)}   (API ${desk.url}/api/v1, OpenAPI ${desk.url}/api/v1/openapi.json)`,
    ...demoUsers.map(
      (u) => `                  demo user ${u.name.padEnd(13)} password ${u.password}   roles: ${u.roles.join(', ') || 'viewer'}`,
    ),
    `  Temporal UI     ${infra.temporalUiUrl ?? `(external server at ${infra.temporalAddress})`}   workflow: ${loop.workflowId}`,
    `  gRPC gate       ${gate.address}   (ballast.gate.v1.GateService over mTLS; reflection and health enabled)`,
    ...certs,
    `  Postgres        ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    ...(metricsUrl ? [`  Metrics         ${metricsUrl}   (Prometheus: gate, worker, Temporal SDK)`] : []),
    `  Synthetic feed  one bar per second. Switch regime: node bin/ballast.js feed --feed ${portfolioId} --regime crisis|calm`,
    `                  (in a terminal: press c for crisis, n for calm, q to quit)`,
    '',
    '',
  ].join('\n');
}

async function renderStatus({ loop, flow, oms }: System): Promise<string> {
  let unavailable = '';
  const status = await loop.query<LoopStatus>(statusQuery).catch((err: Error) => {
    // e.g. a loop left in .data by an older, incompatible Ballast: its history no longer replays.
    unavailable = ` | loop status unavailable: ${err.message.slice(0, 80)} (see the Temporal UI)`;
    return undefined;
  });
  const s = flow?.stats;
  const gross = status?.grossLimit != null ? `$${(status.grossLimit / 1e6).toFixed(2)}M` : '–';
  const trading = `trading ${status?.tradingState ?? 'ACTIVE'}${status?.paused ? ' (loop PAUSED)' : ''}`;
  return (
    `${trading} | regime ${status?.regime ?? '…'} | budget v${status?.budgetVersion ?? '–'} | gross limit ${gross} | ` +
    `${pendingApprovals(status)} | ` +
    `decisions/s ${s?.perSecond ?? 0} (approved ${s?.approved ?? 0}, denied ${s?.denied ?? 0})${omsStatus(oms)}${unavailable}`
  );
}

/** "approvals pending 0", or the one waiting with its id and how long until it expires. */
export function pendingApprovals(status: Pick<LoopStatus, 'pendingRecommendation'> | undefined, nowMs = Date.now()): string {
  const rec = status?.pendingRecommendation;
  if (!rec) return 'approvals pending 0';
  const left = rec.expiresAtMs === null ? '' : `, expires in ${Math.max(0, Math.round((rec.expiresAtMs - nowMs) / 60_000))} min`;
  return `approvals pending 1 (${rec.id}${left})`;
}

/** The demo portfolio, created from config/demo-portfolio.yaml as `ballast portfolio create` would (kept if it exists). */
async function startDemoPortfolio(client: Client, pool: ReturnType<typeof createPool>, options: AllInOneOptions) {
  const file = join(repoRoot(), 'config', 'demo-portfolio.yaml');
  const spec = loadPortfolioSpecText(await readFile(file, 'utf8'));
  const demo = { ...spec, id: options.portfolioId, marketData: { kind: 'synthetic', feedId: options.portfolioId } as const };
  const deps = { client, policies: new PortfolioPolicyStore(pool) };
  await createPortfolio(deps, demo, {
    requestedBy: 'npm start',
    source: file,
    ifExists: 'keep',
    monitoringIntervalMs: options.monitoringIntervalMs,
  });
  return client.workflow.getHandle<typeof portfolioLoop>(loopWorkflowId(options.portfolioId));
}

/**
 * Plans handled, how many were skipped (superseded or expired before the OMS reached them), and the
 * drift from target after the last *executed* one (before the random flow moves the book again): a
 * skipped plan's "drift" only says how far the book was from a target nobody traded towards.
 */
function omsStatus(oms: ReferenceOms | undefined): string {
  if (!oms) return '';
  const executed = oms.reports.filter((r) => r.outcome !== 'SKIPPED');
  const skipped = oms.reports.length - executed.length;
  const handled = ` | plans ${oms.reports.length}${skipped ? ` (${skipped} skipped)` : ''}`;
  const last = executed[executed.length - 1];
  if (!last) return handled;
  const trimmed = last.trimmedNotional > 0 ? `, trimmed $${(last.trimmedNotional / 1e3).toFixed(0)}k` : '';
  return `${handled}, drift ${(last.drift * 100).toFixed(1)}%${trimmed}`;
}

/** What to stop, in reverse order of starting; a step that fails to stop is reported and the rest still stop. */
class Teardown {
  private readonly steps: { readonly name: string; readonly stop: () => unknown }[] = [];

  defer(name: string, stop: () => unknown): void {
    this.steps.push({ name, stop });
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.stop();
      } catch (err) {
        say(`stopping the ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
