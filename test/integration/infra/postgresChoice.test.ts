/**
 * With the system Postgres down (here: a closed port in its place) and no DATABASE_URL, Ballast says so
 * loudly and never pairs durable Temporal state with a new, empty database; with nothing durable yet
 * it starts a private one, saying so.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseChoiceError, ensurePostgres } from '../../../infra/postgres';
import { freePort } from '../../../infra/temporal';
import { testLogger } from '../../support/env';

describe('choosing the database when the system Postgres is down', () => {
  let downUrl: string;
  beforeAll(async () => {
    downUrl = `postgres://postgres@127.0.0.1:${await freePort()}/ballast`; // nothing listens there
  });
  const dataDir = (): string => mkdtempSync(join(tmpdir(), 'ballast-data-'));

  it('refuses to start a new private database beside the dev server state of running loops', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'temporal'));
    writeFileSync(join(dir, 'temporal', 'dev.sqlite'), 'loops');
    const warnings: string[] = [];
    await expect(ensurePostgres({ dataDir: dir, logger: testLogger, localUrl: downUrl, warn: (m) => warnings.push(m) })).rejects.toThrow(
      DatabaseChoiceError,
    );
    expect(existsSync(join(dir, 'postgres'))).toBe(false); // nothing was created
    expect(warnings).toEqual([]);
  });

  it('refuses when the Temporal server is external (TEMPORAL_ADDRESS): its state is durable elsewhere', async () => {
    await expect(ensurePostgres({ dataDir: dataDir(), logger: testLogger, localUrl: downUrl, externalTemporal: true })).rejects.toThrow(
      /no Postgres is reachable at 127\.0\.0\.1:5432 and DATABASE_URL is not set/,
    );
  });

  it('refuses another database than the one the state was paired with', async () => {
    const dir = dataDir();
    // What a previous start against the system Postgres recorded (ensurePostgres writes it after migrating).
    writeFileSync(join(dir, 'database-pairing.json'), JSON.stringify({ database: 'postgres://postgres@127.0.0.1:5432/ballast' }));
    // The system Postgres is down and DATABASE_URL unset: no private stand-in.
    await expect(ensurePostgres({ dataDir: dir, logger: testLogger, localUrl: downUrl })).rejects.toThrow(
      /belongs with the database postgres:\/\/postgres@127\.0\.0\.1:5432\/ballast/,
    );
    expect(existsSync(join(dir, 'postgres'))).toBe(false);
  });

  it('names an unreachable DATABASE_URL instead of falling back to anything', async () => {
    await expect(ensurePostgres({ dataDir: dataDir(), logger: testLogger, databaseUrl: downUrl })).rejects.toThrow(
      /DATABASE_URL .* is not reachable/,
    );
  });
});
