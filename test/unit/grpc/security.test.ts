/** What the gate refuses to start with: a policy without client certificates, or anything short of mTLS + policy beyond loopback. */
import { checkGateSecurity, GateSecurityError, isLoopback } from '../../../grpc/security';

const mtls = { cert: 'c', key: 'k', clientCa: 'ca' };
const policy = { ops: { portfolios: ['*'], strategies: ['*'], control: true } };

test('loopback may serve plaintext without a policy (development, tests)', () => {
  expect(() => checkGateSecurity({ host: '127.0.0.1' })).not.toThrow();
  expect(() => checkGateSecurity({ host: '::1' })).not.toThrow();
  expect(isLoopback('localhost')).toBe(true);
  expect(isLoopback('0.0.0.0')).toBe(false);
  expect(isLoopback('::')).toBe(false);
  expect(isLoopback('10.0.0.7')).toBe(false);
});

test('a policy without TLS client certificates is refused, with the reason', () => {
  expect(() => checkGateSecurity({ host: '127.0.0.1', access: policy })).toThrow(GateSecurityError);
  expect(() => checkGateSecurity({ host: '127.0.0.1', access: policy, tls: { cert: 'c', key: 'k' } })).toThrow(
    /an access policy needs TLS with client certificates .* no caller has an identity, so the policy would refuse every call/,
  );
});

test('beyond loopback only mTLS with a policy', () => {
  expect(() => checkGateSecurity({ host: '0.0.0.0' })).toThrow(/beyond loopback/);
  expect(() => checkGateSecurity({ host: '0.0.0.0', tls: mtls })).toThrow(/beyond loopback/);
  expect(() => checkGateSecurity({ host: '0.0.0.0', tls: { cert: 'c', key: 'k' }, access: policy })).toThrow(GateSecurityError);
  expect(() => checkGateSecurity({ host: '0.0.0.0', tls: mtls, access: policy })).not.toThrow();
});
