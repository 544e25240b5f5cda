/**
 * The all-in-one process behind `npm start` (`ballast start`): infrastructure (Postgres and a Temporal
 * dev server, unless DATABASE_URL / TEMPORAL_ADDRESS point at running ones), the worker, the pre-trade
 * gate, a demo portfolio's control loop on the synthetic feed and a demo order flow, then a live status
 * line and key controls until Ctrl-C, q, SIGINT or SIGTERM. Whatever started is stopped in reverse
 * order, also when a later step fails.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
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
import type { portfolioLoop } from '../workflows';
import { statusQuery } from '../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../workflows/types';
import { type OrderFlow, startOrderFlow } from './demoOrderFlow';
import { type ReferenceOms, startReferenceOms } from './referenceOms';
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
}

const DEMO_ASSETS = ['US_EQUITY', 'EU_EQUITY', 'EM_EQUITY', 'TREASURIES', 'GOLD'];

interface System {
  readonly infra: Infrastructure;
  readonly gate: RunningGate;
  readonly feeds: FeedStore;
  readonly loop: WorkflowHandle<typeof portfolioLoop>;
  readonly flow: OrderFlow | undefined;
  readonly oms: ReferenceOms;
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
    marketEvents: temporalMarketEvents(client),
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
  const loop = await startDemoPortfolio(client, pool, options);
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
  // The reference OMS executes the demo's rebalancing plans beside the random flow.
  const oms = startReferenceOms({ gateAddress: gate.address, portfolioId: options.portfolioId });
  teardown.defer('reference OMS', () => oms.stop());
  return { infra, gate, feeds, loop, flow, oms };
}

function banner({ infra, gate, loop }: System, portfolioId: string): string {
  return [
    '',
    `  Temporal UI     ${infra.temporalUiUrl ?? `(external server at ${infra.temporalAddress})`}   workflow: ${loop.workflowId}`,
    `  gRPC gate       ${gate.address}   (ballast.gate.v1.GateService; reflection and health enabled)`,
    `  Postgres        ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
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
  const pending = status?.pendingRecommendation ? ` | pending approval: ${status.pendingRecommendation.id}` : '';
  return (
    `regime ${status?.regime ?? '…'} | budget v${status?.budgetVersion ?? '–'} | gross limit ${gross} | ` +
    `decisions/s ${s?.perSecond ?? 0} (approved ${s?.approved ?? 0}, denied ${s?.denied ?? 0})${omsStatus(oms)}${pending}${unavailable}`
  );
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

/** Plans executed and the drift from target after the last one (before the random flow moves the book again). */
function omsStatus(oms: ReferenceOms): string {
  const last = oms.reports[oms.reports.length - 1];
  if (!last) return ' | plans 0';
  const trimmed = last.trimmedNotional > 0 ? `, trimmed $${(last.trimmedNotional / 1e3).toFixed(0)}k` : '';
  return ` | plans ${oms.reports.length}, drift ${(last.drift * 100).toFixed(1)}%${trimmed}`;
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
