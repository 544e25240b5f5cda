/** Flag validation of `ballast gate`: user errors are UsageErrors, caught before anything listens. */
import { UsageError } from '../../../../cli/flags';
import { runCli } from '../../../support/cli';

test.each([
  [['--port', 'abc'], /--port must be an integer in \[0, 65535\], got "abc"/],
  [['--port', '70000'], /--port must be an integer/],
  [['--stale-halt-after', 'soon'], /--stale-halt-after must be a positive duration/],
  [['--max-message-bytes', '10'], /--max-message-bytes must be an integer in \[1024, 67108864\]/],
  [['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
  [['--tls-client-ca', 'ca.pem'], /needs --tls-cert/],
  [['--bogus'], /unknown option '--bogus'/],
  [['--port'], /option '--port <port>' argument missing/],
  [['extra'], /unexpected argument "extra"/],
])('ballast gate %j → UsageError', async (argv, message) => {
  const err = await runCli(['gate', ...argv]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
});
