/**
 * Who may do what. A caller's identity is the CN of its verified client certificate (mTLS), falling
 * back to its first DNS SAN. Control RPCs (overrides, rebalances) always need a verified identity the
 * policy grants `control`: never an anonymous or self-named (`unverified:…`) caller, with or without a
 * policy. Trading without a policy is open, which the gate allows only on loopback (grpc/security.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';

export interface Grant {
  /** Portfolio ids this identity may trade, or ['*']. */
  readonly portfolios: readonly string[];
  /** Strategies this identity may trade, or ['*']. */
  readonly strategies: readonly string[];
  /** May call control RPCs (OverrideLimit, TriggerRebalance). */
  readonly control?: boolean;
  /**
   * May feed market data (MarketDataService.IngestCloses). Its own grant: a price feed moves every
   * portfolio that reads the instrument, yet should not be able to override limits, nor an operator
   * to feed prices by accident.
   */
  readonly ingest?: boolean;
}

export type AccessPolicy = Readonly<Record<string, Grant>>;

export interface Caller {
  /** Verified identity, or undefined when the connection carries no client certificate. */
  readonly identity: string | undefined;
  /** What the audit trail records: identity, else an unverified label and the peer address. */
  readonly label: string;
}

/** What identifying a caller needs from a grpc-js call, unary or streaming. */
export type IdentifiedCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getAuthContext'>;

export function callerOf(call: IdentifiedCall): Caller {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  const cn = cert?.subject?.CN;
  const san = cert?.subjectaltname
    ?.split(',')
    .map((s) => s.trim())
    .find((s) => s.startsWith('DNS:'))
    ?.slice(4);
  const identity = (Array.isArray(cn) ? cn[0] : cn) || san || undefined;
  if (identity) return { identity, label: identity };
  const claimed = call.metadata.get('x-ballast-caller')[0];
  const claim = typeof claimed === 'string' ? claimed.slice(0, 64) : '';
  return { identity: undefined, label: claim ? `unverified:${claim}` : `peer:${call.getPeer()}` };
}

const allows = (list: readonly string[], value: string): boolean => list.includes('*') || list.includes(value);

/** Undefined when allowed, else the reason for PERMISSION_DENIED. */
export function denyTrade(policy: AccessPolicy | undefined, caller: Caller, portfolioId: string, strategy: string): string | undefined {
  if (!policy) return undefined;
  const grant = caller.identity ? policy[caller.identity] : undefined;
  if (!grant) return `caller ${caller.label} is not authorized`;
  if (!allows(grant.portfolios, portfolioId)) return `caller ${caller.label} may not trade portfolio "${portfolioId}"`;
  if (strategy !== '' && !allows(grant.strategies, strategy)) return `caller ${caller.label} may not trade strategy "${strategy}"`;
  return undefined;
}

/** Undefined when the caller may trade some portfolio, else the reason for PERMISSION_DENIED (a trade stream is refused at once). */
export function denyTrader(policy: AccessPolicy | undefined, caller: Caller): string | undefined {
  if (!policy) return undefined;
  const grant = caller.identity ? policy[caller.identity] : undefined;
  if (!grant || grant.portfolios.length === 0) return `caller ${caller.label} is not authorized`;
  return undefined;
}

export function denyControl(policy: AccessPolicy | undefined, caller: Caller, portfolioId: string): string | undefined {
  if (!policy)
    return `caller ${caller.label} is not authorized for control operations: this gate has no access policy, and control needs a verified client certificate granted control`;
  const grant = caller.identity ? policy[caller.identity] : undefined;
  if (!grant?.control) return `caller ${caller.label} is not authorized for control operations`;
  if (!allows(grant.portfolios, portfolioId)) return `caller ${caller.label} may not control portfolio "${portfolioId}"`;
  return undefined;
}

/** Undefined when the caller may feed market data, else the reason for PERMISSION_DENIED. */
export function denyIngest(policy: AccessPolicy | undefined, caller: Caller): string | undefined {
  if (!policy)
    return `caller ${caller.label} may not feed market data: this gate has no access policy, and ingestion needs a verified client certificate granted ingest`;
  const grant = caller.identity ? policy[caller.identity] : undefined;
  if (!grant?.ingest) return `caller ${caller.label} may not feed market data: its grant has no "ingest: true"`;
  return undefined;
}

export class AccessPolicyError extends Error {
  override readonly name = 'AccessPolicyError';
}

/** `identity: { portfolios: [...], strategies: [...], control: bool }` per client-certificate CN (YAML). */
export function parseAccessPolicy(text: string, source: string): AccessPolicy {
  let doc: unknown;
  try {
    doc = parse(text) as unknown;
  } catch (err) {
    throw new AccessPolicyError(`access policy ${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new AccessPolicyError(`access policy ${source} must map identities to grants`);
  const policy: Record<string, Grant> = {};
  for (const [identity, grant] of Object.entries(doc as Record<string, unknown>)) {
    if (!grant || typeof grant !== 'object') throw new AccessPolicyError(`access policy ${source}: ${identity} must be a grant`);
    const g = grant as { portfolios?: unknown; strategies?: unknown; control?: unknown; ingest?: unknown };
    const list = (v: unknown, key: string): string[] => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        throw new AccessPolicyError(`access policy ${source}: ${identity}.${key} must be a list of strings`);
      return v;
    };
    if (g.control !== undefined && typeof g.control !== 'boolean')
      throw new AccessPolicyError(`access policy ${source}: ${identity}.control must be true or false`);
    if (g.ingest !== undefined && typeof g.ingest !== 'boolean')
      throw new AccessPolicyError(`access policy ${source}: ${identity}.ingest must be true or false`);
    policy[identity] = {
      portfolios: list(g.portfolios, 'portfolios'),
      strategies: list(g.strategies ?? ['*'], 'strategies'),
      control: g.control === true,
      ingest: g.ingest === true,
    };
  }
  return policy;
}
