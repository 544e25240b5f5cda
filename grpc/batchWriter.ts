/**
 * Accumulates rows in memory and writes them in batches on a timer, one batch at a time, so the
 * request path only pushes onto an array. `full` turns true at the high-water mark so callers can
 * refuse work they could not record.
 *
 * Two kinds of failure are told apart (`isRejection`):
 * - storage unreachable (connection refused, timeout…): the rows stay queued, in order, and are
 *   retried on the next tick;
 * - storage refused the rows themselves (a constraint, a value it cannot hold): the batch is split in
 *   halves, recursively, so the good rows are written and each row refused on its own is handed to
 *   `quarantine` (kept, logged, alerted by the caller) and never retried. One bad row therefore costs
 *   about 2·log2(batch) statements, never a writer stuck on it.
 *
 * Rows are handed to the writer only once they are durable in the spool (grpc/spool.ts), so what is
 * queued here survives a crash there; `onHandled` tells the spool which rows are done with.
 */
import type { Logger } from 'pino';

export interface BatchWriterOptions<T> {
  readonly name: string;
  write(rows: readonly T[]): Promise<void>;
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly logger?: Logger;
  /** True when `err` says storage refused the rows themselves, not that it could not be reached. Default: never. */
  isRejection?(err: unknown): boolean;
  /** Keeps a row storage refused on its own. Throwing leaves it queued (retried like an outage). */
  quarantine?(row: T, err: unknown): Promise<void>;
  /** Rows that are done: written, or quarantined. Called in queue order. */
  onHandled?(rows: readonly T[]): void;
}

export class BatchWriter<T> {
  private queue: T[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  /** Rows durably written since start. */
  written = 0;
  /** Rows storage refused and `quarantine` kept, since start. */
  quarantined = 0;
  /** When the current run of failed writes began (undefined while writes succeed). */
  failingSinceMs: number | undefined;

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  get full(): boolean {
    return this.queue.length >= this.options.maxQueue;
  }

  get pending(): number {
    return this.queue.length;
  }

  push(row: T): void {
    this.queue.push(row);
  }

  /** Write everything queued now; resolves when those rows are written (or the attempt failed). */
  flush(): Promise<void> {
    return this.exclusive(() => this.drain());
  }

  /** Run `fn` with no flush in progress or starting until it ends (e.g. reconcile against the table). */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Write everything queued, then run `fn` before any later flush can start (e.g. read back the table
   * the rows went to). Rejects without running `fn` if the queue could not be written.
   */
  afterFlush<R>(fn: () => Promise<R>): Promise<R> {
    return this.exclusive(async () => {
      await this.drain();
      if (this.queue.length > 0) throw new Error(`${this.options.name}: ${this.queue.length} rows not yet written`);
      return fn();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      const left = await this.writeSplitting(batch);
      if (left.length > 0) {
        this.queue = left.concat(this.queue);
        return;
      }
    }
  }

  /** Writes `batch`, splitting around refused rows; returns the rows not done because storage is unreachable. */
  private async writeSplitting(batch: T[]): Promise<T[]> {
    const chunks: T[][] = [batch];
    while (chunks.length > 0) {
      const chunk = chunks.shift()!;
      try {
        await this.options.write(chunk);
        this.written += chunk.length;
        this.succeeded(chunk);
      } catch (err) {
        if (!(this.options.isRejection?.(err) ?? false)) {
          this.failed(err);
          return chunk.concat(...chunks);
        }
        if (chunk.length > 1) {
          const mid = Math.ceil(chunk.length / 2);
          chunks.unshift(chunk.slice(0, mid), chunk.slice(mid));
          continue;
        }
        try {
          await this.options.quarantine?.(chunk[0], err);
        } catch (keepErr) {
          this.failed(keepErr);
          return chunk.concat(...chunks);
        }
        this.quarantined++;
        this.succeeded(chunk);
      }
    }
    return [];
  }

  private succeeded(rows: readonly T[]): void {
    this.failures = 0;
    this.failingSinceMs = undefined;
    this.options.onHandled?.(rows);
  }

  private failed(err: unknown): void {
    this.failingSinceMs ??= Date.now();
    if (this.failures++ % 50 === 0) {
      this.options.logger?.warn(
        { err: (err as Error).message, queued: this.queue.length },
        `${this.options.name}: batch write failed; will retry`,
      );
    }
  }
}
