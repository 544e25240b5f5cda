/**
 * Plans out and closes in, through a real gate on a fresh database:
 *   1. commit → plan received: from the start of the transaction that writes a plan to the outbox (as the
 *      loop's commit does) until a WatchRebalancePlans subscriber has it; p50/p99 over sequential commits;
 *   2. plans per second sustained: back-to-back commits from 4 writers on one portfolio (they serialize on
 *      the portfolio row lock that orders the stream), received by one subscriber;
 *   3. closes ingested per second: IngestCloses batches of 1 000 real S&P 500 closes.
 * No baseline: the figures are the product's own (the NOTIFY round trip dominates item 1). The gate runs as
 * shipped, with mTLS and an access policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { dropDatabase } from '../db/migrate';
import { scratchDatabase } from './scratchDatabase';
import { createPool } from '../db/pool';
import { BudgetStore } from '../db/stores/budgets';
import { RebalancePlanStore } from '../db/stores/rebalancePlans';
import { type Close, MarketDataServiceClient } from '../grpc/generated/ballast/gate/v1/market';
import { PlanServiceClient, type WatchRebalancePlansResponse } from '../grpc/generated/ballast/gate/v1/plans';
import { sharedDataFile } from '../lib/paths';
import { readPriceFile } from '../market/csvPrices';
import { DEMO_OMS_IDENTITY, OPERATOR_IDENTITY } from '../infra/certs';
import { startGate } from '../processes/gate';
import { localGateClient, resolveGateSecurity } from '../processes/gateSecurity';
import type { RebalancePlan } from '../risk/rebalancePlan';

const LATENCY_SAMPLES = Number(process.env.PLANS_BENCH_SAMPLES ?? 200);
const SUSTAINED_PLANS = 2_000;
const PORTFOLIO = 'bench-plans';

const plan = (budgetVersion: number): RebalancePlan => ({
  budgetVersion,
  regime: 'calm',
  cashWeight: 0.1,
  grossLeverage: 0.9,
  orders: Array.from({ length: 20 }, (_, i) => ({
    strategy: 'core',
    asset: `A${i}`,
    referencePrice: 100,
    currentQuantity: 0,
    targetQuantity: 10,
    deltaQuantity: 10,
    targetNotional: 1_000,
  })),
});

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

export async function run(): Promise<void> {
  const databaseUrl = await scratchDatabase('plans');
  const pool = createPool(databaseUrl, 5);
  // As shipped: mTLS and the access policy of a local CA of its own. Plans go to the demo OMS (it may
  // trade every portfolio); closes come from the operator, the identity granted ingest.
  const certsDir = mkdtempSync(join(tmpdir(), 'ballast-bench-plans-pki-'));
  const security = resolveGateSecurity({ host: '127.0.0.1', certsDir });
  const gate = await startGate({ databaseUrl, port: 0, logger: pino({ level: 'warn' }), tls: security.tls, access: security.access });
  const client = (identity: string) => localGateClient(security.pki!, identity, gate.address);
  const oms = client(DEMO_OMS_IDENTITY);
  const operator = client(OPERATOR_IDENTITY);
  const plans = new PlanServiceClient(oms.target, oms.credentials, oms.options);
  const feed = new MarketDataServiceClient(operator.target, operator.credentials, operator.options);
  try {
    await new BudgetStore(pool).ensurePortfolio(PORTFOLIO);
    const outbox = new RebalancePlanStore(pool);
    const received = new Map<number, number>();
    let onPlan: (() => void) | undefined;
    const stream = plans.watchRebalancePlans({ portfolioId: PORTFOLIO, afterSequence: 0 });
    stream.on('data', (m: WatchRebalancePlansResponse) => {
      if (m.event?.$case !== 'plan') return;
      received.set(m.event.value.sequence, performance.now());
      onPlan?.();
    });
    stream.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 300));

    // 1. commit → received, one at a time.
    const latencies: number[] = [];
    for (let i = 1; i <= LATENCY_SAMPLES; i++) {
      const got = new Promise<void>((resolve) => (onPlan = resolve));
      const start = performance.now();
      await outbox.emit(`lat-${i}`, PORTFOLIO, () => plan(i));
      await got;
      latencies.push(received.get(i)! - start);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `commit → plan received (${LATENCY_SAMPLES} sequential commits, 20-line plans): ` +
        `p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, max ${latencies[latencies.length - 1].toFixed(2)} ms`,
    );

    // 2. sustained: 4 concurrent writers.
    const base = LATENCY_SAMPLES;
    const t0 = performance.now();
    const all = new Promise<void>((resolve) => (onPlan = () => received.size >= base + SUSTAINED_PLANS && resolve()));
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        for (let i = w; i < SUSTAINED_PLANS; i += 4) await outbox.emit(`sus-${i}`, PORTFOLIO, () => plan(base + i + 1));
      }),
    );
    const written = performance.now();
    await all;
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `sustained: ${SUSTAINED_PLANS} plans from 4 writers committed in ${((written - t0) / 1000).toFixed(2)} s, all received in ` +
        `${seconds.toFixed(2)} s: ${(SUSTAINED_PLANS / seconds).toFixed(0)} plans/s end to end`,
    );
    stream.cancel();

    // 3. closes ingested.
    const table = readPriceFile(sharedDataFile('skfolio', 'sp500_dataset.csv.gz'));
    const closes: Close[] = [];
    table.dates.forEach((date, row) =>
      table.assets.forEach((asset, j) =>
        closes.push({ instrument: asset, at: { seconds: Date.parse(`${date}T00:00:00Z`) / 1000, nanos: 0 }, close: table.series[j][row] }),
      ),
    );
    const ingest = (batch: Close[]) =>
      new Promise<void>((resolve, reject) =>
        feed.ingestCloses({ closes: batch, source: 'bench' }, (err) => (err ? reject(err) : resolve())),
      );
    const t1 = performance.now();
    for (let i = 0; i < closes.length; i += 1_000) await ingest(closes.slice(i, i + 1_000));
    const ingestSeconds = (performance.now() - t1) / 1000;
    console.log(
      `ingestion: ${closes.length} closes (${table.assets.length} S&P 500 stocks × ${table.dates.length} days) in batches of 1 000, ` +
        `one client: ${ingestSeconds.toFixed(2)} s, ${(closes.length / ingestSeconds).toFixed(0)} closes/s`,
    );
  } finally {
    plans.close();
    feed.close();
    await gate.close();
    await pool.end();
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(certsDir, { recursive: true, force: true });
  }
}
