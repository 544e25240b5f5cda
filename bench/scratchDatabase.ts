import { ensureDatabase, migrate, withDatabase } from '../db/migrate';
import { DEFAULT_DATABASE_URL } from '../db/pool';

/**
 * A migrated database of the bench's own, `ballast_bench_<name>_<pid>` on DATABASE_URL's server: a run
 * never touches the user's data, and two runs never meet. The caller drops it (db/migrate `dropDatabase`).
 */
export async function scratchDatabase(name: string): Promise<string> {
  const databaseUrl = withDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, `ballast_bench_${name}_${process.pid}`);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  return databaseUrl;
}
