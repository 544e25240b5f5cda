/**
 * Console sessions in Postgres: a sign-in survives a console restart, works at a second console
 * process on the same database (cookie and CSRF token alike), ends everywhere on sign-out, expires
 * when idle, and the table holds only hashes of the session ids; the wrong-password throttle is shared.
 */
import pino from 'pino';
import type pg from 'pg';
import { type AuthConfig, hashPassword } from '../../../console/auth';
import type { RunningConsole } from '../../../console/server';
import { startConsoleProcess } from '../../../processes/console';
import { noDesk } from '../../support/consoleSeed';
import { testEnv, testPool, uniqueId } from '../../support/env';

describe('console sessions in Postgres', () => {
  let pool: pg.Pool;
  let auth: AuthConfig;
  const running: RunningConsole[] = [];
  const user = uniqueId('sess-user');

  const start = async (config: AuthConfig = auth, port = 0): Promise<RunningConsole> => {
    const c = await startConsoleProcess({
      databaseUrl: testEnv().databaseUrl,
      desk: noDesk,
      port,
      auth: config,
      logger: pino({ level: 'silent' }),
    });
    running.push(c);
    return c;
  };
  const stop = async (c: RunningConsole): Promise<void> => {
    running.splice(running.indexOf(c), 1);
    await c.close();
  };

  beforeAll(async () => {
    pool = testPool();
    auth = { users: [{ name: user, roles: ['approver'], passwordHash: await hashPassword('pw', 4) }] };
  });

  afterAll(async () => {
    for (const c of running) await c.close();
    await pool?.end();
  });

  async function signIn(c: RunningConsole): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${c.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password: 'pw' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers
      .getSetCookie()
      .map((s) => s.split(';')[0])
      .join('; ');
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }
  const whoAmI = async (c: RunningConsole, cookie: string): Promise<{ status: number; name?: string }> => {
    const res = await fetch(`${c.url}/api/v1/session`, { headers: { cookie } });
    return { status: res.status, name: ((await res.json()) as { name?: string }).name };
  };

  it('keeps a sign-in across a restart of the console', async () => {
    const a = await start();
    const { cookie } = await signIn(a);
    expect(await whoAmI(a, cookie)).toEqual({ status: 200, name: user });
    const port = Number(new URL(a.url).port);
    await stop(a);
    const again = await start(auth, port);
    expect(await whoAmI(again, cookie)).toEqual({ status: 200, name: user });
    await stop(again);
  });

  it('works at a second console process: the cookie, the CSRF token, and signing out ends it at both', async () => {
    const [a, b] = [await start(), await start()];
    const { cookie, csrf } = await signIn(a);
    expect(await whoAmI(b, cookie)).toEqual({ status: 200, name: user });
    // A token handed out by A is good for a state-changing request at B (here: signing out).
    const out = await fetch(`${b.url}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect((await whoAmI(a, cookie)).status).toBe(401);
    // Without the token the same request is refused.
    const second = await signIn(b);
    const refused = await fetch(`${a.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: second.cookie } });
    expect(refused.status).toBe(403);
    expect((await whoAmI(a, second.cookie)).status).toBe(200);
    await stop(a);
    await stop(b);
  });

  it('stores only a hash of the session id, reads roles from the configuration now, and forgets a removed person', async () => {
    const a = await start();
    const { cookie } = await signIn(a);
    const id = decodeURIComponent(cookie.match(/ballast_session=([^;]+)/)![1]).split('.')[0];
    const { rows } = await pool.query<{ id_hash: string }>('SELECT id_hash FROM console_sessions WHERE user_name = $1', [user]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id_hash)).not.toContain(id);
    const port = Number(new URL(a.url).port);
    await stop(a);
    const without = await start({ users: [] }, port);
    expect((await whoAmI(without, cookie)).status).toBe(401);
    await stop(without);
  });

  it('counts wrong passwords across console processes: five in all, then either refuses the name', async () => {
    const name = uniqueId('sess-guess');
    const config: AuthConfig = { users: [{ name, roles: [], passwordHash: await hashPassword('right', 4) }] };
    const [a, b] = [await start(config), await start(config)];
    const attempt = async (c: RunningConsole, password: string) =>
      (
        await fetch(`${c.url}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: name, password }),
        })
      ).status;
    for (const c of [a, b, a, b, a]) expect(await attempt(c, 'guess')).toBe(401);
    expect(await attempt(b, 'right')).toBe(429);
    expect(await attempt(a, 'right')).toBe(429);
    await stop(a);
    await stop(b);
  });

  it('ends an idle session after its time to live and sweeps expired rows at the next sign-in', async () => {
    const short = { ...auth, sessionTtlMs: 1_500 };
    const a = await start(short);
    const { cookie } = await signIn(a);
    expect((await whoAmI(a, cookie)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await whoAmI(a, cookie)).status).toBe(401);
    await pool.query("UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE user_name = $1", [user]);
    await signIn(a);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM console_sessions WHERE user_name = $1', [user]);
    expect(Number(rows[0].n)).toBe(1);
    await stop(a);
  });
});
