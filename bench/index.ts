/**
 * `npm run bench`: runs every bench/*.bench.ts (compiled) one after another, each in its own Node
 * process so one benchmark's heap and JIT state cannot colour the next. `npm run bench -- gate`
 * runs only the benchmarks whose name contains "gate".
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function main(): number {
  const filter = process.argv[2];
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => !filter || f.includes(filter))
    .sort();
  if (files.length === 0) {
    process.stderr.write(`no benchmark matches "${filter}"\n`);
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    process.stdout.write(`\n=== ${file.replace(/\.bench\.js$/, '')} ===\n`);
    const started = Date.now();
    const script = `require(${JSON.stringify(join(__dirname, file))}).run().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { stdio: 'inherit' });
    process.stdout.write(
      `(${file}: ${((Date.now() - started) / 1000).toFixed(1)} s${run.status === 0 ? '' : `, FAILED with exit ${run.status}`})\n`,
    );
    if (run.status !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

process.exit(main());
