/**
 * The gate's local write-ahead spool: every decision and fill is written here, durably, before the
 * gate answers the call that produced it, so whatever the gate acknowledged survives a crash at any
 * instant, Postgres up or down.
 *
 * - Preallocated segments: records go into fixed-size segment files (`segment-<n>.wal`) that were
 *   zero-filled and fsync'ed when created, or recycled (as Postgres does with WAL segments). Writes
 *   overwrite blocks that already exist, so making them durable flushes data blocks only: no file size
 *   or block allocation to commit through the filesystem journal on every call (bench/spoolSync.bench.ts
 *   measures the difference). The file is opened O_DSYNC: one write per group, durable when it returns.
 * - Framing (grpc/spoolFrame.ts): length, segment number and CRC-32 per record; replay stops at zeros,
 *   at a record of the file's earlier life (another segment number) and at a torn record.
 * - Group commit, pipelined: records appended while one group's write is in flight form the next
 *   group, written as soon as that write returns, so one durable write covers every call of a burst;
 *   each call's answer waits for its own group. With no write in flight, a group is written at the end
 *   of the event loop's turn or once it holds `eagerGroupRecords`, whichever comes first: a burst read
 *   in one turn (a closed-loop OMS's next 32 orders) then starts its first write while the rest is
 *   still being decided, and the OMS gets those answers while the gate decides, instead of the two
 *   taking turns (gate bench: gate/empty 1.43–1.47× → 1.05–1.19×, paired rounds).
 * - Only durable records are handed on (`deliver`) to the Postgres writers (grpc/batchWriter.ts),
 *   which write them idempotently (decision id / fill id, ON CONFLICT DO NOTHING) and report them
 *   handled (written or quarantined) in order (`handled`).
 * - Recycling: once every record of a full segment is handled, the file is renamed to a spare
 *   (`spare-<n>.wal`, not replayed), up to `SPARES`; others are deleted. The next segment is prepared
 *   in the background while the current one fills: a spare renamed to the next segment number (its
 *   old records become stale: they carry the old number), else a new zero-filled file, its name made
 *   durable before a record goes in. Segment numbers only grow, so a file never holds stale records
 *   bearing its own number.
 * - Start: every segment left by a previous run is read back and its records delivered first
 *   (replay); then writing continues in a new segment, never after what was read. Segments of the
 *   earlier append-only format (`segment-<n>.jsonl`) are replayed too.
 * - One spool per data dir: a lock file names the owning process; a second gate on the same dir is
 *   refused at start.
 *
 * A failed write (disk full, I/O error) marks the spool failed: the calls of that group and every
 * later trade call are refused (UNAVAILABLE) and health turns NOT_SERVING until restart.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setImmediate } from 'node:timers';
import type { Logger } from 'pino';
import { decodeSegment, frameOf, seal } from './spoolFrame';

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
  /** Stop (after `sync`): recycles what is handled, keeps the rest for the next start, releases the dir. */
  close(): Promise<void>;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Hands on a durable record (replayed ones first, at open). */
  readonly deliver: (entry: SpoolEntry) => void;
  /** Size of each preallocated segment file. Default 4 MiB (about 10 000 records). */
  readonly segmentBytes?: number;
  /**
   * While no write is in flight, a group is written as soon as it holds this many records instead of
   * at the end of the event loop's turn: the first calls of a burst then wait for their own write
   * (which overlaps the deciding of the rest), not for the whole burst. Default 16.
   */
  readonly eagerGroupRecords?: number;
}

/** What a start found: records replayed, and torn records skipped (at most one per segment). */
export interface Recovered {
  readonly replayed: number;
  readonly torn: number;
}

interface Segment {
  readonly no: number;
  readonly path: string;
  handle: FileHandle | undefined;
  /** Where the next record goes. */
  bytes: number;
  /** Highest seq of each kind in the segment (0: none). */
  readonly last: Record<SpoolKind, number>;
  /** Its file is not a full-size preallocated segment (earlier format, another size): deleted once handled, never reused. */
  readonly oneOff?: boolean;
}

interface Group {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

const SEGMENT = /^segment-(\d{12})\.wal$/;
const LEGACY_SEGMENT = /^segment-(\d{12})\.jsonl$/;
const SPARE = /^spare-\d{12}\.wal$/;
const spareName = (n: number): string => `spare-${String(n).padStart(12, '0')}.wal`;
const segmentName = (n: number): string => `segment-${String(n).padStart(12, '0')}.wal`;
const DEFAULT_SEGMENT_BYTES = 4 << 20;
/** Handled segments kept for reuse; beyond that they are deleted. */
const SPARES = 2;
const ZERO_CHUNK = Buffer.alloc(1 << 20);
/** One write per group, durable on return; where O_DSYNC does not exist, write then fdatasync. */
const O_DSYNC = constants.O_DSYNC ?? 0;
/** Default of `SpoolOptions.eagerGroupRecords` (and of HA's fenced recorder): the best of 4, 8, 16 in paired gate bench runs (docs/gate.md). */
export const EAGER_GROUP_RECORDS = 16;
/** Group commits so far: how many, the records they covered, and the durable wait (µs, total and max). */
export interface GroupCommitTally {
  groups: number;
  records: number;
  totalUs: number;
  maxUs: number;
}

/** Counts one group commit that started at `startedNs` (process.hrtime.bigint()) and covered `records`. */
export function tallyGroupCommit(tally: GroupCommitTally, startedNs: bigint, records: number): void {
  const us = Number((process.hrtime.bigint() - startedNs) / 1000n);
  tally.groups++;
  tally.records += records;
  tally.totalUs += us;
  if (us > tally.maxUs) tally.maxUs = us;
}

/** Data dirs locked by this process (a second lock from the same pid must fail too). */
const lockedHere = new Set<string>();

export class Spool implements Journal {
  private seq = 0;
  /** Highest segment number given to a file so far. */
  private segmentNo = 0;
  private current!: Segment;
  /** The segment to switch to when the current one is full, being prepared. */
  private next: Promise<Segment> | undefined;
  private readonly older: Segment[] = [];
  /** Handled, full-size segment files renamed to spares, ready to be reused. */
  private readonly spares: string[] = [];
  private readonly handledThrough: Record<SpoolKind, number> = { decision: 0, fill: 0 };
  private delivered = 0;
  private handledCount = 0;
  /** Frames of the group being filled (sealed when written). */
  private frames: Buffer[] = [];
  private entries: SpoolEntry[] = [];
  private group: Group | undefined;
  private flight: Promise<void> | undefined;
  private writing = false;
  private scheduled = false;
  private closed = false;
  /** Recycling and deletion run one at a time, off the write path. */
  private collecting: Promise<void> = Promise.resolve();
  failure: Error | undefined;
  /** Durable writes (µs) of the groups so far, for the stats. */
  readonly syncStats: GroupCommitTally = { groups: 0, records: 0, totalUs: 0, maxUs: 0 };

  constructor(private readonly options: SpoolOptions) {}

  private get segmentBytes(): number {
    return this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  /** Locks the dir, replays what a previous run left (delivered before this resolves), and prepares the first segment. */
  async open(): Promise<Recovered> {
    const { dir } = this.options;
    await mkdir(dir, { recursive: true });
    await lock(dir);
    try {
      const recovered = await this.recover();
      this.current = await this.newSegment();
      this.prepareNext();
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
    const frame = frameOf(JSON.stringify({ k: KIND_TAG[kind], r: replica, v: row }));
    if (frame.length > this.segmentBytes)
      return Promise.reject(
        new Error(`a ${kind} record of ${frame.length} bytes does not fit a spool segment (${this.segmentBytes} bytes)`),
      );
    this.frames.push(frame);
    this.entries.push({ kind, seq: ++this.seq, replica, row });
    const group = (this.group ??= newGroup());
    if (!this.writing) {
      if (this.frames.length >= (this.options.eagerGroupRecords ?? EAGER_GROUP_RECORDS)) this.startWrite();
      else if (!this.scheduled) {
        this.scheduled = true;
        // Let every call arriving in this turn of the event loop join the group.
        setImmediate(() => {
          this.scheduled = false;
          if (!this.writing && this.frames.length > 0) this.startWrite();
        });
      }
    }
    return group.promise;
  }

  sync(): Promise<void> {
    return this.group?.promise ?? this.flight ?? Promise.resolve();
  }

  handled(entries: readonly SpoolEntry[]): void {
    for (const e of entries) if (e.seq > this.handledThrough[e.kind]) this.handledThrough[e.kind] = e.seq;
    this.handledCount += entries.length;
    if (this.older.some((s) => this.done(s))) this.collect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync().catch(() => undefined);
    this.closed = true;
    const spare = await this.next?.catch(() => undefined);
    await spare?.handle?.close();
    const current = this.current;
    await current.handle?.close();
    current.handle = undefined;
    // A segment with nothing in it is a spare already (its number is new); one with records waits its turn.
    if (current.bytes > 0) this.older.push(current);
    this.collect();
    await this.collecting;
    if (this.backlog > 0 || this.older.length > 0) {
      this.options.logger.warn(
        { dir: this.options.dir, records: this.backlog, segments: this.older.length },
        'records not yet in Postgres stay in the spool; the next start writes them',
      );
    }
    await unlock(this.options.dir);
  }

  private startWrite(): void {
    this.writing = true;
    void this.writeGroup();
  }

  private async writeGroup(): Promise<void> {
    const { frames, entries } = this;
    const group = this.group!;
    this.frames = [];
    this.entries = [];
    this.group = undefined;
    this.flight = group.promise;
    try {
      const t0 = process.hrtime.bigint();
      for (let from = 0; from < frames.length;) from = await this.writeFrames(frames, entries, from);
      tallyGroupCommit(this.syncStats, t0, entries.length);
      for (const e of entries) {
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
    if (this.frames.length === 0) this.writing = false;
    else if (this.failure) {
      this.writing = false;
      (this.group as Group | undefined)?.reject(this.failure);
      this.group = undefined;
      this.frames = [];
      this.entries = [];
    } else void this.writeGroup(); // the next group filled while this one was written: write it now
  }

  /** Writes as many records from `from` as fit the current segment (switching first if none does); returns where it stopped. */
  private async writeFrames(frames: readonly Buffer[], entries: readonly SpoolEntry[], from: number): Promise<number> {
    const segment = this.current;
    let size = 0;
    let to = from;
    for (; to < frames.length && segment.bytes + size + frames[to].length <= this.segmentBytes; to++)
      size += seal(frames[to], segment.no).length;
    if (to === from) {
      await this.switchSegment();
      return from;
    }
    const buffer = to - from === 1 ? frames[from] : Buffer.concat(frames.slice(from, to), size);
    const handle = segment.handle!;
    for (let done = 0; done < size;) done += (await handle.write(buffer, done, size - done, segment.bytes + done)).bytesWritten;
    if (O_DSYNC === 0) await handle.datasync();
    segment.bytes += size;
    for (let i = from; i < to; i++) segment.last[entries[i].kind] = entries[i].seq;
    return to;
  }

  /** Every record of the segment is in Postgres or quarantined. */
  private done(segment: Segment): boolean {
    return KINDS.every((k) => segment.last[k] <= this.handledThrough[k]);
  }

  private async switchSegment(): Promise<void> {
    const previous = this.current;
    this.current = await (this.next ?? this.newSegment());
    this.prepareNext();
    await previous.handle?.close();
    previous.handle = undefined;
    this.older.push(previous);
    this.collect();
  }

  private prepareNext(): void {
    this.next = this.newSegment();
    // Awaited at the switch, which fails the spool if preparing failed; this keeps it from being unhandled meanwhile.
    this.next.catch(() => undefined);
  }

  /** The next segment number, on a spare if there is one, else on a new zero-filled file; opened for durable writes. */
  private async newSegment(): Promise<Segment> {
    const no = ++this.segmentNo;
    const path = join(this.options.dir, segmentName(no));
    const spare = this.spares.shift();
    if (spare) await rename(spare, path);
    else await zeroFill(path, this.segmentBytes);
    // The file's name (its segment number) must be durable before a record in it is acknowledged.
    await syncDir(this.options.dir);
    const handle = await open(path, constants.O_RDWR | O_DSYNC);
    return { no, path, handle, bytes: 0, last: { decision: 0, fill: 0 } };
  }

  /** Recycles (or deletes) the closed segments whose records are all handled (a lost rename or delete only replays rows Postgres skips). */
  private collect(): void {
    const done = this.older.filter((s) => this.done(s));
    if (done.length === 0) return;
    for (const s of done) this.older.splice(this.older.indexOf(s), 1);
    this.collecting = this.collecting.then(() => this.recycle(done));
  }

  /** Keeps up to `SPARES` full-size files as spares (a lost rename only replays handled rows), deletes the rest. */
  private async recycle(segments: readonly Pick<Segment, 'no' | 'path' | 'oneOff'>[]): Promise<void> {
    for (const s of segments) {
      try {
        if (!s.oneOff && this.spares.length < SPARES && (await sizeOf(s.path)) === this.segmentBytes) {
          const spare = join(this.options.dir, spareName(s.no));
          if (spare !== s.path) await rename(s.path, spare);
          this.spares.push(spare);
        } else await unlink(s.path);
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message, path: s.path }, 'spool segment not recycled');
      }
    }
  }

  /** Reads every segment a previous run left, in order, delivering each record. */
  private async recover(): Promise<Recovered> {
    const { dir, logger } = this.options;
    const files = await readdir(dir);
    const names = files
      .map((name) => ({ name, m: SEGMENT.exec(name) ?? LEGACY_SEGMENT.exec(name) }))
      .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
      .map(({ name, m }) => ({ name, no: Number(m[1]), legacy: name.endsWith('.jsonl') }))
      .sort((a, b) => a.no - b.no || Number(b.legacy) - Number(a.legacy));
    let replayed = 0;
    let torn = 0;
    const empty: Pick<Segment, 'no' | 'path' | 'oneOff'>[] = files
      .filter((name) => SPARE.test(name))
      .map((name) => ({ no: Number(/\d+/.exec(name)![0]), path: join(dir, name) }));
    // A spare's number was a segment's: never given again (its old records carry it).
    for (const spare of empty) this.segmentNo = Math.max(this.segmentNo, spare.no);
    for (const { name, no, legacy } of names) {
      this.segmentNo = Math.max(this.segmentNo, no);
      const path = join(dir, name);
      const bytes = await readFile(path);
      const read = legacy ? readLegacy(bytes) : readSegment(no, bytes);
      torn += read.torn;
      if (read.torn > 0) logger.warn({ path }, 'spool: skipping a torn last record (written when the gate died, never acknowledged)');
      if (read.unreadable > 0)
        logger.error({ path, records: read.unreadable }, 'spool: unreadable records skipped; the file is kept as it is');
      const segment: Segment = {
        no,
        path,
        handle: undefined,
        bytes: 0,
        last: { decision: 0, fill: 0 },
        oneOff: legacy || bytes.length !== this.segmentBytes,
      };
      for (const parsed of read.records) {
        const entry: SpoolEntry = { ...parsed, seq: ++this.seq };
        segment.last[entry.kind] = entry.seq;
        this.delivered++;
        replayed++;
        this.options.deliver(entry);
      }
      // A file with unreadable records is left as it is for a look (its readable ones replay at every start).
      if (read.unreadable > 0) continue;
      if (read.records.length === 0) empty.push(segment);
      else this.older.push(segment);
    }
    // Spares, and segments that never got a record (the next one, prepared when the gate died), are reused.
    this.collecting = this.recycle(empty);
    await this.collecting;
    if (replayed > 0 || torn > 0) logger.info({ dir, replayed, torn }, 'spool: replaying records a previous run left');
    return { replayed, torn };
  }
}

interface SegmentRead {
  readonly records: Omit<SpoolEntry, 'seq'>[];
  readonly torn: number;
  /** Framed records whose content is not a spool record (corruption worth a look, logged). */
  readonly unreadable: number;
}

function readSegment(no: number, bytes: Buffer): SegmentRead {
  const { payloads, end } = decodeSegment(no, bytes);
  const records = payloads.map((p) => parseRecord(p.toString('utf8')));
  return {
    records: records.filter((r): r is Omit<SpoolEntry, 'seq'> => r !== undefined),
    torn: end === 'torn' ? 1 : 0,
    unreadable: records.filter((r) => r === undefined).length,
  };
}

/** A segment of the earlier format: one JSON record per line, a torn last line skipped. */
function readLegacy(bytes: Buffer): SegmentRead {
  const lines = bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
  const records = lines.map(parseRecord);
  const torn = records.length > 0 && records[records.length - 1] === undefined ? 1 : 0;
  return {
    records: records.filter((r): r is Omit<SpoolEntry, 'seq'> => r !== undefined),
    torn,
    unreadable: records.filter((r) => r === undefined).length - torn,
  };
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

function parseRecord(text: string): Omit<SpoolEntry, 'seq'> | undefined {
  try {
    const v = JSON.parse(text) as { k?: unknown; r?: unknown; v?: unknown };
    const kind = typeof v.k === 'string' ? TAG_KIND[v.k] : undefined;
    // A row is an object (fills; decisions before they were encoded once) or a string (an encoded decision).
    const row = (typeof v.v === 'object' && v.v !== null) || typeof v.v === 'string' ? v.v : undefined;
    if (!kind || typeof v.r !== 'string' || row === undefined) return undefined;
    return { kind, replica: v.r, row };
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

async function zeroFill(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    for (let offset = 0; offset < bytes;) {
      const n = Math.min(ZERO_CHUNK.length, bytes - offset);
      offset += (await handle.write(ZERO_CHUNK, 0, n, offset)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
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
