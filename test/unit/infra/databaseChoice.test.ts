import { DatabaseChoiceError, PRIVATE_DATABASE_URL, chooseDatabase } from '../../../infra/postgres';

const LOCAL = 'postgres://postgres@127.0.0.1:5432/ballast';
const none = { localReachable: false, durableTemporalState: false, privateServerExists: false };

describe('which database Ballast pairs its Temporal state with', () => {
  it('takes DATABASE_URL, else the local server, else (nothing durable yet) a private one', () => {
    expect(chooseDatabase({ ...none, configuredUrl: 'postgres://db:5432/risk', localReachable: true })).toEqual({
      kind: 'configured',
      databaseUrl: 'postgres://db:5432/risk',
    });
    expect(chooseDatabase({ ...none, localReachable: true })).toEqual({ kind: 'local', databaseUrl: LOCAL });
    expect(chooseDatabase(none)).toEqual({ kind: 'private', databaseUrl: PRIVATE_DATABASE_URL });
  });

  it('refuses a new, empty private database when Temporal already holds state (the system Postgres is down)', () => {
    expect(() => chooseDatabase({ ...none, durableTemporalState: true })).toThrow(DatabaseChoiceError);
    expect(() => chooseDatabase({ ...none, durableTemporalState: true })).toThrow(/start the Postgres those loops ran against/);
  });

  it('refuses any database other than the one the state was paired with, naming it without its password', () => {
    const paired = { ...none, durableTemporalState: true, pairedWith: LOCAL };
    expect(() => chooseDatabase({ ...paired, privateServerExists: true })).toThrow(
      /belongs with the database postgres:\/\/postgres@127\.0\.0\.1:5432\/ballast/,
    );
    expect(() => chooseDatabase({ ...paired, configuredUrl: 'postgres://u:secret@elsewhere:5432/b' })).toThrow(/elsewhere/);
    expect(() => chooseDatabase({ ...paired, configuredUrl: 'postgres://u:secret@elsewhere:5432/b' })).not.toThrow(/secret/);
    expect(chooseDatabase({ ...paired, localReachable: true }).kind).toBe('local');
  });

  it('resumes on the private database the state was paired with', () => {
    const facts = {
      ...none,
      durableTemporalState: true,
      privateServerExists: true,
      pairedWith: 'postgres://postgres@127.0.0.1:54329/ballast',
    };
    expect(chooseDatabase(facts).kind).toBe('private');
    // …and does not silently switch to a local server that has come up meanwhile.
    expect(() => chooseDatabase({ ...facts, localReachable: true })).toThrow(DatabaseChoiceError);
  });
});
