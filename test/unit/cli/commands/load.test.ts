/** Flag validation of `ballast load`: user errors are UsageErrors, caught before any call is made. */
import { UsageError } from '../../../../cli/flags';
import { parseMix } from '../../../../grpc/load';
import { runCli } from '../../../support/cli';

test.each([
  [['--portfolio', 'p'], /required option '--target <host:port>' not specified/],
  [['--target', 'x:1'], /required option '--portfolio <id>' not specified/],
  [['--target', 'x:1', '--portfolio', 'p', '--concurrency', '0'], /--concurrency must be a positive integer, got "0"/],
  [['--target', 'x:1', '--portfolio', 'p', '--side', 'short'], /--side must be one of buy, sell/],
  [['--target', 'x:1', '--portfolio', 'p', '--mix', 'cancel=5'], /--mix must be weights like evaluate=80,size=20/],
  [['--target', 'x:1', '--portfolio', 'p', '--duration', '0s'], /--duration must be a positive duration/],
  [['--target', 'x:1', '--portfolio', 'p', '--tls-cert', 'c'], /need --tls-ca/],
  [['--target', 'x:1', '--portfolio', 'p', '--certs-dir', '/nonexistent'], /no ca.crt in \/nonexistent: run `ballast certs`/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--tls-ca', 'ca'], /--plaintext and --tls-\* exclude each other/],
  [['--target', 'x:1', '--portfolio', 'p', '--batch', '0'], /--batch must be a positive integer, got "0"/],
  [['--target', 'x:1,y:2', '--portfolio', 'p', '--plaintext', '--stream'], /--stream and --batch take one --target/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--batch', '50', '--mix', 'size=1'], /EvaluateTrade orders only: drop --mix/],
  [['--target', 'x:1', '--portfolio', 'p', '--plaintext', '--stream', '--connections', '2'], /use one connection: drop --connections/],
])('ballast load %j → UsageError', async (argv, message) => {
  const err = await runCli(['load', ...argv]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});

test('parseMix (behind --mix) reads weights and rejects nonsense', () => {
  expect(parseMix('evaluate=80,size=20')).toEqual({ evaluate: 80, size: 20 });
  expect(parseMix('size')).toEqual({ size: 1 });
  expect(() => parseMix('evaluate=0')).toThrow(/at least one positive weight/);
  expect(() => parseMix('evaluate=-1')).toThrow(/must be evaluate=/);
});
