/** Flag validation of `ballast gate` and `ballast load`: user errors are UsageErrors, caught before any I/O. */
import { run as gate } from '../../../cli/commands/gate';
import { run as load } from '../../../cli/commands/load';
import { UsageError } from '../../../cli/main';
import { parseMix } from '../../../grpc/load';

test.each([
  [['--port', 'abc'], /--port must be an integer/],
  [['--port', '70000'], /--port must be an integer/],
  [['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
  [['--tls-client-ca', 'ca.pem'], /needs --tls-cert/],
  [['--bogus'], /unknown option --bogus/],
  [['extra'], /unexpected argument/],
])('ballast gate %j → UsageError', async (argv, message) => {
  const err = await gate(argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});

test.each([
  [['--portfolio', 'p'], /missing required option --target/],
  [['--target', 'x:1'], /missing required option --portfolio/],
  [['--target', 'x:1', '--portfolio', 'p', '--concurrency', '0'], /--concurrency must be a positive integer/],
  [['--target', 'x:1', '--portfolio', 'p', '--side', 'short'], /--side must be buy or sell/],
  [['--target', 'x:1', '--portfolio', 'p', '--mix', 'cancel=5'], /--mix/],
  [['--target', 'x:1', '--portfolio', 'p', '--tls-cert', 'c'], /need --tls-ca/],
])('ballast load %j → UsageError', async (argv, message) => {
  const err = await load(argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});

test('parseMix reads weights and rejects nonsense', () => {
  expect(parseMix('evaluate=80,size=20')).toEqual({ evaluate: 80, size: 20 });
  expect(parseMix('size')).toEqual({ size: 1 });
  expect(() => parseMix('evaluate=0')).toThrow(/at least one positive weight/);
  expect(() => parseMix('evaluate=-1')).toThrow(/must be evaluate=/);
});
