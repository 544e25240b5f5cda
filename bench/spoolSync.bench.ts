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
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SAMPLES = Number(process.env.SPOOL_SYNC_SAMPLES ?? 400);
const RECORD = Number(process.env.SPOOL_SYNC_RECORD ?? 1024);
const ROUNDS = Number(process.env.SPOOL_SYNC_ROUNDS ?? 8);

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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
