/**
 * Closes ingested per instrument and timestamp (market_closes), the price table a portfolio on
 * ingested data reads, and which portfolios read which instruments (to wake their loops).
 */
import type pg from 'pg';

export interface IngestedClose {
  readonly instrument: string;
  readonly atMs: number;
  readonly close: number;
}

export interface IngestOutcome {
  /** New rows. */
  readonly inserted: number;
  /** Already stored with the same close (a retry). */
  readonly duplicates: number;
  /** Already stored with a different close: not applied. */
  readonly conflicts: readonly { readonly instrument: string; readonly at: string; readonly stored: number; readonly sent: number }[];
}

export class MarketCloseStore {
  constructor(private readonly pool: pg.Pool) {}

  async ingest(closes: readonly IngestedClose[], source: string): Promise<IngestOutcome> {
    if (closes.length === 0) return { inserted: 0, duplicates: 0, conflicts: [] };
    const instruments = closes.map((c) => c.instrument);
    const ats = closes.map((c) => new Date(c.atMs).toISOString());
    const values = closes.map((c) => c.close);
    const { rowCount } = await this.pool.query(
      `INSERT INTO market_closes (instrument, at, close, source)
       SELECT i, a, c, $4 FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) AS t(i, a, c)
       ON CONFLICT (instrument, at) DO NOTHING`,
      [instruments, ats, values, source],
    );
    const inserted = rowCount ?? 0;
    if (inserted === closes.length) return { inserted, duplicates: 0, conflicts: [] };
    // Some keys existed: tell retries (same close) from conflicts (another close).
    const { rows } = await this.pool.query<{ instrument: string; at: Date; stored: number; sent: number }>(
      `SELECT m.instrument, m.at, m.close AS stored, t.c AS sent
         FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) AS t(i, a, c)
         JOIN market_closes m ON m.instrument = t.i AND m.at = t.a
        WHERE m.close <> t.c`,
      [instruments, ats, values],
    );
    const conflicts = rows.map((r) => ({ instrument: r.instrument, at: r.at.toISOString(), stored: r.stored, sent: r.sent }));
    return { inserted, duplicates: closes.length - inserted - conflicts.length, conflicts };
  }

  /** Every close of the instruments, oldest first. */
  async closes(instruments: readonly string[]): Promise<{ instrument: string; at: Date; close: number }[]> {
    const { rows } = await this.pool.query<{ instrument: string; at: Date; close: number }>(
      'SELECT instrument, at, close FROM market_closes WHERE instrument = ANY($1) ORDER BY at, instrument',
      [instruments],
    );
    return rows;
  }

  /** When a close of each instrument was last received (absent: never). */
  async lastReceived(instruments: readonly string[]): Promise<Map<string, Date>> {
    const { rows } = await this.pool.query<{ instrument: string; received: Date }>(
      'SELECT instrument, MAX(received_at) AS received FROM market_closes WHERE instrument = ANY($1) GROUP BY instrument',
      [instruments],
    );
    return new Map(rows.map((r) => [r.instrument, r.received]));
  }

  /** Portfolios whose loops read ingested closes of any of these instruments. */
  async portfoliosReading(instruments: readonly string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM portfolios WHERE market_data ->> 'kind' = 'ingested' AND (market_data -> 'instruments') ?| $1::text[] ORDER BY id`,
      [[...new Set(instruments)]],
    );
    return rows.map((r) => r.id);
  }
}
