/**
 * The all-in-one process behind `npm start` (`ballast start`): infrastructure (Postgres and a Temporal
 * dev server, unless DATABASE_URL / TEMPORAL_ADDRESS point at running ones), the worker, the pre-trade
 * gate, a demo portfolio's control loop on the synthetic feed and a demo order flow, then a live status
 * line and key controls until Ctrl-C, q, SIGINT or SIGTERM. Whatever started is stopped in reverse
 * order, also when a later step fails.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import { BudgetStore } from '../db/stores/budgets';
import { createPool } from '../db/pool';
import type { RunningGate } from '../grpc/server';
import { startGate } from './gate';
import { type Infrastructure, bootInfrastructure } from '../infra/bootstrap';
import { createLogger } from '../lib/logger';
import { FeedStore } from '../db/stores/marketFeeds';
import { temporalControls } from './gateControls';
import { startWorker } from './worker';
import type { portfolioLoop } from '../workflows';
import { statusQuery } from '../workflows/messages';
import { type LoopStatus, TASK_QUEUE, loopWorkflowId } from '../workflows/types';
import { type OrderFlow, startOrderFlow } from './demoOrderFlow';
import type { RunningConsole } from '../console/server';
import { type DemoUser, consoleAuth, startConsoleProcess } from './console';
import { keyControls, statusLine, stopRequest } from './terminal';

export interface AllInOneOptions {
  /** The demo portfolio; its synthetic feed has the same id. */
  readonly portfolioId: string;
  readonly monitoringIntervalMs: number;
  readonly gateHost: string;
  readonly gatePort: number;
  /** Orders per second of the demo order flow; 0 runs none. */
  readonly ordersPerSecond: number;
  readonly alertWebhookUrl?: string;
  readonly logLevel: string;
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
  readonly feeds: FeedStore;
  readonly loop: WorkflowHandle<typeof portfolioLoop>;
  readonly flow: OrderFlow | undefined;
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
  const connection = await Connection.connect({ address: infra.temporalAddress });
  teardown.defer('Temporal connection', () => connection.close());
  const client = new Client({ connection });

  say('starting the worker (bundling workflows)…');
  const worker = await startWorker({
    temporalAddress: infra.temporalAddress,
    databaseUrl: infra.databaseUrl,
    logger,
    alertWebhookUrl: options.alertWebhookUrl,
  });
  teardown.defer('worker', () => worker.shutdown());
  const gate = await startGate({
    databaseUrl: infra.databaseUrl,
    host: options.gateHost,
    port: options.gatePort,
    logger,
    controls: temporalControls(client),
  });
  teardown.defer('gate', () => gate.close());

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
  const loop = await client.workflow.start<typeof portfolioLoop>('portfolioLoop', {
    taskQueue: TASK_QUEUE,
    workflowId: loopWorkflowId(options.portfolioId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [
      {
        portfolioId: options.portfolioId,
        marketData: { kind: 'synthetic', feedId: options.portfolioId },
        monitoringIntervalMs: options.monitoringIntervalMs,
        approvalTimeoutMs: 10 * 60_000,
      },
    ],
  });
  const flow =
    options.ordersPerSecond > 0
      ? startOrderFlow({
          gateAddress: gate.address,
          portfolioId: options.portfolioId,
          store: new BudgetStore(pool),
          ordersPerSecond: options.ordersPerSecond,
        })
      : undefined;
  if (flow) teardown.defer('demo order flow', () => flow.stop());

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
  return { infra, gate, feeds, loop, flow, console: consoleServer, demoUsers };
}

function banner({ infra, gate, loop, console: desk, demoUsers }: System, portfolioId: string): string {
  return [
    '',
    `  Console         ${desk.url}/#/p/${encodeURIComponent(portfolioId)}   (API ${desk.url}/api/v1, OpenAPI ${desk.url}/api/v1/openapi.json)`,
    ...demoUsers.map(
      (u) => `                  demo user ${u.name.padEnd(13)} password ${u.password}   roles: ${u.roles.join(', ') || 'viewer'}`,
    ),
    `  Temporal UI     ${infra.temporalUiUrl ?? `(external server at ${infra.temporalAddress})`}   workflow: ${loop.workflowId}`,
    `  gRPC gate       ${gate.address}   (ballast.gate.v1.GateService; reflection and health enabled)`,
    `  Postgres        ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    `  Synthetic feed  one bar per second. Switch regime: node bin/ballast.js feed --feed ${portfolioId} --regime crisis|calm`,
    `                  (in a terminal: press c for crisis, n for calm, q to quit)`,
    '',
    '',
  ].join('\n');
}

async function renderStatus({ loop, flow }: System): Promise<string> {
  let unavailable = '';
  const status = await loop.query<LoopStatus>(statusQuery).catch((err: Error) => {
    // e.g. a loop left in .data by an older, incompatible Ballast: its history no longer replays.
    unavailable = ` | loop status unavailable: ${err.message.slice(0, 80)} (see the Temporal UI)`;
    return undefined;
  });
  const s = flow?.stats;
  const gross = status?.grossLimit != null ? `$${(status.grossLimit / 1e6).toFixed(2)}M` : '–';
  const pending = status?.pendingRecommendation ? ` | pending approval: ${status.pendingRecommendation.id}` : '';
  return (
    `regime ${status?.regime ?? '…'} | budget v${status?.budgetVersion ?? '–'} | gross limit ${gross} | ` +
    `decisions/s ${s?.perSecond ?? 0} (approved ${s?.approved ?? 0}, denied ${s?.denied ?? 0})${pending}${unavailable}`
  );
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
