/** A small PlanService client for the tests (and the shape an OMS follows): a stream with a queue of plans. */
import * as grpc from '@grpc/grpc-js';
import {
  type AckOutcome,
  type AckRebalancePlanResponse,
  PlanServiceClient,
  type RebalancePlan,
  type WatchRebalancePlansResponse,
} from '../../../grpc/generated/ballast/gate/v1/plans';

export type PlanClient = InstanceType<typeof PlanServiceClient>;
export const planClient = (address: string, creds = grpc.credentials.createInsecure()): PlanClient => new PlanServiceClient(address, creds);

export interface PlanWatch {
  /** Every plan received, in order, with the time it arrived (Date.now()). */
  readonly received: { plan: RebalancePlan; atMs: number }[];
  readonly keepalives: number;
  /** The stream's end status, once it ended. */
  readonly ended: grpc.ServiceError | null;
  /** Resolves once `count` plans have arrived in all (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<RebalancePlan[]>;
  cancel(): void;
}

export function watchPlans(c: PlanClient, portfolioId: string, afterSequence = 0): PlanWatch {
  const stream = c.watchRebalancePlans({ portfolioId, afterSequence });
  const state = { received: [] as { plan: RebalancePlan; atMs: number }[], keepalives: 0, ended: null as grpc.ServiceError | null };
  const waiters: (() => void)[] = [];
  const notify = (): void => void waiters.splice(0).forEach((w) => w());
  stream.on('data', (msg: WatchRebalancePlansResponse) => {
    if (msg.event?.$case === 'plan') state.received.push({ plan: msg.event.value, atMs: Date.now() });
    else if (msg.event?.$case === 'keepalive') state.keepalives += 1;
    notify();
  });
  stream.on('error', (err: grpc.ServiceError) => {
    state.ended = err;
    notify();
  });
  return {
    get received() {
      return state.received;
    },
    get keepalives() {
      return state.keepalives;
    },
    get ended() {
      return state.ended;
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.received.length < count) {
        if (state.ended && state.ended.code !== grpc.status.CANCELLED) throw state.ended;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`received ${state.received.length} of ${count} plans`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.min(left, 200));
        });
      }
      return state.received.slice(0, count).map((r) => r.plan);
    },
    cancel: () => stream.cancel(),
  };
}

export function ackPlan(c: PlanClient, planId: string, outcome: AckOutcome): Promise<AckRebalancePlanResponse> {
  return new Promise((resolve, reject) =>
    c.ackRebalancePlan({ planId, outcome }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}
