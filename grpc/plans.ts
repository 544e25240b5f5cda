/**
 * PlanService: rebalancing plans streamed to the OMS (WatchRebalancePlans) and their acknowledgement
 * (AckRebalancePlan), over the outbox (db/stores/planOutbox.ts through the `PlanPorts` port).
 *
 * The outbox is the buffer, not the gate's memory: a notification (`ballast_plan`, NOTIFY on commit)
 * only marks a subscriber dirty; its pump reads the plans after its cursor in batches and writes the
 * next batch only once gRPC has flushed the previous one ('drain'). So a slow subscriber holds at most
 * one batch in memory, and a lost notification or a reconnect loses nothing (every (re)connect of the
 * listener re-reads every subscriber). The number of subscribers is bounded (RESOURCE_EXHAUSTED beyond).
 * An idle stream gets a keepalive; a client deadline or cancel ends its stream; close() ends every
 * stream with UNAVAILABLE so the server can shut down (the OMS reconnects with its cursor).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Subscription } from '../db/notifications';
import type { AckOutcome, AckResult, PlanState, StreamedPlan } from '../db/stores/planOutbox';
import { type AccessPolicy, callerOf, denyTrade } from './access';
import type { Timestamp } from './generated/google/protobuf/timestamp';
import {
  type AckRebalancePlanRequest,
  type AckRebalancePlanResponse,
  AckOutcome as ProtoAckOutcome,
  PlanState as ProtoPlanState,
  type PlanServiceServer,
  type RebalancePlan,
  type WatchRebalancePlansRequest,
  type WatchRebalancePlansResponse,
} from './generated/ballast/gate/v1/plans';
import type { ChangeFeed } from './ports';
import { requireId } from './requests';
import { InvalidArgument, Refused, toStatus, unaryAsync } from './status';

/** What the plan stream reads and writes (db/stores/planOutbox.ts `PlanOutboxStore`). */
export interface PlanStore {
  after(portfolioId: string, afterSequence: number, limit: number): Promise<StreamedPlan[]>;
  latestSequence(portfolioId: string): Promise<number>;
  markDelivered(planIds: readonly string[]): Promise<void>;
  portfolioOf(planId: string): Promise<string | undefined>;
  acknowledge(planId: string, outcome: AckOutcome, by: string): Promise<AckResult>;
}

export interface PlanPorts {
  readonly store: PlanStore;
  /** Plan commits, per portfolio (LISTEN ballast_plan: db/notifications.ts `planCommitFeed`). */
  readonly commits: ChangeFeed;
}

export interface PlanStreamOptions {
  readonly ports: PlanPorts;
  readonly access: AccessPolicy | undefined;
  readonly logger: Logger;
  /** An idle stream gets a keepalive this often (default 15 s). */
  readonly keepaliveMs?: number;
  /** Plans read and written per step; also the most a slow subscriber holds in memory (default 50). */
  readonly batchSize?: number;
  /** Concurrent streams beyond this are refused with RESOURCE_EXHAUSTED (default 1 000). */
  readonly maxSubscribers?: number;
}

type WatchCall = grpc.ServerWritableStream<WatchRebalancePlansRequest, WatchRebalancePlansResponse>;

const PLAN_STATE: Record<PlanState, ProtoPlanState> = {
  OPEN: ProtoPlanState.PLAN_STATE_OPEN,
  SUPERSEDED: ProtoPlanState.PLAN_STATE_SUPERSEDED,
  EXPIRED: ProtoPlanState.PLAN_STATE_EXPIRED,
  ACKNOWLEDGED: ProtoPlanState.PLAN_STATE_ACKNOWLEDGED,
};

const ACK_OUTCOME: Record<AckOutcome, ProtoAckOutcome> = {
  ACCEPTED: ProtoAckOutcome.ACK_OUTCOME_ACCEPTED,
  EXECUTED: ProtoAckOutcome.ACK_OUTCOME_EXECUTED,
  PARTIALLY_EXECUTED: ProtoAckOutcome.ACK_OUTCOME_PARTIALLY_EXECUTED,
  DECLINED: ProtoAckOutcome.ACK_OUTCOME_DECLINED,
};

const ackOutcomeOf = (code: ProtoAckOutcome): AckOutcome => {
  const found = (Object.keys(ACK_OUTCOME) as AckOutcome[]).find((k) => ACK_OUTCOME[k] === code);
  if (!found) throw new InvalidArgument('outcome must be ACCEPTED, EXECUTED, PARTIALLY_EXECUTED or DECLINED');
  return found;
};

export const timestamp = (at: Date | number): Timestamp => {
  const ms = typeof at === 'number' ? at : at.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
};

export function planMessage(p: StreamedPlan): RebalancePlan {
  return {
    planId: p.planId,
    portfolioId: p.portfolioId,
    sequence: p.sequence,
    budgetVersion: p.budgetVersion,
    supersedesBudgetVersion: p.supersedesVersion ?? 0,
    supersedesPlanId: p.supersedesPlanId ?? '',
    state: PLAN_STATE[p.state],
    supersededBy: p.supersededBy ?? '',
    committedAt: timestamp(p.committedAt),
    expiresAt: timestamp(p.expiresAt),
    regime: p.regime,
    grossLeverage: p.grossLeverage,
    cashWeight: p.cashWeight,
    orders: p.orders.map((o) => ({ ...o })),
    ackOutcome: p.ackOutcome ? ACK_OUTCOME[p.ackOutcome] : ProtoAckOutcome.ACK_OUTCOME_UNSPECIFIED,
  };
}

/** The plan streams of one gate: the service grpc-js serves, the LISTEN subscription, and close(). */
export class PlanStreams {
  private readonly subscribers = new Map<string, Set<PlanSubscriber>>();
  private subscription: Subscription | undefined;
  private count = 0;
  private closed = false;

  constructor(private readonly options: PlanStreamOptions) {}

  /** Subscribes to plan commits; on every (re)connect each subscriber re-reads after its cursor. */
  async start(): Promise<void> {
    this.subscription = await this.options.ports.commits.subscribe({
      onChange: (portfolioId) => this.wake(portfolioId),
      onConnected: () => this.wake(undefined),
    });
  }

  get subscriberCount(): number {
    return this.count;
  }

  service(): PlanServiceServer {
    const { logger } = this.options;
    return {
      watchRebalancePlans: (call) => this.watch(call),
      ackRebalancePlan: unaryAsync(logger, (call) => this.ack(call)),
    };
  }

  /** Ends every stream (UNAVAILABLE: reconnect with your cursor) and the subscription. */
  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.subscribers.values()) for (const s of set) s.end({ code: grpc.status.UNAVAILABLE, details: 'gate stopping' });
    this.subscribers.clear();
    await this.subscription?.close();
  }

  private wake(portfolioId: string | undefined): void {
    const sets = portfolioId === undefined ? [...this.subscribers.values()] : [this.subscribers.get(portfolioId)].filter((s) => s);
    for (const set of sets) for (const s of set as Set<PlanSubscriber>) s.wake();
  }

  private watch(call: WatchCall): void {
    const { access, logger } = this.options;
    try {
      const portfolioId = requireId(call.request.portfolioId, 'portfolio_id');
      const denied = denyTrade(access, callerOf(call), portfolioId, '');
      if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
      if (this.closed) throw new Refused(grpc.status.UNAVAILABLE, 'gate stopping');
      if (this.count >= (this.options.maxSubscribers ?? 1_000))
        throw new Refused(grpc.status.RESOURCE_EXHAUSTED, 'too many plan subscribers on this gate');
      const after = Number(call.request.afterSequence ?? 0);
      if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgument('after_sequence must be a non-negative integer');
      const subscriber = new PlanSubscriber(call, portfolioId, after, this.options, () => this.remove(portfolioId, subscriber));
      let set = this.subscribers.get(portfolioId);
      if (!set) this.subscribers.set(portfolioId, (set = new Set()));
      set.add(subscriber);
      this.count += 1;
      subscriber.wake();
    } catch (err) {
      call.emit('error', toStatus(err, logger));
    }
  }

  private remove(portfolioId: string, subscriber: PlanSubscriber): void {
    const set = this.subscribers.get(portfolioId);
    if (!set?.delete(subscriber)) return;
    this.count -= 1;
    if (set.size === 0) this.subscribers.delete(portfolioId);
  }

  private async ack(call: grpc.ServerUnaryCall<AckRebalancePlanRequest, AckRebalancePlanResponse>): Promise<AckRebalancePlanResponse> {
    const { store } = this.options.ports;
    const planId = requireId(call.request.planId, 'plan_id');
    const outcome = ackOutcomeOf(call.request.outcome);
    const caller = callerOf(call);
    const portfolioId = await store.portfolioOf(planId);
    // An unknown plan and a plan of a portfolio the caller may not see answer alike: ids are not probed.
    const denied = portfolioId === undefined ? undefined : denyTrade(this.options.access, caller, portfolioId, '');
    if (denied) throw new Refused(grpc.status.PERMISSION_DENIED, denied);
    if (portfolioId === undefined) throw new Refused(grpc.status.NOT_FOUND, `no plan "${planId}"`);
    const result = await store.acknowledge(planId, outcome, caller.label);
    if (!result.ok)
      throw new Refused(result.reason === 'not-found' ? grpc.status.NOT_FOUND : grpc.status.FAILED_PRECONDITION, result.message);
    return { plan: planMessage(result.plan) };
  }
}

/** One stream: its cursor, its pump (one batch at a time, waiting for gRPC to flush) and its keepalive. */
class PlanSubscriber {
  private dirty = false;
  private pumping = false;
  private ended = false;
  private lastWriteAt = Date.now();
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly call: WatchCall,
    private readonly portfolioId: string,
    private cursor: number,
    private readonly options: PlanStreamOptions,
    private readonly onEnd: () => void,
  ) {
    const keepaliveMs = options.keepaliveMs ?? 15_000;
    this.keepalive = setInterval(() => void this.sendKeepalive(keepaliveMs), Math.max(10, keepaliveMs / 2));
    this.keepalive.unref();
    // The client went away (cancel, deadline, connection lost): stop at once.
    call.on('cancelled', () => this.stop());
    call.on('close', () => this.stop());
    call.on('error', () => this.stop());
  }

  wake(): void {
    this.dirty = true;
    void this.pump();
  }

  end(status: Partial<grpc.StatusObject>): void {
    if (this.ended) return;
    this.stop();
    this.call.emit('error', status);
  }

  private stop(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepalive);
    this.onEnd();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.ended) return;
    this.pumping = true;
    const { store } = this.options.ports;
    const batch = this.options.batchSize ?? 50;
    try {
      while (this.dirty && !this.ended) {
        this.dirty = false;
        for (;;) {
          const plans = await store.after(this.portfolioId, this.cursor, batch);
          const sent: string[] = [];
          for (const plan of plans) {
            if (this.ended) break;
            const flushed = this.call.write({ event: { $case: 'plan', value: planMessage(plan) } });
            this.cursor = plan.sequence;
            this.lastWriteAt = Date.now();
            sent.push(plan.planId);
            if (!flushed) await this.drained();
          }
          await store.markDelivered(sent);
          if (plans.length < batch || this.ended) break;
        }
      }
    } catch (err) {
      // A database hiccup: try again shortly; the cursor has not moved past anything unsent.
      this.options.logger.warn({ err: (err as Error).message, portfolioId: this.portfolioId }, 'plan stream read failed; retrying');
      setTimeout(() => this.wake(), 1_000).unref();
    } finally {
      this.pumping = false;
    }
  }

  /** Resolves when gRPC has flushed what was written, or the stream ended. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.call.off('cancelled', done);
        this.call.off('close', done);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('cancelled', done);
      this.call.on('close', done);
    });
  }

  private async sendKeepalive(keepaliveMs: number): Promise<void> {
    if (this.ended || this.pumping || Date.now() - this.lastWriteAt < keepaliveMs) return;
    this.lastWriteAt = Date.now();
    const latestSequence = await this.options.ports.store.latestSequence(this.portfolioId).catch(() => this.cursor);
    if (!this.ended) this.call.write({ event: { $case: 'keepalive', value: { at: timestamp(Date.now()), latestSequence } } });
  }
}
