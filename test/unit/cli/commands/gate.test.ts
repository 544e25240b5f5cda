/** Flag validation of `ballast gate`: user errors are UsageErrors, unsafe security settings GateSecurityErrors, caught before anything listens. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../../cli/flags';
import { GateSecurityError } from '../../../../grpc/security';
import { ensureLocalPki } from '../../../../infra/certs';
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

describe('what the gate refuses to start with, before anything listens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-gate-flags-'));
  const pki = ensureLocalPki({ dir });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const own = [
    '--tls-cert',
    pki.server.certFile,
    '--tls-key',
    pki.server.keyFile,
    '--port',
    '0',
    '--database-url',
    'postgres://x@127.0.0.1:1/none',
  ];

  test('a policy without client certificates, with the reason', async () => {
    const err = await runCli(['gate', ...own, '--access', pki.accessFile]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateSecurityError);
    expect((err as Error).message).toMatch(/an access policy needs TLS with client certificates .* would refuse every call/);
  });

  test('beyond loopback without mTLS and a policy', async () => {
    const err = await runCli(['gate', ...own, '--host', '0.0.0.0']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateSecurityError);
    expect((err as Error).message).toMatch(/beyond loopback/);
  });
});
