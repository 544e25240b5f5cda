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
import { TRADING_STATES } from '../risk/kinds';
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
}

/** Seconds. The gate's decisions take tens of µs; control RPCs that reach Temporal take ms to s. */
export const HANDLING_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const FLUSH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const UNKNOWN_PORTFOLIO = '(unknown)';

/** The status names go-grpc-prometheus uses for `grpc_code` (Go's codes.Code.String()). */
const CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'OK',
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

interface MethodSeries {
  readonly started: { inc(): void };
  readonly handling: { observe(seconds: number): void };
  readonly handled: (code: number) => void;
}

export function gateMetrics(registry: Registry): GateObserver {
  const started = new Counter({
    name: 'grpc_server_started_total',
    help: 'Total number of RPCs started on the server.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method'] as const,
    registers: [registry],
  });
  const handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [registry],
  });
  const handling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method'] as const,
    buckets: HANDLING_BUCKETS,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'ballast_gate_decisions_total',
    help: 'Decisions recorded by the gate, by portfolio, RPC, decision (APPROVE, DENY, SIZE) and primary reason (the first in check order; NONE for a clean approval).',
    labelNames: ['portfolio', 'rpc', 'decision', 'reason'] as const,
    registers: [registry],
    // Counted in a plain map on the request path; moved over when Prometheus scrapes.
    collect: () => syncDecisions(),
  });
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

  // One set of children per method path, resolved once: the per-call cost is a few property reads.
  const series = new Map<string, MethodSeries>();
  const seriesFor = (method: grpc.ServerMethodDefinition<unknown, unknown>): MethodSeries => {
    let s = series.get(method.path);
    if (!s) {
      const [service, name] = splitPath(method.path);
      const labels = { grpc_type: rpcType(method), grpc_service: service, grpc_method: name };
      const byCode = new Map<number, { inc(): void }>();
      s = {
        started: started.labels(labels),
        handling: handling.labels(labels),
        handled: (code) => {
          let c = byCode.get(code);
          if (!c) byCode.set(code, (c = handled.labels({ ...labels, grpc_code: CODE_NAMES[code] ?? 'Unknown' })));
          c.inc();
        },
      };
      series.set(method.path, s);
    }
    return s;
  };

  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const s = seriesFor(method as grpc.ServerMethodDefinition<unknown, unknown>);
    let startNs = 0n;
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      s.handled(code);
      s.handling.observe(Number(process.hrtime.bigint() - startNs) / 1e9);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        startNs = process.hrtime.bigint();
        s.started.inc();
        // A call the client cancels never sends a status: count it as go-grpc-prometheus does.
        next({ onCancel: () => finish(grpc.status.CANCELLED) });
      },
      sendStatus: (status, next) => {
        finish(status.code);
        next(status);
      },
    });
  };

  // Decisions are counted in plain maps on the request path and handed to prom-client at scrape time.
  const decisionCounts = new Map<string, { labels: Record<'portfolio' | 'rpc' | 'decision' | 'reason', string>; n: number }>();
  const countDecision = (r: DecisionRecord): void => {
    const reason = r.reasons[0] ?? 'NONE';
    const portfolio = reason === 'UNKNOWN_PORTFOLIO' ? UNKNOWN_PORTFOLIO : r.portfolioId;
    const key = `${portfolio}\u0000${r.rpc}\u0000${r.decision}\u0000${reason}`;
    const entry = decisionCounts.get(key);
    if (entry) entry.n++;
    else decisionCounts.set(key, { labels: { portfolio, rpc: r.rpc, decision: r.decision, reason }, n: 1 });
  };
  let flushedDecisions = new Map<string, number>();
  const syncDecisions = (): void => {
    const seen = new Map<string, number>();
    for (const [key, { labels, n }] of decisionCounts) {
      const delta = n - (flushedDecisions.get(key) ?? 0);
      if (delta > 0) decisions.inc(labels, delta);
      seen.set(key, n);
    }
    flushedDecisions = seen;
  };

  return {
    interceptors: [interceptor],
    countDecisions: (queue) => ({
      push(record) {
        countDecision(record);
        queue.push(record);
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
};
