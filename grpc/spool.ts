/**
 * The gate's local write-ahead spool: every decision and fill is appended here and fdatasync'ed
 * before the gate answers the call that produced it, so whatever the gate acknowledged survives a
 * crash at any instant, Postgres up or down.
 *
 * - Group commit: records appended while one write + fdatasync is in flight form the next group, so
 *   one fdatasync covers every call of a burst; each call's answer waits for its own group.
 * - Only durable records are handed on (`deliver`) to the Postgres writers (grpc/batchWriter.ts),
 *   which write them idempotently (decision id / fill id, ON CONFLICT DO NOTHING) and report them
 *   handled (written or quarantined) in order (`handled`).
 * - Segments: one append-only file at a time (`segment-<n>.jsonl`, one JSON record per line). A
 *   segment is rotated at `segmentBytes` (or at 1 MiB once every record in it is handled) and
 *   deleted once every record in it is handled, so the spool holds what Postgres has not yet got.
 * - Start: every segment left by a previous run is read back and delivered first (replay); a torn
 *   last line (a crash mid-write: never acknowledged, since its fdatasync never returned) is skipped.
 *   New records always go to a new segment, never after a torn tail.
 * - One spool per data dir: a lock file names the owning process; a second gate on the same dir is
 *   refused at start.
 *
 * A failed write or fdatasync (disk full, I/O error) marks the spool failed: the calls of that group
 * and every later trade call are refused (UNAVAILABLE) and health turns NOT_SERVING until restart.
 */
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setImmediate } from 'node:timers';
import type { Logger } from 'pino';

export type SpoolKind = 'decision' | 'fill';
const KINDS: readonly SpoolKind[] = ['decision', 'fill'];
const KIND_TAG: Readonly<Record<SpoolKind, string>> = { decision: 'd', fill: 'f' };
const TAG_KIND: Readonly<Record<string, SpoolKind>> = { d: 'decision', f: 'fill' };

/** A record with its place in the spool and the replica that made it (replayed rows keep theirs). */
export interface SpoolEntry<T = unknown> {
  readonly kind: SpoolKind;
  readonly seq: number;
  readonly replica: string;
  readonly row: T;
}

/** What the gate needs of its spool; `Spool` on disk, `MemoryJournal` when the gate has no data dir. */
export interface Journal {
  /** Resolves once the record is durable (and handed to `deliver`); rejects if it could not be made so. */
  append(kind: SpoolKind, replica: string, row: unknown): Promise<void>;
  /** Resolves once every record appended so far is durable. */
  sync(): Promise<void>;
  /** Records up to these (in delivery order) are in Postgres or quarantined. */
  handled(entries: readonly SpoolEntry[]): void;
  /** Set once a write failed: nothing more is accepted. */
  readonly failure: Error | undefined;
  /** Records delivered but not yet handled. */
  readonly backlog: number;
  /** Stop (after `sync`): removes what is handled, keeps the rest for the next start, releases the dir. */
  close(): Promise<void>;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Hands on a durable record (replayed ones first, at open). */
  readonly deliver: (entry: SpoolEntry) => void;
  /** Rotate the segment past this size. Default 64 MiB. */
  readonly segmentBytes?: number;
}

interface Segment {
  readonly path: string;
  handle: FileHandle | undefined;
  bytes: number;
  /** Highest seq of each kind in the segment (0: none). */
  readonly last: Record<SpoolKind, number>;
}

interface Group {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;
const segmentName = (n: number): string => `segment-${String(n).padStart(12, '0')}.jsonl`;
const ROTATE_IDLE_BYTES = 1 << 20;
/** Data dirs locked by this process (a second lock from the same pid must fail too). */
const lockedHere = new Set<string>();

export class Spool implements Journal {
  private seq = 0;
  private segmentNo = 0;
  private current!: Segment;
  private readonly older: Segment[] = [];
  private readonly handledThrough: Record<SpoolKind, number> = { decision: 0, fill: 0 };
  private delivered = 0;
  private handledCount = 0;
  private lines: string[] = [];
  private entries: SpoolEntry[] = [];
  private group: Group | undefined;
  private flight: Promise<void> | undefined;
  private writing = false;
  private closed = false;
  failure: Error | undefined;
  /** fdatasync durations (µs) of the last groups, for the stats. */
  readonly syncStats = { groups: 0, records: 0, totalUs: 0, maxUs: 0 };

  constructor(private readonly options: SpoolOptions) {}

  /** Locks the dir, replays what a previous run left (delivered before this resolves), and opens a new segment. */
  async open(): Promise<{ replayed: number; torn: number }> {
    const { dir } = this.options;
    await mkdir(dir, { recursive: true });
    await lock(dir);
    try {
      const recovered = await this.recover();
      await this.startSegment();
      return recovered;
    } catch (err) {
      await unlock(dir);
      throw err;
    }
  }

  get backlog(): number {
    return this.delivered - this.handledCount;
  }

  append(kind: SpoolKind, replica: string, row: unknown): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the spool is closed'));
    const entry: SpoolEntry = { kind, seq: ++this.seq, replica, row };
    this.lines.push(`${JSON.stringify({ k: KIND_TAG[kind], r: replica, v: row })}\n`);
    this.entries.push(entry);
    this.group ??= newGroup();
    if (!this.writing) {
      this.writing = true;
      // Let every call arriving in this turn of the event loop join the group.
      setImmediate(() => void this.writeGroup());
    }
    return this.group.promise;
  }

  sync(): Promise<void> {
    return this.group?.promise ?? this.flight ?? Promise.resolve();
  }

  handled(entries: readonly SpoolEntry[]): void {
    for (const e of entries) if (e.seq > this.handledThrough[e.kind]) this.handledThrough[e.kind] = e.seq;
    this.handledCount += entries.length;
    if (this.older.length > 0) void this.collect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync().catch(() => undefined);
    this.closed = true;
    const current = this.current;
    await current.handle?.close();
    current.handle = undefined;
    this.older.push(current);
    await this.collect();
    if (this.backlog > 0 || this.older.length > 0) {
      this.options.logger.warn(
        { dir: this.options.dir, records: this.backlog, segments: this.older.length },
        'records not yet in Postgres stay in the spool; the next start writes them',
      );
    }
    await unlock(this.options.dir);
  }

  private async writeGroup(): Promise<void> {
    const { lines, entries } = this;
    const group = this.group!;
    this.lines = [];
    this.entries = [];
    this.group = undefined;
    this.flight = group.promise;
    try {
      if (
        this.current.bytes >= (this.options.segmentBytes ?? 64 << 20) ||
        (this.current.bytes >= ROTATE_IDLE_BYTES && this.done(this.current))
      )
        await this.rotate();
      const buffer = Buffer.from(lines.join(''));
      const handle = this.current.handle!;
      for (let offset = 0; offset < buffer.length;) offset += (await handle.write(buffer, offset)).bytesWritten;
      const t0 = process.hrtime.bigint();
      await handle.datasync();
      this.recordSync(Number((process.hrtime.bigint() - t0) / 1000n), entries.length);
      this.current.bytes += buffer.length;
      for (const e of entries) {
        this.current.last[e.kind] = e.seq;
        this.delivered++;
        this.options.deliver(e);
      }
      group.resolve();
    } catch (err) {
      this.failure = err as Error;
      this.options.logger.error(
        { err: this.failure.message, dir: this.options.dir },
        'spool write failed: the gate refuses to decide until restarted',
      );
      group.reject(this.failure);
    }
    this.flight = undefined;
    if (this.lines.length === 0) this.writing = false;
    else if (this.failure) {
      this.writing = false;
      (this.group as Group | undefined)?.reject(this.failure);
      this.group = undefined;
      this.lines = [];
      this.entries = [];
    } else setImmediate(() => void this.writeGroup());
  }

  private recordSync(us: number, records: number): void {
    const s = this.syncStats;
    s.groups++;
    s.records += records;
    s.totalUs += us;
    if (us > s.maxUs) s.maxUs = us;
  }

  /** Every record of the segment is in Postgres or quarantined. */
  private done(segment: Segment): boolean {
    return KINDS.every((k) => segment.last[k] <= this.handledThrough[k]);
  }

  private async rotate(): Promise<void> {
    const previous = this.current;
    await this.startSegment();
    await previous.handle?.close();
    previous.handle = undefined;
    this.older.push(previous);
    await this.collect();
  }

  private async startSegment(): Promise<void> {
    const path = join(this.options.dir, segmentName(++this.segmentNo));
    const handle = await open(path, 'wx');
    // The new file's directory entry must be durable before a record in it is acknowledged.
    await syncDir(this.options.dir);
    this.current = { path, handle, bytes: 0, last: { decision: 0, fill: 0 } };
  }

  /** Deletes the closed segments whose records are all handled (a lost delete only replays rows Postgres skips). */
  private async collect(): Promise<void> {
    const done = this.older.filter((s) => this.done(s));
    if (done.length === 0) return;
    for (const s of done) this.older.splice(this.older.indexOf(s), 1);
    await Promise.all(
      done.map((s) =>
        unlink(s.path).catch((err: Error) => this.options.logger.warn({ err: err.message, path: s.path }, 'spool segment not deleted')),
      ),
    );
  }

  /** Reads every segment a previous run left, in order, delivering each record. */
  private async recover(): Promise<{ replayed: number; torn: number }> {
    const names = (await readdir(this.options.dir)).filter((n) => SEGMENT.test(n)).sort();
    let replayed = 0;
    let torn = 0;
    for (const name of names) {
      this.segmentNo = Math.max(this.segmentNo, Number(SEGMENT.exec(name)![1]));
      const path = join(this.options.dir, name);
      const segment: Segment = { path, handle: undefined, bytes: 0, last: { decision: 0, fill: 0 } };
      const lines = (await readFile(path, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (line === '') return;
        const parsed = parseLine(line);
        if (!parsed) {
          torn++;
          const last = lines.slice(i + 1).every((l) => l === '');
          // A torn last line was never acknowledged; anything else unreadable is corruption worth a look.
          if (last)
            this.options.logger.warn({ path }, 'spool: skipping a torn last record (written when the gate died, never acknowledged)');
          else this.options.logger.error({ path, line: i + 1, text: line.slice(0, 500) }, 'spool: unreadable record skipped');
          return;
        }
        const entry: SpoolEntry = { ...parsed, seq: ++this.seq };
        segment.last[entry.kind] = entry.seq;
        this.delivered++;
        replayed++;
        this.options.deliver(entry);
      });
      this.older.push(segment);
    }
    await this.collect();
    if (replayed > 0 || torn > 0)
      this.options.logger.info({ dir: this.options.dir, replayed, torn }, 'spool: replaying records a previous run left');
    return { replayed, torn };
  }
}

/** No data dir: records are handed on at once and nothing survives a crash (tests with stand-in stores). */
export class MemoryJournal implements Journal {
  private seq = 0;
  private delivered = 0;
  private handledCount = 0;
  readonly failure = undefined;
  constructor(private readonly deliver: (entry: SpoolEntry) => void) {}
  get backlog(): number {
    return this.delivered - this.handledCount;
  }
  append(kind: SpoolKind, replica: string, row: unknown): Promise<void> {
    this.delivered++;
    this.deliver({ kind, seq: ++this.seq, replica, row });
    return RESOLVED;
  }
  sync(): Promise<void> {
    return RESOLVED;
  }
  handled(entries: readonly SpoolEntry[]): void {
    this.handledCount += entries.length;
  }
  async close(): Promise<void> {}
}

const RESOLVED = Promise.resolve();

/**
 * The replica name kept in the data dir (created on first start), so a restarted gate finds its own
 * approvals in `gate_decisions` and its spool under the same name.
 */
export async function stableReplicaId(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'replica');
  try {
    const name = (await readFile(file, 'utf8')).trim();
    if (name !== '') return name;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const name = `${hostname()}-${randomUUID().slice(0, 8)}`;
  await writeFile(file, `${name}\n`);
  return name;
}

function parseLine(line: string): Omit<SpoolEntry, 'seq'> | undefined {
  try {
    const v = JSON.parse(line) as { k?: unknown; r?: unknown; v?: unknown };
    const kind = typeof v.k === 'string' ? TAG_KIND[v.k] : undefined;
    if (!kind || typeof v.r !== 'string' || typeof v.v !== 'object' || v.v === null) return undefined;
    return { kind, replica: v.r, row: v.v };
  } catch {
    return undefined;
  }
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers attach their own handlers; this one keeps a group nobody awaits from being an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function lock(dir: string): Promise<void> {
  const file = join(dir, 'lock');
  if (lockedHere.has(dir))
    throw new Error(`gate data dir ${dir} is already used by a gate in this process: give each replica its own data dir`);
  try {
    const owner = Number((await readFile(file, 'utf8')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
      throw new Error(
        `gate data dir ${dir} is in use by process ${owner}: give each replica its own data dir (remove ${file} if that process is not a gate)`,
      );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(file, `${process.pid}\n`);
  lockedHere.add(dir);
}

async function unlock(dir: string): Promise<void> {
  lockedHere.delete(dir);
  await unlink(join(dir, 'lock')).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
