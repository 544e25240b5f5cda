/**
 * The gate's security and connection flags, the same on `ballast start` and `ballast gate` so that
 * both serve the gate the same way (processes/gateSecurity.ts resolves them): mTLS with the local CA
 * by default, or a deployment's own certificates; an access policy; connection bounds.
 */
import type { Command } from 'commander';
import type { GateSecuritySettings } from '../processes/gateSecurity';
import { DEFAULT_CONNECTION_LIMITS } from '../grpc/security';
import { UsageError, durationMs, integer, list, option } from './flags';

export interface GateSecurityFlags {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsClientCa?: string;
  readonly access?: string;
  readonly certsDir?: string;
  readonly tlsName?: string[];
  readonly handshakeTimeout?: number;
  readonly idleTimeout?: number;
  readonly maxConnections?: number;
}

const seconds = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1_000}s`);

export function addGateSecurityFlags(command: Command): Command {
  const d = DEFAULT_CONNECTION_LIMITS;
  return command
    .option(
      '--tls-cert <file>',
      "the gate's certificate (PEM), from your own PKI; needs --tls-key (default: the local CA's, made on first run)",
    )
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mTLS); needs --tls-cert (default: the local CA)')
    .option(
      '--access <file>',
      "YAML access policy: per client-certificate identity, {portfolios, strategies, control} (default: the local CA's access.yaml)",
    )
    .addOption(
      option('--certs-dir <dir>', 'where the local CA and its certificates are kept (default: ~/.cache/ballast/pki)').env(
        'BALLAST_CERTS_DIR',
      ),
    )
    .addOption(
      option('--tls-name <names>', "more DNS names or IPs for the local CA's gate certificate, comma-separated", list).env(
        'BALLAST_GATE_TLS_NAMES',
      ),
    )
    .addOption(
      option(
        '--handshake-timeout <duration>',
        `close a connection that has not completed its TLS handshake by then (default: ${seconds(d.handshakeTimeoutMs)})`,
        durationMs,
      ),
    )
    .addOption(
      option(
        '--idle-timeout <duration>',
        `close a connection with no call for this long (default: ${seconds(d.idleTimeoutMs)})`,
        durationMs,
      ),
    )
    .addOption(
      option(
        '--max-connections <n>',
        `open connections at most; at the cap the oldest one still handshaking is dropped (default: ${d.maxConnections})`,
        integer(1, 1_000_000),
      ),
    );
}

export function gateSecuritySettings(host: string, flags: GateSecurityFlags): GateSecuritySettings {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (flags.tlsClientCa && !flags.tlsCert) throw new UsageError('--tls-client-ca (mTLS) needs --tls-cert and --tls-key');
  return {
    host,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    tlsClientCa: flags.tlsClientCa,
    accessFile: flags.access,
    certsDir: flags.certsDir,
    serverNames: flags.tlsName,
    connectionLimits: {
      ...(flags.handshakeTimeout !== undefined && { handshakeTimeoutMs: flags.handshakeTimeout }),
      ...(flags.idleTimeout !== undefined && { idleTimeoutMs: flags.idleTimeout }),
      ...(flags.maxConnections !== undefined && { maxConnections: flags.maxConnections }),
    },
  };
}
