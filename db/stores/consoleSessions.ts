/**
 * The console's sessions, recent wrong passwords and its shared secret (console/auth.ts decides who
 * is who; this only keeps the rows). Sessions are keyed by a hash of the id the cookie carries; each read pushes an idle
 * session's expiry forward, at most once a minute, so a busy page does not write on every request.
 */
import type pg from 'pg';

/** An expiry is pushed forward only when it moved by more than this (a write per minute, not per request). */
const TOUCH_GRANULARITY_MS = 60_000;

export class ConsoleSessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(idHash: string, userName: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO console_sessions (id_hash, user_name, expires_at) VALUES ($1, $2, $3)', [
      idHash,
      userName,
      expiresAt,
    ]);
  }

  async touch(idHash: string, now: Date, expiresAt: Date): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ user_name: string; expires_at: Date }>(
      'SELECT user_name, expires_at FROM console_sessions WHERE id_hash = $1 AND expires_at > $2',
      [idHash, now],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (expiresAt.getTime() - row.expires_at.getTime() > TOUCH_GRANULARITY_MS)
      await this.pool.query('UPDATE console_sessions SET expires_at = $2 WHERE id_hash = $1', [idHash, expiresAt]);
    return row.user_name;
  }

  async remove(idHash: string): Promise<void> {
    await this.pool.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]);
  }

  async removeExpired(now: Date): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM console_sessions WHERE expires_at <= $1', [now]);
    return rowCount ?? 0;
  }

  async failuresSince(name: string, since: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM console_login_failures WHERE user_name = $1 AND failed_at > $2',
      [name, since],
    );
    return Number(rows[0].n);
  }

  async recordFailure(name: string, at: Date, keepSince: Date): Promise<void> {
    await this.pool.query('DELETE FROM console_login_failures WHERE failed_at <= $1', [keepSince]);
    await this.pool.query('INSERT INTO console_login_failures (user_name, failed_at) VALUES ($1, $2)', [name, at]);
  }

  async clearFailures(name: string): Promise<void> {
    await this.pool.query('DELETE FROM console_login_failures WHERE user_name = $1', [name]);
  }

  /** The secret named `name`, made once by whichever process asks first (a race keeps the first insert). */
  async sharedSecret(name: string, fresh: () => string): Promise<string> {
    await this.pool.query('INSERT INTO console_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, fresh()]);
    const { rows } = await this.pool.query<{ secret: string }>('SELECT secret FROM console_secrets WHERE name = $1', [name]);
    return rows[0].secret;
  }
}
