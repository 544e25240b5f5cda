/**
 * One small function per RPC: parse the request, admit the caller, ask the decision core or a port,
 * shape the response. Errors are thrown as InvalidArgument / Refused (grpc/status.ts) and become
 * statuses there.
 *
 * EvaluateTrade, SizePosition and ReportFill are the hot path: no awaits before the decision, no
 * Postgres, no info-level logging; the answer is sent once the decision or fill is durable in the
 * spool (group-committed fdatasync, grpc/spool.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RecommendationView } from '../db/stores/recommendationViews';
import { type AccessPolicy, type Caller, callerOf, denyControl, denyTrade, denyTrader } from './access';
import { forwardedCaller, notDecidedHere, routed, type Routing } from './forward';
import type { OrderRequest } from '../risk/pretrade/checks';
import type { GateCore, UtilizationLine } from './gate';
import type {
  EvaluateTradeRequest,
  EvaluateTradeResponse,
  GateServiceServer,
  GetCurrentBudgetRequest,
  GetCurrentBudgetResponse,
  GetRecommendationsRequest,
  GetRecommendationsResponse,
  GetUtilizationRequest,
  GetUtilizationResponse,
  Order,
  OverrideLimitRequest,
  OverrideLimitResponse,
  ReasonExplanation,
  Recommendation,
  ReportFillRequest,
  ReportFillResponse,
  SizePositionRequest,
  SizePositionResponse,
  TriggerRebalanceRequest,
  TriggerRebalanceResponse,
  Utilization,
} from './generated/ballast/gate/v1/gate';
import { LimitMeasure, ReasonCode } from './generated/ballast/gate/v1/gate';
import type { Explanation } from '../risk/pretrade/reasons';
import { ControlRefused, type GateControls, RebalanceAlreadyRunning } from './ports';
import { decisionCode, LIMIT_MEASURE_CODE, LIMIT_SCOPE_CODE, REASON_CODE, TRADING_STATE_CODE } from './protoEnums';
import { parseFill, parseOrder, parseOverride, parseRebalanceReason, parseRequestId, recommendationLimit, requireId } from './requests';
import { deadlineMs, type Durable, InvalidArgument, Refused, unary, unaryAsync, unaryDurable } from './status';
import { BATCHED, type DecideOrder, type Listening, ONE_PER_MESSAGE, TradeStreams } from './tradeStream';
import { budgetMessage, recommendationPayload } from './payloads';
import { timestamp } from './plans';

export interface HandlerDeps {
  readonly core: GateCore;
  /** False until the first full load of budgets: trade RPCs answer UNAVAILABLE. */
  readonly budgets: { readonly ready: boolean };
  /** True at the audit queue's high-water mark: trade RPCs answer RESOURCE_EXHAUSTED. */
  readonly audit: { readonly full: boolean };
  /** Why the gate cannot record durably now (spool failed, fills backlog full), or undefined: trade RPCs refuse. */
  readonly recording: { readonly problem: string | undefined; sync(): Promise<void> };
  /** Identity → grants; undefined lets every caller do everything (development only). */
  readonly access: AccessPolicy | undefined;
  readonly controls: GateControls;
  readonly logger: Logger;
  /** The gate's open EvaluateTradeStreams (closed with the gate); default: a set of its own with default bounds. */
  readonly streams?: TradeStreams;
  /** Gate HA: which replica decides each portfolio (grpc/forward.ts); undefined for a single gate. */
  readonly routing?: Routing;
}

type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;

/** The GateService implementation grpc-js serves. */
export function gateService(deps: HandlerDeps): GateServiceServer {
  const { logger } = deps;
  const streams = deps.streams ?? new TradeStreams({ logger });
  const admitTrader = (caller: Caller): void => authorize(denyTrader(deps.access, caller));
  const decideOrder: DecideOrder = (caller, listening, order) => decideStreamed(deps, caller, listening, order);
  return {
    evaluateTrade: routed(
      deps.routing,
      'evaluateTrade',
      (r) => r.order?.portfolioId ?? '',
      (call) => admitForward(deps, call, parseOrder(call.request.order, 'required')),
      unaryDurable(logger, (call) => evaluateTrade(deps, call)),
      logger,
    ),
    sizePosition: routed(
      deps.routing,
      'sizePosition',
      (r) => r.order?.portfolioId ?? '',
      (call) => admitForward(deps, call, parseOrder(call.request.order, 'optional')),
      unaryDurable(logger, (call) => sizePosition(deps, call)),
      logger,
    ),
    reportFill: routed(
      deps.routing,
      'reportFill',
      (r) => r.portfolioId,
      (call) => {
        const fill = parseFill(call.request);
        const caller = callerOf(call);
        authorize(denyTrade(deps.access, caller, fill.portfolioId, fill.strategy));
        return caller;
      },
      unaryDurable(logger, (call) => reportFill(deps, call)),
      logger,
    ),
    getCurrentBudget: unary(logger, (call) => getCurrentBudget(deps, call)),
    getUtilization: unary(logger, (call) => getUtilization(deps, call)),
    getRecommendations: unaryAsync(logger, (call) => getRecommendations(deps, call)),
    triggerRebalance: unaryAsync(logger, (call) => triggerRebalance(deps, call)),
    overrideLimit: unaryAsync(logger, (call) => overrideLimit(deps, call)),
    // The same decision per order as evaluateTrade, over one stream (grpc/tradeStream.ts).
    evaluateTradeStream: (call) => streams.serve(call, ONE_PER_MESSAGE, admitTrader, decideOrder),
    evaluateTradeBatchStream: (call) => streams.serve(call, BATCHED, admitTrader, decideOrder),
  };
}

export function evaluateTrade(deps: HandlerDeps, call: Call<EvaluateTradeRequest>): Durable<EvaluateTradeResponse> {
  return decideTrade(deps, forwardedCaller(deps.routing, call, callerOf(call)), call, call.request.order);
}

/**
 * A streamed order: decided here only when this replica decides its portfolio. Under gate HA a
 * stream is not forwarded order by order: the order is refused UNAVAILABLE naming the owner, and the
 * OMS opens its stream there (docs/gate-ha.md), so no path decides a portfolio on two replicas.
 */
function decideStreamed(deps: HandlerDeps, caller: Caller, call: Listening, message: Order | undefined): Durable<EvaluateTradeResponse> {
  const route = deps.routing?.route(message?.portfolioId ?? '');
  if (route && route.kind !== 'local') throw notDecidedHere(route);
  return decideTrade(deps, caller, call, message);
}

/** EvaluateTrade's decision on one order, unary or streamed: the same checks, admission and record. */
export function decideTrade(
  deps: HandlerDeps,
  caller: Caller,
  call: Listening,
  message: Order | undefined,
): Durable<EvaluateTradeResponse> {
  const started = process.hrtime.bigint();
  const order = parseOrder(message, 'required');
  const r = deps.core.evaluate(order, admitTrade(deps, caller, call, order), started);
  return {
    response: {
      decision: decisionCode(r.approved),
      reasons: r.reasons.map((reason) => REASON_CODE[reason]),
      detail: r.detail,
      budgetVersion: r.version,
      tradingState: TRADING_STATE_CODE[r.state],
      risk: r.risk,
      explanations: r.explanations.map(explanationMessage),
      replayed: r.replayed,
      warnings: r.warnings.map(explanationMessage),
    },
    recorded: r.recorded,
  };
}

export function sizePosition(deps: HandlerDeps, call: Call<SizePositionRequest>): Durable<SizePositionResponse> {
  const started = process.hrtime.bigint();
  const order = parseOrder(call.request.order, 'optional');
  const r = deps.core.size(order, admitTrade(deps, forwardedCaller(deps.routing, call, callerOf(call)), call, order), started);
  return {
    response: {
      approvedQuantity: r.quantity,
      bindingLimit: r.binding ? REASON_CODE[r.binding] : ReasonCode.REASON_CODE_UNSPECIFIED,
      detail: r.detail,
      budgetVersion: r.version,
      tradingState: TRADING_STATE_CODE[r.state],
      risk: r.risk,
      explanations: r.explanation ? [explanationMessage(r.explanation)] : [],
    },
    recorded: r.recorded,
  };
}

export function reportFill(deps: HandlerDeps, call: Call<ReportFillRequest>): Durable<ReportFillResponse> {
  const fill = parseFill(call.request);
  authorize(denyTrade(deps.access, forwardedCaller(deps.routing, call, callerOf(call)), fill.portfolioId, fill.strategy));
  if (!deps.core.snapshot(fill.portfolioId))
    throw new Refused(grpc.status.FAILED_PRECONDITION, `unknown portfolio "${fill.portfolioId}" or no budget`);
  refuseUnrecordable(deps);
  const applied = deps.core.reportFill(fill);
  if (applied) return { response: { duplicate: false, positionQuantity: applied.position }, recorded: applied.recorded };
  const position = deps.core.book(fill.portfolioId).pair(fill.strategy, fill.instrument)?.position ?? 0;
  // The first report of this fill may still be in the group being synced: answer once it is durable.
  return { response: { duplicate: true, positionQuantity: position }, recorded: deps.recording.sync() };
}

export function getCurrentBudget(deps: HandlerDeps, call: Call<GetCurrentBudgetRequest>): GetCurrentBudgetResponse {
  const portfolioId = admitRead(deps, call, call.request.portfolioId);
  const s = deps.core.snapshot(portfolioId);
  if (!s) throw noBudget(portfolioId);
  return {
    budgetVersion: s.version,
    committedAt: new Date(s.committedAtMs).toISOString(),
    tradingState: TRADING_STATE_CODE[deps.core.tradingState(portfolioId)],
    budgetJson: JSON.stringify(s.budget),
    budget: budgetMessage(s.budget),
    committedTime: timestamp(s.committedAtMs),
  };
}

export function getUtilization(deps: HandlerDeps, call: Call<GetUtilizationRequest>): GetUtilizationResponse {
  const portfolioId = admitRead(deps, call, call.request.portfolioId);
  const s = deps.core.snapshot(portfolioId);
  const u = deps.core.utilization(portfolioId);
  if (!s || !u) throw noBudget(portfolioId);
  return {
    budgetVersion: s.version,
    gross: utilizationMessage(u.gross),
    net: utilizationMessage(u.net),
    strategies: u.strategies.map(utilizationMessage),
    assets: u.assets.map(utilizationMessage),
    risk: u.risk && { ...u.risk, strategies: [...u.risk.strategies] },
  };
}

export async function getRecommendations(deps: HandlerDeps, call: Call<GetRecommendationsRequest>): Promise<GetRecommendationsResponse> {
  const portfolioId = admitRead(deps, call, call.request.portfolioId);
  const reader = wired(deps.controls.recommendationReader, 'recommendation reader');
  const views = await reader.latest(portfolioId, recommendationLimit(call.request.limit));
  return { recommendations: views.map(recommendationMessage) };
}

export async function triggerRebalance(deps: HandlerDeps, call: Call<TriggerRebalanceRequest>): Promise<TriggerRebalanceResponse> {
  const { portfolioId, caller } = admitControl(deps, call, call.request.portfolioId);
  const reason = parseRebalanceReason(call.request.reason);
  const requestId = parseRequestId(call.request.requestId);
  const starter = wired(deps.controls.rebalanceStarter, 'rebalance starter');
  try {
    return { workflowId: (await starter.start(portfolioId, caller.label, reason, requestId)).workflowId };
  } catch (err) {
    if (err instanceof RebalanceAlreadyRunning) throw new Refused(grpc.status.ALREADY_EXISTS, err.message);
    throw err;
  }
}

export async function overrideLimit(deps: HandlerDeps, call: Call<OverrideLimitRequest>): Promise<OverrideLimitResponse> {
  const { portfolioId, caller } = admitControl(deps, call, call.request.portfolioId);
  const command = parseOverride(call.request, caller.label, Date.now());
  const requestId = parseRequestId(call.request.requestId);
  const overrider = wired(deps.controls.limitOverrider, 'limit overrider');
  try {
    return { overrideId: (await overrider.override(portfolioId, command, requestId)).overrideId };
  } catch (err) {
    if (err instanceof ControlRefused) {
      if (err.kind === 'SeparationOfDuties') throw new Refused(grpc.status.PERMISSION_DENIED, err.message);
      throw new InvalidArgument(err.message);
    }
    throw err;
  }
}

/** May this caller trade here, and can the gate decide (and record) now? Returns the caller's audit label. */
function admitTrade(deps: HandlerDeps, caller: Caller, call: Listening, order: OrderRequest): string {
  authorize(denyTrade(deps.access, caller, order.portfolioId, order.strategy));
  if (!deps.budgets.ready) throw new Refused(grpc.status.UNAVAILABLE, 'gate is starting: budgets not loaded yet');
  if (deps.audit.full)
    throw new Refused(grpc.status.RESOURCE_EXHAUSTED, 'audit backlog full: the gate will not decide what it cannot record');
  refuseUnrecordable(deps);
  // A caller that has given up would never learn of an approval, whose reservation would then block
  // capacity until it times out: do not decide at all.
  if (call.cancelled || deadlineMs(call.getDeadline()) <= Date.now())
    throw new Refused(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded before a decision');
  return caller.label;
}

/** Before forwarding to the owner: the caller may trade there (the owner checks the rest). */
function admitForward(deps: HandlerDeps, call: Call<unknown>, order: OrderRequest): Caller {
  const caller = callerOf(call);
  authorize(denyTrade(deps.access, caller, order.portfolioId, order.strategy));
  return caller;
}

/** Reading a portfolio's budget, utilization or recommendations needs a trade grant for it. */
function admitRead(deps: HandlerDeps, call: Call<unknown>, portfolioId: string): string {
  requireId(portfolioId, 'portfolio_id');
  authorize(denyTrade(deps.access, callerOf(call), portfolioId, ''));
  return portfolioId;
}

/** Control needs a `control` grant, checked before the rest of the request is validated. */
function admitControl(deps: HandlerDeps, call: Call<unknown>, portfolioId: string): { portfolioId: string; caller: Caller } {
  requireId(portfolioId, 'portfolio_id');
  const caller = callerOf(call);
  authorize(denyControl(deps.access, caller, portfolioId));
  return { portfolioId, caller };
}

function refuseUnrecordable(deps: HandlerDeps): void {
  const problem = deps.recording.problem;
  if (problem) throw new Refused(grpc.status.UNAVAILABLE, `the gate cannot record durably: ${problem}`);
}

function authorize(denied: string | undefined): void {
  if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
}

function wired<T>(port: T | undefined, name: string): T {
  if (!port) throw new Refused(grpc.status.FAILED_PRECONDITION, `this gate has no ${name} configured`);
  return port;
}

const noBudget = (portfolioId: string): Refused =>
  new Refused(grpc.status.FAILED_PRECONDITION, `no committed budget for portfolio "${portfolioId}"`);

const explanationMessage = (e: Explanation): ReasonExplanation => ({
  reason: REASON_CODE[e.reason],
  scope: LIMIT_SCOPE_CODE[e.scope],
  strategy: e.strategy,
  instrument: e.instrument,
  measure: e.measure ? LIMIT_MEASURE_CODE[e.measure] : LimitMeasure.LIMIT_MEASURE_UNSPECIFIED,
  limit: e.limit,
  current: e.current,
  postTrade: e.postTrade,
  overrideInForce: e.overridden,
});

const utilizationMessage = (l: UtilizationLine): Utilization => ({
  strategy: l.strategy,
  instrument: l.instrument,
  usedNotional: l.used,
  limitNotional: l.limit,
  utilization: l.limit > 0 ? l.used / l.limit : l.used > 0 ? Infinity : 0,
});

const recommendationMessage = (v: RecommendationView): Recommendation => ({
  id: v.id,
  kind: v.status,
  createdAt: new Date(v.createdAtMs).toISOString(),
  summary: `${v.status}${v.addsRisk ? ' (adds risk)' : ''}: ${v.reason}`,
  payloadJson: JSON.stringify({ summary: v.summary, detail: v.detail, triggers: v.triggers, committedVersion: v.committedVersion }),
  payload: recommendationPayload(v),
  createdTime: timestamp(v.createdAtMs),
});
