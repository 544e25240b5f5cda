/**
 * Accumulates rows in memory and writes them in batches on a timer, one batch at a time, so the
 * request path only pushes onto an array. On a write failure the rows stay queued and are retried on
 * the next tick. `full` turns true at the high-water mark so callers can refuse work they could not
 * record. Loss bound on a crash: whatever is queued, i.e. at most one flush interval of rows (and
 * never more than `maxQueue`).
 */
import type { Logger } from 'pino';

export interface BatchWriterOptions<T> {
  readonly name: string;
  write(rows: readonly T[]): Promise<void>;
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly logger?: Logger;
}

export class BatchWriter<T> {
  private queue: T[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  /** Rows durably written since start. */
  written = 0;

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
      try {
        await this.options.write(batch);
        this.written += batch.length;
        this.failures = 0;
      } catch (err) {
        this.queue = batch.concat(this.queue);
        if (this.failures++ % 50 === 0) {
          this.options.logger?.warn(
            { err: (err as Error).message, queued: this.queue.length },
            `${this.options.name}: batch write failed; will retry`,
          );
        }
        return;
      }
    }
  }
}
