/**
 * Capacity: N portfolio loops on one worker against the full Temporal server on Postgres (or
 * TEMPORAL_ADDRESS), each on its own synthetic feed (5 to 50 assets), for a fixed window. Reports
 * per N what docs/capacity.md builds its model from:
 *   - sustained cycles/s (cycles that wrote their metrics row in the window) against the offered N / interval;
 *   - the worker's CPU ms per cycle (this process: the bench driver idles during the window) and RSS;
 *   - the Temporal server's CPU ms per cycle (when this bench started it);
 *   - history events, bytes and Temporal actions per calm cycle, from the histories of a sample of loops;
 *   - cycle latency p50/p99 from our tables: the gap between a loop's consecutive metrics rows minus
 *     the interval, i.e. from the timer falling due to the cycle's outputs committed;
 *   - continue-as-new: runs ended in the window, and cycles per run;
 *   - Postgres: transactions committed and rows written per cycle, Ballast's and Temporal's databases.
 *
 * Environment (all optional):
 *   BALLAST_CAPACITY_N            loop counts, comma-separated (10,100); BALLAST_CAPACITY_1000=1 adds 1000
 *   BALLAST_CAPACITY_INTERVAL_MS  monitoring interval of every loop (10000)
 *   BALLAST_CAPACITY_WINDOW_S     measured window per N, after every loop's first cycle (60)
 *   BALLAST_CAPACITY_SAMPLE       loops whose history is read per N (5)
 *   BALLAST_CAPACITY_POLICY       portfolio file whose `risk_budgeting` every loop runs (config/demo-portfolio.yaml),
 *                                 drift threshold raised so the bench's empty books never call for a rebalance;
 *                                 `none`: the defaults, with only the raised drift threshold in the payloads
 *   BALLAST_CAPACITY_MAX_CACHED, BALLAST_CAPACITY_WFT_SLOTS, BALLAST_CAPACITY_ACTIVITY_SLOTS
 *                                 worker maxCachedWorkflows / maxConcurrentWorkflowTaskExecutions /
 *                                 maxConcurrentActivityTaskExecutions (SDK defaults otherwise)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { dropDatabase, ensureDatabase, migrate, withDatabase } from '../db/migrate';
import { createPool } from '../db/pool';
import { CycleStatsStore } from '../db/stores/cycleStats';
import { FeedStore } from '../db/stores/marketFeeds';
import { PortfolioPolicyStore } from '../db/stores/portfolioPolicies';
import {
  dropTemporalDatabases,
  ensureTemporalServer,
  freeServerPorts,
  setupTemporalSchema,
  startTemporalServer,
} from '../infra/temporalServer';
import { plainEndpoint } from '../infra/temporalConfig';
import { repoRoot } from '../lib/paths';
import { loopInput } from '../processes/portfolios';
import { type WorkerTuning, startWorker } from '../processes/worker';
import { portfolioLoop } from '../workflows';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { loopWorkflowId } from '../workflows/types';
import { connectTemporalClient } from '../infra/temporalConnection';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The activities of a calm cycle (workflows/portfolioLoop.ts runCycle): a cycle with any other is not
 * calm. Since the 'calm-cycle' patch: checkCycle and recordCalmCycle, local activities (marker events);
 * before it (and in a cycle that assessed a newly declared regime) the seven of the older path.
 */
const CALM_ACTIVITIES = new Set([
  'checkCycle',
  'recordCalmCycle',
  'observeMarket',
  'latestCommitted',
  'assessRegime',
  'computeBudget',
  'evaluateTriggers',
  'recordMetrics',
  'heartbeat',
]);

interface Settings {
  readonly counts: readonly number[];
  readonly intervalMs: number;
  readonly windowS: number;
  readonly sample: number;
  readonly tuning: WorkerTuning;
  readonly policy: unknown;
}

function settings(): Settings {
  const counts = (process.env.BALLAST_CAPACITY_N ?? '10,100')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  if (process.env.BALLAST_CAPACITY_1000 === '1' && !counts.includes(1000)) counts.push(1000);
  const num = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
  const tuning: Record<string, number> = {};
  const set = (key: keyof WorkerTuning, value: number | undefined) => value !== undefined && (tuning[key] = value);
  set('maxCachedWorkflows', num('BALLAST_CAPACITY_MAX_CACHED'));
  set('maxConcurrentWorkflowTaskExecutions', num('BALLAST_CAPACITY_WFT_SLOTS'));
  set('maxConcurrentActivityTaskExecutions', num('BALLAST_CAPACITY_ACTIVITY_SLOTS'));
  return {
    counts,
    intervalMs: num('BALLAST_CAPACITY_INTERVAL_MS') ?? 10_000,
    windowS: num('BALLAST_CAPACITY_WINDOW_S') ?? 60,
    sample: num('BALLAST_CAPACITY_SAMPLE') ?? 5,
    tuning,
    policy: benchPolicy(process.env.BALLAST_CAPACITY_POLICY ?? join(repoRoot(), 'config', 'demo-portfolio.yaml')),
  };
}

/**
 * A real policy document travels in every loop's payloads (its size is part of what is measured).
 * The bench's books hold no positions, so they always drift from their budget: the drift threshold
 * is raised to 1 (a whole weight of capital) so a cycle stays calm as a real, rebalanced book's would.
 */
function benchPolicy(path: string): unknown {
  const doc = (path === 'none' ? {} : parseYaml(readFileSync(path, 'utf8'))) as { risk_budgeting?: Record<string, unknown> };
  const { monitoring_interval: _interval, ...policy } = doc.risk_budgeting ?? {};
  const triggers = (policy.rebalancing_triggers ?? {}) as Record<string, unknown>;
  return { risk_budgeting: { ...policy, rebalancing_triggers: { ...triggers, drift_threshold: 1 } } };
}

const progress = (msg: string) => process.stderr.write(`[capacity] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);

export async function run(): Promise<void> {
  const opts = settings();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'error' });
  const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = withDatabase(postgresUrl, 'ballast_bench_capacity');
  const temporalDbs = { postgresUrl, main: 'temporal_bench_capacity', visibility: 'temporal_visibility_bench_capacity' };
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);

  let address = process.env.TEMPORAL_ADDRESS;
  let stopServer = async () => undefined as void;
  if (!address) {
    progress('starting the full Temporal server on Postgres (fresh databases)');
    const binary = await ensureTemporalServer(logger);
    await dropTemporalDatabases(temporalDbs).catch(() => undefined);
    await setupTemporalSchema(binary, temporalDbs, logger);
    const server = await startTemporalServer({
      binary,
      databases: temporalDbs,
      ports: await freeServerPorts(),
      logFile: join(repoRoot(), '.data', 'bench', 'capacity-temporal-server.log'),
      logger,
      searchAttributes: SEARCH_ATTRIBUTES,
    });
    address = server.address;
    stopServer = async () => {
      await server.stop();
      await dropTemporalDatabases(temporalDbs).catch(() => undefined);
    };
    progress(`server ready at ${address} (${server.historyShards} history shards)`);
  }
  const pool = createPool(databaseUrl, 4);
  const connection = await connectTemporalClient({ address });
  const client = new Client({ connection });
  progress('bundling the workflows once');
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silentBundler() });
  const databases = [databaseUrl, ...(process.env.TEMPORAL_ADDRESS ? [] : [temporalDbs.main, temporalDbs.visibility])].map((d) =>
    d.includes('/') ? new URL(d).pathname.slice(1) : d,
  );
  const rows: Row[] = [];
  let canProbe: ContinueAsNewProbe | undefined;
  try {
    progress('letting the new server settle 15 s, then measuring it idle for 15 s (subtracted from the per-cycle figures)');
    const stats = new CycleStatsStore(pool);
    await sleep(15_000);
    const idleFrom = await snapshot(stats, databases);
    await sleep(15_000);
    const idle = idleRates(idleFrom, await snapshot(stats, databases), databases.slice(1));
    progress(
      `idle: server ${idle.serverCpuMsPerS?.toFixed(1) ?? 'n/a'} CPU ms/s, Temporal databases ${idle.temporalXactPerS.toFixed(1)} transactions/s`,
    );
    for (const n of opts.counts) {
      rows.push(
        await measure(n, {
          opts,
          address,
          databaseUrl,
          client,
          feeds: new FeedStore(pool),
          policies: new PortfolioPolicyStore(pool),
          stats,
          idle,
          databases,
          workflowBundle,
          logger,
        }),
      );
      printRow(rows[rows.length - 1], opts);
    }
    if (process.env.BALLAST_CAPACITY_CAN_PROBE !== '0') {
      canProbe = await probeContinueAsNew({
        opts,
        address,
        databaseUrl,
        client,
        feeds: new FeedStore(pool),
        policies: new PortfolioPolicyStore(pool),
        stats,
        idle,
        databases,
        workflowBundle,
        logger,
      }).catch((err: unknown) => {
        progress(`continue-as-new probe failed: ${String(err)}`);
        return undefined;
      });
    }
  } finally {
    await connection.close();
    await pool.end();
    await stopServer();
    await dropDatabase(databaseUrl);
  }
  printTable(rows, opts);
  if (canProbe) {
    console.log(
      `continue-as-new: one calm loop's first run ended after ${canProbe.cycles} cycles, ${canProbe.events} events, ` +
        `${(canProbe.bytes / 2 ** 20).toFixed(2)} MB of history (${canProbe.reason}); ${canProbe.seconds.toFixed(0)} s at a ${CAN_PROBE_INTERVAL_MS} ms interval`,
    );
  }
}

const CAN_PROBE_INTERVAL_MS = 100;

interface ContinueAsNewProbe {
  readonly cycles: number;
  readonly events: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly reason: string;
}

/**
 * How many cycles a run holds before it continues as new: one loop (20 assets) at a 100 ms interval
 * until its first run closes. The loop ends a run after `cyclesPerRun` (200) cycles or when the server
 * suggests it (history over 4 096 events or 4 MB by default), whichever comes first.
 */
async function probeContinueAsNew(ctx: Context): Promise<ContinueAsNewProbe> {
  const portfolioId = `canprobe-${Date.now().toString(36)}`;
  const taskQueue = `capacity-${portfolioId}`;
  const worker = await startWorker({
    temporal: plainEndpoint(ctx.address),
    databaseUrl: ctx.databaseUrl,
    logger: ctx.logger,
    taskQueue,
    workflowBundle: ctx.workflowBundle,
    tuning: ctx.opts.tuning,
  });
  progress(`continue-as-new probe: one loop at a ${CAN_PROBE_INTERVAL_MS} ms interval until its first run ends`);
  const assets = Array.from({ length: 20 }, (_, k) => `A${String(k).padStart(2, '0')}`);
  await ctx.feeds.ensureFeed({ id: portfolioId, seed: 7, assets, barMs: CAN_PROBE_INTERVAL_MS, historyBars: 300 });
  const started = Date.now();
  const handle = await startBenchLoop(ctx, taskQueue, portfolioId, CAN_PROBE_INTERVAL_MS);
  const firstRunId = handle.firstExecutionRunId;
  try {
    for (;;) {
      const { runId } = await ctx.client.workflow.getHandle(handle.workflowId).describe();
      if (runId !== firstRunId) break;
      if (Date.now() - started > 300_000) throw new Error('the probe loop did not continue as new within 5 minutes');
      await sleep(1000);
    }
    const seconds = (Date.now() - started) / 1000;
    const history = await ctx.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    const events = history.events ?? [];
    const cycles = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).length;
    const bytes = events.reduce((sum, e) => sum + temporal.api.history.v1.HistoryEvent.encode(e).finish().length, 0);
    const suggested = events.some((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew === true);
    return { cycles, events: events.length, bytes, seconds, reason: suggested ? 'suggested by the server' : 'cyclesPerRun reached' };
  } finally {
    await ctx.client.workflow
      .getHandle(handle.workflowId)
      .terminate('capacity bench done')
      .catch(() => undefined);
    await worker.shutdown();
  }
}

interface Context {
  readonly opts: Settings;
  readonly address: string;
  readonly databaseUrl: string;
  readonly client: Client;
  readonly feeds: FeedStore;
  readonly policies: PortfolioPolicyStore;
  readonly stats: CycleStatsStore;
  readonly idle: IdleRates;
  readonly databases: readonly string[];
  readonly workflowBundle: { code: string };
  readonly logger: pino.Logger;
}

interface Row {
  readonly n: number;
  readonly offered: number;
  readonly sustained: number;
  readonly workerCpuMsPerCycle: number;
  readonly serverCpuMsPerCycle: number | null;
  readonly rssMb: number;
  readonly rssMbPer100Loops: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly calmCycles: number;
  readonly eventsPerCalmCycle: number;
  readonly bytesPerCalmCycle: number;
  /** Of which activity inputs and results (the data, not the events' own fields). */
  readonly payloadBytesPerCalmCycle: number;
  readonly actionsPerCycle: number;
  readonly cyclesPerRun: number;
  readonly continuedAsNew: number;
  readonly pgXactPerCycle: number;
  readonly pgRowsPerCycle: number;
  readonly pgXactPerCycleTemporal: number | null;
  readonly firstCycleS: number;
}

async function measure(n: number, ctx: Context): Promise<Row> {
  const { opts, client, feeds, stats } = ctx;
  const prefix = `cap${n}-${Date.now().toString(36)}-`;
  const taskQueue = `capacity-${prefix}`;
  const worker = await startWorker({
    temporal: plainEndpoint(ctx.address),
    databaseUrl: ctx.databaseUrl,
    logger: ctx.logger,
    taskQueue,
    workflowBundle: ctx.workflowBundle,
    tuning: opts.tuning,
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const ids: string[] = [];
  try {
    progress(`N=${n}: starting ${n} loops, staggered over one ${opts.intervalMs} ms interval`);
    const startedAt = Date.now();
    await inBatches(
      Array.from({ length: n }, (_, i) => i),
      16,
      async (i) => {
        const portfolioId = `${prefix}${String(i).padStart(4, '0')}`;
        const assets = Array.from({ length: assetCount(i) }, (_, k) => `A${String(k).padStart(2, '0')}`);
        await feeds.ensureFeed({ id: portfolioId, seed: 1000 + i, assets, barMs: opts.intervalMs, historyBars: 300 });
        // Spread the loops over the interval, as a fleet started over days would be.
        const due = startedAt + (i * opts.intervalMs) / n;
        if (due > Date.now()) await sleep(due - Date.now());
        await startBenchLoop(ctx, taskQueue, portfolioId, opts.intervalMs);
        ids.push(portfolioId);
      },
    );
    const firstCycleS = await waitForFirstCycles(stats, prefix, n);
    progress(`N=${n}: every loop ran its first cycle (${firstCycleS.toFixed(1)} s after the last start); measuring ${opts.windowS} s`);

    const before = await snapshot(stats, ctx.databases);
    const windowStart = new Date();
    const ticker = setInterval(() => {
      void stats
        .cyclesBetween(prefix, windowStart, new Date())
        .then((c) =>
          progress(`N=${n}: ${c} cycles so far, ${((Date.now() - windowStart.getTime()) / 1000).toFixed(0)} s of ${opts.windowS} s`),
        );
    }, 15_000);
    let peakRss = process.memoryUsage().rss;
    const rssProbe = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 1000);
    await sleep(opts.windowS * 1000);
    clearInterval(ticker);
    clearInterval(rssProbe);
    const windowEnd = new Date();
    const after = await snapshot(stats, ctx.databases);

    const seconds = (windowEnd.getTime() - windowStart.getTime()) / 1000;
    const gaps = await stats.cycleGapsMs(prefix, windowStart, windowEnd);
    const cycles = await stats.cyclesBetween(prefix, windowStart, windowEnd);
    const latencies = gaps.map((g) => g - opts.intervalMs).sort((a, b) => a - b);
    progress(`N=${n}: reading the histories of ${Math.min(opts.sample, n)} loops`);
    const history = await sampleHistories(client, ids.slice(0, opts.sample));
    const continuedAsNew = await countContinuedAsNew(client, taskQueue);
    const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
    const { idle } = ctx;
    const serverCpuMs =
      after.serverCpuMs !== null && before.serverCpuMs !== null && idle.serverCpuMsPerS !== null
        ? after.serverCpuMs - before.serverCpuMs - idle.serverCpuMsPerS * seconds
        : null;
    const ballastDb = ctx.databases[0];
    const temporalXact = xactDelta(before, after, ctx.databases.slice(1)) - idle.temporalXactPerS * seconds;
    const perCycle = (x: number) => (cycles > 0 ? x / cycles : NaN);
    return {
      n,
      offered: n / (opts.intervalMs / 1000),
      sustained: cycles / seconds,
      workerCpuMsPerCycle: perCycle(cpuMs),
      serverCpuMsPerCycle: serverCpuMs === null ? null : perCycle(serverCpuMs),
      rssMb: peakRss / 2 ** 20,
      rssMbPer100Loops: ((peakRss - rssBefore) / 2 ** 20 / n) * 100,
      latencyP50Ms: quantile(latencies, 0.5),
      latencyP99Ms: quantile(latencies, 0.99),
      firstCycleS,
      ...history,
      continuedAsNew,
      pgXactPerCycle: perCycle(after.pg[ballastDb].xact - before.pg[ballastDb].xact),
      pgRowsPerCycle: perCycle(after.pg[ballastDb].rows - before.pg[ballastDb].rows),
      pgXactPerCycleTemporal: ctx.databases.length > 1 ? perCycle(temporalXact) : null,
    };
  } finally {
    progress(`N=${n}: terminating the loops and stopping the worker`);
    await inBatches(ids, 16, (id) =>
      client.workflow
        .getHandle(loopWorkflowId(id))
        .terminate('capacity bench done')
        .then(
          () => undefined,
          () => undefined,
        ),
    );
    await worker.shutdown();
  }
}

/**
 * Registers the portfolio with the bench's policy as version 1 and starts its loop with the input
 * `ballast portfolio create` gives it (processes/portfolios.ts loopInput): the policy and its version.
 */
async function startBenchLoop(ctx: Context, taskQueue: string, portfolioId: string, intervalMs: number) {
  const marketData = { kind: 'synthetic', feedId: portfolioId } as const;
  const document = ctx.opts.policy;
  await ctx.policies.create({ id: portfolioId, baseCurrency: 'USD', marketData, document, requestedBy: 'capacity-bench', source: null });
  const active = await ctx.policies.active(portfolioId);
  if (!active) throw new Error(`portfolio ${portfolioId} has no active policy after create`);
  return ctx.client.workflow.start(portfolioLoop, {
    taskQueue,
    workflowId: loopWorkflowId(portfolioId),
    args: [loopInput(portfolioId, marketData, active, { monitoringIntervalMs: intervalMs })],
  });
}

/** 5 to 50 assets, spread evenly over the fleet (deterministic: the same loop always gets the same count). */
function assetCount(i: number): number {
  return 5 + ((i * 17) % 46);
}

async function waitForFirstCycles(stats: CycleStatsStore, prefix: string, n: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const loops = await stats.loopsWithACycle(prefix);
    if (loops >= n) return (Date.now() - started) / 1000;
    if (Date.now() - started > 600_000) throw new Error(`only ${loops} of ${n} loops ran a cycle in 10 minutes`);
    await sleep(1000);
  }
}

interface HistoryFigures {
  readonly calmCycles: number;
  readonly eventsPerCalmCycle: number;
  readonly bytesPerCalmCycle: number;
  /** Of which activity inputs and results (the data, not the events' own fields). */
  readonly payloadBytesPerCalmCycle: number;
  readonly actionsPerCycle: number;
  readonly cyclesPerRun: number;
}

/**
 * Splits each sampled loop's history at its timers (one per cycle: the wait for the next interval)
 * and measures the cycles between two timers: events, their encoded size, and the Temporal actions
 * they bill (activities scheduled, timers, search-attribute upserts, signals and updates received).
 * The run's start (first segment) is left out; a cycle that scheduled any activity beyond the seven of
 * a calm cycle (a proposal, a commit, an alert) is not calm.
 */
async function sampleHistories(client: Client, portfolioIds: readonly string[]): Promise<HistoryFigures> {
  let calm = 0;
  let calmEvents = 0;
  let calmBytes = 0;
  let calmPayloadBytes = 0;
  let cycles = 0;
  let actions = 0;
  let cyclesPerRun = 200;
  const extra = new Map<string, number>();
  const byActivity = new Map<string, number>();
  for (const id of portfolioIds) {
    const handle = client.workflow.getHandle(loopWorkflowId(id));
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const input = started?.input?.payloads?.[0]?.data;
    if (input) cyclesPerRun = (JSON.parse(Buffer.from(input).toString('utf8')) as { cyclesPerRun?: number }).cyclesPerRun ?? 200;
    for (const segment of cycleSegments(events)) {
      cycles += 1;
      actions += actionsIn(segment);
      if (!isCalm(segment)) {
        for (const name of extraActivities(segment)) extra.set(name, (extra.get(name) ?? 0) + 1);
        continue;
      }
      calm += 1;
      calmEvents += segment.length;
      calmBytes += segment.reduce((sum, e) => sum + temporal.api.history.v1.HistoryEvent.encode(e).finish().length, 0);
      calmPayloadBytes += segment.reduce((sum, e) => sum + payloadBytes(e), 0);
      for (const e of segment) {
        const scheduled = e.activityTaskCompletedEventAttributes?.scheduledEventId;
        const name =
          activityName(e) ?? (scheduled ? activityName(events.find((x) => Number(x.eventId) === Number(scheduled)) ?? {}) : undefined);
        if (name) byActivity.set(name, (byActivity.get(name) ?? 0) + payloadBytes(e));
      }
    }
  }
  if (calm > 0)
    progress(
      `payload KB per calm cycle by activity (input + result): ${[...byActivity].map(([k, v]) => `${k} ${(v / calm / 1024).toFixed(1)}`).join(', ')}`,
    );
  if (extra.size > 0) progress(`cycles that were not calm ran: ${[...extra].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  return {
    calmCycles: calm,
    eventsPerCalmCycle: calm > 0 ? calmEvents / calm : NaN,
    bytesPerCalmCycle: calm > 0 ? calmBytes / calm : NaN,
    payloadBytesPerCalmCycle: calm > 0 ? calmPayloadBytes / calm : NaN,
    // A run's start and its continue-as-new are two more actions, over the run's cycles.
    actionsPerCycle: cycles > 0 ? actions / cycles + 2 / cyclesPerRun : NaN,
    cyclesPerRun,
  };
}

/** The events after one TimerStarted up to and including the next: one whole cycle. */
function cycleSegments(events: readonly HistoryEvent[]): HistoryEvent[][] {
  const timers = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_TIMER_STARTED ? [i] : []));
  const segments: HistoryEvent[][] = [];
  for (let k = 1; k < timers.length; k++) segments.push(events.slice(timers[k - 1] + 1, timers[k] + 1));
  return segments;
}

/** The activity an event schedules, or whose result it records as a local activity's marker. */
function activityName(e: HistoryEvent): string | undefined {
  const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
  if (scheduled) return scheduled;
  const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined; // a patch marker's data is not a local activity's
  }
}

/** Bytes of the activity inputs and results an event carries (a local activity's marker: its result). */
function payloadBytes(e: HistoryEvent): number {
  const payloads = [
    ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
    ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
    ...(e.markerRecordedEventAttributes?.details?.result?.payloads ?? []),
  ];
  return payloads.reduce((sum, p) => sum + temporal.api.common.v1.Payload.encode(p).finish().length, 0);
}

function isCalm(segment: readonly HistoryEvent[]): boolean {
  return segment.every((e) => {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) return false;
    const activity = activityName(e);
    return activity === undefined || CALM_ACTIVITIES.has(activity);
  });
}

function extraActivities(segment: readonly HistoryEvent[]): string[] {
  return segment
    .map((e) => activityName(e) ?? (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED ? 'signal' : null))
    .filter((name): name is string => typeof name === 'string' && !CALM_ACTIVITIES.has(name));
}

const ACTION_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
]);

function isAction(e: HistoryEvent): boolean {
  return e.eventType !== null && e.eventType !== undefined && ACTION_EVENTS.has(e.eventType);
}

/** Billable actions: the events above, and one per workflow task that ran local activities (however many it ran). */
function actionsIn(segment: readonly HistoryEvent[]): number {
  const tasksWithLocalActivities = new Set<number>();
  let task = 0;
  for (const e of segment) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) task = Number(e.eventId);
    else if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && activityName(e)) tasksWithLocalActivities.add(task);
  }
  return segment.filter(isAction).length + tasksWithLocalActivities.size;
}

async function countContinuedAsNew(client: Client, taskQueue: string): Promise<number> {
  let count = 0;
  for await (const _ of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'ContinuedAsNew'` })) count++;
  return count;
}

interface Snapshot {
  readonly atMs: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly serverCpuMs: number | null;
  readonly pg: Record<string, { xact: number; rows: number }>;
}

async function snapshot(stats: CycleStatsStore, databases: readonly string[]): Promise<Snapshot> {
  const activity = await stats.databaseActivity(databases);
  return {
    atMs: Date.now(),
    cpu: process.cpuUsage(),
    serverCpuMs: serverCpuMs(),
    pg: Object.fromEntries(Object.entries(activity).map(([name, a]) => [name, { xact: a.xactCommit, rows: a.rowsWritten }])),
  };
}

interface IdleRates {
  /** The server's CPU ms per second with no workflow running (shard upkeep); null when it is not ours. */
  readonly serverCpuMsPerS: number | null;
  readonly temporalXactPerS: number;
}

function idleRates(from: Snapshot, to: Snapshot, temporalDatabases: readonly string[]): IdleRates {
  const seconds = (to.atMs - from.atMs) / 1000;
  return {
    serverCpuMsPerS: from.serverCpuMs !== null && to.serverCpuMs !== null ? (to.serverCpuMs - from.serverCpuMs) / seconds : null,
    temporalXactPerS: xactDelta(from, to, temporalDatabases) / seconds,
  };
}

function xactDelta(from: Snapshot, to: Snapshot, databases: readonly string[]): number {
  return databases.reduce((sum, d) => sum + (to.pg[d]?.xact ?? 0) - (from.pg[d]?.xact ?? 0), 0);
}

/** CPU time (user + system) of the Temporal server this process started, from /proc; null when there is none. */
function serverCpuMs(): number | null {
  const tick = 100; // USER_HZ on Linux
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      if (Number(fields[1]) !== process.pid || !comm.startsWith('ballast-tempora')) continue;
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
    } catch {
      // a process that ended while we read
    }
  }
  return null;
}

function printRow(r: Row, opts: Settings): void {
  progress(
    `N=${r.n}: ${r.sustained.toFixed(2)} cycles/s of ${r.offered.toFixed(2)} offered; worker ${r.workerCpuMsPerCycle.toFixed(1)} CPU ms/cycle; ` +
      `latency p50 ${r.latencyP50Ms.toFixed(0)} ms p99 ${r.latencyP99Ms.toFixed(0)} ms; ${r.eventsPerCalmCycle.toFixed(1)} events ` +
      `${(r.bytesPerCalmCycle / 1024).toFixed(1)} KB per calm cycle (interval ${opts.intervalMs} ms)`,
  );
}

function printTable(rows: readonly Row[], opts: Settings): void {
  const f = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
  const tuning = Object.keys(opts.tuning).length > 0 ? JSON.stringify(opts.tuning) : 'SDK defaults';
  console.log(
    `capacity: one worker (${tuning}), interval ${opts.intervalMs} ms, window ${opts.windowS} s, histories of ${opts.sample} loops per N`,
  );
  const header = [
    'N',
    'offered c/s',
    'sustained c/s',
    'worker CPU ms/c',
    'server CPU ms/c',
    'RSS MB (per 100 loops)',
    'latency p50 / p99 ms',
    'events / calm c',
    'KB / calm c (payloads)',
    'actions / c',
    'CAN in window (cycles/run)',
    'PG xact/c ballast',
    'PG rows/c ballast',
    'PG xact/c temporal',
    'all first cycles done s after last start',
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---:').join('|')}|`);
  for (const r of rows) {
    console.log(
      `| ${[
        r.n,
        f(r.offered, 2),
        f(r.sustained, 2),
        f(r.workerCpuMsPerCycle),
        f(r.serverCpuMsPerCycle),
        `${f(r.rssMb, 0)} (${f(r.rssMbPer100Loops)})`,
        `${f(r.latencyP50Ms, 0)} / ${f(r.latencyP99Ms, 0)}`,
        `${f(r.eventsPerCalmCycle)} (${r.calmCycles})`,
        `${f(r.bytesPerCalmCycle / 1024, 2)} (${f(r.payloadBytesPerCalmCycle / 1024, 2)})`,
        f(r.actionsPerCycle),
        `${r.continuedAsNew} (${r.cyclesPerRun})`,
        f(r.pgXactPerCycle),
        f(r.pgRowsPerCycle),
        f(r.pgXactPerCycleTemporal),
        f(r.firstCycleS),
      ].join(' | ')} |`,
    );
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function silentBundler() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: (msg: string) => process.stderr.write(`${msg}\n`), log: noop };
}
