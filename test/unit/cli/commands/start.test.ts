/** `ballast start` only parses flags and hands them to processes/all.ts (stood in for here). */
import { runCli } from '../../../support/cli';
import { runAllInOne } from '../../../../processes/all';

jest.mock('../../../../processes/all', () => ({ runAllInOne: jest.fn(async () => undefined) }));

const started = jest.mocked(runAllInOne);
const env = (vars: Record<string, string>) => {
  Object.assign(process.env, vars);
  return () => Object.keys(vars).forEach((k) => delete process.env[k]);
};

beforeEach(() => started.mockClear());

test('the documented defaults', async () => {
  await runCli(['start']);
  expect(started).toHaveBeenCalledWith(
    expect.objectContaining({
      portfolioId: 'demo',
      monitoringIntervalMs: 5_000,
      gateHost: '127.0.0.1',
      gatePort: 50_051,
      ordersPerSecond: 200,
    }),
  );
});

test('flags win over the environment, which wins over the defaults', async () => {
  const restore = env({ BALLAST_GATE_PORT: '50999', BALLAST_MONITORING_INTERVAL_MS: '1000' });
  try {
    await runCli(['start', '--portfolio', 'p1', '--interval-ms', '2000', '--no-demo']);
    expect(started).toHaveBeenCalledWith(
      expect.objectContaining({ portfolioId: 'p1', monitoringIntervalMs: 2_000, gatePort: 50_999, ordersPerSecond: 0 }),
    );
  } finally {
    restore();
  }
});

test('a bad value from an environment variable is a usage error naming the variable', async () => {
  const restore = env({ BALLAST_GATE_PORT: 'x' });
  try {
    await expect(runCli(['start'])).rejects.toThrow(/--gate-port \(or BALLAST_GATE_PORT\) must be an integer in \[0, 65535\], got "x"/);
    expect(started).not.toHaveBeenCalled();
  } finally {
    restore();
  }
});

test("the gate's security and connection flags are the same as `ballast gate`'s, passed through", async () => {
  await runCli([
    'start',
    '--certs-dir',
    '/tmp/pki',
    '--tls-name',
    'ballast,gate.internal',
    '--handshake-timeout',
    '2s',
    '--idle-timeout',
    '5m',
    '--max-connections',
    '50',
  ]);
  expect(started).toHaveBeenCalledWith(
    expect.objectContaining({
      gateSecurity: expect.objectContaining({
        certsDir: '/tmp/pki',
        serverNames: ['ballast', 'gate.internal'],
        connectionLimits: { handshakeTimeoutMs: 2_000, idleTimeoutMs: 300_000, maxConnections: 50 },
      }),
    }),
  );
  await expect(runCli(['start', '--tls-client-ca', 'ca.pem'])).rejects.toThrow(/needs --tls-cert/);
});
