/**
 * The risk checks through a real gate process over Postgres: a budget committed with its risk model
 * (stored by content id) is served with VOL_LIMIT and RISK_BUDGET; the response carries the figures and
 * GetUtilization the book's ex-ante vol and strategy shares.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  Decision,
  type EvaluateTradeResponse,
  type GetUtilizationResponse,
  ReasonCode,
  type ReportFillResponse,
  Side,
  type SizePositionResponse,
} from '../../../grpc/generated/ballast/gate/v1/gate';
import type { RunningGate } from '../../../grpc/server';
import { RiskModelStore } from '../../../db/stores/riskModels';
import { covarianceFromRows } from '../../../risk/covariance';
import { denseRiskModel, riskModelId } from '../../../risk/riskModel';
import type { AnnualizedVol, Fraction } from '../../../risk/units';
import { buy, call, client, commitFixture, gate, newPortfolioId, withPool } from './helpers';

let g: RunningGate | undefined;
let c: grpc.Client | undefined;
afterEach(async () => {
  c?.close();
  await g?.close();
});

// AAPL and MSFT at 20 % vol, ρ = 0.9; XOM 30 %, uncorrelated. Vol limit 7 % of 1M capital = 70k.
const model = denseRiskModel(
  covarianceFromRows(
    'annualized',
    ['AAPL', 'MSFT', 'XOM'],
    [
      [0.04, 0.036, 0],
      [0.036, 0.04, 0],
      [0, 0, 0.09],
    ],
  ),
);

test('a correlated pair is denied with VOL_LIMIT and the figures; SizePosition names the limit; utilization shows the vol', async () => {
  const pid = newPortfolioId('risk');
  await withPool(async (pool, store) => {
    await new RiskModelStore(pool).put(model);
    await commitFixture(store, pid, (b) => ({
      ...b,
      riskLimits: {
        modelId: riskModelId(model),
        form: 'dense',
        assetCount: 3,
        volLimit: 0.07 as AnnualizedVol,
        riskBudgetTolerance: 0.1 as Fraction,
      },
    }));
  });
  g = await gate();
  const gc = client(g.address);
  c = gc;
  const fill = (instrument: string, quantity: number, price: number, id: string) =>
    call<unknown, ReportFillResponse>(gc, 'reportFill', {
      portfolioId: pid,
      strategy: 'trend',
      instrument,
      side: Side.SIDE_BUY,
      clientOrderId: id,
      fillId: id,
      quantity,
      price,
      orderDone: true,
    });
  await fill('AAPL', 1_900, 100, 'f1'); // 190k: σ 38k
  await fill('MSFT', 450, 200, 'f2'); // 90k: σ 18k
  const denied = await call<unknown, EvaluateTradeResponse>(gc, 'evaluateTrade', {
    order: buy(pid, { instrument: 'MSFT', quantity: 500, price: 200 }),
  });
  expect(denied).toMatchObject({ decision: Decision.DECISION_DENY, reasons: [ReasonCode.REASON_CODE_VOL_LIMIT] });
  expect(denied.risk!.volAfter).toBeCloseTo((38_000 * Math.sqrt(3.8)) / 1e6, 9);
  expect(denied.risk!.volLimit).toBeCloseTo(0.07, 12);
  const sized = await call<unknown, SizePositionResponse>(gc, 'sizePosition', {
    order: buy(pid, { instrument: 'MSFT', quantity: 500, price: 200, clientOrderId: '' }),
  });
  expect(sized.bindingLimit).toBe(ReasonCode.REASON_CODE_VOL_LIMIT);
  expect(sized.risk!.volAfter).toBeCloseTo(0.07, 9);
  const u = await call<unknown, GetUtilizationResponse>(gc, 'getUtilization', { portfolioId: pid });
  expect(u.risk!.vol).toBeCloseTo(Math.sqrt(38_000 ** 2 + 18_000 ** 2 + 2 * 0.9 * 38_000 * 18_000) / 1e6, 9);
  expect(u.risk).toMatchObject({ volTarget: 0.12, volLimit: 0.07 });
  expect(u.risk!.strategies.find((s) => s.strategy === 'trend')).toMatchObject({ budget: 0.7 });
});
