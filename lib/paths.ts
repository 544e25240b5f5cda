import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, whether this code runs compiled (dist/<folder>/) or from source (<folder>/). */
export function repoRoot(): string {
  return join(__dirname, __dirname.includes(join('dist', 'lib')) ? '../..' : '..');
}

/**
 * A file of the shared market data that tests and benchmarks read (never copied into the repository):
 * `shared/data/` beside the repository, e.g. sharedDataFile('skfolio', 'sp500_index.csv.gz').
 */
export function sharedDataFile(...parts: string[]): string {
  const file = join(repoRoot(), '..', 'shared', 'data', ...parts);
  if (!existsSync(file)) throw new Error(`shared market data ${join(...parts)} not found: expected ${file}`);
  return file;
}
