/**
 * Rows in `COPY … FROM STDIN` text format, and sending them. The gate's audit rows go this way: per row,
 * Postgres parses a tab-separated line instead of one element of nineteen array parameters and an
 * unnest (bench, 800-row batches: 10.4 vs 15.0 µs of Postgres CPU per row).
 *
 * Text format: one line per row, columns separated by tabs; in a value, `\` `\t` `\n` `\r` are written
 * as `\\` `\t` `\n` `\r`, so a value can never read as the NULL marker `\N` or end its column early.
 *
 * node-postgres has no COPY of its own; a query object it runs (a Submittable) may answer the server's
 * CopyInResponse. `CopyIn` sends the whole payload and CopyDone at once, then settles on the server's
 * answer. pg-copy-streams, the usual library, was tried and dropped: after the server refused a row it
 * may still write from a socket callback to the connection it has let go, and throw there (its open
 * issue #171), which would crash the gate when Postgres refuses a batch (a constraint, a full disk).
 */
import type pg from 'pg';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPED: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

/** A text value as one COPY column (no tabs, newlines or lone backslashes left). */
export function copyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPED[c]) : value;
}

/** The value `copyText` wrote. */
export function uncopyText(column: string): string {
  return column.includes('\\') ? column.replace(/\\([\\tnr])/g, (_, c: string) => UNESCAPED[c]) : column;
}

/** Runs `sql` (a `COPY … FROM STDIN`) with `text` (whole lines) on `client`; resolves once Postgres has taken every row. */
export function copyIn(client: pg.ClientBase, sql: string, text: string): Promise<void> {
  return client.query(new CopyIn(sql, text, 'on-copy-response')).done;
}

/**
 * Runs `sql`, statements ending in one `COPY … FROM STDIN`, as one simple query (one implicit
 * transaction), with `text` sent at once behind the query: one round trip instead of two. Should a
 * statement before the COPY fail, Postgres reads the rows and discards them (the protocol ignores
 * CopyData and CopyDone outside copy-in mode) and the promise rejects with that error.
 */
export function copyInBehind(client: pg.ClientBase, sql: string, text: string): Promise<void> {
  return client.query(new CopyIn(sql, text, 'with-query')).done;
}

/** The parts of node-postgres' connection a COPY FROM uses (pg/lib/connection.js; not in its type declarations). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** One COPY FROM STDIN as a node-postgres query object: the client calls these handlers in protocol order. */
class CopyIn implements pg.Submittable {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (err: Error) => void;

  constructor(
    private readonly sql: string,
    private readonly payload: string,
    /** When the rows go: once the server asks for them, or right behind the query (`copyInBehind`). */
    private readonly send: 'on-copy-response' | 'with-query',
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    const c = connection as unknown as CopyConnection;
    c.query(this.sql);
    if (this.send === 'with-query') this.sendRows(c);
  }

  /** The server is ready for rows. */
  handleCopyInResponse(connection: CopyConnection): void {
    if (this.send === 'on-copy-response') this.sendRows(connection);
  }

  /** All of them, then CopyDone, buffered at once (nothing waits on the socket). */
  private sendRows(connection: CopyConnection): void {
    connection.sendCopyFromChunk(Buffer.from(this.payload));
    connection.endCopyFrom();
  }

  /** The server refused the statement or a row, or the connection died: the client forgets this query after this. */
  handleError(err: Error): void {
    this.reject(err);
  }

  handleReadyForQuery(): void {
    this.resolve();
  }

  // The other messages a query object may be handed; a COPY FROM needs nothing from them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
