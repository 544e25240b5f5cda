/**
 * The worker's domain metrics for /metrics:
 *
 * - per portfolio, read from Postgres when Prometheus scrapes (one query shared by every gauge of that
 *   scrape): loop heartbeat age, latest budget version, declared regime, pending approvals and how long
 *   the oldest has waited. Every worker reports the same values (they are the database's), so rules
 *   aggregate them with `max by (portfolio)`.
 * - cycle duration, measured around the loop's activities on this worker: from the start of a cycle's
 *   first activity (`checkCycle`) to the end of its last (`recordCalmCycle` or `heartbeat`, run only
 *   by a cycle that completed). A cycle whose first and last activities ran on different workers is not observed.
 *
 * Labels: `portfolio` (registered portfolios) and `regime` (the regimes of the risk config); nothing else.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { LoopMetricsRow } from '../db/stores/loopMetrics';

export interface LoopMetricsReader {
  read(): Promise<LoopMetricsRow[]>;
}

/**
 * Activities that open and close a loop cycle (workflows/portfolioLoop.ts runCycle): checkCycle opens
 * one (observeMarket in runs from before the calm path), recordCalmCycle or heartbeat closes it. The
 * calm path's are local activities, which run through the same interceptors.
 */
const CYCLE_FIRST_ACTIVITIES = new Set(['checkCycle', 'observeMarket']);
const CYCLE_LAST_ACTIVITIES = new Set(['recordCalmCycle', 'heartbeat']);
/** A cycle start older than this is not this cycle's (its end ran elsewhere, or it failed). */
const MAX_CYCLE_MS = 15 * 60_000;
const CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface WorkerMetrics {
  /** Worker `interceptors.activity` entry that times cycles. */
  readonly cycleTimer: ActivityInterceptorsFactory;
}

export function workerMetrics(registry: Registry, reader: LoopMetricsReader): WorkerMetrics {
  // The gauges of one scrape collect together (synchronously, in turn): they share the read in flight.
  let inFlight: Promise<LoopMetricsRow[]> | undefined;
  const rows = (): Promise<LoopMetricsRow[]> =>
    (inFlight ??= reader.read().finally(() => {
      inFlight = undefined;
    }));
  const perPortfolio = (name: string, help: string, value: (r: LoopMetricsRow) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['portfolio'] as const,
      registers: [registry],
      async collect() {
        const read = await rows();
        this.reset();
        for (const r of read) {
          const v = value(r);
          if (v !== null) this.set({ portfolio: r.portfolioId }, v);
        }
      },
    });
  };
  perPortfolio(
    'ballast_loop_heartbeat_age_seconds',
    'Seconds since the control loop last completed a cycle (absent before its first).',
    (r) => r.heartbeatAgeSeconds,
  );
  perPortfolio('ballast_loop_budget_version', 'The latest committed budget version.', (r) => r.budgetVersion);
  perPortfolio('ballast_approvals_pending', 'Recommendations waiting for an approver.', (r) => r.pendingApprovals);
  perPortfolio(
    'ballast_approvals_oldest_pending_age_seconds',
    'Seconds the oldest pending recommendation has waited (absent when none waits).',
    (r) => r.oldestPendingAgeSeconds,
  );
  new Gauge({
    name: 'ballast_loop_regime',
    help: 'The regime the control loop last declared (1 on the current regime).',
    labelNames: ['portfolio', 'regime'] as const,
    registers: [registry],
    async collect() {
      const read = await rows();
      this.reset();
      for (const r of read) if (r.regime !== null) this.set({ portfolio: r.portfolioId, regime: r.regime }, 1);
    },
  });

  const cycleSeconds = new Histogram({
    name: 'ballast_loop_cycle_seconds',
    help: 'Duration of a completed control loop cycle: observe the market, read the regime, compute and assess the budget, respond, record.',
    labelNames: ['portfolio'] as const,
    buckets: CYCLE_BUCKETS,
    registers: [registry],
  });
  const cycleStarts = new Map<string, number>();
  const cycleTimer: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const { activityType, workflowExecution } = ctx.info;
        const workflowId = workflowExecution?.workflowId;
        if (workflowId && CYCLE_FIRST_ACTIVITIES.has(activityType)) cycleStarts.set(workflowId, Date.now());
        const result = await next(input);
        if (workflowId && CYCLE_LAST_ACTIVITIES.has(activityType)) {
          const startedAt = cycleStarts.get(workflowId);
          cycleStarts.delete(workflowId);
          const elapsed = startedAt === undefined ? Infinity : Date.now() - startedAt;
          if (elapsed <= MAX_CYCLE_MS) cycleSeconds.observe({ portfolio: portfolioOf(input.args[0]) }, elapsed / 1000);
        }
        return result;
      },
    },
  });
  return { cycleTimer };
}

/** heartbeat takes the portfolio id; recordCalmCycle a record naming it. */
function portfolioOf(arg: unknown): string {
  return typeof arg === 'object' && arg !== null && 'portfolioId' in arg ? String(arg.portfolioId) : String(arg);
}
