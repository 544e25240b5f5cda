/**
 * What the gate refuses to start with, and its connection bounds. Secure by default: beyond loopback
 * the gate serves only TLS with client certificates and an access policy; a policy without client
 * certificates is refused (no caller would have an identity, so it would refuse every call).
 */
import { isIP } from 'node:net';
import type { AccessPolicy } from './access';

export interface TlsOptions {
  /** PEM server certificate chain and private key. */
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
  /** PEM CA bundle for client certificates. With it, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: Buffer | string;
}

/** How many connections, and for how long, the gate keeps (grpc/listener.ts enforces them). */
export interface ConnectionLimits {
  /** A connection that has not completed its TLS handshake (or, in plaintext, sent its first bytes: the HTTP/2 preface) by then is closed. */
  readonly handshakeTimeoutMs: number;
  /** A connection with no call in flight for this long is sent GOAWAY (gRPC MAX_CONNECTION_IDLE). */
  readonly idleTimeoutMs: number;
  /** Open connections at most; at the cap the oldest one still handshaking is evicted, else the new one refused. */
  readonly maxConnections: number;
  /** The gate pings each connection this often and closes it when the ping is not answered within keepaliveTimeoutMs. */
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 15 * 60_000,
  maxConnections: 500,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
};

export class GateSecurityError extends Error {
  override readonly name = 'GateSecurityError';
}

/** Loopback addresses: the only ones the gate serves without client certificates and a policy. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Throws a GateSecurityError with the sentence that says why, before anything listens. */
export function checkGateSecurity(options: { host: string; tls?: TlsOptions; access?: AccessPolicy }): void {
  const { host, tls, access } = options;
  const mtls = tls?.clientCa !== undefined;
  if (access && !mtls)
    throw new GateSecurityError(
      'an access policy needs TLS with client certificates (a client CA): without a verified certificate no caller has an identity, so the policy would refuse every call',
    );
  if (!isLoopback(host) && !(mtls && access))
    throw new GateSecurityError(
      `the gate would listen on ${host}, beyond loopback: it serves there only with TLS, client certificates (a client CA) and an access policy, so that no anonymous caller can trade or lift a limit`,
    );
}
