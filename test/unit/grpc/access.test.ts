/** The access policy: identity → portfolios/strategies, control grants; control is never open, even without a policy. */
import {
  type AccessPolicy,
  AccessPolicyError,
  type Caller,
  denyControl,
  denyIngest,
  denyTrade,
  parseAccessPolicy,
} from '../../../grpc/access';

const policy: AccessPolicy = {
  'oms-a': { portfolios: ['p1'], strategies: ['trend'] },
  ops: { portfolios: ['*'], strategies: ['*'], control: true },
  feed: { portfolios: [], strategies: [], ingest: true },
};
const as = (identity: string | undefined): Caller => ({ identity, label: identity ?? 'peer:1.2.3.4' });

test('no policy: trading allowed (loopback development), control refused to everyone', () => {
  expect(denyTrade(undefined, as(undefined), 'p1', 'trend')).toBeUndefined();
  expect(denyControl(undefined, as(undefined), 'p1')).toMatch(/no access policy/);
  expect(denyControl(undefined, { identity: undefined, label: 'unverified:risk-ops' }, 'p1')).toMatch(/not authorized for control/);
  expect(denyControl(undefined, as('ops'), 'p1')).toMatch(/not authorized for control/);
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

test('control needs an explicit grant to a verified identity', () => {
  expect(denyControl(policy, as('oms-a'), 'p1')).toMatch(/not authorized for control/);
  expect(denyControl(policy, as('ops'), 'p1')).toBeUndefined();
  // A self-named caller carries the granted name only as an unverified label.
  expect(denyControl(policy, { identity: undefined, label: 'unverified:ops' }, 'p1')).toMatch(/not authorized for control/);
});

test('feeding market data needs its own ingest grant: a control grant is not enough, an ingest grant gives nothing else', () => {
  expect(denyIngest(undefined, as('feed'))).toMatch(/no access policy/);
  expect(denyIngest(policy, as('feed'))).toBeUndefined();
  expect(denyIngest(policy, as('ops'))).toMatch(/no "ingest: true"/);
  expect(denyIngest(policy, { identity: undefined, label: 'unverified:feed' })).toMatch(/may not feed market data/);
  expect(denyControl(policy, as('feed'), 'p1')).toMatch(/not authorized for control/);
  expect(denyTrade(policy, as('feed'), 'p1', 'trend')).toMatch(/may not trade portfolio/);
});

test('the YAML policy format', () => {
  const p = parseAccessPolicy('oms-a:\n  portfolios: [p1]\nops:\n  portfolios: ["*"]\n  control: true\n', 'test.yaml');
  expect(p).toEqual({
    'oms-a': { portfolios: ['p1'], strategies: ['*'], control: false, ingest: false },
    ops: { portfolios: ['*'], strategies: ['*'], control: true, ingest: false },
  });
  expect(() => parseAccessPolicy('oms-a:\n  portfolios: p1\n', 'x.yaml')).toThrow(/oms-a.portfolios must be a list of strings/);
  expect(() => parseAccessPolicy('ops:\n  portfolios: ["*"]\n  control: yes please\n', 'x.yaml')).toThrow(AccessPolicyError);
  expect(() => parseAccessPolicy('- a\n', 'x.yaml')).toThrow(/must map identities to grants/);
  expect(parseAccessPolicy('feed:\n  portfolios: []\n  ingest: true\n', 'x.yaml').feed.ingest).toBe(true);
  expect(() => parseAccessPolicy('feed:\n  portfolios: []\n  ingest: 1\n', 'x.yaml')).toThrow(/feed.ingest must be true or false/);
});
