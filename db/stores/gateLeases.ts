/**
 * Gate HA (docs/gate-ha.md): who owns each portfolio's headroom, and each replica's heartbeat.
 *
 * A lease is taken over only once it has expired by Postgres's clock (one clock for every replica),
 * and every takeover adds one to the fencing token. Decisions and fills are written conditionally on
 * the token (gateDecisions.ts / fills.ts `insertFenced`, which lock the lease row FOR SHARE), so the
 * takeover's UPDATE waits for every write of the old owner in flight, and refuses every later one.
 */
import type pg from 'pg';

export interface HeldLease {
  readonly portfolioId: string;
  readonly fencingToken: number;
}

export interface LeaseRow {
  readonly portfolioId: string;
  readonly owner: string;
  readonly ownerAddress: string;
  readonly fencingToken: number;
  readonly expiresAtMs: number;
  readonly renewedAtMs: number;
  readonly budgetVersion: number | null;
}

/** A replica as the console shows it: how long since its heartbeat, which budget versions it serves. */
export interface ReplicaStatus {
  readonly replica: string;
  readonly address: string;
  readonly heartbeatAtMs: number;
  /** Milliseconds since the heartbeat, by Postgres's clock. */
  readonly heartbeatAgeMs: number;
  readonly leaseTtlMs: number;
  /** Portfolio → the budget version this replica holds. */
  readonly budgetVersions: Readonly<Record<string, number>>;
  /** Portfolio → how many committed versions newer than the one this replica holds (0: current). */
  readonly versionsBehind: Readonly<Record<string, number>>;
  /** Portfolios whose lease this replica holds now. */
  readonly owns: readonly string[];
}

/** Take or renew: free, expired, or already ours (a renewal keeps the token; anything else bumps it). */
const ACQUIRE_SQL = `
  INSERT INTO gate_leases AS l (portfolio_id, owner, owner_address, fencing_token, acquired_at, renewed_at, expires_at, budget_version)
  VALUES ($1, $2, $3, 1, now(), now(), now() + make_interval(secs => $4::float8 / 1000), $5)
  ON CONFLICT (portfolio_id) DO UPDATE
    SET owner = EXCLUDED.owner, owner_address = EXCLUDED.owner_address, fencing_token = l.fencing_token + 1,
        acquired_at = now(), renewed_at = now(), expires_at = EXCLUDED.expires_at, budget_version = EXCLUDED.budget_version
    WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
  RETURNING fencing_token`;

const RENEW_SQL = `
  UPDATE gate_leases AS l SET renewed_at = now(), expires_at = now() + make_interval(secs => $2::float8 / 1000),
         budget_version = COALESCE(h.version, l.budget_version)
  FROM unnest($3::text[], $4::int8[], $5::int4[]) AS h(portfolio_id, token, version)
  WHERE l.portfolio_id = h.portfolio_id AND l.fencing_token = h.token AND l.owner = $1
  RETURNING l.portfolio_id`;

export class GateLeaseStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Takes the portfolio's lease if it is free, expired or already `replica`'s (a replica restarted
   * under its name, or one that lost track of its own lease, takes it back at once): the new fencing
   * token, or undefined while another replica's lease is live. Every take bumps the token, so whatever
   * held it before can write nothing more.
   */
  async acquire(
    portfolioId: string,
    replica: string,
    address: string,
    ttlMs: number,
    budgetVersion: number | null,
  ): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ fencing_token: string }>(ACQUIRE_SQL, [portfolioId, replica, address, ttlMs, budgetVersion]);
    return rows.length > 0 ? Number(rows[0].fencing_token) : undefined;
  }

  /** Extends the leases `replica` still holds with these tokens; returns the portfolios renewed (the rest are lost). */
  async renew(
    replica: string,
    ttlMs: number,
    held: ReadonlyArray<HeldLease & { readonly budgetVersion: number | null }>,
  ): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    const { rows } = await this.pool.query<{ portfolio_id: string }>(RENEW_SQL, [
      replica,
      ttlMs,
      held.map((h) => h.portfolioId),
      held.map((h) => h.fencingToken),
      held.map((h) => h.budgetVersion),
    ]);
    return new Set(rows.map((r) => r.portfolio_id));
  }

  /** Ends the leases at once (a graceful stop), so another replica need not wait for them to expire. */
  async release(replica: string, held: readonly HeldLease[]): Promise<void> {
    if (held.length === 0) return;
    await this.pool.query(
      `UPDATE gate_leases AS l SET expires_at = now() - interval '1 millisecond'
       FROM unnest($2::text[], $3::int8[]) AS h(portfolio_id, token)
       WHERE l.portfolio_id = h.portfolio_id AND l.fencing_token = h.token AND l.owner = $1`,
      [replica, held.map((h) => h.portfolioId), held.map((h) => h.fencingToken)],
    );
  }

  /** The live leases of these portfolios (expired ones left out): where to forward their calls. */
  async owners(portfolioIds: readonly string[]): Promise<LeaseRow[]> {
    const { rows } = await this.pool.query<{
      portfolio_id: string;
      owner: string;
      owner_address: string;
      fencing_token: string;
      expires_ms: number;
      renewed_ms: number;
      budget_version: number | null;
    }>(
      `SELECT portfolio_id, owner, owner_address, fencing_token, budget_version,
              (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms, (extract(epoch FROM renewed_at) * 1000)::float8 AS renewed_ms
       FROM gate_leases WHERE portfolio_id = ANY($1::text[]) AND expires_at >= now()`,
      [portfolioIds],
    );
    return rows.map((r) => ({
      portfolioId: r.portfolio_id,
      owner: r.owner,
      ownerAddress: r.owner_address,
      fencingToken: Number(r.fencing_token),
      expiresAtMs: r.expires_ms,
      renewedAtMs: r.renewed_ms,
      budgetVersion: r.budget_version,
    }));
  }

  /** Records the replica's heartbeat and the budget version it holds per portfolio. */
  async heartbeat(replica: string, address: string, leaseTtlMs: number, budgetVersions: Readonly<Record<string, number>>): Promise<void> {
    await this.pool.query(
      `INSERT INTO gate_replicas (replica, address, started_at, heartbeat_at, lease_ttl_ms, budget_versions)
       VALUES ($1, $2, now(), now(), $3, $4::jsonb)
       ON CONFLICT (replica) DO UPDATE SET address = EXCLUDED.address, heartbeat_at = now(),
         lease_ttl_ms = EXCLUDED.lease_ttl_ms, budget_versions = EXCLUDED.budget_versions`,
      [replica, address, leaseTtlMs, JSON.stringify(budgetVersions)],
    );
  }

  /** Every replica's heartbeat age and budget staleness (newest heartbeat first), for the console. */
  async replicaStatus(): Promise<ReplicaStatus[]> {
    const { rows } = await this.pool.query<{
      replica: string;
      address: string;
      heartbeat_ms: number;
      age_ms: number;
      lease_ttl_ms: number;
      budget_versions: Record<string, number>;
      behind: Record<string, number> | null;
      owns: string[] | null;
    }>(
      `SELECT r.replica, r.address, r.lease_ttl_ms, r.budget_versions,
              (extract(epoch FROM r.heartbeat_at) * 1000)::float8 AS heartbeat_ms,
              (extract(epoch FROM now() - r.heartbeat_at) * 1000)::float8 AS age_ms,
              (SELECT jsonb_object_agg(v.key, (SELECT count(*) FROM budget_versions b
                                                WHERE b.portfolio_id = v.key AND b.version > v.value::int))
                 FROM jsonb_each_text(r.budget_versions) v) AS behind,
              (SELECT array_agg(l.portfolio_id ORDER BY l.portfolio_id) FROM gate_leases l
                WHERE l.owner = r.replica AND l.expires_at >= now()) AS owns
       FROM gate_replicas r ORDER BY r.heartbeat_at DESC`,
    );
    return rows.map((r) => ({
      replica: r.replica,
      address: r.address,
      heartbeatAtMs: r.heartbeat_ms,
      heartbeatAgeMs: r.age_ms,
      leaseTtlMs: r.lease_ttl_ms,
      budgetVersions: r.budget_versions,
      versionsBehind: Object.fromEntries(Object.entries(r.behind ?? {}).map(([k, v]) => [k, Number(v)])),
      owns: r.owns ?? [],
    }));
  }
}
