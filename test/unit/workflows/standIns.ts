/**
 * The workflows under test with stand-in activities: an in-memory world implementing the contract
 * (workflows/contract.ts), a local Temporal dev server from @temporalio/testing (the time-skipping
 * test server is a download this machine cannot make, so timers are real and kept short as inputs),
 * and one worker per test file whose activities act on the world of the portfolio they are called for.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import pino from 'pino';
import { ensureTemporalCli } from '../../../infra/temporal';
import type { Recommendation } from '../../../risk/approval';
import type { RiskBudget } from '../../../risk/budget';
import type { RecommendationStatus } from '../../../risk/kinds';
import { NO_RERISKING_POLICY } from '../../../risk/rerisking';
import type { Alert, ApprovalRecord } from '../../../risk/records';
import type { ReadActivities, WriteActivities } from '../../../workflows/contract';
import { SEARCH_ATTRIBUTES } from '../../../workflows/searchAttributes';
import { handBudget } from '../risk/fixtures';

/** What the stand-in market says to one portfolio and what the stand-in stores recorded for it. */
export class World {
  constructor(readonly portfolioId: string) {}

  /** Regime the market reads at the next bar (one-hot); 'crisis' proposals reduce risk, 'bull' ones add it. */
  regime: 'bull' | 'crisis' = 'bull';
  /** When set, the gross limit the engine computes at each bar (a crisis → calm recovery), else fixed per regime. */
  grossAt?: (bar: number) => number;
  /** The store refuses commits (another commit moved the budget meanwhile). */
  refuseCommits = false;
  bar = 0;
  readonly committed: { version: number; budget: RiskBudget }[] = [];
  readonly statuses = new Map<string, RecommendationStatus>();
  /** Why a recommendation was settled without a human decision (e.g. what superseded it). */
  readonly settledReasons = new Map<string, string>();
  readonly recommendations = new Map<string, Recommendation>();
  readonly decisions: ApprovalRecord[] = [];
  readonly alerts: Alert[] = [];
  /** Cycles recorded through the calm path, with the budget version each named. */
  readonly calmCycles: { budgetVersion: number | null }[] = [];

  statusOf(id: string): RecommendationStatus | undefined {
    return this.statuses.get(id);
  }

  alertsOf(kind: Alert['kind']): Alert[] {
    return this.alerts.filter((a) => a.kind === kind);
  }

  budgetFor(regime: string): RiskBudget {
    const b = handBudget({ portfolioId: this.portfolioId, regime });
    const gross = this.grossAt ? this.grossAt(this.bar) : b.limits.maxGrossNotional * (regime === 'crisis' ? 0.5 : 1);
    return { ...b, limits: { ...b.limits, maxGrossNotional: gross as never } };
  }

  latest(): { version: number; budget: RiskBudget } | null {
    return this.committed[this.committed.length - 1] ?? null;
  }
}

/** The contract's activities, each acting on the world of the portfolio it is called for. */
function standInActivities(worlds: Map<string, World>): ReadActivities & WriteActivities {
  const of = (portfolioId: string): World => {
    const world = worlds.get(portfolioId);
    if (!world) throw new Error(`no stand-in world for portfolio ${portfolioId}`);
    return world;
  };
  // The stand-in market data names its portfolio: { kind: 'csv', path: <portfolioId> }.
  const portfolioOf = (spec: { kind: string; path?: string }) => spec.path as string;
  const activities: Omit<ReadActivities & WriteActivities, 'checkCycle' | 'recordCalmCycle'> = {
    validateConfig: async () => ({
      monitoringIntervalMs: 50,
      approvalTimeoutMs: 60_000,
      hysteresis: { threshold: 0.5, minDwell: 1 },
      rerisking: NO_RERISKING_POLICY, // tests of the policy pass theirs as input
    }),
    portfolioMarketData: async (portfolioId) => ({ kind: 'csv', path: portfolioId }),
    observeMarket: async (spec) => {
      const world = of(portfolioOf(spec));
      return { spec, lastIndex: ++world.bar, asOf: `bar-${world.bar}` };
    },
    latestCommitted: async (portfolioId) => of(portfolioId).latest(),
    assessRegime: async ({ ref }) => ({
      regimes: ['bull', 'crisis'],
      probabilities: of(portfolioOf(ref.spec)).regime === 'bull' ? [1, 0] : [0, 1],
      method: 'rule',
      realizedVol: 0.1,
      bar: ref.lastIndex,
    }),
    computeBudget: async ({ portfolioId, regime }) => of(portfolioId).budgetFor(regime),
    evaluateTriggers: async ({ current, proposed }) => {
      const regimeChanged = current === null || current.regime !== proposed.regime;
      // The engine's limit-change trigger: the gross limit it now computes moved by more than 5 %.
      const limitMoved = current !== null && Math.abs(proposed.limits.maxGrossNotional / current.limits.maxGrossNotional - 1) > 0.05;
      const changed = regimeChanged || limitMoved;
      const kind = current === null ? 'initial-budget' : regimeChanged ? 'regime-change' : 'limit-change';
      return {
        triggers: [{ kind, fired: changed, value: null, threshold: null }],
        proposeBudget: changed,
        rebalanceBook: false,
        addsRisk: current === null || proposed.limits.maxGrossNotional > current.limits.maxGrossNotional,
        summary: { regimeAfter: proposed.regime },
        detail: null,
      };
    },
    assessPolicyChange: async () => ({ riskReasons: [] }),
    recordPolicyStatus: async () => undefined,
    ensurePortfolio: async () => undefined,
    heartbeat: async () => undefined,
    recordRecommendation: async ({ recommendation, status, settledReason }) => {
      const world = of(recommendation.portfolioId);
      if (settledReason) world.settledReasons.set(recommendation.id, settledReason);
      world.recommendations.set(recommendation.id, recommendation);
      // Statuses only move forward, as in the store.
      if ([undefined, 'PENDING'].includes(world.statuses.get(recommendation.id))) world.statuses.set(recommendation.id, status);
    },
    recordDecision: async (d) => void of(d.portfolioId).decisions.push(d),
    commitRecommendation: async ({ recommendation }) => {
      const world = of(recommendation.portfolioId);
      if (world.refuseCommits) return { version: 0, created: false, refused: 'the budget moved meanwhile' };
      const version = world.committed.length + 1;
      world.committed.push({ version, budget: recommendation.budget });
      world.statuses.set(recommendation.id, 'COMMITTED');
      return { version, created: true, refused: null };
    },
    emitRebalancePlan: async () => undefined,
    raiseAlert: async (alert) => void of(alert.portfolioId).alerts.push(alert),
    recordRegimeChange: async () => undefined,
    recordMetrics: async () => undefined,
    recordOperatorAction: async () => undefined,
    setTradingState: async () => undefined,
    createOverride: async () => ({ overrideId: 1 }),
    revokeOverride: async ({ request }) => ({ revoked: request.overrideId === 1 }),
  };
  return {
    ...activities,
    // The calm path's read, composed of the stand-ins above as the real one composes the engine's steps.
    checkCycle: async (input) => {
      const world = of(input.portfolioId);
      const { spec: _spec, ...ref } = await activities.observeMarket(input.marketData);
      const observation = await activities.assessRegime({ ref: { spec: input.marketData, ...ref } });
      const latest = world.latest();
      const held = (latest?.version ?? null) === input.committedVersion ? {} : { committed: latest };
      if (input.regime === null) return { ref, observation, ...held };
      const proposed = world.budgetFor(input.regime);
      const assessment = await activities.evaluateTriggers({ portfolioId: input.portfolioId, current: latest?.budget ?? null, proposed });
      const { regime } = input;
      const calm = !assessment.proposeBudget && !assessment.rebalanceBook;
      const verdict = calm ? { calm, regime, triggers: assessment.triggers } : { calm, regime, budget: proposed, assessment };
      return { ref, observation, ...held, verdict };
    },
    recordCalmCycle: async ({ portfolioId, budgetVersion }) => void of(portfolioId).calmCycles.push({ budgetVersion }),
  };
}

export interface StandInEnvironment {
  readonly env: TestWorkflowEnvironment;
  /** The worker's task queue. */
  readonly taskQueue: string;
  /** A fresh portfolio and its world; its market data is `{ kind: 'csv', path: <portfolioId> }`. */
  world(): World;
  teardown(): Promise<void>;
}

export async function standInEnvironment(): Promise<StandInEnvironment> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cli = await ensureTemporalCli(pino({ level: 'silent' }));
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: cli }, searchAttributes: [...SEARCH_ATTRIBUTES] },
  });
  const workflowBundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../../workflows'),
    logger: new DefaultLogger('ERROR'),
  });
  const worlds = new Map<string, World>();
  const taskQueue = `stand-in-${process.pid}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: standInActivities(worlds),
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    world() {
      const world = new World(`p${worlds.size + 1}`);
      worlds.set(world.portfolioId, world);
      return world;
    },
    async teardown() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
/** Polls `probe` every 20 ms until it returns a value (not undefined), or fails naming `what`. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
