/**
 * Market data in, end to end on the real Temporal server, worker, gate and Postgres: a portfolio
 * created from a YAML file reads ingested closes; before any arrive its cycle fails with an alert
 * naming the missing instruments; real closes from /work/shared/data fed through IngestCloses (batched,
 * idempotent: a resent batch stores nothing, a changed close is reported as a conflict) wake its loop,
 * which commits a budget well before its next scheduled cycle.
 */
import * as grpc from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { BudgetStore } from '../../../db/stores/budgets';
import { PortfolioPolicyStore } from '../../../db/stores/portfolioPolicies';
import {
  type Close,
  type IngestClosesRequest,
  type IngestClosesResponse,
  MarketDataServiceClient,
} from '../../../grpc/generated/ballast/gate/v1/market';
import type { RunningGate } from '../../../grpc/server';
import { readPriceFile } from '../../../market/csvPrices';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_IDENTITY } from '../../../infra/certs';
import { startGate } from '../../../processes/gate';
import { localGateClient, resolveGateSecurity } from '../../../processes/gateSecurity';
import { temporalMarketEvents } from '../../../processes/marketEvents';
import { createPortfolio } from '../../../processes/portfolios';
import type { RunningWorker } from '../../../processes/worker';
import { loadPortfolioSpecText } from '../../../risk/portfolioSpec';
import { sliceTable } from '../../../risk/timeseries';
import { statusQuery } from '../../../workflows/messages';
import { type LoopStatus, loopWorkflowId } from '../../../workflows/types';
import { eventually, testClient, testEnv, testLogger, testPool, testWorker, uniqueId } from '../../support/env';

const PRICES = '/work/shared/data/skfolio/sp500_dataset.csv.gz';
const INSTRUMENTS = ['AAPL', 'JPM', 'KO', 'MSFT', 'XOM'];

describe('closes ingested through the gate feed a portfolio created from YAML', () => {
  const taskQueue = uniqueId('ingest');
  let pool: pg.Pool;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;
  let gate: RunningGate;
  let feed: InstanceType<typeof MarketDataServiceClient>;

  beforeAll(async () => {
    pool = testPool();
    temporal = await testClient();
    worker = await testWorker(taskQueue);
    // Ingestion is a control operation: the feed calls as a verified identity granted control (the operator).
    const security = resolveGateSecurity({ host: '127.0.0.1', certsDir: mkdtempSync(join(tmpdir(), 'ballast-ingest-pki-')) });
    gate = await startGate({
      databaseUrl: testEnv().databaseUrl,
      port: 0,
      logger: testLogger,
      tls: security.tls,
      access: security.access,
      marketEvents: temporalMarketEvents(temporal.client),
    });
    const operator = localGateClient(security.pki!, OPERATOR_IDENTITY, gate.address);
    feed = new MarketDataServiceClient(operator.target, operator.credentials, operator.options);
  });
  afterAll(async () => {
    feed?.close();
    await gate?.close();
    await worker?.shutdown();
    await temporal?.close();
    await pool?.end();
  });

  const ingest = (req: IngestClosesRequest): Promise<IngestClosesResponse> =>
    new Promise((resolve, reject) =>
      feed.ingestCloses(req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))),
    );

  it('alerts while closes are missing, then commits a budget once real closes are ingested', async () => {
    const id = uniqueId('ingested');
    // Instruments are named per portfolio so tests sharing the database never read each other's closes.
    const name = (ticker: string) => `${id}.${ticker}`;
    const spec = loadPortfolioSpecText(`
portfolio:
  id: ${id}
  market_data: { kind: ingested, instruments: [${INSTRUMENTS.map(name).join(', ')}], max_staleness: 1d }
risk_budgeting:
  capital: 2000000
  lookback_days: 126
`);
    // A long interval: only the ingestion's wake-up can make the loop commit within the test.
    const handle = temporal.client.workflow.getHandle(loopWorkflowId(id));
    await createPortfolio({ client: temporal.client, policies: new PortfolioPolicyStore(pool), taskQueue }, spec, {
      requestedBy: 'test',
      source: null,
      monitoringIntervalMs: 10 * 60_000,
    });
    const alert = await eventually(
      async () =>
        (await pool.query<{ message: string }>('SELECT message FROM alerts WHERE portfolio_id = $1', [id])).rows.find((r) =>
          r.message.includes('no closes ingested'),
        ),
      30_000,
      'an alert for the missing closes',
    );
    expect(alert.message).toContain(name('AAPL'));

    const table = sliceTable(readPriceFile(PRICES), { start: '2021-06-01', assets: INSTRUMENTS });
    const closes: Close[] = [];
    table.dates.forEach((date, row) =>
      table.assets.forEach((ticker, j) =>
        closes.push({
          instrument: name(ticker),
          at: { seconds: Date.parse(`${date}T00:00:00Z`) / 1000, nanos: 0 },
          close: table.series[j][row],
        }),
      ),
    );
    // History, then the latest day in its own batch (as an end-of-day feed sends it).
    const lastDay = closes.slice(-INSTRUMENTS.length);
    // Batches of 1 000 closes (~50 KB): the gate accepts messages up to 64 KiB by default.
    const history = closes.slice(0, -INSTRUMENTS.length);
    const batches: Close[][] = [];
    for (let i = 0; i < history.length; i += 1_000) batches.push(history.slice(i, i + 1_000));
    batches.push(lastDay);
    expect(await new BudgetStore(pool).countVersions(id)).toBe(0);
    let woken: string[] = [];
    for (const batch of batches) {
      const res = await ingest({ closes: batch, source: 'skfolio-sp500' });
      expect(res).toMatchObject({ inserted: batch.length, duplicates: 0, conflicts: [] });
      woken = res.wokenPortfolios;
    }
    expect(woken).toEqual([id]);
    // A resent batch stores nothing; a changed close is reported and not applied.
    const again = await ingest({ closes: batches[0], source: 'skfolio-sp500' });
    expect(again).toMatchObject({ inserted: 0, duplicates: batches[0].length, conflicts: [] });
    const changed = await ingest({ closes: [{ ...batches[0][0], close: batches[0][0].close * 2 }], source: 'x' });
    expect(changed.conflicts).toHaveLength(1);
    expect(changed.conflicts[0]).toMatchObject({ instrument: batches[0][0].instrument, stored: batches[0][0].close });

    const committed = await eventually(() => new BudgetStore(pool).latestBudget(id), 30_000, 'a budget from the ingested closes');
    expect(committed.budget.limits.capital).toBe(2_000_000);
    expect(new Set(committed.budget.assets.map((a) => a.asset))).toEqual(new Set(INSTRUMENTS.map(name)));
    // The last day's batch woke the loop again: it has read up to it (a 10-minute interval would not have).
    const lastDate = table.dates[table.dates.length - 1];
    await eventually(
      async () => ((await handle.query<LoopStatus>(statusQuery)).lastMarketAsOf === lastDate ? true : undefined),
      30_000,
      `the loop at ${lastDate}`,
    );
  });

  it('refuses a malformed batch whole, naming the entry', async () => {
    await expect(
      ingest({
        closes: [
          { instrument: 'X', at: { seconds: 1, nanos: 0 }, close: 1 },
          { instrument: 'Y', at: undefined, close: 1 },
        ],
        source: 's',
      }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'closes[1].at is required' });
    await expect(ingest({ closes: [{ instrument: 'X', at: { seconds: 1, nanos: 0 }, close: -1 }], source: 's' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });
});
