/**
 * The reference OMS: an integration example of everything an order management system does with
 * Ballast, in one small module (`ballast oms`, and `npm start` runs it for the demo portfolio).
 *
 * For each rebalancing plan it receives (PlanService.WatchRebalancePlans, resuming after its cursor):
 *   1. skips a plan that is no longer open (superseded or expired: never executed);
 *   2. accepts it (AckRebalancePlan ACCEPTED; refused if superseded meanwhile, then skipped);
 *   3. per order line, slices the signed delta into child orders: SizePosition says how much fits,
 *      EvaluateTrade reserves it, the fill is simulated at the reference price (sometimes in two partial
 *      fills) and reported with ReportFill (the last one with order_done);
 *   4. acknowledges EXECUTED, or PARTIALLY_EXECUTED with the residual the gate trimmed;
 * and reports the gross exposure after the plan against the budget's target (the drift).
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  Decision,
  type EvaluateTradeRequest,
  type EvaluateTradeResponse,
  GateServiceClient,
  type Order,
  type ReportFillRequest,
  type ReportFillResponse,
  Side,
  type SizePositionRequest,
  type SizePositionResponse,
} from '../grpc/generated/ballast/gate/v1/gate';
import { OwnerRoutingClient } from '../grpc/ownerRouting';
import { callUnary, type UnaryMethod } from '../grpc/unaryCall';
import {
  AckOutcome,
  PlanServiceClient,
  PlanState,
  type RebalancePlan,
  type WatchRebalancePlansResponse,
} from '../grpc/generated/ballast/gate/v1/plans';

export interface ReferenceOmsOptions {
  readonly gateAddress: string;
  /**
   * Gate HA (docs/gate-ha.md): the other replicas besides `gateAddress` (may be empty). Given, the
   * trade calls go to the portfolio's owner replica (grpc/ownerRouting.ts: learned from the first
   * answer, retried at another replica when it is gone), and plans are watched on `gateAddress`, on
   * the next replica after a stream error. Absent: every call to the one gate at `gateAddress`.
   */
  readonly gateAddresses?: readonly string[];
  readonly portfolioId: string;
  readonly credentials?: grpc.ChannelCredentials;
  /** Channel options for the gate's certificate name (processes/gateSecurity.ts `localGateClient`). */
  readonly channelOptions?: grpc.ClientOptions;
  /** Resume after this plan sequence (0 = from the first plan). */
  readonly afterSequence?: number;
  /** Share of child orders filled in two partial fills (default 0.5). */
  readonly partialFillShare?: number;
  readonly seed?: number;
  /** Called after each plan is handled. */
  readonly onReport?: (report: PlanReport) => void;
  /** Stream errors (the OMS reconnects after a second). */
  readonly onError?: (err: Error) => void;
}

export interface PlanReport {
  readonly planId: string;
  readonly sequence: number;
  readonly budgetVersion: number;
  readonly outcome: 'EXECUTED' | 'PARTIALLY_EXECUTED' | 'SKIPPED';
  /** Why a plan was not executed (superseded, expired, acceptance refused). */
  readonly skipped?: string;
  /** Σ |target notional| of the plan's lines. */
  readonly targetGross: number;
  /** Σ |position × reference price| over the plan's lines after execution. */
  readonly grossAfter: number;
  /** |grossAfter − targetGross| / targetGross. */
  readonly drift: number;
  /** Notional the gate did not let through (sized to less, or denied). */
  readonly trimmedNotional: number;
  readonly childOrders: number;
  readonly fills: number;
}

export interface ReferenceOms {
  readonly reports: readonly PlanReport[];
  /** The last plan sequence handled: where a restarted OMS resumes. */
  readonly cursor: number;
  stop(): Promise<void>;
}

const DEADLINE_MS = 5_000;
const MAX_CHILD_ORDERS_PER_LINE = 200;

const unary = <Req, Res>(client: grpc.Client, method: UnaryMethod<Req, Res>, req: Req): Promise<Res> =>
  callUnary(client, method, req, DEADLINE_MS);

/** The three trade calls, to one gate or routed to the portfolio's owner replica. */
interface TradeCalls {
  sizePosition(req: SizePositionRequest): Promise<SizePositionResponse>;
  evaluateTrade(req: EvaluateTradeRequest): Promise<EvaluateTradeResponse>;
  reportFill(req: ReportFillRequest): Promise<ReportFillResponse>;
  close(): void;
}

function tradeCalls(options: ReferenceOmsOptions, replicas: readonly string[], credentials: grpc.ChannelCredentials): TradeCalls {
  if (options.gateAddresses) {
    const routing = new OwnerRoutingClient({ seeds: replicas, credentials, channelOptions: options.channelOptions });
    const deadline = (): number => Date.now() + DEADLINE_MS;
    return {
      sizePosition: (req) => routing.sizePosition(req, deadline()),
      evaluateTrade: (req) => routing.evaluateTrade(req, deadline()),
      reportFill: (req) => routing.reportFill(req, deadline()),
      close: () => routing.close(),
    };
  }
  const gate = new GateServiceClient(options.gateAddress, credentials, options.channelOptions);
  return {
    sizePosition: (req) => unary(gate, gate.sizePosition, req),
    evaluateTrade: (req) => unary(gate, gate.evaluateTrade, req),
    reportFill: (req) => unary(gate, gate.reportFill, req),
    close: () => gate.close(),
  };
}

export function startReferenceOms(options: ReferenceOmsOptions): ReferenceOms {
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  const replicas = [...new Set([options.gateAddress, ...(options.gateAddresses ?? [])])];
  const gate = tradeCalls(options, replicas, credentials);
  const planClients = replicas.map((a) => new PlanServiceClient(a, credentials, options.channelOptions));
  let plans = planClients[0];
  const reports: PlanReport[] = [];
  let cursor = options.afterSequence ?? 0;
  let stopped = false;
  let stream: grpc.ClientReadableStream<WatchRebalancePlansResponse> | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let orderSeq = 0;
  // Order and fill ids must be unique across runs: the gate takes a repeated fill id for a retry and
  // drops it, so a restarted OMS (or a reused pid) reusing `oms-<pid>-<seq>` ids would lose its fills.
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let rng = options.seed ?? 7;
  const random = (): number => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng / 4294967296;
  };
  // Plans are executed one at a time, in order.
  let queue: Promise<void> = Promise.resolve();

  const connect = (): void => {
    if (stopped) return;
    stream = plans.watchRebalancePlans({ portfolioId: options.portfolioId, afterSequence: cursor });
    stream.on('data', (msg: WatchRebalancePlansResponse) => {
      if (msg.event?.$case !== 'plan') return;
      const plan = msg.event.value;
      queue = queue.then(() => handle(plan)).catch((err: Error) => options.onError?.(err));
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (stopped) return;
      options.onError?.(err);
      // That replica may be gone: watch on the next one (with one gate, the same).
      plans = planClients[(planClients.indexOf(plans) + 1) % planClients.length];
      // Resume after the last plan handled once the queue is through (the cursor then says where).
      reconnect = setTimeout(() => void queue.then(connect), 1_000);
    });
  };

  const handle = async (plan: RebalancePlan): Promise<void> => {
    if (stopped || plan.sequence <= cursor) return;
    const report = await execute(plan);
    cursor = plan.sequence;
    reports.push(report);
    options.onReport?.(report);
  };

  /** Sizes against the plan's budget: the gate may not have loaded the version just committed yet (it does on NOTIFY). */
  const sizeAgainst = async (budgetVersion: number, order: Order) => {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      const sized = await gate.sizePosition({ order });
      if (sized.budgetVersion >= budgetVersion || Date.now() > deadline) return sized;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const execute = async (plan: RebalancePlan): Promise<PlanReport> => {
    const targetGross = plan.orders.reduce((s, o) => s + Math.abs(o.targetNotional), 0);
    const held = new Map(plan.orders.map((o) => [`${o.strategy}\u0000${o.asset}`, o.currentQuantity]));
    const grossNow = (): number =>
      plan.orders.reduce((s, o) => s + Math.abs((held.get(`${o.strategy}\u0000${o.asset}`) ?? 0) * o.referencePrice), 0);
    const base = { planId: plan.planId, sequence: plan.sequence, budgetVersion: plan.budgetVersion, targetGross };
    const skip = (why: string): PlanReport => {
      const grossAfter = grossNow();
      return {
        ...base,
        outcome: 'SKIPPED',
        skipped: why,
        grossAfter,
        drift: driftOf(grossAfter, targetGross),
        trimmedNotional: 0,
        childOrders: 0,
        fills: 0,
      };
    };
    if (plan.state !== PlanState.PLAN_STATE_OPEN) return skip(`plan is ${PlanState[plan.state]}`);
    try {
      await unary(plans, plans.ackRebalancePlan, { planId: plan.planId, outcome: AckOutcome.ACK_OUTCOME_ACCEPTED });
    } catch (err) {
      return skip(`acceptance refused: ${(err as grpc.ServiceError).details ?? (err as Error).message}`);
    }
    let trimmedNotional = 0;
    let childOrders = 0;
    let fills = 0;
    for (const line of plan.orders) {
      const key = `${line.strategy}\u0000${line.asset}`;
      let remaining = Math.abs(line.deltaQuantity);
      const side = line.deltaQuantity >= 0 ? Side.SIDE_BUY : Side.SIDE_SELL;
      const sign = side === Side.SIDE_BUY ? 1 : -1;
      for (let n = 0; remaining > 1e-9 * Math.max(1, Math.abs(line.targetQuantity)) && n < MAX_CHILD_ORDERS_PER_LINE; n++) {
        const order: Order = {
          portfolioId: plan.portfolioId,
          strategy: line.strategy,
          instrument: line.asset,
          side,
          quantity: remaining,
          price: line.referencePrice,
          clientOrderId: `oms-${runId}-${plan.sequence}-${++orderSeq}`,
        };
        const sized = await sizeAgainst(plan.budgetVersion, order);
        if (sized.approvedQuantity <= 0) break;
        const decision = await gate.evaluateTrade({ order: { ...order, quantity: sized.approvedQuantity } });
        if (decision.decision !== Decision.DECISION_APPROVE) break;
        childOrders += 1;
        // The simulated market fills the whole child order at the reference price, sometimes in two parts.
        const slices = random() < (options.partialFillShare ?? 0.5) ? [0.5, 0.5] : [1];
        for (const [i, share] of slices.entries()) {
          await gate.reportFill({
            portfolioId: order.portfolioId,
            strategy: order.strategy,
            instrument: order.instrument,
            side,
            clientOrderId: order.clientOrderId,
            fillId: `${order.clientOrderId}-f${i + 1}`,
            quantity: sized.approvedQuantity * share,
            price: order.price,
            orderDone: i === slices.length - 1,
          });
          fills += 1;
        }
        held.set(key, (held.get(key) ?? 0) + sign * sized.approvedQuantity);
        remaining -= sized.approvedQuantity;
      }
      trimmedNotional += Math.max(0, remaining) * line.referencePrice;
    }
    const outcome = trimmedNotional > 0 ? 'PARTIALLY_EXECUTED' : 'EXECUTED';
    await unary(plans, plans.ackRebalancePlan, {
      planId: plan.planId,
      outcome: outcome === 'EXECUTED' ? AckOutcome.ACK_OUTCOME_EXECUTED : AckOutcome.ACK_OUTCOME_PARTIALLY_EXECUTED,
    });
    const grossAfter = grossNow();
    return { ...base, outcome, grossAfter, drift: driftOf(grossAfter, targetGross), trimmedNotional, childOrders, fills };
  };

  connect();
  return {
    reports,
    get cursor() {
      return cursor;
    },
    async stop() {
      stopped = true;
      if (reconnect) clearTimeout(reconnect);
      stream?.cancel();
      await queue.catch(() => undefined);
      gate.close();
      planClients.forEach((c) => c.close());
    },
  };
}

const driftOf = (gross: number, target: number): number => (target > 0 ? Math.abs(gross - target) / target : gross > 0 ? 1 : 0);
