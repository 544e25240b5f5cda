/**
 * /metrics of a real gate process and a real worker process (`ballast gate`, `ballast worker`, spawned
 * from bin/ballast.js as an operator runs them), scraped over HTTP and parsed as Prometheus text. The
 * worker's stderr is checked to be one JSON log stream, the Temporal SDK's lines included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Client as TemporalClient } from '@temporalio/client';
import { type EvaluateTradeResponse } from '../../../grpc/generated/ballast/gate/v1/gate';
import { FeedStore } from '../../../db/stores/marketFeeds';
import { HANDLING_BUCKETS } from '../../../grpc/metrics';
import { DEMO_OMS_IDENTITY, ensureLocalPki } from '../../../infra/certs';
import { localGateClient } from '../../../processes/gateSecurity';
import { portfolioLoop } from '../../../workflows';
import { loopWorkflowId } from '../../../workflows/types';
import { buy, call, client, commitFixture, withPool } from '../grpc/helpers';
import { eventually, testClient, testEnv, uniqueId } from '../../support/env';
import { metricNames } from '../../support/promql';
import { type Scrape, scrape } from '../../support/promText';

const ROOT = join(__dirname, '..', '..', '..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

interface Spawned {
  readonly child: ChildProcess;
  readonly stderr: string[];
  readonly stdout: string[];
}

function ballast(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ballast.js'), ...args], {
    env: { ...process.env, BALLAST_LOG_FORMAT: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out: Spawned = { child, stderr: [], stdout: [] };
  createInterface({ input: child.stdout! }).on('line', (l) => out.stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => out.stderr.push(l));
  return out;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Label names any Ballast series may carry: bounded sets only (no order, client or instrument ids). */
const BALLAST_LABELS = new Set(['portfolio', 'rpc', 'decision', 'reason', 'state', 'queue', 'outcome', 'regime', 'le']);
const GRPC_LABELS = new Set(['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code', 'le']);

describe('gate /metrics', () => {
  it('exports gRPC server metrics under the go-grpc-prometheus names and the domain metrics, with bounded labels', async () => {
    const portfolioId = uniqueId('metrics-gate');
    const version = await withPool((_pool, store) => commitFixture(store, portfolioId));
    const certsDir = mkdtempSync(join(tmpdir(), 'ballast-metrics-pki-'));
    const gate = ballast(['gate', '--port', '0', '--metrics-port', '0'], {
      DATABASE_URL: testEnv().databaseUrl,
      BALLAST_CERTS_DIR: certsDir,
      BALLAST_DATA_DIR: mkdtempSync(join(tmpdir(), 'ballast-metrics-data-')),
    });
    const { address, metrics } = JSON.parse(await eventually(async () => gate.stdout[0], 30_000, 'the gate to listen')) as {
      address: string;
      metrics: string;
    };
    expect(metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    // The gate serves mTLS with the local CA it made on start: call as its demo OMS.
    const oms = localGateClient(ensureLocalPki({ dir: certsDir }), DEMO_OMS_IDENTITY, address);
    const c = client(oms.target, oms.credentials, oms.options);
    const approved = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order: buy(portfolioId) });
    expect(approved.reasons).toEqual([]);
    await call(c, 'evaluateTrade', { order: buy('no-such-portfolio-x1') });
    await expect(call(c, 'evaluateTrade', {})).rejects.toMatchObject({ code: 3 });
    c.close();

    // The audit rows are flushed every 50 ms; the flush histogram sees them.
    const s = await eventually(
      async () => {
        const got = await scrape(metrics);
        return got.samples('ballast_gate_flush_seconds_count', { queue: 'audit', outcome: 'ok' }).length > 0 ? got : undefined;
      },
      10_000,
      'an audit flush',
    );
    const method = { grpc_type: 'unary', grpc_service: 'ballast.gate.v1.GateService', grpc_method: 'EvaluateTrade' };
    expect(s.family('grpc_server_started_total').type).toBe('COUNTER');
    expect(s.value('grpc_server_started_total', method)).toBe(3);
    expect(s.value('grpc_server_handled_total', { ...method, grpc_code: 'OK' })).toBe(2);
    expect(s.value('grpc_server_handled_total', { ...method, grpc_code: 'InvalidArgument' })).toBe(1);
    expect(s.family('grpc_server_handling_seconds').type).toBe('HISTOGRAM');
    const buckets = s.samples('grpc_server_handling_seconds_bucket', method).map((b) => b.labels!.le);
    expect(buckets).toEqual([...HANDLING_BUCKETS.map(String), '+Inf']);
    expect(Number(buckets[0])).toBeLessThan(0.001); // sub-millisecond resolution
    expect(s.value('grpc_server_handling_seconds_count', method)).toBe(3);

    expect(s.value('ballast_gate_decisions_total', { portfolio: portfolioId, decision: 'APPROVE', reason: 'NONE' })).toBe(1);
    expect(s.value('ballast_gate_decisions_total', { portfolio: '(unknown)', decision: 'DENY', reason: 'UNKNOWN_PORTFOLIO' })).toBe(1);
    expect(s.text).not.toContain('no-such-portfolio-x1');
    expect(s.value('ballast_gate_budget_version', { portfolio: portfolioId })).toBe(version);
    expect(s.value('ballast_gate_budget_staleness_seconds', { portfolio: portfolioId })).toBeGreaterThanOrEqual(0);
    expect(s.value('ballast_gate_trading_state', { portfolio: portfolioId, state: 'ACTIVE' })).toBe(1);
    expect(s.value('ballast_gate_trading_state', { portfolio: portfolioId, state: 'HALTED' })).toBe(0);
    expect(s.value('ballast_gate_active_overrides', { portfolio: portfolioId })).toBe(0);
    expect(s.value('ballast_gate_reservations_open', { portfolio: portfolioId })).toBe(1);
    expect(s.value('ballast_gate_queue_depth', { queue: 'audit' })).toBeGreaterThanOrEqual(0);
    expect(s.value('ballast_gate_ready')).toBe(1);
    expectProcessMetrics(s);
    expect([...s.labelNames((n) => n.startsWith('ballast_'))].filter((l) => !BALLAST_LABELS.has(l))).toEqual([]);
    expect([...s.labelNames((n) => n.startsWith('grpc_'))].filter((l) => !GRPC_LABELS.has(l))).toEqual([]);

    expect((await fetch(metrics.replace('/metrics', '/'))).status).toBe(404);
    await stop(gate.child);
  }, 60_000);
});

describe('worker /metrics', () => {
  let temporal: { client: TemporalClient; close(): Promise<void> };
  beforeAll(async () => (temporal = await testClient()));
  afterAll(() => temporal?.close());

  it("exports the loop's metrics and the Temporal SDK's, and logs one JSON stream", async () => {
    const { databaseUrl, temporalAddress, bundlePath } = testEnv();
    const taskQueue = uniqueId('metrics-q');
    const portfolioId = uniqueId('metrics-loop');
    const worker = ballast(['worker', '--task-queue', taskQueue, '--metrics-port', '0', '--no-versioning'], {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      BALLAST_WORKFLOW_BUNDLE: bundlePath,
    });
    const ready = await eventually(async () => worker.stderr.find((l) => l.startsWith('[ballast] worker ready')), 60_000, 'the worker');
    const url = /metrics at (\S+)/.exec(ready)![1];

    await withPool((pool) =>
      new FeedStore(pool).ensureFeed({
        id: portfolioId,
        seed: 3,
        assets: ['EQ_US', 'EQ_EU', 'BOND', 'GOLD'],
        barMs: 500,
        historyBars: 300,
      }),
    );
    const handle = await temporal.client.workflow.start(portfolioLoop, {
      taskQueue,
      workflowId: loopWorkflowId(portfolioId),
      args: [{ portfolioId, marketData: { kind: 'synthetic', feedId: portfolioId }, monitoringIntervalMs: 500 }],
    });
    try {
      const s = await eventually(
        async () => {
          const got = await scrape(url);
          const cycles = got.samples('ballast_loop_cycle_seconds_count', { portfolio: portfolioId });
          // The SDK's metrics are forwarded in batches: wait for them too.
          const sdk = [...got.families.keys()].filter((n) => n.startsWith('temporal_activity_execution_latency'));
          return cycles.length === 1 && Number(cycles[0].value) >= 1 && sdk.length > 0 ? got : undefined;
        },
        60_000,
        'a completed cycle and the Temporal SDK metrics',
      );
      expect(s.value('ballast_loop_budget_version', { portfolio: portfolioId })).toBeGreaterThanOrEqual(1);
      expect(s.value('ballast_loop_heartbeat_age_seconds', { portfolio: portfolioId })).toBeLessThan(60);
      expect(s.samples('ballast_loop_regime', { portfolio: portfolioId }).map((m) => Number(m.value))).toEqual([1]);
      expect(s.value('ballast_approvals_pending', { portfolio: portfolioId })).toBe(0);
      expect(s.value('ballast_loop_cycle_seconds_sum', { portfolio: portfolioId })).toBeGreaterThan(0);
      // The Temporal SDK's own metrics, through the same endpoint.
      const temporalFamilies = [...s.families.keys()].filter((n) => n.startsWith('temporal_'));
      expect(temporalFamilies.length).toBeGreaterThan(5);
      expect(temporalFamilies).toEqual(
        expect.arrayContaining(['temporal_workflow_task_execution_latency', 'temporal_activity_execution_latency']),
      );
      expect(s.samples('temporal_activity_execution_latency_count', { task_queue: taskQueue }).length).toBeGreaterThan(0);
      expectProcessMetrics(s);
      expect([...s.labelNames((n) => n.startsWith('ballast_'))].filter((l) => !BALLAST_LABELS.has(l))).toEqual([]);
      // The dashboard's Temporal panels read series a real worker exports.
      const missing = dashboardTemporalSeries().filter((name) => !hasSeries(s, name));
      expect(missing).toEqual([]);
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
    await stop(worker.child);

    // One stream: every line on stderr but the readiness line is a JSON log record, Temporal's included.
    const logLines = worker.stderr.filter((l) => !l.startsWith('[ballast]'));
    const records = logLines.map((l) => JSON.parse(l) as { component?: string; msg?: string });
    expect(records.length).toBeGreaterThan(0);
    expect(records.some((r) => r.component === 'temporal')).toBe(true);
  }, 120_000);
});

function dashboardTemporalSeries(): string[] {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'ballast.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const names = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
  return [...new Set(names)].filter((n) => n.startsWith('temporal_'));
}

function hasSeries(s: Scrape, name: string): boolean {
  try {
    return s.samples(name).length > 0;
  } catch {
    return false;
  }
}

function expectProcessMetrics(s: Scrape): void {
  expect(s.family('process_cpu_user_seconds_total').type).toBe('COUNTER');
  expect(s.family('nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
  expect(s.family('process_resident_memory_bytes').type).toBe('GAUGE');
}
