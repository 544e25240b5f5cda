/** Synthetic daily price files for tests that run commands on files (seeded: the same file every time). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../../risk/random';

/**
 * Writes `days` weekdays from 2001-01-02 of geometric random walks for `assets` columns, with a
 * turbulent stretch every 300 days, and returns the file's path.
 */
export function writePriceCsv(opts: { days: number; assets: readonly string[]; seed?: number }): string {
  const rng = seededRng(opts.seed ?? 5);
  const level = opts.assets.map((_, i) => 50 + i);
  const rows = [`date,${opts.assets.join(',')}`];
  for (let d = Date.UTC(2001, 0, 2), t = 0; t < opts.days; d += 86_400_000) {
    if ([0, 6].includes(new Date(d).getUTCDay())) continue;
    const vol = t % 300 < 40 ? 0.03 : 0.008;
    for (let i = 0; i < level.length; i++) level[i] *= Math.exp(0.0002 + vol * rng.normal());
    rows.push(`${new Date(d).toISOString().slice(0, 10)},${level.map((p) => p.toFixed(4)).join(',')}`);
    t++;
  }
  const file = join(mkdtempSync(join(tmpdir(), 'ballast-prices-')), 'prices.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}
