/**
 * `ballast oms` calls the gate as `ballast load` does (cli/gateClientFlags.ts): mTLS with the local
 * CA's demo OMS certificate by default, so it reaches a gate in any shipped start mode; TLS mistakes
 * are UsageErrors before any call is made.
 */
import { UsageError } from '../../../../cli/flags';
import { runCli } from '../../../support/cli';

test.each([
  [['--portfolio', 'p', '--tls-cert', 'c'], /need --tls-ca/],
  [['--portfolio', 'p', '--tls-ca', 'ca', '--tls-cert', 'c'], /--tls-cert and --tls-key go together/],
  [['--portfolio', 'p', '--certs-dir', '/nonexistent'], /no ca.crt in \/nonexistent: run `ballast certs`/],
  [['--portfolio', 'p', '--plaintext', '--tls-ca', 'ca'], /--plaintext and --tls-\* exclude each other/],
])('ballast oms %j → UsageError', async (argv, message) => {
  const err = await runCli(['oms', ...argv]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});
