/**
 * The risk-budgeting control loop: one long-running workflow per portfolio.
 *
 * Every monitoring interval (or at once on a `marketEvent` signal) it observes the market, reads the
 * regime, recomputes the budget and evaluates the rebalancing triggers. When a trigger fires it
 * proposes the new budget to the approval book: a change that reduces risk is committed at once; one
 * that adds risk waits for a human until it expires. Message handlers only validate and enqueue; the
 * main loop is the single writer of commits, so decisions are applied in order.
 *
 * The mathematics runs in activities, except the regime declaration (hysteresis over the readings,
 * risk/regime/tracker.ts), which is workflow state and therefore REPLAY-BOUND: changing what it
 * computes must keep test/fixtures/histories replaying.
 */
import * as wf from '@temporalio/workflow';
import { LOOP_REQUESTER } from '../risk/approval';
import type { BudgetAssessment, ProposalSummary } from '../risk/assessment';
import type { RiskBudget } from '../risk/budget';
import type { MarketRef } from '../risk/marketData';
import type { HysteresisOptions } from '../risk/regime/hysteresis';
import { DEFAULT_RERISKING_POLICY, type ReriskingPolicy, decideAsk } from '../risk/rerisking';
import type { RegimeReading } from '../risk/regime/reading';
import { type RegimeTrack, trackRegime } from '../risk/regime/tracker';
import { ApprovalBook, initialApprovalState, setApprovalHandlers } from './approvalBook';
import { describeLoop } from './details';
import { recordFailure } from './failures';
import { cycleKey } from './keys';
import {
  type OperatorRequest,
  marketEventSignal,
  overrideLimitUpdate,
  revokeOverrideUpdate,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  setTradingStateUpdate,
  setScopedTradingStateUpdate,
  statusQuery,
} from './messages';
import {
  overrideLimit,
  recordPause,
  requireOperator,
  revokeOverride,
  setTradingState,
  validateOverride,
  validateRevocation,
  validateTradingState,
  validateScopedTradingState,
} from './operatorControls';
import { activeConfig, policyRef, proposePendingPolicy, setPolicyHandlers, settlePendingPolicy } from './policyChanges';
import type { CycleVerdict, RegimeObservation } from './contract';
import { localReads, localWrites, reads, writes } from './retryPolicies';
import { PENDING_APPROVAL_SA, PORTFOLIO_SA, REGIME_SA } from './searchAttributes';
import type { LoopState, LoopStatus, PortfolioLoopInput } from './types';
import { LOOP_VERSIONING, continueAsNewOnTargetBuild, newBuildIsTarget } from './versioning';

const DEFAULT_CYCLES_PER_RUN = 200;
const MAX_REGIME_CHANGES_KEPT = 20;

function initialLoopState(): LoopState {
  return {
    ...initialApprovalState(),
    cycle: 0,
    paused: false,
    regime: null,
    hysteresis: null,
    regimeBar: null,
    lastReading: null,
    lastMarketAsOf: null,
    lastTriggers: [],
    regimeChanges: [],
    lastError: null,
  };
}

export async function portfolioLoop(input: PortfolioLoopInput): Promise<never> {
  const { portfolioId } = input;
  const state: LoopState = input.carried ?? initialLoopState();
  const book = new ApprovalBook(state, portfolioId, (rec, version) => recordRegimeResponse(state, rec.budget, version, portfolioId));
  book.onChange = () => wf.setCurrentDetails(describeLoop(portfolioId, state));
  let marketEvent = false;
  const pause = (paused: boolean, req?: OperatorRequest) => {
    state.paused = paused;
    return recordPause(portfolioId, paused, req);
  };

  // ---- message handlers, registered before the first await so nothing buffered is refused ----
  wf.setHandler(statusQuery, () => loopStatus(input, state), {
    description:
      'The loop as JSON: paused, regime and its reading, budget version, pending recommendation, triggers, regime changes, last error.',
  });
  wf.setHandler(marketEventSignal, () => void (marketEvent = true), {
    description: 'Run a cycle now instead of at the next interval (sent by the market feed). Payload: {"source"?, "asOf"?}.',
  });
  setApprovalHandlers(book);
  const operatorPayload = 'Payload: {"operator": "<your name>", "reason": "<why>"}.';
  wf.setHandler(pauseUpdate, (req) => pause(true, req), {
    validator: requireOperator,
    description: `PREFERRED. Pause the loop: no cycle runs, decisions are still applied. ${operatorPayload}`,
  });
  wf.setHandler(resumeUpdate, (req) => pause(false, req), {
    validator: requireOperator,
    description: `PREFERRED. Resume a paused loop. ${operatorPayload}`,
  });
  wf.setHandler(pauseSignal, (req) => void pause(true, req).catch((err) => recordFailure(state, portfolioId, err)), {
    description: `Pause the loop (prefer the pauseLoop Update). ${operatorPayload}`,
  });
  wf.setHandler(
    resumeSignal,
    (req) => {
      void pause(false, req).catch((err) => recordFailure(state, portfolioId, err));
      marketEvent = true;
    },
    { description: `Resume the loop (prefer the resumeLoop Update). ${operatorPayload}` },
  );
  wf.setHandler(revokeOverrideUpdate, (req) => revokeOverride(portfolioId, req), {
    validator: validateRevocation,
    description:
      'End a limit override before it expires (reduces risk: no second person needed). Payload: {"overrideId": 42, "operator": "<your name>", "reason": "<why>"}.',
  });
  wf.setHandler(
    setTradingStateUpdate,
    async (req) => {
      const result = await setTradingState(portfolioId, req);
      state.tradingState = result.state;
      book.onChange();
      return result;
    },
    {
      validator: validateTradingState,
      description:
        'What the gate lets the portfolio do: ACTIVE, REDUCING (only orders that reduce exposure) or HALTED (kill switch). ' +
        'Payload: {"state": "HALTED", "operator": "<your name>", "reason": "<why>"}.',
    },
  );
  // A strategy's or instrument's state lives in the store only (the loop's own is the portfolio's).
  wf.setHandler(setScopedTradingStateUpdate, (req) => setTradingState(portfolioId, req), {
    validator: validateScopedTradingState,
    description:
      'What the gate lets one strategy or one instrument (in every strategy) of the portfolio do: ACTIVE, REDUCING or HALTED; ' +
      'an order is under the strictest of its portfolio, strategy and instrument. ' +
      'Payload: {"state": "HALTED", "scope": {"kind": "strategy", "name": "trend"}, "operator": "<your name>", "reason": "<why>"}.',
  });
  wf.setHandler(overrideLimitUpdate, (req) => overrideLimit(portfolioId, req), {
    validator: validateOverride,
    description:
      'A temporary limit override, approved by someone other than its requester. Payload: {"field": "maxGrossNotional", "value": 5000000, ' +
      '"strategy"?: "...", "asset"?: "...", "reason": "<why>", "requestedBy": "<who asked>", "approver": "<you>", "expiresAt": "2026-12-01T18:00:00Z"}.',
  });
  setPolicyHandlers(input, state, () => void (marketEvent = true));

  // ---- the main loop ----
  const settings = await validateOrAlert(input, state);
  const intervalMs = input.monitoringIntervalMs ?? settings.monitoringIntervalMs;
  const approvalTimeoutMs = input.approvalTimeoutMs ?? settings.approvalTimeoutMs;
  const rerisking = input.rerisking ?? settings.rerisking ?? DEFAULT_RERISKING_POLICY;
  if (!input.carried) await writes.ensurePortfolio({ portfolioId, marketData: input.marketData });
  wf.upsertSearchAttributes([
    { key: PORTFOLIO_SA, value: portfolioId },
    { key: PENDING_APPROVAL_SA, value: state.pending !== null },
    ...(state.regime ? [{ key: REGIME_SA, value: state.regime }] : []),
  ]);
  const syncPendingFlag = pendingFlag(state);

  const cyclesPerRun = input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  for (let run = 0; run < cyclesPerRun && !wf.workflowInfo().continueAsNewSuggested && !newBuildIsTarget(); run++) {
    // Any failure of an iteration is recorded and alerted; the loop itself never dies of one.
    try {
      // Expire first: a decision arriving after the deadline must not revive a recommendation.
      await book.expireIfDue();
      await book.applyQueuedDecisions();
      await settlePendingPolicy(input, state, book);
      if (!state.paused) {
        marketEvent = false; // an event arriving during the cycle triggers the next one at once
        await runCycle(
          { ...input, config: activeConfig(input, state) },
          state,
          book,
          { approvalTimeoutMs, rerisking },
          settings.hysteresis,
        );
        await proposePendingPolicy(input, state, book, approvalTimeoutMs);
        await settlePendingPolicy(input, state, book);
        state.lastError = null;
      }
    } catch (err) {
      await recordFailure(state, portfolioId, err);
    }
    syncPendingFlag();
    wf.setCurrentDetails(describeLoop(portfolioId, state));
    const wakeAt = Math.min(Date.now() + intervalMs, state.pending?.expiresAtMs ?? Number.POSITIVE_INFINITY);
    await wf.condition(() => marketEvent || book.hasQueuedDecisions, Math.max(1, wakeAt - Date.now()));
  }
  // Apply every decision still queued or arriving (an Update handler waits for its own), then start
  // afresh with the state carried over.
  while (!wf.allHandlersFinished() || book.hasQueuedDecisions) {
    await wf.condition(() => book.hasQueuedDecisions || wf.allHandlersFinished());
    await book.applyQueuedDecisions().catch((err) => recordFailure(state, portfolioId, err));
    await settlePendingPolicy(input, state, book).catch((err) => recordFailure(state, portfolioId, err));
    wf.setCurrentDetails(describeLoop(portfolioId, state));
  }
  // The next run validates and runs the policy in force (its interval and approval timeout included).
  const policy = state.policy ? { config: state.policy.document, policyVersion: state.policy.version } : {};
  return continueAsNewOnTargetBuild<typeof portfolioLoop>({ ...input, ...policy, carried: state });
}
wf.setWorkflowOptions(LOOP_VERSIONING, portfolioLoop); // PINNED, moving to a new build at continue-as-new: versioning.ts

/**
 * Patch id of the calm path: a cycle's reads in one local activity whose verdict says whether anything
 * is to be done, and a calm cycle's writes in another (docs/capacity.md). Histories recorded before it
 * keep the seven activities per cycle.
 */
const CALM_CYCLE_PATCH = 'calm-cycle';

/** One cycle: observe, read the regime, compute the budget, assess it, respond; then bookkeeping. */
async function runCycle(
  input: PortfolioLoopInput,
  state: LoopState,
  book: ApprovalBook,
  asking: AskingPolicy,
  hysteresis: HysteresisOptions,
) {
  const { portfolioId } = input;
  state.cycle += 1;
  const { ref, observation, verdict } = wf.patched(CALM_CYCLE_PATCH) ? await checkCycle(input, state) : await readCycle(input, state);
  state.lastMarketAsOf = ref.asOf;
  const { earlier = [], ...reading } = observation;
  state.lastReading = reading;
  const previousRegime = state.regime;
  const regimeChanged = declareRegime(state, [...earlier, reading], ref.asOf, hysteresis);
  if (regimeChanged) {
    wf.upsertSearchAttributes([{ key: REGIME_SA, value: state.regime as string }]);
    answerIfAlreadyCommitted(state);
  }

  // A verdict holds for the regime it was computed for; a regime declared just now is assessed afresh.
  const outcome = verdict?.regime === state.regime ? verdict : await assessCycle(input, state, ref);
  if (outcome.calm) {
    state.lastTriggers = outcome.triggers;
    await localWrites.recordCalmCycle({
      idempotencyKey: `${cycleKey(state.cycle, portfolioId)}:metrics`,
      portfolioId,
      ref,
      policy: policyRef(input, state),
      budgetVersion: state.committedVersion,
      reading: { regimes: reading.regimes, probabilities: reading.probabilities, realizedVol: reading.realizedVol },
    });
    return;
  }
  state.lastTriggers = outcome.assessment.triggers;
  await respond(input, state, book, outcome.budget, outcome.assessment, asking);
  // Bookkeeping comes after the decision: it must not delay a de-risking commit.
  if (regimeChanged) {
    await writes.raiseAlert({
      idempotencyKey: `${cycleKey(state.cycle, portfolioId)}:regime-alert`,
      portfolioId,
      severity: 'warning',
      kind: 'regime-change',
      message: `regime changed from ${previousRegime ?? 'none'} to ${state.regime} at ${ref.asOf}`,
      details: { from: previousRegime, to: state.regime, realizedVol: reading.realizedVol },
    });
  }
  await writes.recordMetrics({
    idempotencyKey: `${cycleKey(state.cycle, portfolioId)}:metrics`,
    portfolioId,
    ref,
    config: input.config,
    budget: state.committedBudget,
    reading,
  });
  // Only a cycle that ran to the end confirms the budget still stands (the gate's staleness clock).
  await writes.heartbeat(portfolioId);
}

/** A cycle's reads: the bar, the regime readings since the last one, and (on the calm path) a verdict. */
interface CycleReads {
  readonly ref: MarketRef;
  readonly observation: RegimeObservation;
  readonly verdict?: CycleVerdict;
}

/** The calm path's one read: everything by reference, a verdict back (the committed budget only when it moved). */
async function checkCycle(input: PortfolioLoopInput, state: LoopState): Promise<CycleReads> {
  const check = await localReads.checkCycle({
    portfolioId: input.portfolioId,
    marketData: input.marketData,
    policy: policyRef(input, state),
    sinceBar: state.regimeBar ?? null,
    regime: state.regime,
    committedVersion: state.committedVersion,
    lastRegimeCommitAtMs: lastRegimeCommitAtMs(state),
    nowMs: Date.now(),
  });
  if (check.committed !== undefined) {
    state.committedVersion = check.committed?.version ?? null;
    state.committedBudget = check.committed?.budget ?? null;
  }
  return { ...check, ref: { spec: input.marketData, ...check.ref } };
}

/** Before the calm path: observe, then the committed budget and the regime readings concurrently. */
async function readCycle(input: PortfolioLoopInput, state: LoopState): Promise<CycleReads> {
  const ref = await reads.observeMarket(input.marketData);
  // Independent reads run concurrently: the regime reading is on the response-time path.
  const [committed, observation] = await Promise.all([
    reads.latestCommitted(input.portfolioId),
    reads.assessRegime({ ref, config: input.config, sinceBar: state.regimeBar ?? null }),
  ]);
  state.committedVersion = committed?.version ?? null;
  state.committedBudget = committed?.budget ?? null;
  return { ref, observation };
}

/** The budget for the declared regime and its assessment, as two activities (the path of a cycle that acts). */
async function assessCycle(input: PortfolioLoopInput, state: LoopState, ref: MarketRef): Promise<Extract<CycleVerdict, { calm: false }>> {
  const { portfolioId } = input;
  const regime = state.regime as string;
  const budget = await reads.computeBudget({ portfolioId, ref, regime, config: input.config, previous: state.committedBudget });
  const assessment = await reads.evaluateTriggers({
    portfolioId,
    config: input.config,
    current: state.committedBudget,
    proposed: budget,
    lastRegimeCommitAtMs: lastRegimeCommitAtMs(state),
    nowMs: Date.now(),
  });
  return { calm: false, regime, budget, assessment };
}

/** How the loop asks humans: how long an ask waits, and how fast risk may come back (risk/rerisking.ts). */
interface AskingPolicy {
  readonly approvalTimeoutMs: number;
  readonly rerisking: ReriskingPolicy;
}

/** Patch id of the re-risking policy (steps, spacing, supersede): histories from before it keep the old rule. */
const RERISKING_PATCH = 'rerisking-policy';

/** Acts on the assessment: a rebalancing plan for book drift, a proposal for a budget change. */
async function respond(
  input: PortfolioLoopInput,
  state: LoopState,
  book: ApprovalBook,
  budget: RiskBudget,
  assessment: BudgetAssessment,
  { approvalTimeoutMs, rerisking }: AskingPolicy,
): Promise<void> {
  const { portfolioId } = input;
  if (assessment.rebalanceBook && state.committedBudget && state.committedVersion !== null) {
    // The budget still stands; the book has drifted from it. One plan per committed version.
    await writes.emitRebalancePlan({
      idempotencyKey: `${portfolioId}:v${state.committedVersion}:rebalance`,
      portfolioId,
      version: state.committedVersion,
      budget: state.committedBudget,
    });
  }
  if (!assessment.proposeBudget) return;
  const autoApprove = state.committedBudget === null && input.autoApproveInitialBudget !== false;
  if (assessment.addsRisk && !autoApprove && book.recentlyRejected(budget.regime, approvalTimeoutMs)) return;
  let proposed = budget;
  let summary = assessment.summary;
  if (assessment.addsRisk && !autoApprove && wf.patched(RERISKING_PATCH)) {
    // Re-risking policy: one bounded step at a time, a human asked at most once per spacing. Between
    // asks the pending one stays; after, a newer proposal supersedes it rather than queueing behind it.
    const decision = decideAsk({
      policy: rerisking,
      committed: state.committedBudget,
      proposed: budget,
      pending: state.pending?.budget ?? null,
      lastAskAtMs: state.lastAskAtMs,
      nowMs: Date.now(),
    });
    if (!decision.ask) return;
    proposed = decision.step.budget;
    if (decision.step.scale < 1) summary = steppedSummary(summary, proposed, budget, rerisking.maxGrossStepUp as number);
  } else if (assessment.addsRisk && state.pending?.budget.regime === budget.regime) {
    // Before the policy: a human is already looking at a risk-increasing change for this regime; keep it.
    return;
  }
  const reason = assessment.triggers
    .filter((t) => t.fired)
    .map((t) => t.kind)
    .join(', ');
  const { triggers, addsRisk, detail } = assessment;
  await book.propose(
    { id: cycleKey(state.cycle, portfolioId), budget: proposed, triggers, addsRisk, summary, detail, reason, requestedBy: LOOP_REQUESTER },
    { approvalTimeoutMs, autoApprove },
  );
}

/** The summary of a proposal scaled down to one re-risking step: what is asked now, and where the engine is heading. */
function steppedSummary(summary: ProposalSummary, step: RiskBudget, target: RiskBudget, maxGrossStepUp: number): ProposalSummary {
  return {
    ...summary,
    grossLimitAfter: step.limits.maxGrossNotional,
    leverageAfter: step.limits.grossLeverage,
    engineGrossTarget: target.limits.maxGrossNotional,
    reriskStep: `one step of at most +${Math.round(maxGrossStepUp * 100)}% gross toward the engine's target; the next is proposed later`,
  };
}

/** Steps the regime track over the new bars' readings, oldest first; true when a (new) regime is declared. */
function declareRegime(state: LoopState, readings: readonly RegimeReading[], asOf: string, hysteresis: HysteresisOptions): boolean {
  const prior: RegimeTrack | null =
    state.regime !== null && state.hysteresis !== null
      ? { regime: state.regime, hysteresis: state.hysteresis, bar: state.regimeBar ?? null }
      : null;
  const track = trackRegime(prior, readings, hysteresis);
  if (track === null) return false;
  state.hysteresis = track.hysteresis;
  state.regimeBar = track.bar;
  if (track.regime === state.regime) return false;
  state.regimeChanges.push({ from: state.regime, to: track.regime, detectedAsOf: asOf, detectedAtMs: Date.now() });
  if (state.regimeChanges.length > MAX_REGIME_CHANGES_KEPT) state.regimeChanges.shift();
  state.regime = track.regime;
  return true;
}

/** A regime the committed budget already reflects (e.g. after a brief flip) needs no new commit. */
function answerIfAlreadyCommitted(state: LoopState): void {
  const change = state.regimeChanges[state.regimeChanges.length - 1];
  if (change && state.committedBudget?.regime === change.to && change.committedAtMs === undefined) {
    change.committedAtMs = change.detectedAtMs;
    change.committedVersion = state.committedVersion ?? undefined;
  }
}

/** A commit answering the latest unanswered regime change records the response time. */
async function recordRegimeResponse(state: LoopState, budget: RiskBudget, version: number, portfolioId: string): Promise<void> {
  const change = [...state.regimeChanges].reverse().find((c) => c.committedAtMs === undefined);
  if (change === undefined || change.to !== budget.regime) return;
  change.committedAtMs = Date.now();
  change.committedVersion = version;
  await writes.recordRegimeChange({
    idempotencyKey: `${portfolioId}:regime:${wf.workflowInfo().firstExecutionRunId.slice(0, 8)}:${change.detectedAtMs}`,
    portfolioId,
    change,
  });
}

function lastRegimeCommitAtMs(state: LoopState): number | null {
  const committed = state.regimeChanges.filter((c) => c.committedAtMs !== undefined && c.from !== null);
  return committed.length > 0 ? (committed[committed.length - 1].committedAtMs as number) : null;
}

/** A bad configuration ends the run at once with the bad key named, after raising an alert. */
async function validateOrAlert(input: PortfolioLoopInput, state: LoopState) {
  try {
    return await reads.validateConfig(input.config);
  } catch (err) {
    await recordFailure(state, input.portfolioId, err);
    throw wf.ApplicationFailure.nonRetryable(`invalid configuration: ${state.lastError}`, 'ConfigError');
  }
}

/** The UI's pending-approval filter follows state.pending; upserted only when it changes (each upsert is a history event). */
function pendingFlag(state: LoopState): () => void {
  let flagged = state.pending !== null;
  return () => {
    if ((state.pending !== null) === flagged) return;
    flagged = state.pending !== null;
    wf.upsertSearchAttributes([{ key: PENDING_APPROVAL_SA, value: flagged }]);
  };
}

function loopStatus(input: PortfolioLoopInput, state: LoopState): LoopStatus {
  return {
    portfolioId: input.portfolioId,
    paused: state.paused,
    tradingState: state.tradingState ?? null,
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
    policyVersion: state.policy?.version ?? input.policyVersion ?? null,
    pendingPolicyVersion: state.pendingPolicy?.version ?? null,
  };
}
