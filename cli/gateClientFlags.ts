/**
 * How a client command (`ballast load`, `ballast oms`) calls a gate: mTLS with the local CA's
 * certificates by default (what every shipped start mode serves), a deployment's own PEM files, or
 * plaintext for a development gate started in code. One flag set and one rule, for every such command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import { DEMO_OMS_IDENTITY, certsDir } from '../infra/certs';
import { UsageError, option } from './flags';

export interface GateClientFlags {
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly plaintext: boolean;
  readonly certsDir: string;
  readonly as: string;
}

export function addGateClientFlags(command: Command): Command {
  return command
    .option('--tls-ca <file>', "call over TLS, trusting this CA (PEM) (default: the local CA's files, see --as)")
    .option('--tls-cert <file>', 'client certificate (PEM) for mTLS; needs --tls-ca and --tls-key')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .addOption(
      option('--certs-dir <dir>', 'the local CA made by `ballast start` / `ballast gate`').env('BALLAST_CERTS_DIR').default(certsDir()),
    )
    .option(
      '--as <identity>',
      'without --tls-ca: call as this identity of the local CA (its certificate in --certs-dir)',
      DEMO_OMS_IDENTITY,
    )
    .option('--plaintext', 'call without TLS (a development gate on loopback started in code, e.g. the benchmark)', false);
}

/** The channel credentials the flags ask for; undefined for --plaintext. */
export function gateClientCredentials(flags: GateClientFlags): grpc.ChannelCredentials | undefined {
  if (flags.plaintext) {
    if (flags.tlsCa || flags.tlsCert || flags.tlsKey) throw new UsageError('--plaintext and --tls-* exclude each other');
    return undefined;
  }
  if (!flags.tlsCa) {
    if (flags.tlsCert || flags.tlsKey) throw new UsageError('--tls-cert/--tls-key need --tls-ca');
    const file = (name: string): Buffer => {
      const path = join(flags.certsDir, name);
      if (!existsSync(path))
        throw new UsageError(
          `no ${name} in ${flags.certsDir}: run \`ballast certs\` (or --issue ${flags.as}), or pass --tls-ca/--tls-cert/--tls-key`,
        );
      return readFileSync(path);
    };
    return grpc.credentials.createSsl(file('ca.crt'), file(`${flags.as}.key`), file(`${flags.as}.crt`));
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(
    readFileSync(flags.tlsCa),
    flags.tlsKey ? readFileSync(flags.tlsKey) : null,
    flags.tlsCert ? readFileSync(flags.tlsCert) : null,
  );
}
