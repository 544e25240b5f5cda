/** The access policy: identity → portfolios/strategies, control grants, open when no policy is set. */
import { type AccessPolicy, type Caller, denyControl, denyTrade } from '../../../grpc/access';

const policy: AccessPolicy = {
  'oms-a': { portfolios: ['p1'], strategies: ['trend'] },
  ops: { portfolios: ['*'], strategies: ['*'], control: true },
};
const as = (identity: string | undefined): Caller => ({ identity, label: identity ?? 'peer:1.2.3.4' });

test('no policy: everything allowed (development)', () => {
  expect(denyTrade(undefined, as(undefined), 'p1', 'trend')).toBeUndefined();
  expect(denyControl(undefined, as(undefined), 'p1')).toBeUndefined();
});

test('trading is limited to granted portfolios and strategies', () => {
  expect(denyTrade(policy, as('oms-a'), 'p1', 'trend')).toBeUndefined();
  expect(denyTrade(policy, as('oms-a'), 'p2', 'trend')).toMatch(/may not trade portfolio "p2"/);
  expect(denyTrade(policy, as('oms-a'), 'p1', 'carry')).toMatch(/may not trade strategy "carry"/);
  expect(denyTrade(policy, as('ops'), 'anything', 'any')).toBeUndefined();
});

test('unauthenticated or unknown callers are refused once a policy exists', () => {
  expect(denyTrade(policy, as(undefined), 'p1', 'trend')).toMatch(/not authorized/);
  expect(denyTrade(policy, as('mallory'), 'p1', 'trend')).toMatch(/not authorized/);
});

test('control needs an explicit grant', () => {
  expect(denyControl(policy, as('oms-a'), 'p1')).toMatch(/not authorized for control/);
  expect(denyControl(policy, as('ops'), 'p1')).toBeUndefined();
});
