/**
 * What one durable spool write costs on this disk, by the way the file is written (issue 10's latency
 * budget rests on it). Each mode writes `RECORD` bytes then makes them durable, `SAMPLES` times, in a
 * fresh file in the OS temp dir (the gate's data dir lives on the same filesystem by default):
 *
 * - append + fdatasync: the file grows, so each fdatasync must also commit the new size (and, on
 *   ext4, newly allocated blocks) through the filesystem journal;
 * - overwrite + fdatasync: the same writes into a segment preallocated by writing zeros and fsync'ed
 *   once (what grpc/spool.ts does, as Postgres does with WAL segments): only data blocks to flush;
 * - overwrite of a sparse file (ftruncate'd, never written): the blocks are allocated at write time,
 *   so it costs like an append;
 * - O_DSYNC append / overwrite: the write itself returns once durable (one syscall, no fdatasync);
 * - the gate's own path, through libuv's thread pool and awaited as grpc/spool.ts awaits it: the
 *   earlier spool (append, then fdatasync: two round trips to the pool) against the current one
 *   (O_DSYNC overwrite of a preallocated segment: one). On a machine short of CPU every round trip
 *   waits for a thread to be scheduled, which can cost more than the disk.
 *
 * Printed: p10 … p99 and mean ms per durable write, interleaved by round so machine load spreads over
 * every mode alike.
 *
 * Then the spool itself (grpc/spool.ts) in a closed loop without gRPC or Postgres: `CONCURRENCY`
 * callers each append a decision-sized record and await it, again and again (records are reported
 * handled at once, as if Postgres kept up): acknowledged records per second, latency per record,
 * records per group. SPOOL_BENCH_BASE=<root of another built checkout> runs that checkout's spool in
 * the same interleaved rounds, for a before/after in one run.
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import pino from 'pino';
import { Spool, type SpoolEntry } from '../grpc/spool';
import { tmpdir } from 'node:os';
import { setImmediate } from 'node:timers';
import { join } from 'node:path';

const SAMPLES = Number(process.env.SPOOL_SYNC_SAMPLES ?? 400);
const RECORD = Number(process.env.SPOOL_SYNC_RECORD ?? 1024);
const ROUNDS = Number(process.env.SPOOL_SYNC_ROUNDS ?? 8);
const CONCURRENCY = 32;
const LOOP_MS = Number(process.env.SPOOL_LOOP_MS ?? 2_000);
const LOOP_ROUNDS = Number(process.env.SPOOL_LOOP_ROUNDS ?? 3);
const BASE = process.env.SPOOL_BENCH_BASE;

interface Mode {
  readonly name: string;
  readonly file: 'grow' | 'preallocated' | 'sparse';
  readonly dsync: boolean;
  readonly async: boolean;
}
const MODES: readonly Mode[] = [
  { name: 'append+fdatasync', file: 'grow', dsync: false, async: false },
  { name: 'overwrite+fdatasync', file: 'preallocated', dsync: false, async: false },
  { name: 'sparse+fdatasync', file: 'sparse', dsync: false, async: false },
  { name: 'O_DSYNC append', file: 'grow', dsync: true, async: false },
  { name: 'O_DSYNC overwrite', file: 'preallocated', dsync: true, async: false },
  { name: 'async append+fdatasync (earlier spool)', file: 'grow', dsync: false, async: true },
  { name: 'async O_DSYNC overwrite (spool)', file: 'preallocated', dsync: true, async: true },
];

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-bench-sync-'));
  try {
    const times = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    const perRound = Math.ceil(SAMPLES / ROUNDS);
    console.log(`spool durability: ${RECORD}-byte writes, ${perRound * ROUNDS} per mode in ${ROUNDS} interleaved rounds, dir ${dir}`);
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, mode] of MODES.entries()) times.get(mode)!.push(...(await sample(mode, join(dir, `${round}-${i}`), perRound)));
    for (const mode of MODES) console.log(`  ${mode.name.padEnd(40)} ${summary(times.get(mode)!)}`);
    await closedLoops(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type SpoolClass = typeof Spool;

async function closedLoops(dir: string): Promise<void> {
  const kinds: [string, SpoolClass][] = [['spool', Spool]];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- another checkout's build, chosen at run time
  if (BASE) kinds.push([`base spool (${BASE})`, (require(join(BASE, 'dist', 'grpc', 'spool.js')) as { Spool: SpoolClass }).Spool]);
  console.log(`spool closed loop: ${CONCURRENCY} callers appending and awaiting, ${LOOP_MS / 1000} s per round, ${LOOP_ROUNDS} rounds`);
  for (let round = 1; round <= LOOP_ROUNDS; round++)
    for (const [i, [name, SpoolImpl]] of kinds.entries())
      console.log(`  round ${round} ${name.padEnd(12)} ${await closedLoop(SpoolImpl, join(dir, `loop-${round}-${i}`))}`);
}

async function closedLoop(SpoolImpl: SpoolClass, dir: string): Promise<string> {
  const logger = pino({ level: 'silent' });
  const spool: Spool = new SpoolImpl({ dir, logger, deliver: (e: SpoolEntry) => setImmediate(() => spool.handled([e])) });
  await spool.open();
  const row = {
    decisionId: 'bench-0000-0000',
    portfolioId: 'bench',
    strategy: 'core',
    instrument: 'AAPL',
    side: 'BUY',
    quantity: 1.5,
    price: 125.67,
    decision: 'APPROVE',
    reasons: [],
    budgetVersion: 1,
    caller: 'bench',
  };
  const latencies: number[] = [];
  const end = Date.now() + LOOP_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        await spool.append('decision', 'bench', row);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }),
  );
  const { groups, records } = spool.syncStats;
  await spool.close();
  return `${String(Math.round((latencies.length * 1000) / LOOP_MS)).padStart(6)} records/s  ${summary(latencies)}  ${(records / Math.max(1, groups)).toFixed(1)} records/group`;
}

async function sample(mode: Mode, path: string, n: number): Promise<number[]> {
  if (mode.file === 'preallocated') preallocate(path, n * RECORD);
  if (mode.file === 'sparse') sparse(path, n * RECORD);
  const flags = constants.O_WRONLY | constants.O_CREAT | (mode.dsync ? constants.O_DSYNC : 0);
  const record = Buffer.alloc(RECORD, 0x61);
  const out: number[] = [];
  if (mode.async) {
    const handle = await open(path, flags);
    try {
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        await handle.write(record, 0, RECORD, i * RECORD);
        if (!mode.dsync) await handle.datasync();
        out.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    } finally {
      await handle.close();
    }
    return out;
  }
  const fd = openSync(path, flags);
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, record, 0, RECORD, i * RECORD);
      if (!mode.dsync) fdatasyncSync(fd);
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Zeros written and fsync'ed: every block allocated and initialised, the size final. */
function preallocate(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.alloc(bytes));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sparse(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function summary(us: number[]): string {
  const s = [...us].sort((a, b) => a - b);
  const q = (p: number): string => (s[Math.min(s.length - 1, Math.floor(p * s.length))] / 1000).toFixed(2).padStart(7);
  const mean = s.reduce((a, b) => a + b, 0) / s.length / 1000;
  return `p10 ${q(0.1)} ms  p25 ${q(0.25)} ms  p50 ${q(0.5)} ms  p90 ${q(0.9)} ms  p99 ${q(0.99)} ms  mean ${mean.toFixed(2).padStart(6)} ms`;
}

if (require.main === module) void run();
