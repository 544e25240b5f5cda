/**
 * `ballast start`: the whole system on one machine. Brings up Postgres and Temporal (or uses
 * DATABASE_URL / TEMPORAL_ADDRESS), the worker, the pre-trade gate, a demo portfolio's control loop
 * on the synthetic feed and a demo order flow, then shows a live status line until Ctrl-C.
 */
import { Client, Connection } from '@temporalio/client';
import { BudgetStore } from '../../db/stores/budgets';
import { createPool } from '../../db/pool';
import { startGate } from '../../grpc/server';
import { bootInfrastructure } from '../../infra/bootstrap';
import { createLogger } from '../../lib/logger';
import { FeedStore } from '../../db/stores/marketFeeds';
import { statusQuery } from '../../workflows/messages';
import { type LoopStatus, TASK_QUEUE, loopWorkflowId } from '../../workflows/types';
import { postgresRecommendationReader, temporalLimitOverrider, temporalRebalanceStarter } from '../../workers/gateAdapters';
import { startWorker } from '../../processes/worker';
import { parseFlags } from '../args';
import { startOrderFlow } from '../demoOrderFlow';

export const summary = 'run everything: infrastructure, worker, gate, a demo portfolio loop and order flow';

const DEMO_ASSETS = ['US_EQUITY', 'EU_EQUITY', 'EM_EQUITY', 'TREASURIES', 'GOLD'];

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    portfolio: 'string',
    'interval-ms': 'string',
    'gate-port': 'string',
    'orders-per-second': 'string',
    'no-demo': 'boolean',
  });
  const portfolioId = flags.portfolio ?? 'demo';
  const intervalMs = Number(flags['interval-ms'] ?? process.env.BALLAST_MONITORING_INTERVAL_MS ?? 5_000);
  const gatePort = Number(flags['gate-port'] ?? process.env.BALLAST_GATE_PORT ?? 50051);
  const logger = createLogger('ballast', process.env.LOG_LEVEL ?? 'warn');
  const say = (msg: string) => process.stderr.write(`[ballast] ${msg}\n`);

  say('starting infrastructure (Postgres, Temporal)…');
  const infra = await bootInfrastructure(logger);
  const pool = createPool(infra.databaseUrl);
  const connection = await Connection.connect({ address: infra.temporalAddress });
  const client = new Client({ connection });

  say('starting the worker (bundling workflows)…');
  const worker = await startWorker({
    temporalAddress: infra.temporalAddress,
    databaseUrl: infra.databaseUrl,
    logger,
    alertWebhookUrl: process.env.BALLAST_ALERT_WEBHOOK_URL,
  });
  const gate = await startGate({
    databaseUrl: infra.databaseUrl,
    host: process.env.BALLAST_GATE_HOST ?? '127.0.0.1',
    port: gatePort,
    logger,
    rebalanceStarter: temporalRebalanceStarter(client),
    recommendationReader: postgresRecommendationReader(pool),
    limitOverrider: temporalLimitOverrider(client),
  });

  const feeds = new FeedStore(pool);
  // Three hundred bars of history with one past crisis (bars 100–139): inside an HMM's training
  // history, so it has both regimes to learn, but outside the 126-bar covariance lookback at start.
  await feeds.ensureFeed({
    id: portfolioId,
    seed: 42,
    assets: DEMO_ASSETS,
    barMs: 1_000,
    historyBars: 300,
    pastEpisodes: [
      { fromBar: 100, regime: 'crisis' },
      { fromBar: 140, regime: 'calm' },
    ],
  });
  const handle = await client.workflow.start('portfolioLoop', {
    taskQueue: TASK_QUEUE,
    workflowId: loopWorkflowId(portfolioId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [
      {
        portfolioId,
        marketData: { kind: 'synthetic', feedId: portfolioId },
        monitoringIntervalMs: intervalMs,
        approvalTimeoutMs: 10 * 60_000,
      },
    ],
  });
  const flow = flags['no-demo']
    ? undefined
    : startOrderFlow({
        gateAddress: gate.address,
        portfolioId,
        store: new BudgetStore(pool),
        ordersPerSecond: Number(flags['orders-per-second'] ?? 200),
      });

  process.stdout.write(
    [
      '',
      `  Temporal UI     ${infra.temporalUiUrl ?? `(external server at ${infra.temporalAddress})`}   workflow: ${handle.workflowId}`,
      `  gRPC gate       ${gate.address}   (ballast.gate.v1.GateService; reflection and health enabled)`,
      `  Postgres        ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
      `  Synthetic feed  one bar per second. Switch regime: node bin/ballast.js feed --feed ${portfolioId} --regime crisis|calm`,
      `                  (in a terminal: press c for crisis, n for calm, q to quit)`,
      '',
    ].join('\n') + '\n',
  );

  const stopStatus = statusLine(async () => {
    let unavailable = '';
    const status = await handle.query<LoopStatus>(statusQuery).catch((err: Error) => {
      // e.g. a loop left in .data by an older, incompatible Ballast: its history no longer replays.
      unavailable = ` | loop status unavailable: ${err.message.slice(0, 80)} (see the Temporal UI)`;
      return undefined;
    });
    const s = flow?.stats;
    const gross = status?.grossLimit != null ? `$${(status.grossLimit / 1e6).toFixed(2)}M` : '–';
    const pending = status?.pendingRecommendation ? ` | pending approval: ${status.pendingRecommendation.id}` : '';
    return `regime ${status?.regime ?? '…'} | budget v${status?.budgetVersion ?? '–'} | gross limit ${gross} | decisions/s ${s?.perSecond ?? 0} (approved ${s?.approved ?? 0}, denied ${s?.denied ?? 0})${pending}${unavailable}`;
  });
  const stopKeys = keyControls({
    c: () => void feeds.setRegime(portfolioId, 'crisis'),
    n: () => void feeds.setRegime(portfolioId, 'calm'),
  });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.stdin.on('ballast-quit', resolve);
  });
  say('shutting down…');
  stopKeys();
  await stopStatus();
  await flow?.stop();
  await gate.close();
  await worker.shutdown();
  await connection.close();
  await pool.end();
  await infra.shutdown();
  say('stopped. The loop workflow is durable: it resumes where it was on the next `npm start`.');
  return 0;
}

/** Redraws one status line every second on a terminal; prints a line every 5 s otherwise. */
function statusLine(render: () => Promise<string>): () => Promise<void> {
  const tty = process.stdout.isTTY;
  let ticks = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    ticks++;
    if (!tty && ticks % 5 !== 0) return;
    inFlight = render().then((line) => {
      process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    });
  }, 1_000);
  return async () => {
    clearInterval(timer);
    await inFlight.catch(() => undefined); // never close the connection under a running query
    if (tty) process.stdout.write('\n');
  };
}

function keyControls(actions: Record<string, () => void>): () => void {
  if (!process.stdin.isTTY) return () => undefined;
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const onData = (buf: Buffer) => {
    const key = buf.toString();
    if (key === 'q' || key === '\u0003') process.stdin.emit('ballast-quit');
    else actions[key]?.();
  };
  process.stdin.on('data', onData);
  return () => {
    process.stdin.off('data', onData);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  };
}
