/** The console's authenticator: bcrypt logins, sessions, and proxy identity only from the configured proxy's address. */
import { Authenticator, hasRole, hashPassword } from '../../../console/auth';

describe('console authenticator', () => {
  let auth: Authenticator;
  beforeAll(async () => {
    auth = new Authenticator({
      users: [
        { name: 'ann', roles: ['approver'], passwordHash: await hashPassword('ann-pw', 4) },
        { name: 'sso-op', roles: ['operator'] },
      ],
      proxy: { header: 'X-Forwarded-User', addresses: ['10.9.9.9'] },
      sessionTtlMs: 60_000,
    });
  });

  it('opens a session for the right password only, and ends it on logout', async () => {
    expect(await auth.login('ann', 'wrong')).toBeUndefined();
    expect(await auth.login('nobody', 'ann-pw')).toBeUndefined();
    // A proxy-only user has no password: the login never lets them in.
    expect(await auth.login('sso-op', '')).toBeUndefined();
    const s = await auth.login('ann', 'ann-pw');
    if (!s || s === 'throttled') throw new Error('expected a session');
    expect(s.identity).toEqual({ name: 'ann', roles: ['approver'], via: 'session' });
    expect(await auth.identify('127.0.0.1', {}, s.sessionId)).toMatchObject({ name: 'ann' });
    await auth.logout(s.sessionId);
    expect(await auth.identify('127.0.0.1', {}, s.sessionId)).toBeUndefined();
  });

  it('refuses further logins for a name after five wrong passwords within 15 minutes, then lets it try again', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) expect(await auth.login('ann', 'guess', t0 + i)).toBeUndefined();
    expect(await auth.login('ann', 'ann-pw', t0 + 10)).toBe('throttled');
    const later = await auth.login('ann', 'ann-pw', t0 + 15 * 60_000 + 10);
    expect(later).toMatchObject({ identity: { name: 'ann' } });
  });

  it('believes the proxy header only from the proxy address; unknown people get the viewer role', async () => {
    expect(await auth.identify('10.9.9.9', { 'x-forwarded-user': 'sso-op' }, undefined)).toEqual({
      name: 'sso-op',
      roles: ['operator'],
      via: 'proxy',
    });
    expect((await auth.identify('::ffff:10.9.9.9', { 'x-forwarded-user': 'sso-op' }, undefined))?.name).toBe('sso-op');
    expect(await auth.identify('10.0.0.66', { 'x-forwarded-user': 'sso-op' }, undefined)).toBeUndefined();
    const stranger = await auth.identify('10.9.9.9', { 'x-forwarded-user': 'mallory' }, undefined);
    expect(stranger?.roles).toEqual(['viewer']);
    expect(hasRole(stranger!, 'viewer')).toBe(true);
    expect(hasRole(stranger!, 'approver')).toBe(false);
  });

  it('refuses configuration with an unknown role or a password that is not a bcrypt hash', () => {
    expect(() => new Authenticator({ users: [{ name: 'x', roles: ['admin' as never] }] })).toThrow(/unknown role "admin"/);
    expect(() => new Authenticator({ users: [{ name: 'x', roles: [], passwordHash: 'plaintext' }] })).toThrow(/bcrypt/);
  });
});
