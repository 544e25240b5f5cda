/**
 * Regime response time, end to end on the real stack: from the bar that flips the synthetic market
 * into a crisis to the de-risked budget being served by the gate. Split into
 *   data delay   — bars until the regime rule (window + hysteresis dwell) declares the crisis,
 *   detect→commit — the workflow computing, deciding and committing the budget (Temporal + Postgres),
 *   commit→gate   — NOTIFY reaching the gate and the snapshot swap.
 * The feed pushes a `marketEvent` signal on every bar, as a live feed would.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Client } from '@temporalio/client';
import pino from 'pino';
import { BudgetStore } from '../db/stores/budgets';
import { dropDatabase, ensureDatabase, migrate, withDatabase } from '../db/migrate';
import { DEFAULT_DATABASE_URL, createPool } from '../db/pool';
import { GateServiceClient } from '../grpc/generated/ballast/gate/v1/gate';
import { startGate } from '../processes/gate';
import { ensureTemporalCli, freePort, startDevServer } from '../infra/temporal';
import { FeedStore } from '../db/stores/marketFeeds';
import { portfolioLoop } from '../workflows';
import { marketEventSignal, statusQuery } from '../workflows/messages';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { type LoopStatus, TASK_QUEUE, loopWorkflowId } from '../workflows/types';
import { startWorker } from '../processes/worker';
import { plainEndpoint } from '../infra/temporalConfig';
import { connectTemporalClient } from '../infra/temporalConnection';

const TRIALS = 5;
const BAR_MS = 200;

export async function run(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const databaseUrl = withDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, 'ballast_bench_response');
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  const server = await startDevServer({
    cli: await ensureTemporalCli(logger),
    port: await freePort(),
    uiPort: await freePort(),
    searchAttributes: SEARCH_ATTRIBUTES,
    logger,
  });
  const worker = await startWorker({ temporal: plainEndpoint(server.address), databaseUrl, logger });
  const gate = await startGate({
    databaseUrl,
    host: '127.0.0.1',
    port: 0,
    logger,
    pollIntervalMs: 60_000,
    dataDir: mkdtempSync(join(tmpdir(), 'ballast-bench-gate-')),
  });
  const connection = await connectTemporalClient({ address: server.address });
  const client = new Client({ connection });
  const gateClient = new GateServiceClient(gate.address, grpc.credentials.createInsecure());
  const pool = createPool(databaseUrl, 4);
  const feeds = new FeedStore(pool);
  const store = new BudgetStore(pool);
  const rows: { bars: number; detectToCommit: number; commitToGate: number; total: number }[] = [];

  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const portfolioId = `resp-${Date.now().toString(36)}-${trial}`;
      const feed = await feeds.ensureFeed({
        id: portfolioId,
        seed: 100 + trial,
        assets: ['A', 'B', 'C', 'D', 'E'],
        barMs: BAR_MS,
        historyBars: 300,
      });
      const handle = await client.workflow.start(portfolioLoop, {
        taskQueue: TASK_QUEUE,
        workflowId: loopWorkflowId(portfolioId),
        args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs: 60_000 }],
      });
      const push = setInterval(() => void handle.signal(marketEventSignal, {}).catch(() => undefined), BAR_MS);
      await waitFor(async () => store.latestBudget(portfolioId), 'first budget');
      const flipBar = await feeds.setRegime(portfolioId, 'crisis');
      const flipAtMs = feed.epochMs + flipBar * BAR_MS;
      const crisis = await waitFor(async () => {
        const v = await store.latestBudget(portfolioId);
        return v?.budget.regime === 'crisis' ? v : undefined;
      }, 'crisis budget');
      const gateAtMs = await waitFor(
        async () => ((await gateVersion(gateClient, portfolioId)) >= crisis.version ? Date.now() : undefined),
        'gate swap',
        2,
      );
      clearInterval(push);
      const status = await handle.query<LoopStatus>(statusQuery);
      const change = [...status.regimeChanges].reverse().find((c) => c.to === 'crisis' && c.committedAtMs !== undefined);
      await handle.terminate('bench done');
      if (!change) continue;
      const detectedBar = Math.round((Date.parse(`${change.detectedAsOf}T00:00:00Z`) - Date.UTC(2000, 0, 1)) / 86_400_000);
      rows.push({
        bars: detectedBar - flipBar + 1,
        detectToCommit: (change.committedAtMs as number) - change.detectedAtMs,
        commitToGate: gateAtMs - Date.parse(crisis.committedAt),
        total: gateAtMs - flipAtMs,
      });
      const r = rows[rows.length - 1];
      console.log(
        `  trial ${trial + 1}: crisis after ${r.bars} bars; detect→commit ${r.detectToCommit} ms; commit→gate ${r.commitToGate} ms; flip→gate ${r.total} ms (bars of ${BAR_MS} ms)`,
      );
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `regime response (median of ${rows.length}): ${med(rows.map((r) => r.bars))} bars of data to detect the crisis (rule window + dwell);`,
    );
    console.log(
      `  system latency detect→commit ${med(rows.map((r) => r.detectToCommit))} ms, commit→gate ${med(rows.map((r) => r.commitToGate))} ms`,
    );
  } finally {
    gateClient.close();
    await gate.close();
    await worker.shutdown();
    await connection.close();
    await pool.end();
    await server.stop();
    await dropDatabase(databaseUrl);
  }
}

function gateVersion(client: GateServiceClient, portfolioId: string): Promise<number> {
  return new Promise((resolve) => client.getCurrentBudget({ portfolioId }, (err, res) => resolve(err || !res ? 0 : res.budgetVersion)));
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, pollMs = 20, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
