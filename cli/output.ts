/**
 * How commands write their results. Stdout on a pipe is asynchronous in Node: a write returns before
 * the bytes reach the reader, and a process that exits then loses what is still queued (a 188 KB
 * document arrived as its first 64 KiB, the pipe's buffer). So commands await their writes, and the
 * entry point exits only once both streams have handed everything to the operating system.
 */
import { once } from 'node:events';

/** Writes `text` to stdout, waiting while the reader is behind (backpressure). */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/**
 * Prints one JSON document and a newline on stdout: indented for the small operator answers, compact
 * for the large quant outputs (a covariance, a probability per date).
 */
export function printJson(value: unknown, style: 'indented' | 'compact' = 'indented'): Promise<void> {
  return writeOut(`${JSON.stringify(value, null, style === 'indented' ? 2 : undefined)}\n`);
}

/**
 * Resolves once everything written to `stream` so far has reached the operating system. Writes on
 * one stream complete in order, so the callback of an empty write fires after all earlier ones.
 * A stream that failed (the reader closed the pipe) resolves at once: there is nothing left to wait for.
 */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}
