/**
 * `ballast certs`: the gate's local CA (infra/certs.ts). Without --issue it creates what is missing
 * (CA, gate certificate, demo OMS and operator certificates, access policy) and prints the files as
 * JSON; `--issue NAME` signs a client certificate for an OMS or operator (the name is the identity the
 * access policy grants), or with --server a gate certificate for --tls-name.
 */
import type { Command } from 'commander';
import { certsDir, ensureLocalPki, issueCertificate } from '../../infra/certs';
import { UsageError, list, option } from '../flags';
import { printJson } from '../output';

interface CertsFlags {
  readonly certsDir: string;
  readonly issue?: string;
  readonly server: boolean;
  readonly tlsName?: string[];
}

export function define(command: Command): void {
  command
    .description(
      "Create the gate's local CA and the certificates `ballast start` and `ballast gate` use (what is missing; " +
        'existing files are kept), or sign a certificate for a new OMS or operator with --issue. Prints the files as JSON. ' +
        'Grant the new identity in the access policy (access.yaml in the same directory); see docs/gate.md.',
    )
    .addOption(option('--certs-dir <dir>', 'where the CA and certificates are kept').env('BALLAST_CERTS_DIR').default(certsDir()))
    .option('--issue <identity>', 'sign a certificate whose CN is this identity (re-issues an existing one)')
    .option('--server', 'with --issue: a gate (server) certificate for --tls-name, instead of a client one', false)
    .addOption(
      option('--tls-name <names>', 'DNS names or IPs of the gate certificate, comma-separated', list).env('BALLAST_GATE_TLS_NAMES'),
    )
    .action(certs);
}

async function certs(flags: CertsFlags): Promise<void> {
  if (flags.server && !flags.issue) throw new UsageError('--server goes with --issue');
  if (!flags.issue) {
    await printJson(ensureLocalPki({ dir: flags.certsDir, serverNames: flags.tlsName }));
    return;
  }
  const names = flags.tlsName ?? [];
  if (flags.server && names.length === 0)
    throw new UsageError('--issue --server needs --tls-name with the names clients use to reach the gate');
  const files = issueCertificate(flags.certsDir, flags.issue, flags.server ? 'server' : 'client', names);
  await printJson({ identity: flags.issue, kind: flags.server ? 'server' : 'client', caFile: `${flags.certsDir}/ca.crt`, ...files });
}
