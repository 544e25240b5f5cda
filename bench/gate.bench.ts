/**
 * Gate latency and throughput against a same-run baseline: an empty grpc-js unary handler serving the
 * same service definition and the same response message (an APPROVE), versus the real gate fed a budget
 * built by risk/engine from real S&P 500 prices. Server and load client run in separate processes
 * (child_process.fork) so they never share an event loop. Every round runs every kind, each round
 * starting one kind later, to spread machine noise and order effects; the table reports every round and the ratios of medians across rounds.
 *
 * GATE_BENCH_BASE=<root of another built checkout> (e.g. a worktree of main after `npm run build`):
 * its gate runs as a fourth server in every round ("base"), so a change's before/after ratios to the
 * empty handler come from one run under the same machine load.
 *
 * Then: audit loss on a crash, measured by SIGKILLing a gate under load, restarting it on its data dir
 * (spool replay) and comparing the decisions clients received with the rows in gate_decisions.
 *
 * Goal (issue 13): gate median ≤ 1.1× baseline, throughput ≥ 0.9× baseline (issue 5 asked 1.2× / 0.8×); p99 reported.
 *
 * GATE_BENCH_PIN=0/1: load clients on CPU 0, servers (and their threads) on CPU 1, through taskset, so
 * the load generator does not compete with the server it measures; Postgres stays unpinned.
 *
 * GATE_BENCH_TLS=1: both servers serve mTLS with a local CA (infra/certs.ts) and the client presents a
 * certificate, as every shipped start mode does (the gate with its access policy).
 *
 * Issue 11 §4: collecting metrics must not slow the gate, so each round also runs the gate with its
 * Prometheus metrics on (interceptor, decision counts, flush timing, and a full scrape every second,
 * more often than Prometheus would), and the table reports both ratios and metrics-on / metrics-off.
 *
 * Issue 13 §6: EvaluateTradeStream vs unary EvaluateTrade, each on one connection to the same real gate,
 * alternating in the same run (goal: stream throughput ≥ 5× unary), p50/p99 per order.
 *
 * GATE_BENCH_PARTS=stream (comma list of unary, cpu, core, metrics, audit, stream; default all) runs a part alone.
 *
 * Issue 13 §1: the cost of gate HA (docs/gate-ha.md) against a single gate, same run, alternating
 * rounds: the owner replica called directly (every answer waits for its fenced Postgres commit), and
 * a non-owner that forwards to the owner. Target: HA ≤ 1.2× the single gate's median latency.
 * GATE_BENCH_HA_ONLY=1 (or GATE_BENCH_PARTS=ha) runs only that part; GATE_BENCH_HA_ROUNDS sets its rounds (default 2).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { BudgetStore } from '../db/stores/budgets';
import { dropDatabase } from '../db/migrate';
import { scratchDatabase } from './scratchDatabase';
import { createPool } from '../db/pool';
import {
  Decision,
  type EvaluateTradeResponse,
  type EvaluateTradeBatchStreamRequest,
  type EvaluateTradeBatchStreamResponse,
  type EvaluateTradeStreamRequest,
  type EvaluateTradeStreamResponse,
  GateServiceService,
  type Order,
  type ReasonCode,
  RiskFigures,
  Side,
  TradingState,
} from '../grpc/generated/ballast/gate/v1/gate';
import { type LoadOptions, type LoadReport, runLoad, runStreamLoad } from '../grpc/load';
import { GateCore } from '../grpc/gate';
import { gateMetrics } from '../grpc/metrics';
import { startGate } from '../processes/gate';
import { DEMO_OMS_IDENTITY, type LocalPki, ensureLocalPki } from '../infra/certs';
import { processRegistry } from '../processes/metricsEndpoint';
import { buildSnapshot } from '../risk/pretrade/snapshot';
import { sharedDataFile } from '../lib/paths';
import { readPriceFile } from '../market/csvPrices';
import type { RiskBudget } from '../risk/budget';
import { defaultRiskConfig } from '../risk/config';
import { buildBudgetWithModel } from '../risk/engine';
import type { RiskModel } from '../risk/riskModel';
import { RiskModelStore } from '../db/stores/riskModels';
import { sliceTable } from '../risk/timeseries';
import { type CpuPerCall, cpuLine, cpuWindow, processCpuAvailable } from './processCpu';

const ROUNDS = Number(process.env.GATE_BENCH_ROUNDS ?? 3);
const HA_ONLY = process.env.GATE_BENCH_HA_ONLY === '1';
const HA_ROUNDS = Number(process.env.GATE_BENCH_HA_ROUNDS ?? 2);
const DURATION_MS = Number(process.env.GATE_BENCH_DURATION_MS ?? 4_000);
const WARMUP_MS = Number(process.env.GATE_BENCH_WARMUP_MS ?? 1_500);
const CONCURRENCY = 32;
const PORTFOLIO = 'bench-gate';
/** The same budget without its risk model (no VOL_LIMIT / RISK_BUDGET checks): issue 15's "the ratio does not move". */
const PORTFOLIO_NO_RISK = 'bench-gate-no-risk';
/** mTLS on both servers (forked children inherit the variable and the CA directory). */
const TLS = process.env.GATE_BENCH_TLS === '1';
const benchPki = (): LocalPki => {
  process.env.GATE_BENCH_CERTS ??= mkdtempSync(join(tmpdir(), 'ballast-bench-pki-'));
  return ensureLocalPki({ dir: process.env.GATE_BENCH_CERTS });
};

type Role = 'empty' | 'gate' | 'norisk' | 'metrics' | 'base' | 'ha' | 'load' | 'stream';
type ServerKind = Exclude<Role, 'load' | 'ha' | 'stream'>;
const PARTS = new Set((process.env.GATE_BENCH_PARTS ?? 'unary,cpu,core,metrics,audit,stream,ha').split(','));
const STREAM_ROUNDS = Number(process.env.GATE_BENCH_STREAM_ROUNDS ?? 2);
/** Orders the streaming client keeps unanswered (the gate's own bound per stream is 1 000). */
const STREAM_WINDOW = Number(process.env.GATE_BENCH_STREAM_WINDOW ?? 500);
/** Orders per message on EvaluateTradeBatchStream (the `batched` kinds of the stream part). */
const STREAM_BATCH = Number(process.env.GATE_BENCH_STREAM_BATCH ?? 100);
const BASE = process.env.GATE_BENCH_BASE;
/** GATE_BENCH_KINDS=empty,gate,base: only these servers in the unary rounds (an A/B run with more, shorter rounds). */
const SERVER_KINDS: readonly ServerKind[] = (['empty', 'gate', 'norisk', 'metrics', ...(BASE ? (['base'] as const) : [])] as const).filter(
  (k) => process.env.GATE_BENCH_KINDS?.split(',').includes(k) ?? true,
);
interface ServerReady {
  address: string;
}
/** A load client's warm-up is over: what it measures from now on counts. */
interface Recording {
  recording: true;
}
/** A server's CPU since it was ready, and its spool's group commits (a real gate with a data dir). */
interface ServerCpu {
  cpuUs: number;
  spoolSyncs?: DurableWrites;
  fencedCommits?: DurableWrites;
}
/** Group commits: the spool's durable writes (single gate) or the fenced Postgres commits (HA). */
interface DurableWrites {
  groups: number;
  records: number;
  totalUs: number;
}

export async function run(): Promise<void> {
  if (TLS) console.log(`  mTLS on both servers (certificates in ${benchPki().dir})`);
  const databaseUrl = await scratchDatabase('gate');
  try {
    const { budget, riskModel } = await commitRealBudget(databaseUrl);
    const pair = budget.assets.find((a) => a.maxPositionNotional > 0 && a.referencePrice > 0)!;
    const order = {
      portfolioId: PORTFOLIO,
      strategy: pair.strategy,
      instrument: pair.asset,
      side: Side.SIDE_BUY,
      price: pair.referencePrice,
      quantity: pair.maxPositionNotional / pair.referencePrice / 1e7,
    };
    emptyAnswerRisk = answeredRiskFigures(budget, riskModel, order);
    console.log(
      `gate: ${CONCURRENCY} concurrent EvaluateTrade calls, ${DURATION_MS / 1000}s per round after ${WARMUP_MS / 1000}s warm-up, ${ROUNDS} rounds`,
    );
    console.log(
      `  budget: ${budget.assets.length} pairs, regime ${budget.regime}, order ${order.strategy}/${order.instrument} @ ${order.price.toFixed(2)}`,
    );
    if (HA_ONLY) {
      await measureHaCost(databaseUrl, order);
      return;
    }
    const reports: Record<ServerKind, Measured[]> = { empty: [], gate: [], norisk: [], metrics: [], base: [] };
    for (let round = 1; PARTS.has('unary') && round <= ROUNDS; round++) {
      // Each round starts one kind later: a kind's place in the round (after which server, how much of
      // gate_decisions already written) is spread over every kind instead of always the same.
      for (const kind of rotated(SERVER_KINDS, round - 1)) {
        const r = await measure(kind, databaseUrl, { concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS, order });
        reports[kind].push(r);
        console.log(`  round ${round} ${kind.padEnd(7)} ${line(r)}`);
      }
    }
    if (PARTS.has('unary') && ROUNDS > 0) printRatios(reports);
    if (PARTS.has('cpu')) await measureServerCpu(databaseUrl, { concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: 0, order });
    if (PARTS.has('core')) measureCore(budget, riskModel, order);
    if (PARTS.has('metrics')) await measureMetricsCost(budget, order);
    if (PARTS.has('audit')) await measureAuditLoss(databaseUrl, order);
    if (PARTS.has('stream')) await measureStreaming(databaseUrl, order);
    if (PARTS.has('ha')) await measureHaCost(databaseUrl, order);
  } finally {
    await dropDatabase(databaseUrl).catch(() => undefined);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

const rotated = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

/** The median of a round's figures (the lower middle one for an even count). */
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** A kind's median latency (p50, p99) and throughput over its rounds. */
const medians = (rs: readonly LoadReport[]): { p50: number; p99: number; tput: number } => ({
  p50: median(rs.map((r) => r.latencyUs.p50)),
  p99: median(rs.map((r) => r.latencyUs.p99)),
  tput: median(rs.map((r) => r.throughputPerSec)),
});

/**
 * Median across rounds of each figure, then each kind / baseline (metrics off and on, no risk model,
 * base checkout); and the paired form: each round's ratio to that round's empty handler, median over
 * rounds, which cancels the machine's drift between rounds (its speed moved by 1.3× within minutes).
 */
function printRatios(reports: Record<ServerKind, Measured[]>): void {
  const agg = (k: ServerKind) => medians(reports[k]);
  const labels: Record<ServerKind, string> = {
    empty: 'baseline (empty handler)',
    gate: 'gate, metrics off',
    norisk: 'gate, no risk model',
    metrics: 'gate, metrics on',
    base: `base gate (${BASE})`,
  };
  const kinds = SERVER_KINDS.filter((k) => reports[k].length > 0);
  for (const k of kinds) {
    const x = agg(k);
    console.log(`  ${`${labels[k]}:`.padEnd(26)} median ${x.p50} µs, p99 ${x.p99} µs, ${x.tput} req/s`);
    const cpu = medianCpu(reports[k]);
    if (cpu) console.log(`  ${''.padEnd(26)} ${cpuLine(cpu)} (medians over rounds)`);
  }
  if (!kinds.includes('empty')) return;
  const e = agg('empty');
  for (const k of kinds.filter((k) => k !== 'empty')) {
    const x = agg(k);
    const paired = (f: (r: LoadReport) => number) => median(reports[k].map((r, i) => f(r) / f(reports.empty[i])));
    console.log(
      `  ratio ${labels[k]} / baseline: median ${(x.p50 / e.p50).toFixed(2)}× (goal ≤ 1.1, issue 13), p99 ${(x.p99 / e.p99).toFixed(2)}×, throughput ${(x.tput / e.tput).toFixed(2)}× (goal ≥ 0.9); paired by round: median ${paired((r) => r.latencyUs.p50).toFixed(2)}×, throughput ${paired((r) => r.throughputPerSec).toFixed(2)}×`,
    );
  }
  const pair = (a: ServerKind, b: ServerKind, what: string): void => {
    if (!kinds.includes(a) || !kinds.includes(b)) return;
    const [x, y] = [agg(a), agg(b)];
    console.log(
      `  ${what}: median ${(x.p50 / y.p50).toFixed(3)}×, p99 ${(x.p99 / y.p99).toFixed(3)}×, throughput ${(x.tput / y.tput).toFixed(3)}×`,
    );
  };
  pair('metrics', 'gate', 'metrics on / off');
  pair('gate', 'norisk', 'risk checks on / off (issue 15: the ratio must not move)');
}

function line(r: Measured): string {
  const errors = Object.entries(r.errors)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${String(r.throughputPerSec).padStart(6)} req/s  p50 ${r.latencyUs.p50} µs  p90 ${r.latencyUs.p90} µs  p99 ${r.latencyUs.p99} µs  max ${r.latencyUs.max} µs${errors ? `  errors ${errors}` : ''}${r.cpu ? `  ${cpuLine(r.cpu)}` : ''}`;
}

/** Each CPU figure's median over the rounds (undefined where /proc is not there). */
function medianCpu(rs: readonly Measured[]): CpuPerCall | undefined {
  const cpus = rs.map((r) => r.cpu).filter((c): c is CpuPerCall => c !== undefined);
  if (cpus.length === 0) return undefined;
  const of = (f: (c: CpuPerCall) => number): number => median(cpus.map(f));
  return {
    serverUs: of((c) => c.serverUs),
    othersUs: cpus.every((c) => c.othersUs !== undefined) ? of((c) => c.othersUs!) : undefined,
    clientUs: of((c) => c.clientUs),
    postgresUs: of((c) => c.postgresUs),
    machineIdle: of((c) => c.machineIdle),
    clientBusy: of((c) => c.clientBusy),
  };
}

type LoadSpec = Pick<LoadOptions, 'concurrency' | 'durationMs' | 'warmupMs' | 'order'>;

async function measure(kind: ServerKind, databaseUrl: string, spec: LoadSpec): Promise<Measured> {
  const server = spawn(kind, { databaseUrl, dataDir: newDataDir() });
  try {
    const { address } = await message<ServerReady>(server);
    return await loadFrom(address, specFor(kind, spec), server.pid);
  } finally {
    await stop(server, 'SIGTERM');
  }
}

/** The 'norisk' gate is the real gate, sent orders of the portfolio whose budget has no risk model. */
const specFor = (kind: ServerKind, spec: LoadSpec): LoadSpec =>
  kind === 'norisk' ? { ...spec, order: { ...spec.order, portfolioId: PORTFOLIO_NO_RISK } } : spec;

/**
 * One connection each: unary EvaluateTrade with CONCURRENCY calls in flight, then EvaluateTradeStream
 * and EvaluateTradeBatchStream (STREAM_BATCH orders a message) with STREAM_WINDOW orders in flight,
 * alternating, each against a fresh real gate (its own data dir and replica name, so no round inherits
 * another's working orders). Every answer waits for its fdatasync.
 */
type StreamKind = 'unary' | 'stream' | 'batched' | 'empty' | 'empty batched' | 'base';
const streamServer = (kind: StreamKind): ServerKind =>
  kind === 'empty' || kind === 'empty batched' ? 'empty' : kind === 'base' ? 'base' : 'gate';
const batchOf = (kind: StreamKind): number | undefined => (kind === 'batched' || kind === 'empty batched' ? STREAM_BATCH : undefined);

async function measureStreaming(databaseUrl: string, order: LoadSpec['order']): Promise<void> {
  console.log(
    `stream vs unary, one connection each, ${DURATION_MS / 1000}s after ${WARMUP_MS / 1000}s warm-up, ${STREAM_ROUNDS} rounds: unary ${CONCURRENCY} in flight, streams ${STREAM_WINDOW} in flight (batched: ${STREAM_BATCH} orders a message)`,
  );
  const spec = { concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS, order };
  // `empty`: the empty handler's stream (each order answered at once): what gRPC alone costs per streamed order.
  // `base`: the GATE_BENCH_BASE checkout's gate, streamed the same way (a change's before/after in one run).
  const runs: Record<StreamKind, Measured[]> = { unary: [], stream: [], batched: [], empty: [], 'empty batched': [], base: [] };
  const kinds: StreamKind[] = ['unary', 'stream', 'batched', 'empty', 'empty batched', ...(BASE ? (['base'] as const) : [])];
  for (let round = 1; round <= STREAM_ROUNDS; round++) {
    for (const kind of kinds) {
      const server = spawn(streamServer(kind), { databaseUrl, dataDir: newDataDir() });
      try {
        const { address } = await message<ServerReady>(server);
        const client = kind === 'unary' ? 'load' : 'stream';
        runs[kind].push(await runClient(client, { ...spec, target: address, batch: batchOf(kind) }, server.pid));
        server.send('cpu');
        const { spoolSyncs } = await message<ServerCpu>(server);
        console.log(`  round ${round} ${kind.padEnd(13)} ${line(runs[kind][runs[kind].length - 1])}${groupLine(spoolSyncs)}`);
      } finally {
        await stop(server, 'SIGTERM');
      }
    }
  }
  const [u, st, batched, empty, emptyBatched] = [runs.unary, runs.stream, runs.batched, runs.empty, runs['empty batched']].map(medians);
  console.log(`  unary:  ${u.tput} req/s, median ${u.p50} µs, p99 ${u.p99} µs`);
  console.log(`  stream: ${st.tput} orders/s, median ${st.p50} µs, p99 ${st.p99} µs (per order, write to answer)`);
  console.log(
    `  empty handler's stream: ${empty.tput} orders/s, median ${empty.p50} µs, p99 ${empty.p99} µs; the gate's stream runs at ${((st.tput / empty.tput) * 100).toFixed(0)} % of it`,
  );
  if (BASE) {
    const base = median(runs.base.map((r) => r.throughputPerSec));
    const paired = median(runs.stream.map((r, i) => r.throughputPerSec / runs.base[i].throughputPerSec));
    console.log(
      `  base gate's stream: ${base} orders/s; this gate / base ${(st.tput / base).toFixed(2)}× (paired by round ${paired.toFixed(2)}×)`,
    );
  }
  console.log(`  batched stream: ${batched.tput} orders/s, median ${batched.p50} µs, p99 ${batched.p99} µs (per order, write to answer)`);
  console.log(
    `  empty handler's batched stream: ${emptyBatched.tput} orders/s, median ${emptyBatched.p50} µs, p99 ${emptyBatched.p99} µs; the gate's batched stream runs at ${((batched.tput / emptyBatched.tput) * 100).toFixed(0)} % of it`,
  );
  const paired = (of: Measured[]): string => median(of.map((r, i) => r.throughputPerSec / runs.unary[i].throughputPerSec)).toFixed(2);
  for (const kind of kinds) {
    const cpu = medianCpu(runs[kind]);
    if (cpu) console.log(`  ${kind.padEnd(13)}  ${cpuLine(cpu)} (per ${kind === 'unary' ? 'call' : 'order'}, medians)`);
  }
  console.log(
    `  stream / unary throughput on one connection: ${(st.tput / u.tput).toFixed(2)}× (goal ≥ 5); paired by round ${paired(runs.stream)}×`,
  );
  console.log(
    `  batched stream / unary throughput on one connection: ${(batched.tput / u.tput).toFixed(2)}× (goal ≥ 5); paired by round ${paired(runs.batched)}×`,
  );
}

/**
 * Server CPU per call (user + system of the server process, from ready to the end of a load without
 * warm-up, over every request): CPU time, unlike latency, hardly depends on what else the machine runs.
 */
async function measureServerCpu(databaseUrl: string, spec: LoadSpec): Promise<void> {
  const samples: Partial<Record<ServerKind, number[]>> = {};
  // Every kind twice, in order and then in reverse, averaged: a kind's place in the pass (after which
  // server, how much of gate_decisions is already written) moved the figures by tens of µs.
  for (const [pass, kinds] of [SERVER_KINDS, [...SERVER_KINDS].reverse()].entries()) {
    for (const kind of kinds) {
      const server = spawn(kind, { databaseUrl, dataDir: newDataDir() });
      try {
        const { address } = await message<ServerReady>(server);
        const report = await loadFrom(address, specFor(kind, spec));
        server.send('cpu');
        const { cpuUs, spoolSyncs } = await message<ServerCpu>(server);
        (samples[kind] ??= []).push(cpuUs / Math.max(1, report.requests));
        if (spoolSyncs && kind === 'gate' && pass === 0) {
          const perGroup = spoolSyncs.records / Math.max(1, spoolSyncs.groups);
          const us = spoolSyncs.totalUs / Math.max(1, spoolSyncs.groups);
          console.log(
            `  gate spool: ${spoolSyncs.groups} durable writes, ${perGroup.toFixed(1)} records each, ${us.toFixed(0)} µs per write (mean)`,
          );
        }
      } finally {
        await stop(server, 'SIGTERM');
      }
    }
  }
  const perCall: Partial<Record<ServerKind, number>> = {};
  for (const [kind, xs] of Object.entries(samples) as Array<[ServerKind, number[]]>)
    perCall[kind] = xs.reduce((a, b) => a + b, 0) / xs.length;
  const [e, g, m] = (['empty', 'gate', 'metrics'] as const).map((k) => perCall[k]!);
  console.log(
    `  server CPU per call (${spec.durationMs / 1000} s load, no warm-up, mean of a forward and a reverse pass): empty ${e.toFixed(1)} µs, gate ${g.toFixed(1)} µs, gate with metrics ${m.toFixed(1)} µs; ` +
      `gate/empty ${(g / e).toFixed(2)}× off, ${(m / e).toFixed(2)}× on; metrics add ${(m - g).toFixed(1)} µs (${(((m - g) / g) * 100).toFixed(1)} %)` +
      `; no risk model ${perCall.norisk!.toFixed(1)} µs (risk checks add ${(g - perCall.norisk!).toFixed(1)} µs)` +
      (perCall.base === undefined ? '' : `; base gate ${perCall.base.toFixed(1)} µs (${(perCall.base / e).toFixed(2)}×)`),
  );
}

/** A gate's durable writes since it was ready: how long each took and how many records it carried. */
const groupLine = (w: DurableWrites | undefined): string =>
  w && w.groups > 0
    ? `  ${(w.totalUs / w.groups / 1000).toFixed(2)} ms per group of ${(w.records / w.groups).toFixed(1)} (${w.groups} groups)`
    : '';

/** A load report, with where the CPU went while it recorded when the server's process is known (Linux). */
type Measured = LoadReport & { readonly cpu?: CpuPerCall };

const loadFrom = (address: string, spec: LoadSpec, serverPid?: number): Promise<Measured> =>
  runClient('load', { ...spec, target: address }, serverPid);

/**
 * Runs a load client child to its report. The child says when its warm-up ends (`recording`); the CPU
 * of the server, the client and Postgres is read then and at the report, over the same window.
 */
async function runClient(
  role: 'load' | 'stream',
  arg: LoadSpec & Record<string, unknown>,
  serverPid?: number,
  otherPids: readonly number[] = [],
): Promise<Measured> {
  const client = spawn(role, arg);
  try {
    let window: ReturnType<typeof cpuWindow> | undefined;
    const report = await new Promise<LoadReport>((resolve, reject) => {
      client.on('message', (m: LoadReport | Recording) => {
        if (!('recording' in m)) resolve(m);
        else if (serverPid !== undefined && client.pid !== undefined && processCpuAvailable())
          window = cpuWindow(serverPid, client.pid, otherPids);
      });
      client.once('exit', (code) => reject(new Error(`bench load client exited (${code}) before reporting`)));
    });
    return { ...report, cpu: window?.end(report.requests, report.durationMs) };
  } finally {
    await stop(client, 'SIGTERM');
  }
}

/** A decision core in this process holding the bench's budget, with its risk model or without it. */
function benchCore(budget: RiskBudget, riskModel: RiskModel, withRisk: boolean): GateCore {
  const core = new GateCore({
    policy: { staleReduceAfterMs: 86_400_000 * 365, staleHaltAfterMs: 86_400_000 * 366, restrictedInstruments: new Set() },
    clock: Date.now,
    reservationTtlMs: 60_000,
    idMemoryMs: 86_400_000,
  });
  const b = withRisk ? budget : { ...budget, riskLimits: undefined };
  const stored = { portfolioId: PORTFOLIO, version: 1, committedAt: new Date().toISOString(), budget: b };
  core.install(buildSnapshot(stored, 'ACTIVE', [], undefined, withRisk ? riskModel : undefined));
  return core;
}

/**
 * The risk figures the gate answers the bench's order with (proto bytes, base64): the empty handler
 * answers with them too, so both servers send the same message and the ratio counts the gate's work,
 * not the size of its answer.
 */
function answeredRiskFigures(budget: RiskBudget, riskModel: RiskModel, order: LoadSpec['order']): string {
  const side = order.side === Side.SIDE_BUY ? 'BUY' : 'SELL';
  const r = benchCore(budget, riskModel, true).evaluate({ ...order, side, clientOrderId: 'figures' }, 'bench', process.hrtime.bigint());
  if (!r.approved || !r.risk) throw new Error('the bench order must be approved with risk figures');
  return Buffer.from(RiskFigures.encode(r.risk).finish()).toString('base64');
}

/** The decision itself, in-process (no gRPC, no audit I/O): what the gate adds to a call. */
function measureCore(budget: RiskBudget, riskModel: RiskModel, order: LoadSpec['order']): void {
  const side = order.side === Side.SIDE_BUY ? 'BUY' : 'SELL';
  const n = 100_000;
  const orders = Array.from({ length: n }, (_, i) => ({ ...order, side, clientOrderId: `core-${i}` }) as const);
  // With the budget's risk model and without it (the same budget, no riskLimits), alternating, the fastest of 3 each.
  const time = (withRisk: boolean): { evaluate: number; size: number } => {
    const core = benchCore(budget, riskModel, withRisk);
    const t0 = process.hrtime.bigint();
    for (const o of orders) core.evaluate(o, 'bench', t0);
    const t1 = process.hrtime.bigint();
    for (const o of orders) core.size(o, 'bench', t1);
    const t2 = process.hrtime.bigint();
    return { evaluate: Number(t1 - t0) / n / 1000, size: Number(t2 - t1) / n / 1000 };
  };
  const runs = { on: [] as Array<{ evaluate: number; size: number }>, off: [] as Array<{ evaluate: number; size: number }> };
  for (let round = 0; round < 3; round++) for (const k of ['off', 'on'] as const) runs[k].push(time(k === 'on'));
  const best = (k: 'on' | 'off', f: 'evaluate' | 'size'): number => Math.min(...runs[k].map((r) => r[f]));
  console.log(
    `  decision core in-process (${n} orders, no gRPC, no audit, fastest of 3): EvaluateTrade ${best('on', 'evaluate').toFixed(2)} µs/call ` +
      `(${best('off', 'evaluate').toFixed(2)} without the risk model), SizePosition ${best('on', 'size').toFixed(2)} µs/call (${best('off', 'size').toFixed(2)})`,
  );
}

/**
 * What metrics add to one call, in-process and without gRPC, so that the figure does not depend on
 * how busy the machine is: the decision core with and without the decision counter, and the server
 * interceptor's bookkeeping (start, status, histogram) driven through a stand-in call.
 */
async function measureMetricsCost(budget: RiskBudget, order: LoadSpec['order']): Promise<void> {
  const n = 200_000;
  const side = order.side === Side.SIDE_BUY ? 'BUY' : 'SELL';
  const timeCore = (observer: ReturnType<typeof gateMetrics> | undefined): number => {
    const sink = { push: (): Promise<void> => Promise.resolve() };
    const core = new GateCore({
      policy: { staleReduceAfterMs: 86_400_000 * 365, staleHaltAfterMs: 86_400_000 * 366, restrictedInstruments: new Set() },
      clock: Date.now,
      reservationTtlMs: 60_000,
      idMemoryMs: 86_400_000,
      audit: observer ? observer.countDecisions(sink) : sink,
    });
    core.install(buildSnapshot({ portfolioId: PORTFOLIO, version: 1, committedAt: new Date().toISOString(), budget }, 'ACTIVE', []));
    // Sized so every order is denied after the first few (POSITION_LIMIT): no reservations pile up.
    const orders = Array.from({ length: n }, (_, i) => ({ ...order, side, clientOrderId: `m-${i}` }) as const);
    const t0 = process.hrtime.bigint();
    for (const o of orders) core.evaluate(o, 'bench', t0);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  const plain = Math.min(timeCore(undefined), timeCore(undefined));
  const counted = Math.min(timeCore(gateMetrics(processRegistry())), timeCore(gateMetrics(processRegistry())));

  const observer = gateMetrics(processRegistry());
  const method = { path: '/ballast.gate.v1.GateService/EvaluateTrade', requestStream: false, responseStream: false };
  const noop = (): void => undefined;
  const call = {
    start: noop,
    sendStatus: noop,
    sendMetadata: noop,
    sendMessage: noop,
    startRead: noop,
  } as unknown as Parameters<grpc.ServerInterceptor>[1];
  const listener = { onReceiveMetadata: noop, onReceiveMessage: noop, onReceiveHalfClose: noop, onCancel: noop };
  const [interceptor] = observer.interceptors;
  const timeInterceptor = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const intercepted = interceptor(method as Parameters<grpc.ServerInterceptor>[0], call);
      intercepted.start(listener);
      intercepted.sendStatus({ code: grpc.status.OK, details: '' });
    }
    return Number(process.hrtime.bigint() - t0) / n;
  };
  timeInterceptor(); // warm-up
  const intercepting = timeInterceptor();
  const scrapeMs = await timeScrape(budget);
  console.log(
    `  metrics cost in-process (${n} calls): decision core ${(plain / 1000).toFixed(2)} µs/call without, ${(counted / 1000).toFixed(2)} µs/call with the decision counter; ` +
      `server interceptor (started, handled, handling histogram) ${(intercepting / 1000).toFixed(2)} µs/call; ` +
      `one full scrape (process metrics, gRPC series of 8 methods, a portfolio's gauges) ${scrapeMs.toFixed(2)} ms CPU`,
  );
}

/** CPU milliseconds of one scrape of a gate's registry, median of 100. */
async function timeScrape(budget: RiskBudget): Promise<number> {
  const registry = processRegistry();
  const observer = gateMetrics(registry);
  const core = new GateCore({
    policy: { staleReduceAfterMs: 86_400_000, staleHaltAfterMs: 86_400_000 * 3, restrictedInstruments: new Set() },
    clock: Date.now,
    reservationTtlMs: 60_000,
    idMemoryMs: 86_400_000,
  });
  core.install(buildSnapshot({ portfolioId: PORTFOLIO, version: 1, committedAt: new Date().toISOString(), budget }, 'ACTIVE', []));
  observer.watch({ core, queues: { audit: { pending: 0 }, fills: { pending: 0 } }, ready: () => true });
  const [interceptor] = observer.interceptors;
  const noop = (): void => undefined;
  const call = { start: noop, sendStatus: noop } as unknown as Parameters<grpc.ServerInterceptor>[1];
  for (const name of [
    'EvaluateTrade',
    'SizePosition',
    'ReportFill',
    'GetCurrentBudget',
    'GetUtilization',
    'GetRecommendations',
    'TriggerRebalance',
    'OverrideLimit',
  ]) {
    const method = { path: `/ballast.gate.v1.GateService/${name}`, requestStream: false, responseStream: false };
    const c = interceptor(method as Parameters<grpc.ServerInterceptor>[0], call);
    c.start({ onReceiveMetadata: noop, onReceiveMessage: noop, onReceiveHalfClose: noop, onCancel: noop });
    c.sendStatus({ code: grpc.status.OK, details: '' });
  }
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const c0 = process.cpuUsage();
    // No I/O inside: the awaits are microtasks, so the CPU measured is the scrape's own.
    await registry.metrics();
    const used = process.cpuUsage(c0);
    times.push((used.user + used.system) / 1000);
  }
  return [...times].sort((a, b) => a - b)[50];
}

/**
 * Crash-loss measurement: load a gate, SIGKILL it mid-run, count the decisions clients received and
 * the audit rows in Postgres at the kill, then restart the gate on the same data dir (it replays its
 * spool before serving) and count again: every decision a client received must be there, once.
 */
async function measureAuditLoss(databaseUrl: string, order: LoadSpec['order']): Promise<void> {
  const replicaId = `bench-crash-${process.pid}`;
  const dataDir = newDataDir();
  const count = async (): Promise<{ rows: number; distinct: number }> => {
    const pool = createPool(databaseUrl, 1);
    try {
      const { rows } = await pool.query<{ n: string; d: string }>(
        'SELECT count(*) AS n, count(DISTINCT decision_id) AS d FROM gate_decisions WHERE replica = $1',
        [replicaId],
      );
      return { rows: Number(rows[0].n), distinct: Number(rows[0].d) };
    } finally {
      await pool.end();
    }
  };
  const server = spawn('gate', { databaseUrl, replicaId, dataDir });
  const { address } = await message<ServerReady>(server);
  const load = loadFrom(address, { concurrency: CONCURRENCY, durationMs: 8_000, warmupMs: 0, order });
  // Kill once the load is under way (rows reach Postgres), however long the load client takes to start.
  for (let waited = 0; (await count()).rows === 0 && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 1_000));
  await stop(server, 'SIGKILL');
  const report = await load;
  const received = (report.decisions.APPROVE ?? 0) + (report.decisions.DENY ?? 0);
  const atKill = await count();
  const restarted = spawn('gate', { databaseUrl, replicaId, dataDir });
  await message<ServerReady>(restarted);
  const afterReplay = await count();
  await stop(restarted, 'SIGTERM');
  console.log(
    `  audit on SIGKILL (spool): ${received} decisions received by clients; ${atKill.rows} rows in Postgres at the kill, ` +
      `${afterReplay.rows} after restart and replay (${afterReplay.distinct} distinct ids): ${Math.max(0, received - afterReplay.rows)} lost`,
  );
}

/**
 * Gate HA against a single gate, alternating per round: the single gate; one HA replica called
 * directly (it owns the portfolio: each answer waits for its fenced Postgres commit instead of the
 * spool's fdatasync); two HA replicas with the load on the non-owner (one forwarding hop more).
 */
async function measureHaCost(databaseUrl: string, order: LoadSpec['order']): Promise<void> {
  const spec: LoadSpec = { concurrency: CONCURRENCY, durationMs: 3_000, warmupMs: 1_000, order };
  // 'ha routed': the load client is given the non-owner only, routes to the owner learned from the first answer.
  const kinds = ['single', 'ha owner', 'ha forwarded', 'ha routed'] as const;
  const reports: Record<(typeof kinds)[number], Measured[]> = { single: [], 'ha owner': [], 'ha forwarded': [], 'ha routed': [] };
  console.log(`gate HA cost: ${CONCURRENCY} concurrent EvaluateTrade calls, ${spec.durationMs / 1000}s per run, ${HA_ROUNDS} rounds`);
  for (let round = 1; round <= HA_ROUNDS; round++) {
    // Each round starts one kind later, as the unary part does: in a fixed order the routed kind always
    // ran last, right after the forwarded one, so any drift or teardown effect landed on it alone.
    for (const kind of rotated(kinds, round - 1)) {
      await withoutEarlierDecisions(databaseUrl);
      const servers =
        kind === 'single' ? [spawn('gate', { databaseUrl, dataDir: newDataDir() })] : [spawn('ha', { databaseUrl, dataDir: newDataDir() })];
      try {
        let { address } = await message<ServerReady>(servers[0]);
        if (kind === 'ha forwarded' || kind === 'ha routed') {
          // The first replica owns the portfolio; the load goes to a second one, which forwards.
          servers.push(spawn('ha', { databaseUrl, dataDir: newDataDir() }));
          ({ address } = await message<ServerReady>(servers[1]));
        }
        // The CPU figures name one server: only where that one answers every call (a routed client's
        // calls go to the owner after the first; the other replica's CPU is shown beside it).
        const measured = kind === 'ha forwarded' ? undefined : servers[0].pid;
        const others = kind === 'ha routed' ? [servers[1].pid!] : [];
        const r = await runClient('load', { ...spec, target: address, routeToOwner: kind === 'ha routed' }, measured, others);
        reports[kind].push(r);
        // What the owner's answers waited for: its spool's durable writes, or its fenced Postgres commits.
        servers[0].send('cpu');
        const { spoolSyncs, fencedCommits } = await message<ServerCpu>(servers[0]);
        console.log(`  round ${round} ${kind.padEnd(12)} ${line(r)}${groupLine(kind === 'single' ? spoolSyncs : fencedCommits)}`);
      } finally {
        for (const s of servers.reverse()) await stop(s, 'SIGTERM');
      }
    }
  }
  // A round whose calls failed measured something else (its latencies are of the few that succeeded).
  const isClean = (r: Measured): boolean => Object.keys(r.errors).length === 0;
  const clean = (k: (typeof kinds)[number]): Measured[] => reports[k].filter(isClean);
  const agg = (k: (typeof kinds)[number]) => medians(clean(k));
  const single = agg('single');
  for (const kind of kinds.slice(1)) {
    const x = agg(kind);
    const failed = reports[kind].length - clean(kind).length;
    // Each round's ratio to that round's single gate (rounds where both answered cleanly), median over
    // rounds: on a host whose speed drifts between rounds it moves less than the ratio of medians.
    const rounds = reports[kind].flatMap((r, i) => (isClean(r) && isClean(reports.single[i]) ? [[r, reports.single[i]] as const] : []));
    const paired = (f: (r: Measured) => number): string => median(rounds.map(([r, s]) => f(r) / f(s))).toFixed(2);
    console.log(
      `  ratio ${kind}/single: median ${(x.p50 / single.p50).toFixed(2)}× (target ≤ 1.2), p99 ${(x.p99 / single.p99).toFixed(2)}×, ` +
        `throughput ${(x.tput / single.tput).toFixed(2)}×; paired by round: median ${paired((r) => r.latencyUs.p50)}×, ` +
        `throughput ${paired((r) => r.throughputPerSec)}×${failed > 0 ? ` (${failed} round(s) with failed calls left out)` : ''}`,
    );
  }
}

/**
 * Empties the scratch database's audit before an HA kind starts. An HA owner rebuilds the working
 * orders of every replica that ever decided its portfolio (docs/gate-ha.md), and the bench's orders are
 * never filled: after the unary part it adopted 100 000+ working orders (1.1–1.3 s, and the portfolio at
 * its RESERVATION_CAP, every order denied) while a single gate's fresh replica rebuilt none. Each kind
 * now starts as the single gate does, from nothing.
 */
async function withoutEarlierDecisions(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl, 1);
  try {
    await pool.query('TRUNCATE gate_decisions, gate_fills');
  } finally {
    await pool.end();
  }
}

/** Data dirs of this run's gates, removed when the run ends. */
const dataDirs: string[] = [];
const newDataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-bench-gate-'));
  dataDirs.push(dir);
  return dir;
};

/**
 * GATE_BENCH_LOG_LEVEL=warn: the gates' log level (default error), e.g. to see why an HA route was unavailable.
 * GATE_BENCH_KINDS=empty,gate,base, GATE_BENCH_DURATION_MS, GATE_BENCH_WARMUP_MS: fewer kinds, shorter rounds, for
 * A/B runs with many rounds; the ratios are also printed paired by round (each round's ratio to its own empty handler).
 * Every load also prints the CPU per call of the server, the client and Postgres, and the machine's idle share
 * (bench/processCpu.ts): what bounds the loop.
 * GATE_BENCH_PROFILE=<dir>: every child (servers and load clients) writes a V8 CPU profile there (node
 * --cpu-prof) when it stops. GATE_BENCH_NODE_ARGS="--trace-deopt …": more Node flags for every child.
 */
const profileArgs = (role: Role): string[] => [
  ...(process.env.GATE_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []),
  ...(process.env.GATE_BENCH_PROFILE
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${process.env.GATE_BENCH_PROFILE}`,
        `--cpu-prof-name=${role.replace(/ /g, '-')}-${Date.now()}.cpuprofile`,
      ]
    : []),
];

/** What the empty handler answers with: the gate's risk figures for the bench's order (set once the budget is committed). */
let emptyAnswerRisk: string | undefined;

/** GATE_BENCH_PIN=<client cpus>/<server cpus> (e.g. 0/1): load clients and servers on cores of their own (taskset). */
const PIN = ((pin) => {
  if (pin === undefined) return undefined;
  const parts = pin.split('/');
  if (parts.length !== 2 || !parts.every((cpus) => /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpus))) {
    throw new Error(`GATE_BENCH_PIN=${pin}: expected <client cpus>/<server cpus> as taskset lists them, e.g. 0/1 or 0-1/2-3`);
  }
  return parts;
})(process.env.GATE_BENCH_PIN);
const pinnedCpus = (role: Role): string | undefined => (PIN ? (role === 'load' || role === 'stream' ? PIN[0] : PIN[1]) : undefined);

function spawn(role: Role, arg: Record<string, unknown>): ChildProcess {
  // The base checkout's own bench file, as its real gate (same arguments: both read them the same way).
  const [file, as] = role === 'base' ? [join(BASE!, 'dist', 'bench', 'gate.bench.js'), 'gate'] : [__filename, role];
  const args = role === 'empty' ? { ...arg, risk: emptyAnswerRisk } : arg;
  const cpus = pinnedCpus(role);
  const options = cpus
    ? { execPath: 'taskset', execArgv: ['-c', cpus, process.execPath, ...profileArgs(role)] }
    : { execArgv: profileArgs(role) };
  return fork(file, [as, JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...options });
}

function message<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`bench child exited (${code}) before reporting`)));
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** The budget and its risk model, both stored as the loop stores them (the gate runs the risk checks too). */
async function commitRealBudget(databaseUrl: string): Promise<{ budget: RiskBudget; riskModel: RiskModel }> {
  const prices = readPriceFile(sharedDataFile('skfolio', 'sp500_dataset.csv.gz'));
  const config = defaultRiskConfig();
  const window = sliceTable(prices, { start: '2021-06-01', end: '2022-12-31' });
  const { budget, riskModel } = buildBudgetWithModel({
    portfolioId: PORTFOLIO,
    asOf: window.dates[window.dates.length - 1],
    prices: window,
    regime: config.regimes[0].name,
    config,
  });
  const pool = createPool(databaseUrl, 1);
  try {
    const store = new BudgetStore(pool);
    await store.ensurePortfolio(PORTFOLIO);
    await new RiskModelStore(pool).put(riskModel);
    await store.commitBudget(`bench-${Date.now()}`, budget);
    await store.ensurePortfolio(PORTFOLIO_NO_RISK);
    await store.commitBudget(`bench-no-risk-${Date.now()}`, { ...budget, portfolioId: PORTFOLIO_NO_RISK, riskLimits: undefined });
  } finally {
    await pool.end();
  }
  return { budget, riskModel };
}

/** Child roles: a server (empty baseline or real gate) that reports its address, or a load client. */
async function child(role: Role, arg: Record<string, unknown>): Promise<void> {
  if (role === 'load' || role === 'stream') {
    const pki = TLS ? benchPki() : undefined;
    const oms = pki?.clients[DEMO_OMS_IDENTITY];
    const credentials =
      pki && oms ? grpc.credentials.createSsl(readFileSync(pki.caFile), readFileSync(oms.keyFile), readFileSync(oms.certFile)) : undefined;
    // The parent reads the CPU counters from here on (runClient).
    setTimeout(() => process.send!({ recording: true } satisfies Recording), (arg as unknown as LoadSpec).warmupMs);
    if (role === 'stream') {
      const spec = arg as unknown as LoadSpec & { target: string; batch?: number };
      process.send!(await runStreamLoad({ ...spec, inFlight: STREAM_WINDOW, deadlineMs: 5_000, credentials }));
      return;
    }
    process.send!(
      await runLoad({
        ...(arg as unknown as LoadSpec & { target: string }),
        mix: { evaluate: 1 },
        connections: 1,
        deadlineMs: 5_000,
        credentials,
      }),
    );
    return;
  }
  const gate = role === 'empty' ? undefined : await startRealGate(arg, role === 'metrics', role === 'ha');
  const address = gate?.address ?? (await startEmptyServer(arg.risk as string | undefined));
  const ready = process.cpuUsage();
  process.on('message', (m) => {
    if (m !== 'cpu') return;
    const used = process.cpuUsage(ready);
    const stats = gate?.stats();
    process.send!({
      cpuUs: used.user + used.system,
      spoolSyncs: stats?.spoolSyncs,
      fencedCommits: stats?.fencedCommits,
    } satisfies ServerCpu);
  });
  process.send!({ address } satisfies ServerReady);
}

async function startRealGate(
  arg: Record<string, unknown>,
  withMetrics = false,
  ha = false,
): Promise<Awaited<ReturnType<typeof startGate>>> {
  const registry = withMetrics ? processRegistry() : undefined;
  // A full scrape every second (Prometheus' default is every 15 s): its cost is part of the figure.
  if (registry) setInterval(() => void registry.metrics(), 1_000).unref();
  const gate = await startGate({
    observer: registry ? gateMetrics(registry) : undefined,
    databaseUrl: arg.databaseUrl as string,
    port: 0,
    logger: pino({ level: process.env.GATE_BENCH_LOG_LEVEL ?? 'error' }, pino.destination(2)),
    replicaId: arg.replicaId as string | undefined,
    dataDir: arg.dataDir as string,
    auditFlushIntervalMs: arg.auditFlushIntervalMs as number | undefined,
    ...(TLS && serverTls()),
    ha: ha ? { leaseTtlMs: 5_000, peerClient: peerClient(), peerIdentities: [DEMO_OMS_IDENTITY] } : undefined,
  });
  process.once('SIGTERM', () => void gate.close().then(() => process.exit(0)));
  return gate;
}

/** Same service, same response message as an approving gate (`risk`: its risk figures, base64 proto); no work at all. */
async function startEmptyServer(risk: string | undefined): Promise<string> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  // Typed as the response so a field added to the proto must be added here (a missing repeated field fails to encode).
  const approve: EvaluateTradeResponse = {
    decision: Decision.DECISION_APPROVE,
    reasons: [] as ReasonCode[],
    detail: '',
    budgetVersion: 1,
    tradingState: TradingState.TRADING_STATE_ACTIVE,
    explanations: [],
    replayed: false,
    warnings: [],
    risk: risk === undefined ? undefined : RiskFigures.decode(Buffer.from(risk, 'base64')),
  };
  const unimplemented: grpc.handleUnaryCall<unknown, never> = (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED });
  /** One stream's answers: each order approved, numbered in the order they came. */
  const approving = (): ((order: Order | undefined) => EvaluateTradeStreamResponse) => {
    let sequence = 0;
    return (order) => ({
      sequence: ++sequence,
      portfolioId: order?.portfolioId ?? '',
      clientOrderId: order?.clientOrderId ?? '',
      result: { $case: 'decision', value: approve },
    });
  };
  server.addService(GateServiceService, {
    evaluateTrade: (_call: unknown, cb: grpc.sendUnaryData<typeof approve>) => cb(null, approve),
    sizePosition: unimplemented,
    reportFill: unimplemented,
    getCurrentBudget: unimplemented,
    getUtilization: unimplemented,
    getRecommendations: unimplemented,
    triggerRebalance: unimplemented,
    overrideLimit: unimplemented,
    // Each order answered at once with the same APPROVE: the streaming path's transport floor.
    evaluateTradeStream: (call: grpc.ServerDuplexStream<EvaluateTradeStreamRequest, EvaluateTradeStreamResponse>) => {
      const answer = approving();
      call.on('data', (m: EvaluateTradeStreamRequest) => call.write(answer(m.order)));
      call.on('end', () => call.end());
    },
    // Each batch answered at once with as many APPROVEs, in one message: the batched path's transport floor.
    evaluateTradeBatchStream: (call: grpc.ServerDuplexStream<EvaluateTradeBatchStreamRequest, EvaluateTradeBatchStreamResponse>) => {
      const answer = approving();
      call.on('data', (m: EvaluateTradeBatchStreamRequest) => call.write({ answers: m.orders.map(answer) }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', emptyServerCredentials(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
  return `127.0.0.1:${port}`;
}

function serverTls(): Pick<Parameters<typeof startGate>[0], 'tls' | 'access'> {
  const pki = benchPki();
  return {
    tls: { cert: readFileSync(pki.server.certFile), key: readFileSync(pki.server.keyFile), clientCa: readFileSync(pki.caFile) },
    access: { [DEMO_OMS_IDENTITY]: { portfolios: ['*'], strategies: ['*'] } },
  };
}

/** How an HA replica forwards: as the bench's client identity under mTLS, else plaintext on loopback. */
function peerClient(): { credentials: grpc.ChannelCredentials; options?: grpc.ClientOptions } {
  if (!TLS) return { credentials: grpc.credentials.createInsecure() };
  const pki = benchPki();
  const oms = pki.clients[DEMO_OMS_IDENTITY];
  return {
    credentials: grpc.credentials.createSsl(readFileSync(pki.caFile), readFileSync(oms.keyFile), readFileSync(oms.certFile)),
    options: { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
  };
}

function emptyServerCredentials(): grpc.ServerCredentials {
  if (!TLS) return grpc.ServerCredentials.createInsecure();
  const { tls } = serverTls();
  return grpc.ServerCredentials.createSsl(
    Buffer.from(tls!.clientCa!),
    [{ cert_chain: Buffer.from(tls!.cert), private_key: Buffer.from(tls!.key) }],
    true,
  );
}

if (require.main === module) {
  const [role, arg] = process.argv.slice(2);
  const main = role ? child(role as Role, JSON.parse(arg ?? '{}') as Record<string, unknown>) : run();
  main.catch((err: Error) => {
    process.stderr.write(`gate bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
