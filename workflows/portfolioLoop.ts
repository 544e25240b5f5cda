/**
 * The risk-budgeting control loop: one long-running workflow per portfolio.
 *
 * Every monitoring interval (or at once on a `marketEvent` signal) it observes the market, reads the
 * regime, recomputes the budget and evaluates the rebalancing triggers. When a trigger fires it
 * proposes the new budget: a change that reduces risk is committed at once; one that adds risk waits
 * for a human (approve/reject by Update or Signal) until it expires. Message handlers only validate
 * and enqueue; the main loop is the single writer of commits, so decisions are applied in order.
 * All mathematics and I/O run in activities: this code only orchestrates and stays deterministic.
 */
import * as wf from '@temporalio/workflow';
import type { RiskBudget } from '../risk/budget';
import { TRADING_STATES, isTradingState } from '../risk/kinds';
import { overrideRequestError } from '../risk/overrides';
import { type HysteresisOptions, initialHysteresis, stepHysteresis } from '../risk/regime/hysteresis';
import {
  PENDING_APPROVAL_SA,
  PORTFOLIO_SA,
  REGIME_SA,
  marketEventSignal,
  overrideLimitUpdate,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  setTradingStateUpdate,
  statusQuery,
  type OperatorRequest,
} from './messages';
import {
  type Proposal,
  type QueuedDecision,
  acts,
  cycleKey,
  decide,
  drainDecisions,
  expireIfDue,
  mostLikelyRegime,
  recordFailure,
  registerApprovalHandlers,
} from './shared';
import type { TriggerAssessment } from '../activities/triggers';
import type { LoopState, LoopStatus, PortfolioLoopInput, RegimeReading } from './types';

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_CYCLES_PER_RUN = 200;
const MAX_REGIME_CHANGES_KEPT = 20;

export function initialLoopState(): LoopState {
  return {
    cycle: 0,
    paused: false,
    regime: null,
    hysteresis: null,
    lastReading: null,
    lastMarketAsOf: null,
    committedVersion: null,
    committedBudget: null,
    pending: null,
    lastTriggers: [],
    regimeChanges: [],
    decided: [],
    lastError: null,
  };
}

export async function portfolioLoop(input: PortfolioLoopInput): Promise<never> {
  const { portfolioId } = input;
  const state: LoopState = input.carried ?? initialLoopState();
  const decisions: QueuedDecision[] = [];
  let marketEvent = false;

  // ---- handlers (registered before the first await, so nothing buffered is refused): validate and
  // enqueue; the main loop does the work ----
  wf.setHandler(statusQuery, (): LoopStatus => ({
    portfolioId,
    paused: state.paused,
    cycle: state.cycle,
    regime: state.regime,
    regimeReading: state.lastReading,
    budgetVersion: state.committedVersion,
    grossLimit: state.committedBudget?.limits.maxGrossNotional ?? null,
    lastMarketAsOf: state.lastMarketAsOf,
    pendingRecommendation: state.pending,
    triggers: state.lastTriggers,
    regimeChanges: state.regimeChanges,
    lastError: state.lastError,
  }));
  wf.setHandler(marketEventSignal, () => {
    marketEvent = true;
  });

  registerApprovalHandlers(state, decisions);

  const setPaused = async (paused: boolean, req: OperatorRequest | undefined) => {
    state.paused = paused;
    await acts.recordOperatorAction({
      idempotencyKey: `${wf.workflowInfo().workflowId}:${paused ? 'pause' : 'resume'}:${wf.uuid4()}`,
      portfolioId,
      action: paused ? 'pause' : 'resume',
      operator: req?.operator ?? 'temporal-ui',
      reason: req?.reason ?? 'no reason given',
      details: {},
    });
    return { paused };
  };
  const requireOperator = (req: OperatorRequest) => {
    if (!req?.operator || !req?.reason) throw new Error('operator and reason are required');
  };
  wf.setHandler(pauseUpdate, (req) => setPaused(true, req), { validator: requireOperator });
  wf.setHandler(resumeUpdate, (req) => setPaused(false, req), { validator: requireOperator });
  const viaSignal = (paused: boolean) => (req?: OperatorRequest) => {
    setPaused(paused, req).catch((err) => recordFailure(state, portfolioId, err));
    if (!paused) marketEvent = true;
  };
  wf.setHandler(pauseSignal, viaSignal(true));
  wf.setHandler(resumeSignal, viaSignal(false));
  wf.setHandler(
    setTradingStateUpdate,
    async (req) => {
      await acts.setTradingState({ idempotencyKey: `${wf.workflowInfo().workflowId}:state:${wf.uuid4()}`, portfolioId, request: req });
      return { state: req.state };
    },
    {
      validator: (req) => {
        if (!isTradingState(req?.state))
          throw new Error(`state must be one of ${TRADING_STATES.join(', ')}, got ${JSON.stringify(req?.state)}`);
        if (!req.operator || !req.reason) throw new Error('operator and reason are required');
      },
    },
  );
  wf.setHandler(
    overrideLimitUpdate,
    async (req) =>
      acts.createOverride({ idempotencyKey: `${wf.workflowInfo().workflowId}:override:${wf.uuid4()}`, portfolioId, request: req }),
    {
      validator: (req) => {
        const error = overrideRequestError(req, Date.now());
        if (error) throw new Error(error);
      },
    },
  );

  const settings = await validateOrAlert(input, state);
  const intervalMs = input.monitoringIntervalMs ?? settings.monitoringIntervalMs ?? DEFAULT_INTERVAL_MS;
  const approvalTimeoutMs = input.approvalTimeoutMs ?? settings.approvalTimeoutMs;
  if (!input.carried) await acts.ensurePortfolio({ portfolioId, marketData: input.marketData });
  wf.upsertSearchAttributes([
    { key: PORTFOLIO_SA, value: portfolioId },
    { key: PENDING_APPROVAL_SA, value: state.pending !== null },
    ...(state.regime ? [{ key: REGIME_SA, value: state.regime }] : []),
  ]);
  // The UI's pending-approval filter follows state.pending; upserted only when it changes (each upsert
  // is a history event).
  let flaggedPending = state.pending !== null;
  const syncPendingFlag = () => {
    if ((state.pending !== null) === flaggedPending) return;
    flaggedPending = state.pending !== null;
    wf.upsertSearchAttributes([{ key: PENDING_APPROVAL_SA, value: flaggedPending }]);
  };

  const cyclesPerRun = input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  for (let run = 0; run < cyclesPerRun && !wf.workflowInfo().continueAsNewSuggested; run++) {
    // Any failure of an iteration is recorded and alerted; the loop itself never dies of one.
    try {
      // Expire first: a decision arriving after the deadline must not revive a recommendation.
      await expireIfDue(state, portfolioId);
      await drainDecisions(state, decisions, portfolioId);
      if (!state.paused) {
        marketEvent = false; // an event arriving during the cycle triggers the next one at once
        await runCycle(input, state, approvalTimeoutMs, settings.hysteresis);
        state.lastError = null;
      }
    } catch (err) {
      await recordFailure(state, portfolioId, err);
    }
    syncPendingFlag();
    const wakeAt = nextWake(state, intervalMs);
    await wf.condition(() => marketEvent || decisions.length > 0, Math.max(1, wakeAt - Date.now()));
  }
  // Apply every decision still queued or arriving (an Update handler waits for its own), then start
  // afresh with the state carried over.
  while (!wf.allHandlersFinished() || decisions.length > 0) {
    await wf.condition(() => decisions.length > 0 || wf.allHandlersFinished());
    await drainDecisions(state, decisions, portfolioId).catch((err) => recordFailure(state, portfolioId, err));
  }
  return wf.continueAsNew<typeof portfolioLoop>({ ...input, carried: state });
}

/** A bad configuration ends the run at once with the bad key named, after raising an alert. */
async function validateOrAlert(input: PortfolioLoopInput, state: LoopState) {
  try {
    return await acts.validateConfig(input.config);
  } catch (err) {
    await recordFailure(state, input.portfolioId, err);
    throw wf.ApplicationFailure.nonRetryable(`invalid configuration: ${state.lastError}`, 'ConfigError');
  }
}

function nextWake(state: LoopState, intervalMs: number): number {
  const tick = Date.now() + intervalMs;
  const expiry = state.pending?.expiresAtMs ?? Number.POSITIVE_INFINITY;
  return Math.min(tick, expiry);
}

async function runCycle(
  input: PortfolioLoopInput,
  state: LoopState,
  approvalTimeoutMs: number,
  hysteresis: HysteresisOptions,
): Promise<void> {
  const { portfolioId } = input;
  state.cycle += 1;
  const ref = await acts.observeMarket(input.marketData);
  state.lastMarketAsOf = ref.asOf;
  // Independent reads run concurrently: the regime reading is on the response-time path.
  const [committed, reading] = await Promise.all([acts.latestCommitted(portfolioId), acts.assessRegime({ ref, config: input.config })]);
  state.committedVersion = committed?.version ?? null;
  state.committedBudget = committed?.budget ?? null;
  const previousRegime = state.regime;
  const regimeChanged = applyRegimeReading(state, reading, ref.asOf, hysteresis);
  if (regimeChanged) {
    wf.upsertSearchAttributes([{ key: REGIME_SA, value: state.regime as string }]);
    answerIfAlreadyCommitted(state);
  }

  const budget = await acts.computeBudget({
    portfolioId,
    ref,
    regime: state.regime as string,
    config: input.config,
    previous: state.committedBudget,
  });
  const assessment = await acts.evaluateTriggers({
    portfolioId,
    config: input.config,
    current: state.committedBudget,
    proposed: budget,
    lastRegimeCommitAtMs: lastRegimeCommitAtMs(state),
    nowMs: Date.now(),
  });
  state.lastTriggers = assessment.triggers;
  await respond(input, state, budget, assessment, approvalTimeoutMs);
  // Bookkeeping comes after the decision: it must not delay a de-risking commit.
  if (regimeChanged) {
    await acts.raiseAlert({
      idempotencyKey: `${cycleKey(state, portfolioId)}:regime-alert`,
      portfolioId,
      severity: 'warning',
      kind: 'regime-change',
      message: `regime changed from ${previousRegime ?? 'none'} to ${state.regime} at ${ref.asOf}`,
      details: { from: previousRegime, to: state.regime, realizedVol: reading.realizedVol },
    });
  }
  await acts.recordMetrics({
    idempotencyKey: `${cycleKey(state, portfolioId)}:metrics`,
    portfolioId,
    ref,
    config: input.config,
    budget: state.committedBudget,
    reading,
  });
  // Only a cycle that ran to the end confirms the budget still stands (the gate's staleness clock).
  await acts.heartbeat(portfolioId);
}

/** Acts on the trigger assessment: a rebalancing plan for book drift, a proposal for a budget change. */
async function respond(
  input: PortfolioLoopInput,
  state: LoopState,
  budget: RiskBudget,
  assessment: TriggerAssessment,
  approvalTimeoutMs: number,
): Promise<void> {
  const { portfolioId } = input;

  if (assessment.rebalanceBook && state.committedBudget && state.committedVersion !== null) {
    // The budget still stands; the book has drifted from it. One plan per committed version.
    await acts.emitRebalancePlan({
      idempotencyKey: `${portfolioId}:v${state.committedVersion}:rebalance`,
      portfolioId,
      version: state.committedVersion,
      budget: state.committedBudget,
    });
  }
  if (!assessment.proposeBudget) return;
  const proposal: Proposal = {
    budget,
    triggers: assessment.triggers,
    addsRisk: assessment.addsRisk,
    summary: assessment.summary,
    detail: assessment.detail,
    reason: assessment.triggers
      .filter((t) => t.fired)
      .map((t) => t.kind)
      .join(', '),
    id: cycleKey(state, portfolioId),
  };
  const autoApprove = state.committedBudget === null && input.autoApproveInitialBudget !== false;
  if (proposal.addsRisk && !autoApprove && recentlyRejected(state, budget.regime, approvalTimeoutMs)) return;
  // A human is already looking at a risk-increasing change for this regime: keep it stable rather than
  // replacing it every interval. A risk-reducing proposal or a new regime does replace it.
  if (proposal.addsRisk && state.pending?.budget.regime === budget.regime) return;
  await decide(state, portfolioId, proposal, { approvalTimeoutMs, autoApprove });
}

/** A regime the committed budget already reflects (e.g. after a brief flip) needs no new commit. */
function answerIfAlreadyCommitted(state: LoopState): void {
  const change = state.regimeChanges[state.regimeChanges.length - 1];
  if (change && state.committedBudget?.regime === change.to && change.committedAtMs === undefined) {
    change.committedAtMs = change.detectedAtMs;
    change.committedVersion = state.committedVersion ?? undefined;
  }
}

function lastRegimeCommitAtMs(state: LoopState): number | null {
  const committed = state.regimeChanges.filter((c) => c.committedAtMs !== undefined && c.from !== null);
  return committed.length > 0 ? (committed[committed.length - 1].committedAtMs as number) : null;
}

/** A human said no to adding risk in this regime: do not ask again until one approval timeout passed. */
function recentlyRejected(state: LoopState, regime: string, cooldownMs: number): boolean {
  const last = state.lastRejection;
  return !!last && last.regime === regime && Date.now() - last.atMs < cooldownMs;
}

/** Applies hysteresis to the reading; returns true when a (new) regime is declared. */
function applyRegimeReading(state: LoopState, reading: RegimeReading, asOf: string, hysteresis: HysteresisOptions): boolean {
  state.lastReading = reading;
  if (state.regime === null || state.hysteresis === null || !reading.regimes.includes(state.regime)) {
    const best = mostLikelyRegime(reading);
    state.hysteresis = initialHysteresis(reading.regimes.indexOf(best));
    return declareRegime(state, best, asOf);
  }
  const current = reading.regimes.indexOf(state.regime);
  const prior = state.hysteresis.current === current ? state.hysteresis : initialHysteresis(current);
  state.hysteresis = stepHysteresis(prior, reading.probabilities, hysteresis);
  const declared = reading.regimes[state.hysteresis.current];
  return declared !== state.regime ? declareRegime(state, declared, asOf) : false;
}

function declareRegime(state: LoopState, regime: string, asOf: string): true {
  state.regimeChanges.push({ from: state.regime, to: regime, detectedAsOf: asOf, detectedAtMs: Date.now() });
  if (state.regimeChanges.length > MAX_REGIME_CHANGES_KEPT) state.regimeChanges.shift();
  state.regime = regime;
  return true;
}
