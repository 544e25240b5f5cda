/**
 * The gate's Prometheus metrics, behind the small `GateObserver` interface `serveGate` is given.
 *
 * - gRPC server metrics under the go-grpc-prometheus names, from a grpc-js server interceptor, so every
 *   dashboard and alert written for Go services works unchanged: `grpc_server_started_total`,
 *   `grpc_server_handled_total{grpc_code}`, `grpc_server_handling_seconds` (sub-millisecond buckets:
 *   the gate answers in tens of microseconds).
 * - Domain metrics: decisions counted as they are queued for the audit trail (one wrapper around the
 *   queue, no code in the decision path), audit/fill flush times around the batch writes, and gauges
 *   read from the in-memory core only when Prometheus scrapes (budget version and staleness, trading
 *   state, active overrides, open reservations, queue depths).
 *
 * Label sets are bounded: gRPC labels come from the registered methods only; `portfolio` only ever
 * names a portfolio the gate knows (an order for an unknown id counts under `(unknown)`); `reason` and
 * `decision` are closed unions. No order, client, instrument or asset ids.
 */
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DecisionRecord } from '../db/stores/gateDecisions';
import { type HistogramCounts, type Labels, emptyHistogram, histogramSamples, observe, registerCollected } from '../lib/promCollector';
import { TRADING_STATES } from '../risk/kinds';
import type { Reason } from '../risk/pretrade/reasons';
import type { GateCore, RecordQueue } from './gate';

/** What `serveGate` hands the observer once it is built, read at scrape time. */
export interface GateView {
  readonly core: GateCore;
  readonly queues: Readonly<Record<QueueName, { readonly pending: number }>>;
  /** True once every budget has been loaded (the gate serves trades). */
  readonly ready: () => boolean;
}

export type QueueName = 'audit' | 'fills';

/** How the gate is observed; `serveGate` wires each hook in one line. */
export interface GateObserver {
  /** Server interceptors (grpc-js `interceptors` server option). */
  readonly interceptors: grpc.ServerInterceptor[];
  /** The audit queue, wrapped so that every decision recorded is also counted. */
  countDecisions(queue: RecordQueue<DecisionRecord>): RecordQueue<DecisionRecord>;
  /** A batch write, wrapped so its duration and outcome are recorded. */
  timeFlush<T>(queue: QueueName, write: (rows: readonly T[]) => Promise<void>): (rows: readonly T[]) => Promise<void>;
  /** Starts reading the gate's state at scrape time. */
  watch(view: GateView): void;
  /** An approval took a limit past the warning level (once per crossing). */
  limitWarning(portfolioId: string, reason: Reason): void;
}

/** Seconds. The gate's decisions take tens of µs; control RPCs that reach Temporal take ms to s. */
export const HANDLING_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const FLUSH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const UNKNOWN_PORTFOLIO = '(unknown)';

/** The status names go-grpc-prometheus uses for `grpc_code` (Go's codes.Code.String()), by code. */
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

interface MethodStats {
  readonly labels: Labels;
  started: number;
  /** Completed calls by status code. */
  readonly handled: number[];
  readonly handling: HistogramCounts;
}

export function gateMetrics(registry: Registry): GateObserver {
  // The gRPC series are plain numbers per method, updated on the request path without prom-client
  // (whose label hashing costs microseconds per call) and serialized only when Prometheus scrapes.
  const methods = new Map<string, MethodStats>();
  const statsFor = (method: { path: string; requestStream: boolean; responseStream: boolean }): MethodStats => {
    let s = methods.get(method.path);
    if (!s) {
      const [service, name] = splitPath(method.path);
      s = {
        labels: { grpc_type: rpcType(method), grpc_service: service, grpc_method: name },
        started: 0,
        handled: new Array<number>(CODE_NAMES.length).fill(0),
        handling: emptyHistogram(HANDLING_BUCKETS),
      };
      methods.set(method.path, s);
    }
    return s;
  };
  registerCollected(registry, 'grpc_server_started_total', 'Total number of RPCs started on the server.', 'counter', () =>
    [...methods.values()].map((m) => ({ labels: m.labels, value: m.started })),
  );
  registerCollected(
    registry,
    'grpc_server_handled_total',
    'Total number of RPCs completed on the server, regardless of success or failure.',
    'counter',
    () =>
      [...methods.values()].flatMap((m) =>
        m.handled.flatMap((n, code) => (n > 0 ? [{ labels: { ...m.labels, grpc_code: CODE_NAMES[code] }, value: n }] : [])),
      ),
  );
  registerCollected(
    registry,
    'grpc_server_handling_seconds',
    'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    'histogram',
    () => [...methods.values()].flatMap((m) => histogramSamples('grpc_server_handling_seconds', m.labels, HANDLING_BUCKETS, m.handling)),
  );

  const flushSeconds = new Histogram({
    name: 'ballast_gate_flush_seconds',
    help: 'Duration of one batch write of the audit trail or the fills to Postgres, by queue and outcome.',
    labelNames: ['queue', 'outcome'] as const,
    buckets: FLUSH_BUCKETS,
    registers: [registry],
  });
  const flushedRows = new Counter({
    name: 'ballast_gate_flushed_rows_total',
    help: 'Rows written to Postgres by the batch writers, by queue.',
    labelNames: ['queue'] as const,
    registers: [registry],
  });

  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const s = statsFor(method);
    let startNs = 0n;
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      s.handled[code >= 0 && code < CODE_NAMES.length ? code : grpc.status.UNKNOWN]++;
      observe(s.handling, HANDLING_BUCKETS, Number(process.hrtime.bigint() - startNs) / 1e9);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        startNs = process.hrtime.bigint();
        s.started++;
        // A call the client cancels never sends a status: count it as go-grpc-prometheus does.
        next({ onCancel: () => finish(grpc.status.CANCELLED) });
      },
      sendStatus: (status, next) => {
        finish(status.code);
        next(status);
      },
    });
  };

  // Decisions are counted on the request path in nested maps (no key strings to build and hash per
  // call) and serialized when Prometheus scrapes.
  const decisionSeries: { readonly labels: Labels; n: number }[] = [];
  const decisionIndex: Index<Index<Index<Index<{ n: number }>>>> = new Map();
  const countDecision = (r: DecisionRecord): void => {
    const reason = r.reasons[0] ?? 'NONE';
    const portfolio = reason === 'UNKNOWN_PORTFOLIO' ? UNKNOWN_PORTFOLIO : r.portfolioId;
    const byReason = child(child(child(decisionIndex, portfolio), r.rpc), r.decision);
    const series = byReason.get(reason);
    if (series) {
      series.n++;
      return;
    }
    const created = { labels: { portfolio, rpc: r.rpc, decision: r.decision, reason }, n: 1 };
    byReason.set(reason, created);
    decisionSeries.push(created);
  };
  registerCollected(
    registry,
    'ballast_gate_decisions_total',
    'Decisions recorded by the gate, by portfolio, RPC, decision (APPROVE, DENY, SIZE) and primary reason (the first in check order; NONE for a clean approval).',
    'counter',
    () => decisionSeries.map((d) => ({ labels: d.labels, value: d.n })),
  );

  const limitWarnings = new Counter({
    name: 'ballast_gate_limit_warnings_total',
    help: 'Limits an approved order took to or past the warning level (default 80 %), once per crossing, by portfolio and limit reason.',
    labelNames: ['portfolio', 'reason'] as const,
    registers: [registry],
  });

  return {
    interceptors: [interceptor],
    limitWarning: (portfolio, reason) => limitWarnings.inc({ portfolio, reason }),
    countDecisions: (queue) => ({
      push(record) {
        countDecision(record);
        return queue.push(record);
      },
    }),
    timeFlush: (queue, write) => async (rows) => {
      const end = flushSeconds.startTimer({ queue });
      try {
        await write(rows);
        end({ outcome: 'ok' });
        flushedRows.inc({ queue }, rows.length);
      } catch (err) {
        end({ outcome: 'error' });
        throw err;
      }
    },
    watch: (view) => registerGauges(registry, view),
  };
}

/** Gauges computed from the gate's memory when Prometheus scrapes; nothing runs between scrapes. */
function registerGauges(registry: Registry, view: GateView): void {
  const { core } = view;
  const perPortfolio = (name: string, help: string, value: (id: string, now: number) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['portfolio'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = core.options.clock();
        for (const id of core.portfolioIds) this.set({ portfolio: id }, value(id, now));
      },
    });
  };
  new Gauge({
    name: 'ballast_gate_ready',
    help: '1 once every budget has been loaded and the gate decides trades, else 0.',
    registers: [registry],
    collect() {
      this.set(view.ready() ? 1 : 0);
    },
  });
  perPortfolio('ballast_gate_budget_version', 'The budget version the gate enforces.', (id) => core.snapshot(id)!.version);
  perPortfolio(
    'ballast_gate_budget_committed_timestamp_seconds',
    'When the budget the gate enforces was committed (Unix seconds).',
    (id) => core.snapshot(id)!.committedAtMs / 1000,
  );
  perPortfolio(
    'ballast_gate_budget_staleness_seconds',
    "Seconds since the enforced budget was last confirmed (its commit or the control loop's last completed cycle); the gate reduces, then halts, past its thresholds.",
    (id, now) => (now - core.snapshot(id)!.confirmedAtMs) / 1000,
  );
  perPortfolio('ballast_gate_active_overrides', 'Limit overrides in force (not yet expired) in the enforced snapshot.', (id, now) => {
    let n = 0;
    for (const o of core.snapshot(id)!.overrides.values()) if (now < o.expiresAtMs) n++;
    return n;
  });
  perPortfolio(
    'ballast_gate_reservations_open',
    'Approved orders whose exposure is reserved until a fill or cancel report.',
    (id) => core.book(id).openReservations,
  );
  new Gauge({
    name: 'ballast_gate_trading_state',
    help: 'The effective trading state per portfolio (1 for the state in force, 0 for the others): the stored state, made stricter by budget staleness.',
    labelNames: ['portfolio', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const id of core.portfolioIds) {
        const current = core.tradingState(id);
        for (const state of TRADING_STATES) this.set({ portfolio: id, state }, state === current ? 1 : 0);
      }
    },
  });
  perPortfolio(
    'ballast_gate_limits_in_warning',
    'Limits at or past the warning level as last seen by an approval (alerted, not yet back below).',
    (id) => core.warnings.inWarning(id),
  );
  new Gauge({
    name: 'ballast_gate_queue_depth',
    help: 'Rows queued in memory for Postgres, by queue (audit: decisions; fills). Trade RPCs are refused when the audit queue is full.',
    labelNames: ['queue'] as const,
    registers: [registry],
    collect() {
      for (const [queue, q] of Object.entries(view.queues)) this.set({ queue }, q.pending);
    },
  });
}

type Index<T> = Map<string, T>;

/** The map under `key`, created on first use. */
function child<T>(index: Index<Index<T>>, key: string): Index<T> {
  let next = index.get(key);
  if (!next) index.set(key, (next = new Map()));
  return next;
}

function splitPath(path: string): [service: string, method: string] {
  const slash = path.lastIndexOf('/');
  return [path.slice(1, slash), path.slice(slash + 1)];
}

function rpcType(m: { requestStream: boolean; responseStream: boolean }): string {
  if (m.requestStream) return m.responseStream ? 'bidi_stream' : 'client_stream';
  return m.responseStream ? 'server_stream' : 'unary';
}

/** A gate that is not observed: every hook is the identity. */
export const UNOBSERVED: GateObserver = {
  interceptors: [],
  countDecisions: (queue) => queue,
  timeFlush: (_queue, write) => write,
  watch: () => undefined,
  limitWarning: () => undefined,
};
