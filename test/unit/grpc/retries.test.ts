/**
 * Idempotent EvaluateTrade (issue 13 §3), on the decision core: the same order under the same client
 * order id is answered with the original decision and reserves nothing twice; another order under it
 * is CLIENT_ORDER_ID_REUSED; both hold after a restart rebuilds the memory from the audit; a memory
 * that lost the order (evicted) refuses with DUPLICATE_CLIENT_ORDER_ID rather than guess.
 */
import { GateCore } from '../../../grpc/gate';
import type { ApprovedOrder } from '../../../db/stores/gateDecisions';
import type { OrderRequest } from '../../../risk/pretrade/checks';
import { budget, gateCore, order, snapshotOf, T0 } from '../risk/pretrade/fixtures';

const clock = { now: T0 + 60_000 };
let core: GateCore;

beforeEach(() => {
  clock.now = T0 + 60_000;
  core = gateCore(clock);
  core.install(snapshotOf());
});

const evaluate = (o: OrderRequest, c: GateCore = core) => c.evaluate(o, 'oms', process.hrtime.bigint());
const reservedBuy = (c: GateCore = core) => c.book('p1').pair('trend', 'AAPL')?.reservedBuy ?? 0;

test('a retry of the same order gets the original approval back and reserves nothing twice', () => {
  const o = order({ clientOrderId: 'retry-1', quantity: 700 });
  const first = evaluate(o);
  expect(first).toMatchObject({ approved: true, replayed: false, version: 1, state: 'ACTIVE' });
  expect(reservedBuy()).toBe(700);
  const again = evaluate({ ...o });
  expect(again).toMatchObject({ approved: true, reasons: [], explanations: [], replayed: true, version: 1, state: 'ACTIVE' });
  expect(reservedBuy()).toBe(700);
  expect(core.book('p1').openReservations).toBe(1);
});

test('the retry answers the original decision even when the budget or capacity moved since', () => {
  const o = order({ clientOrderId: 'retry-2', quantity: 900 });
  expect(evaluate(o).approved).toBe(true);
  // A new budget version, and the pair now full (180k of 200k): the same order under a new id is denied at v2.
  core.install(snapshotOf(budget(), { version: 2 }));
  expect(evaluate(order({ quantity: 900 })).approved).toBe(true);
  expect(evaluate({ ...o, clientOrderId: 'fresh' })).toMatchObject({ reasons: ['POSITION_LIMIT'], version: 2 });
  expect(evaluate(o)).toMatchObject({ approved: true, replayed: true, version: 1 });
});

test('after the order filled and ended, a late retry still gets the approval, not a new reservation', () => {
  const o = order({ clientOrderId: 'retry-3', quantity: 100 });
  evaluate(o);
  core.reportFill({ ...o, instrument: 'AAPL', fillId: 'f1', orderDone: true });
  expect(core.book('p1').openReservations).toBe(0);
  expect(evaluate(o)).toMatchObject({ approved: true, replayed: true });
  expect(core.book('p1').openReservations).toBe(0);
});

test.each([
  ['strategy', { strategy: 'carry', instrument: 'XOM', price: 50 }],
  ['instrument', { instrument: 'MSFT', price: 200 }],
  ['side', { side: 'SELL' as const }],
  ['quantity', { quantity: 101 }],
  ['price', { price: 100.5 }],
])('the same id with another %s is CLIENT_ORDER_ID_REUSED, and reserves nothing', (_field, change) => {
  const o = order({ clientOrderId: 'reuse-1', quantity: 100 });
  expect(evaluate(o).approved).toBe(true);
  const r = evaluate({ ...o, ...change });
  expect(r).toMatchObject({ approved: false, reasons: ['CLIENT_ORDER_ID_REUSED'], replayed: false });
  expect(r.explanations[0]).toMatchObject({ reason: 'CLIENT_ORDER_ID_REUSED', scope: 'PORTFOLIO' });
  expect(core.book('p1').openReservations).toBe(1);
  // The original order's retry is still answered.
  expect(evaluate(o)).toMatchObject({ approved: true, replayed: true });
});

test('the same id in another portfolio is another order (ids are per portfolio)', () => {
  core.install(snapshotOf(budget('p2')));
  expect(evaluate(order({ clientOrderId: 'shared' })).approved).toBe(true);
  expect(evaluate(order({ portfolioId: 'p2', clientOrderId: 'shared' }))).toMatchObject({ approved: true, replayed: false });
});

test('a denial does not consume the id: a retry is decided afresh', () => {
  const o = order({ clientOrderId: 'denied-1', quantity: 1_500 });
  expect(evaluate(o).reasons).toEqual(['MAX_ORDER_NOTIONAL']);
  expect(evaluate({ ...o, quantity: 100 })).toMatchObject({ approved: true, replayed: false });
});

test('a replayed answer waits for the records before it to be durable', async () => {
  let synced = 0;
  const durable = new GateCore({ ...core.options, durable: async () => void synced++ });
  durable.install(snapshotOf());
  const o = order({ clientOrderId: 'sync-1' });
  evaluate(o, durable);
  await evaluate(o, durable).recorded;
  expect(synced).toBe(1);
});

test('an id whose order the memory evicted (still working) is refused DUPLICATE_CLIENT_ORDER_ID', () => {
  const small = new GateCore({ ...core.options, maxRememberedIds: 1 });
  small.install(snapshotOf());
  const a = order({ clientOrderId: 'a' });
  evaluate(a, small);
  evaluate(order({ clientOrderId: 'b' }), small);
  expect(evaluate(a, small).reasons).toEqual(['DUPLICATE_CLIENT_ORDER_ID']);
  expect(small.book('p1').openReservations).toBe(2);
});

describe('after a restart (memory rebuilt from the audit)', () => {
  const approved = (o: OrderRequest, extra: Partial<ApprovedOrder> = {}): ApprovedOrder => ({
    portfolioId: o.portfolioId,
    strategy: o.strategy,
    instrument: o.instrument,
    side: o.side,
    clientOrderId: o.clientOrderId,
    approvedQuantity: o.quantity,
    price: o.price,
    decidedAtMs: T0 + 30_000,
    filled: 0,
    done: false,
    budgetVersion: 1,
    tradingState: 'ACTIVE',
    ...extra,
  });

  test('a working order: the retry is replayed, a different order refused, the reservation counted once', () => {
    const o = order({ clientOrderId: 'w-1', quantity: 300 });
    expect(core.restore([approved(o, { filled: 100 })], [])).toEqual({ working: 1 });
    expect(reservedBuy()).toBe(200);
    expect(evaluate(o)).toMatchObject({ approved: true, replayed: true, version: 1, state: 'ACTIVE', risk: undefined });
    expect(evaluate({ ...o, quantity: 200 }).reasons).toEqual(['CLIENT_ORDER_ID_REUSED']);
    expect(reservedBuy()).toBe(200);
  });

  test('a done order is remembered with its answer too', () => {
    const o = order({ clientOrderId: 'd-1' });
    expect(core.restore([approved(o, { filled: 100, done: true, budgetVersion: 7, tradingState: 'REDUCING' })], [])).toEqual({
      working: 0,
    });
    expect(evaluate(o)).toMatchObject({ approved: true, replayed: true, version: 7, state: 'REDUCING' });
  });

  test('an id listed twice (replayed audit rows) reserves once: the first approval stands', () => {
    const o = order({ clientOrderId: 'twice', quantity: 300 });
    expect(core.restore([approved(o), approved(o)], [])).toEqual({ working: 1 });
    expect(reservedBuy()).toBe(300);
  });
});
