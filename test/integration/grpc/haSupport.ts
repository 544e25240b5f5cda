/**
 * Gate HA test plumbing: the fixture budget's limits, a worst-case exposure check read from the audit
 * (gate_decisions), and a load client spraying orders across replicas.
 */
import type * as grpc from '@grpc/grpc-js';
import type pg from 'pg';
import { Decision, type EvaluateTradeResponse, type Order, Side } from '../../../grpc/generated/ballast/gate/v1/gate';
import { budget } from '../../unit/risk/pretrade/fixtures';
import { call, type Client } from './helpers';

const FIXTURE = budget('ha');
/** The fixture's pairs at their reference prices (orders are sent at them, so notional = quantity × reference). */
export const PAIRS = FIXTURE.assets.map((a) => ({ strategy: a.strategy, instrument: a.asset, price: a.referencePrice as number }));

export interface LimitReport {
  readonly limit: string;
  readonly used: number;
  readonly max: number;
}

/**
 * Worst-case exposure per limit of what the audit says was approved (no fills in these tests): per
 * pair the larger of reserved buys and sells, as the gate values it (risk/pretrade/exposures.ts).
 * Reservations only grow here, so the final totals are the maximum over every instant.
 */
export async function approvedExposure(pool: pg.Pool, portfolioId: string): Promise<LimitReport[]> {
  const { rows } = await pool.query<{ strategy: string; instrument: string; side: string; qty: number; max_order: number }>(
    `SELECT strategy, instrument, side, sum(approved_quantity) AS qty, max(approved_quantity * price) AS max_order
     FROM gate_decisions WHERE portfolio_id = $1 AND rpc = 'EvaluateTrade' AND decision = 'APPROVE'
     GROUP BY strategy, instrument, side`,
    [portfolioId],
  );
  const report: LimitReport[] = [];
  const byPair = new Map<string, { strategy: string; buy: number; sell: number; price: number; asset: string }>();
  let maxOrder = 0;
  for (const r of rows) {
    const pair = PAIRS.find((p) => p.strategy === r.strategy && p.instrument === r.instrument)!;
    const key = `${r.strategy}/${r.instrument}`;
    const e = byPair.get(key) ?? { strategy: r.strategy, asset: r.instrument, buy: 0, sell: 0, price: pair.price };
    if (r.side === 'BUY') e.buy += Number(r.qty);
    else e.sell += Number(r.qty);
    byPair.set(key, e);
    maxOrder = Math.max(maxOrder, Number(r.max_order));
  }
  report.push({ limit: 'order', used: maxOrder, max: FIXTURE.limits.maxOrderNotional });
  const agg = (pairs: Array<{ buy: number; sell: number; price: number }>) => ({
    gross: pairs.reduce((s, e) => s + Math.max(e.buy, e.sell) * e.price, 0),
    net: Math.max(
      pairs.reduce((s, e) => s + e.buy * e.price, 0),
      pairs.reduce((s, e) => s + e.sell * e.price, 0),
    ),
  });
  for (const a of FIXTURE.assets) {
    const e = byPair.get(`${a.strategy}/${a.asset}`);
    report.push({
      limit: `position ${a.strategy}/${a.asset}`,
      used: e ? Math.max(e.buy, e.sell) * e.price : 0,
      max: a.maxPositionNotional,
    });
  }
  for (const s of FIXTURE.strategies) {
    const a = agg([...byPair.values()].filter((e) => e.strategy === s.strategy));
    report.push({ limit: `strategy gross ${s.strategy}`, used: a.gross, max: s.maxGrossNotional });
    report.push({ limit: `strategy net ${s.strategy}`, used: a.net, max: s.maxNetNotional });
  }
  const total = agg([...byPair.values()]);
  report.push({ limit: 'gross', used: total.gross, max: FIXTURE.limits.maxGrossNotional });
  report.push({ limit: 'net', used: total.net, max: FIXTURE.limits.maxNetNotional });
  return report;
}

/** The limits the approvals exceed (a cent of float tolerance). */
export const overLimits = (report: readonly LimitReport[]): LimitReport[] => report.filter((r) => r.used > r.max + 0.01);

/** A random order on one of the fixture's pairs, at its reference price, sized 2–12 % of its position limit. */
export function randomOrder(portfolioId: string, id: string, rand: () => number, buysOnly = false): Order {
  const i = Math.floor(rand() * PAIRS.length);
  const pair = PAIRS[i];
  const maxUnits = FIXTURE.assets[i].maxPositionNotional / pair.price;
  return {
    portfolioId,
    strategy: pair.strategy,
    instrument: pair.instrument,
    side: buysOnly || rand() < 0.7 ? Side.SIDE_BUY : Side.SIDE_SELL,
    quantity: Math.max(1, Math.round(maxUnits * (0.02 + rand() * 0.1))),
    price: pair.price,
    clientOrderId: id,
  };
}

/** A small deterministic generator, so a failing run can be repeated. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SprayResult {
  readonly approved: string[];
  readonly denied: number;
  readonly failed: number;
  /** Time of each answered decision (ms since epoch). */
  readonly answeredAt: number[];
}

/**
 * `workers` concurrent loops, each sending `perWorker` orders, each to a replica picked at random
 * (`clients()` is read per call, so a test can drop a killed replica). Errors (a killed replica, a
 * takeover in progress) are counted and the loop goes on.
 */
export async function spray(
  clients: () => readonly Client[],
  portfolioId: string,
  opts: { workers: number; perWorker: number; seed: number; tag: string; deadlineMs?: number; pauseMs?: number },
): Promise<SprayResult> {
  const result = { approved: [] as string[], denied: 0, failed: 0, answeredAt: [] as number[] };
  const worker = async (w: number): Promise<void> => {
    const rand = seeded(opts.seed * 1_000 + w);
    for (let i = 0; i < opts.perWorker; i++) {
      const order = randomOrder(portfolioId, `${opts.tag}-${w}-${i}`, rand);
      const pool = clients();
      const c = pool[Math.floor(rand() * pool.length)];
      try {
        const r = await call<unknown, EvaluateTradeResponse>(c, 'evaluateTrade', { order }, opts.deadlineMs ?? 3_000);
        result.answeredAt.push(Date.now());
        if (r.decision === Decision.DECISION_APPROVE) result.approved.push(order.clientOrderId);
        else result.denied++;
      } catch (err) {
        result.failed++;
        if ((err as grpc.ServiceError).code === undefined) throw err;
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return result;
}

/** Client order ids the audit has as approved for the portfolio. */
export async function auditedApprovals(pool: pg.Pool, portfolioId: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ client_order_id: string }>(
    `SELECT client_order_id FROM gate_decisions WHERE portfolio_id = $1 AND rpc = 'EvaluateTrade' AND decision = 'APPROVE'`,
    [portfolioId],
  );
  return new Set(rows.map((r) => r.client_order_id));
}
