/**
 * The gate's security settings as every start mode resolves them (`ballast start`, `ballast gate`,
 * compose), so they all serve the same way: TLS with client certificates and an access policy. Given
 * no certificate files, the local CA (infra/certs.ts) is used, created on first run, with its access
 * policy file; given files (a deployment's own PKI), those are used. The gate itself refuses what is
 * unsafe (grpc/security.ts). Clients started here (the demo order flow) use the local CA's certificates.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { type AccessPolicy, parseAccessPolicy } from '../grpc/access';
import type { ConnectionLimits, TlsOptions } from '../grpc/security';
import { type LocalPki, ensureLocalPki, issueCertificate } from '../infra/certs';
import type { PeerClient } from '../grpc/ha';

export interface GateSecuritySettings {
  /** The interface the gate listens on (a specific address is added to the local certificate's names). */
  readonly host: string;
  /** A deployment's own PKI: server certificate and key (PEM files); without them the local CA is used. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** The CA that signs client certificates (mTLS). */
  readonly tlsClientCa?: string;
  /** YAML access policy file; with the local CA, its access.yaml by default. */
  readonly accessFile?: string;
  /** The local CA's directory (default: infra/certs.ts certsDir()). */
  readonly certsDir?: string;
  /** More names (DNS or IP) the local gate certificate must carry, e.g. a compose service name. */
  readonly serverNames?: readonly string[];
  readonly connectionLimits?: Partial<ConnectionLimits>;
}

export interface GateSecurity {
  readonly tls: TlsOptions | undefined;
  readonly access: AccessPolicy | undefined;
  readonly connectionLimits: Partial<ConnectionLimits> | undefined;
  /** Present when the local CA is in use: its files, for the demo OMS and operator clients. */
  readonly pki: LocalPki | undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function resolveGateSecurity(settings: GateSecuritySettings): GateSecurity {
  const access = (file: string): AccessPolicy => parseAccessPolicy(readFileSync(file, 'utf8'), file);
  if (settings.tlsCert || settings.tlsKey || settings.tlsClientCa) {
    return {
      tls: settings.tlsCert
        ? {
            cert: readFileSync(settings.tlsCert),
            key: readFileSync(settings.tlsKey ?? settings.tlsCert),
            clientCa: settings.tlsClientCa ? readFileSync(settings.tlsClientCa) : undefined,
          }
        : undefined,
      access: settings.accessFile ? access(settings.accessFile) : undefined,
      connectionLimits: settings.connectionLimits,
      pki: undefined,
    };
  }
  const names = [...(settings.serverNames ?? []), ...(WILDCARDS.has(settings.host) ? [] : [settings.host])];
  const pki = ensureLocalPki({ dir: settings.certsDir, serverNames: names });
  return {
    tls: { cert: readFileSync(pki.server.certFile), key: readFileSync(pki.server.keyFile), clientCa: readFileSync(pki.caFile) },
    access: access(settings.accessFile ?? pki.accessFile),
    connectionLimits: settings.connectionLimits,
    pki,
  };
}

/** A client of a gate on this machine, as `identity` of the local CA: credentials, target and channel options. */
export function localGateClient(
  pki: LocalPki,
  identity: string,
  gateAddress: string,
): { target: string; credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  const files = pki.clients[identity];
  if (!files) throw new Error(`the local CA in ${pki.dir} has no certificate for ${identity}`);
  return {
    // A gate on every interface is reached on loopback; its certificate names localhost.
    target: gateAddress.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:'),
    credentials: grpc.credentials.createSsl(readFileSync(pki.caFile), readFileSync(files.keyFile), readFileSync(files.certFile)),
    options: { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
  };
}

/** The identity gate replicas present to each other when forwarding (gate HA), issued by the local CA. */
export const GATE_PEER_IDENTITY = 'ballast-gate-peer';

/**
 * How a gate replica forwards to its peers with the local CA (gate HA): a client certificate for
 * GATE_PEER_IDENTITY, issued on first use, and the identities peers believe forwarded callers from.
 */
export function localPeerClient(pki: LocalPki): { peerClient: PeerClient; peerIdentities: string[] } {
  const files = pki.clients[GATE_PEER_IDENTITY] ?? issueCertificate(pki.dir, GATE_PEER_IDENTITY, 'client');
  return {
    peerClient: {
      credentials: grpc.credentials.createSsl(readFileSync(pki.caFile), readFileSync(files.keyFile), readFileSync(files.certFile)),
      options: { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
    },
    peerIdentities: [GATE_PEER_IDENTITY],
  };
}
