/**
 * Where a row goes that Postgres refused on its own (grpc/batchWriter.ts splits a refused batch down
 * to it): appended and fdatasync'ed to `quarantine.jsonl` in the gate's data dir (local, so keeping it
 * cannot fail for the reason Postgres refused it), logged at error level, raised as a critical alert,
 * and counted (`count`, exported as a gate stat). Nothing is dropped: an operator can fix the row and
 * replay it by hand from the file.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AlertSink } from './ports';

export type QuarantineKind = 'decision' | 'fill';

export interface QuarantinedRow {
  readonly portfolioId: string;
  /** The row's id (decision id or fill id), used for the alert's idempotency key. */
  readonly id: string;
}

export class Quarantine {
  /** Rows quarantined since start. */
  count = 0;
  readonly file: string | undefined;

  constructor(
    private readonly options: {
      readonly dataDir: string | undefined;
      readonly replica: string;
      readonly logger: Logger;
      readonly alerts?: AlertSink;
    },
  ) {
    this.file = options.dataDir === undefined ? undefined : join(options.dataDir, 'quarantine.jsonl');
  }

  /** Keeps the row; rejects only if it could not be written to the file (the writer then retries it). */
  async keep(kind: QuarantineKind, key: QuarantinedRow, row: unknown, err: unknown): Promise<void> {
    const e = err as { message?: string; code?: string };
    const entry = { kind, replica: this.options.replica, quarantinedAt: new Date().toISOString(), sqlstate: e.code, error: e.message, row };
    if (this.file) await appendDurably(this.file, `${JSON.stringify(entry)}\n`);
    this.count++;
    this.options.logger.error(
      { kind, id: key.id, portfolioId: key.portfolioId, sqlstate: e.code, err: e.message, file: this.file },
      `Postgres refused a ${kind} row: quarantined, the rest of its batch written`,
    );
    await this.options.alerts
      ?.raise({
        idempotencyKey: `gate-quarantine:${kind}:${key.id}`,
        portfolioId: key.portfolioId,
        severity: 'critical',
        kind: 'gate-quarantine',
        message: `the gate could not store ${kind} ${key.id} (${e.code ?? 'no SQLSTATE'}: ${e.message ?? 'unknown error'}); it is kept in ${this.file ?? 'the gate log'}`,
        details: { kind, id: key.id, replica: this.options.replica, sqlstate: e.code ?? null, file: this.file ?? null },
      })
      .catch((alertErr: Error) => this.options.logger.warn({ err: alertErr.message, id: key.id }, 'quarantine alert could not be raised'));
  }
}

async function appendDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'a');
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
