/**
 * A stand-in order management system for the demo: it sends a steady stream of orders to the gate,
 * reports fills for the approved ones (so positions build up against the limits) and counts decisions.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { BudgetStore } from '../db/stores/budgets';
import { Decision, GateServiceClient, Side } from '../grpc/generated/ballast/gate/v1/gate';
import type { RiskBudget } from '../risk/budget';

export interface OrderFlowStats {
  approved: number;
  denied: number;
  errors: number;
  /** Decisions in the last full second. */
  perSecond: number;
  lastDenyReason: string | null;
}

export interface OrderFlow {
  readonly stats: OrderFlowStats;
  stop(): Promise<void>;
}

/** Where and how the flow calls the gate (processes/gateSecurity.ts localGateClient: mTLS as the demo OMS). */
export interface GateClientSettings {
  readonly target: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly options?: grpc.ClientOptions;
}

export function startOrderFlow(opts: {
  gate: GateClientSettings;
  portfolioId: string;
  store: BudgetStore;
  ordersPerSecond: number;
  seed?: number;
}): OrderFlow {
  const client = new GateServiceClient(opts.gate.target, opts.gate.credentials, opts.gate.options);
  const stats: OrderFlowStats = { approved: 0, denied: 0, errors: 0, perSecond: 0, lastDenyReason: null };
  let budget: RiskBudget | undefined;
  let seq = 0;
  let rng = opts.seed ?? 1;
  const random = () => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng / 4294967296;
  };
  let stopped = false;
  let lastCount = 0;

  const refresh = async () => {
    budget = (await opts.store.latestBudget(opts.portfolioId).catch(() => undefined))?.budget ?? budget;
  };
  const budgetTimer = setInterval(() => void refresh(), 2_000);
  void refresh();
  const rateTimer = setInterval(() => {
    const total = stats.approved + stats.denied;
    stats.perSecond = total - lastCount;
    lastCount = total;
  }, 1_000);

  // Unique across runs: a restarted demo (in a container its pid repeats) must not reuse order or fill
  // ids, which the gate would take for retries.
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const sendOne = () => {
    if (stopped || !budget || budget.assets.length === 0) return;
    const asset = budget.assets[Math.floor(random() * budget.assets.length)];
    const side = random() < 0.55 ? Side.SIDE_BUY : Side.SIDE_SELL;
    // Orders of 0.5–8 % of the asset's position limit: most pass, the large ones near the limit do not.
    const notional = asset.maxPositionNotional * (0.005 + random() * 0.075);
    const quantity = Math.max(1, Math.round(notional / asset.referencePrice));
    const clientOrderId = `demo-${runId}-${++seq}`;
    const order = {
      portfolioId: opts.portfolioId,
      strategy: asset.strategy,
      instrument: asset.asset,
      side,
      quantity,
      price: asset.referencePrice,
      clientOrderId,
    };
    client.evaluateTrade({ order }, new grpc.Metadata(), { deadline: Date.now() + 2_000 }, (err, res) => {
      if (stopped) return;
      if (err || !res) {
        stats.errors++;
        return;
      }
      if (res.decision === Decision.DECISION_APPROVE) {
        stats.approved++;
        client.reportFill(
          {
            portfolioId: order.portfolioId,
            strategy: order.strategy,
            instrument: order.instrument,
            side,
            clientOrderId,
            fillId: `${clientOrderId}-f1`,
            quantity,
            price: order.price,
            orderDone: true,
          },
          () => undefined,
        );
      } else {
        stats.denied++;
        stats.lastDenyReason = res.detail || String(res.reasons[0]);
      }
    });
  };
  const perTick = Math.max(1, Math.round(opts.ordersPerSecond / 20));
  const orderTimer = setInterval(() => {
    for (let i = 0; i < perTick; i++) sendOne();
  }, 50);

  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(orderTimer);
      clearInterval(budgetTimer);
      clearInterval(rateTimer);
      client.close();
    },
  };
}
