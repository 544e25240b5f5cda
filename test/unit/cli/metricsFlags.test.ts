/** The /metrics flags of `ballast start` (the same helper serves `gate` and `worker`). */
import { runCli } from '../../support/cli';
import { runAllInOne } from '../../../processes/all';

jest.mock('../../../processes/all', () => ({ runAllInOne: jest.fn(async () => undefined) }));
const started = jest.mocked(runAllInOne);
beforeEach(() => started.mockClear());
// The integration set-up may have set these for the processes it spawns; the defaults are under test here.
const saved = { host: process.env.BALLAST_METRICS_HOST, port: process.env.BALLAST_METRICS_PORT };
beforeAll(() => {
  delete process.env.BALLAST_METRICS_HOST;
  delete process.env.BALLAST_METRICS_PORT;
});
afterAll(() => {
  if (saved.host !== undefined) process.env.BALLAST_METRICS_HOST = saved.host;
  if (saved.port !== undefined) process.env.BALLAST_METRICS_PORT = saved.port;
});

test('loopback on 9464 by default; --metrics-host/--metrics-port and their variables move it; --no-metrics turns it off', async () => {
  await runCli(['start']);
  expect(started).toHaveBeenLastCalledWith(expect.objectContaining({ metrics: { host: '127.0.0.1', port: 9464 } }));

  process.env.BALLAST_METRICS_PORT = '9999';
  try {
    await runCli(['start', '--metrics-host', '0.0.0.0']);
    expect(started).toHaveBeenLastCalledWith(expect.objectContaining({ metrics: { host: '0.0.0.0', port: 9999 } }));
    await runCli(['start', '--metrics-port', '0']);
    expect(started).toHaveBeenLastCalledWith(expect.objectContaining({ metrics: { host: '127.0.0.1', port: 0 } }));
  } finally {
    delete process.env.BALLAST_METRICS_PORT;
  }
  await runCli(['start', '--no-metrics']);
  expect(started).toHaveBeenLastCalledWith(expect.objectContaining({ metrics: undefined }));
  await expect(runCli(['start', '--metrics-port', '70000'])).rejects.toThrow(
    /--metrics-port \(or BALLAST_METRICS_PORT\) must be an integer/,
  );
});
