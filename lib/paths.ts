import { join } from 'node:path';

/** The repository root, whether this code runs compiled (dist/<folder>/) or from source (<folder>/). */
export function repoRoot(): string {
  return join(__dirname, __dirname.includes(join('dist', 'lib')) ? '../..' : '..');
}
