/**
 * The whole output reaches a pipe or a file before the process exits, whatever its size: the compiled
 * CLI run as a user runs it (`node bin/ballast.js regime … | node -e …`). Before the fix the process
 * exited while Node still held the rest, and a reader received the first 64 KiB (the pipe's buffer).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedDataFile } from '../../../lib/paths';
import { writePriceCsv } from '../../support/prices';

const BIN = join(repoRoot(), 'bin', 'ballast.js');

/** Reads all of stdin only after a pause (so the writer meets a full pipe), parses it and reports its size. */
const READ_WHOLE_JSON = `
setTimeout(() => {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    const doc = JSON.parse(text);
    process.stdout.write(JSON.stringify({ bytes: Buffer.byteLength(text), observations: doc.observations, rows: doc.filtered.length }));
  });
}, 300);`;

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], opts: { stdout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

/** `node bin/ballast.js ARGS | READER` in bash: a real pipe; the exit codes of both sides come back. */
async function throughPipe(args: readonly string[], reader: string): Promise<{ readerOut: string; exitCodes: number[]; stderr: string }> {
  const script = 'node "$BIN" "$@" | ' + reader + '; echo "exit codes: ${PIPESTATUS[*]}" >&2';
  const { stdout, stderr } = await run('bash', ['-c', script, 'bash', ...args], { env: { BIN, READ_WHOLE_JSON } });
  const exitCodes = /exit codes: ([\d ]+)/.exec(stderr)![1].trim().split(' ').map(Number);
  return { readerOut: stdout, exitCodes, stderr };
}

beforeAll(() => {
  // The test runs the compiled CLI: it must be built from the sources under test.
  for (const file of ['main', 'output', 'commands/regime']) {
    const built = join(repoRoot(), 'dist', 'cli', `${file}.js`);
    const source = join(repoRoot(), 'cli', `${file}.ts`);
    if ((statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0) < statSync(source).mtimeMs)
      throw new Error(`dist/cli/${file}.js is older than cli/${file}.ts: run npm run build (npm test does)`);
  }
});

describe('output of any size reaches its reader before the process exits', () => {
  // 40 000 daily returns: 1.3 MB of filtered probabilities, twenty times the pipe's buffer.
  const longHistory = writePriceCsv({ days: 40_001, assets: ['INDEX'] });
  const longArgs = ['regime', '--prices', longHistory, '--column', 'INDEX', '--restarts', '1'];

  it('a > 1 MB JSON document piped into `node -e`, parsed whole', async () => {
    const { readerOut, exitCodes } = await throughPipe(longArgs, 'node -e "$READ_WHOLE_JSON"');
    expect(exitCodes).toEqual([0, 0]);
    const received = JSON.parse(readerOut);
    expect(received.bytes).toBeGreaterThan(1_000_000);
    expect(received).toMatchObject({ observations: 40_000, rows: 40_000 });
  });

  it('the same document written whole to a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ballast-out-')), 'regime.json');
    const fd = openSync(file, 'w');
    try {
      await run(process.execPath, [BIN, ...longArgs], { stdout: fd });
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(JSON.parse(text).filtered).toHaveLength(40_000);
  });

  it('`ballast regime` on the S&P 500 index, 1990–2022, piped into `node -e`', async () => {
    const args = [
      'regime',
      '--prices',
      sharedDataFile('skfolio', 'sp500_index.csv.gz'),
      '--column',
      'SP500',
      '--states',
      '4',
      '--restarts',
      '1',
    ];
    const { readerOut, exitCodes } = await throughPipe(args, 'node -e "$READ_WHOLE_JSON"');
    expect(exitCodes).toEqual([0, 0]);
    const received = JSON.parse(readerOut);
    expect(received.bytes).toBeGreaterThan(400_000);
    expect(received).toMatchObject({ observations: 8_312, rows: 8_312 });
  });

  it('a reader that stops early (`| head -c 100`) ends the command quietly, exit code 0', async () => {
    const { readerOut, exitCodes, stderr } = await throughPipe(longArgs, 'head -c 100');
    expect(readerOut).toHaveLength(100);
    expect(exitCodes).toEqual([0, 0]);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });
});
