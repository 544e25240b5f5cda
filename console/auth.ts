/**
 * Who is asking, and what they may do. Console users are people: either signed in with the built-in
 * login (users, roles and bcrypt password hashes from configuration; sessions kept in a SessionStore —
 * Postgres in a running console, so they survive a restart and are shared by several console
 * processes — behind an HttpOnly, SameSite=Strict cookie), or named by an authenticating reverse proxy
 * (e.g. oauth2-proxy) in a configured header, which is believed only when the request comes from a
 * configured proxy address. A person without a role may only look (viewer).
 */
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** viewer: read only; operator: kill switch, reduce-only, pause/resume, manual rebalance; approver: approve/reject, overrides. */
export const ROLES = ['viewer', 'operator', 'approver'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

export interface ConsoleUser {
  readonly name: string;
  readonly roles: readonly Role[];
  /** bcrypt hash (`$2a$`/`$2b$`); absent for people who only come through the proxy. */
  readonly passwordHash?: string;
}

export interface TrustedProxy {
  /** The header carrying the authenticated user name, e.g. `x-forwarded-user` (oauth2-proxy's `X-Forwarded-User`). */
  readonly header: string;
  /** Peer addresses of the proxy; the header is ignored from anyone else. */
  readonly addresses: readonly string[];
}

export interface AuthConfig {
  readonly users: readonly ConsoleUser[];
  readonly proxy?: TrustedProxy;
  /** Idle sessions end after this long; default 8 hours. */
  readonly sessionTtlMs?: number;
}

export interface Identity {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly via: 'session' | 'proxy';
}

/** Wrong passwords for one name allowed within the window before its logins are refused for the rest of it. */
export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;

/** bcrypt cost for hashes the console makes (the demo user, `hashPassword`). */
export const BCRYPT_COST = 12;

export const hashPassword = (password: string, cost = BCRYPT_COST): Promise<string> => bcrypt.hash(password, cost);

/** A bcrypt comparison costs the same whether or not the user exists, so timing does not tell names apart. */
const DUMMY_HASH = bcrypt.hashSync('no such user', 4);

/**
 * Where sessions live, keyed by a hash of the id the cookie carries (db/stores/consoleSessions.ts in a
 * running console; `MemorySessions` for a single process that may forget them).
 */
export interface SessionStore {
  create(idHash: string, userName: string, expiresAt: Date): Promise<void>;
  /** The session's person, its idle expiry pushed to `expiresAt`; undefined when unknown or expired at `now`. */
  touch(idHash: string, now: Date, expiresAt: Date): Promise<string | undefined>;
  remove(idHash: string): Promise<void>;
  /** Forgets sessions expired at `now`; returns how many. */
  removeExpired(now: Date): Promise<number>;
  /** Wrong passwords for `name` since `since` (shared by every console on the store). */
  failuresSince(name: string, since: Date): Promise<number>;
  /** Records a wrong password at `at`, forgetting those older than `keepSince`. */
  recordFailure(name: string, at: Date, keepSince: Date): Promise<void>;
  clearFailures(name: string): Promise<void>;
}

/** Sessions in this process's memory: gone on restart, not shared. For tests and one-off tools. */
export class MemorySessions implements SessionStore {
  private readonly rows = new Map<string, { user: string; expiresAtMs: number }>();
  private readonly failures = new Map<string, number[]>();

  async create(idHash: string, userName: string, expiresAt: Date): Promise<void> {
    this.rows.set(idHash, { user: userName, expiresAtMs: expiresAt.getTime() });
  }

  async touch(idHash: string, now: Date, expiresAt: Date): Promise<string | undefined> {
    const row = this.rows.get(idHash);
    if (!row || row.expiresAtMs <= now.getTime()) return undefined;
    row.expiresAtMs = expiresAt.getTime();
    return row.user;
  }

  async remove(idHash: string): Promise<void> {
    this.rows.delete(idHash);
  }

  async removeExpired(now: Date): Promise<number> {
    let n = 0;
    for (const [k, row] of this.rows) if (row.expiresAtMs <= now.getTime() && this.rows.delete(k)) n++;
    return n;
  }

  async failuresSince(name: string, since: Date): Promise<number> {
    return (this.failures.get(name) ?? []).filter((t) => t > since.getTime()).length;
  }

  async recordFailure(name: string, at: Date, keepSince: Date): Promise<void> {
    // Bounded memory: only the window's failures are kept, and only for names tried recently.
    if (this.failures.size > 10_000) this.failures.clear();
    this.failures.set(name, [...(this.failures.get(name) ?? []).filter((t) => t > keepSince.getTime()), at.getTime()]);
  }

  async clearFailures(name: string): Promise<void> {
    this.failures.delete(name);
  }
}

/** The store sees only this: a leaked sessions table holds no usable cookie. */
const sessionKey = (sessionId: string): string => createHash('sha256').update(sessionId).digest('base64url');

export class Authenticator {
  private readonly users: Map<string, ConsoleUser>;
  private readonly ttlMs: number;

  constructor(
    private readonly config: AuthConfig,
    private readonly sessions: SessionStore = new MemorySessions(),
  ) {
    this.users = new Map(config.users.map((u) => [u.name, u]));
    this.ttlMs = config.sessionTtlMs ?? 8 * 3_600_000;
    for (const u of config.users) {
      for (const r of u.roles)
        if (!isRole(r)) throw new Error(`console user ${u.name}: unknown role "${String(r)}" (roles: ${ROLES.join(', ')})`);
      if (u.passwordHash !== undefined && !/^\$2[aby]\$\d{2}\$/.test(u.passwordHash))
        throw new Error(`console user ${u.name}: passwordHash must be a bcrypt hash (make one with \`ballast console-hash\`)`);
    }
  }

  /**
   * Checks the password; on success opens a session and returns its id. After MAX_FAILURES wrong
   * passwords for one name within FAILURE_WINDOW_MS, that name may not try again until the window
   * has passed ('throttled'): bcrypt's cost slows guessing, this bounds it.
   */
  async login(
    name: string,
    password: string,
    nowMs = Date.now(),
  ): Promise<{ sessionId: string; identity: Identity } | 'throttled' | undefined> {
    const windowStart = new Date(nowMs - FAILURE_WINDOW_MS);
    if ((await this.sessions.failuresSince(name, windowStart)) >= MAX_FAILURES) return 'throttled';
    const user = this.users.get(name);
    const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    if (!ok || !user?.passwordHash) {
      await this.sessions.recordFailure(name, new Date(nowMs), windowStart);
      return undefined;
    }
    await this.sessions.clearFailures(name);
    const sessionId = randomBytes(32).toString('base64url');
    const identity: Identity = { name: user.name, roles: user.roles, via: 'session' };
    // Each login sweeps the expired sessions: the table stays the size of the people signed in.
    await this.sessions.removeExpired(new Date());
    await this.sessions.create(sessionKey(sessionId), user.name, new Date(Date.now() + this.ttlMs));
    return { sessionId, identity };
  }

  async logout(sessionId: string | undefined): Promise<void> {
    if (sessionId) await this.sessions.remove(sessionKey(sessionId));
  }

  /**
   * The person behind a request: the proxy's header from a trusted peer, else the session cookie. A
   * session's roles are the configuration's now (a person removed from it is signed out).
   */
  async identify(
    peerAddress: string | undefined,
    headers: Record<string, string | string[] | undefined>,
    sessionId: string | undefined,
  ): Promise<Identity | undefined> {
    const proxy = this.config.proxy;
    if (proxy && peerAddress && proxy.addresses.includes(normalizeAddress(peerAddress))) {
      const value = headers[proxy.header.toLowerCase()];
      const name = Array.isArray(value) ? value[0] : value;
      if (name) return { name, roles: this.users.get(name)?.roles ?? ['viewer'], via: 'proxy' };
    }
    if (!sessionId) return undefined;
    const now = Date.now();
    const name = await this.sessions.touch(sessionKey(sessionId), new Date(now), new Date(now + this.ttlMs));
    const user = name === undefined ? undefined : this.users.get(name);
    return user ? { name: user.name, roles: user.roles, via: 'session' } : undefined;
  }
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
const normalizeAddress = (address: string): string => address.replace(/^::ffff:/, '');

export const hasRole = (identity: Identity, role: Role): boolean => role === 'viewer' || identity.roles.includes(role);
