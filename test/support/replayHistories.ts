/**
 * Replays workflow histories (JSON as exported by `temporal workflow show --output json`) through a
 * workflow bundle, in a plain Node process. Usage: node dist/test/support/replayHistories.js BUNDLE FILE...
 * Exits non-zero, naming the history, on the first non-deterministic replay.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

async function main(): Promise<number> {
  const [bundlePath, ...files] = process.argv.slice(2);
  if (!bundlePath || files.length === 0) {
    process.stderr.write('usage: replayHistories BUNDLE FILE...\n');
    return 2;
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = { code: readFileSync(bundlePath, 'utf8') };
  for (const file of files) {
    const history: unknown = JSON.parse(readFileSync(file, 'utf8'));
    try {
      await Worker.runReplayHistory({ workflowBundle }, history, basename(file));
      process.stdout.write(`replayed ${basename(file)}\n`);
    } catch (err) {
      process.stderr.write(`${basename(file)}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}

main().then((code) => process.exit(code));
