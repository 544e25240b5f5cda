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
 * - O_DSYNC append / overwrite: the write itself returns once durable (one syscall, no fdatasync).
 *
 * Printed: p50, p90, p99 and mean µs per durable write, interleaved by round so machine load spreads
 * over every mode alike. Sync calls on purpose: the figure is the kernel's and the disk's, not libuv's.
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SAMPLES = Number(process.env.SPOOL_SYNC_SAMPLES ?? 200);
const RECORD = Number(process.env.SPOOL_SYNC_RECORD ?? 4096);
const ROUNDS = Number(process.env.SPOOL_SYNC_ROUNDS ?? 8);

type Mode = 'append+fdatasync' | 'overwrite+fdatasync' | 'sparse+fdatasync' | 'O_DSYNC append' | 'O_DSYNC overwrite';
const MODES: readonly Mode[] = ['append+fdatasync', 'overwrite+fdatasync', 'sparse+fdatasync', 'O_DSYNC append', 'O_DSYNC overwrite'];

export function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-bench-sync-'));
  try {
    const times: Record<Mode, number[]> = Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, number[]>;
    const perRound = Math.ceil(SAMPLES / ROUNDS);
    console.log(`spool durability: ${RECORD}-byte writes, ${perRound * ROUNDS} per mode in ${ROUNDS} interleaved rounds, dir ${dir}`);
    for (let round = 0; round < ROUNDS; round++)
      for (const mode of MODES) times[mode].push(...sample(mode, join(dir, `${round}-${mode.replace(/\W/g, '')}`), perRound));
    for (const mode of MODES) console.log(`  ${mode.padEnd(20)} ${summary(times[mode])}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return Promise.resolve();
}

function sample(mode: Mode, path: string, n: number): number[] {
  const overwrite = mode === 'overwrite+fdatasync' || mode === 'O_DSYNC overwrite';
  if (overwrite) preallocate(path, n * RECORD);
  if (mode === 'sparse+fdatasync') sparse(path, n * RECORD);
  const dsync = mode.startsWith('O_DSYNC');
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | (dsync ? constants.O_DSYNC : 0));
  const record = Buffer.alloc(RECORD, 0x61);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, record, 0, RECORD, i * RECORD);
      if (!dsync) fdatasyncSync(fd);
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
