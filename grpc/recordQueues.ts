/**
 * Where a single gate's acknowledged records go: first the journal (the spool in the data dir, durable
 * before the answer; in memory without one), then, once durable, batched into Postgres by two writers
 * (decisions as audit lines, fills). A row Postgres refuses on its own is kept in the quarantine file;
 * the writers' backlog bounds are what make the gate report it cannot record.
 */
import type { Logger } from 'pino';
import type { FillRecord } from '../db/stores/fills';
import type { DecisionLine, DecisionRecord } from '../db/stores/gateDecisions';
import { BatchWriter } from './batchWriter';
import type { GateObserver } from './metrics';
import { type GateStores, storageRefusedRows } from './ports';
import type { Quarantine } from './quarantine';
import { type Journal, MemoryJournal, Spool, type SpoolEntry } from './spool';

export interface RecordQueuesOptions {
  readonly stores: GateStores;
  readonly replica: string;
  readonly quarantine: Quarantine;
  readonly observer: GateObserver;
  readonly logger: Logger;
  /** The spool's directory; without it nothing acknowledged survives a crash. */
  readonly dataDir?: string;
  readonly auditFlushIntervalMs?: number;
  /** Audit rows queued beyond this make trade RPCs answer RESOURCE_EXHAUSTED. */
  readonly auditMaxQueue?: number;
  /** Fills Postgres now holds, with their journal sequence (the gate's positions move from these). */
  readonly onFillsWritten: (entries: readonly SpoolEntry<FillRecord>[]) => void;
}

export interface RecordQueues {
  readonly audit: BatchWriter<SpoolEntry<DecisionLine>>;
  readonly fills: BatchWriter<SpoolEntry<FillRecord>>;
  readonly journal: Journal;
  /** The journal when it is the spool (a data dir was given). */
  readonly spool?: Spool;
  /** Why the gate cannot record what it would acknowledge, or undefined. */
  problem(): string | undefined;
}

export function recordQueues(options: RecordQueuesOptions): RecordQueues {
  const { stores, replica, quarantine, observer, logger } = options;
  const audit = new BatchWriter<SpoolEntry<DecisionLine>>({
    name: 'audit',
    write: observer.timeFlush('audit', (rows: readonly SpoolEntry<DecisionLine>[]) => stores.decisions.insertLines(rows.map((e) => e.row))),
    flushIntervalMs: options.auditFlushIntervalMs ?? 50,
    maxBatch: 5_000,
    maxQueue: options.auditMaxQueue ?? 200_000,
    logger,
    isRejection: storageRefusedRows,
    quarantine: ({ row, seq }, err) => {
      // Kept readable as the record; a line that does not decode (never seen: lines are checksummed) is kept as it is.
      const record = decodedOrUndefined(stores.decisions, row);
      const key = record ? { portfolioId: record.portfolioId, id: record.decisionId } : { portfolioId: '', id: `${replica}-seq-${seq}` };
      return quarantine.keep('decision', key, record ?? row, err);
    },
    onHandled: (rows) => journal.handled(rows),
  });
  const fills = new BatchWriter<SpoolEntry<FillRecord>>({
    name: 'fills',
    write: observer.timeFlush('fills', (rows: readonly SpoolEntry<FillRecord>[]) =>
      byReplica(rows, (r, batch) => stores.fills.insert(r, batch)),
    ),
    flushIntervalMs: 50,
    maxBatch: 2_000,
    maxQueue: 1_000_000,
    logger,
    isRejection: storageRefusedRows,
    quarantine: ({ row }, err) => quarantine.keep('fill', { portfolioId: row.portfolioId, id: row.fillId }, row, err),
    onHandled: (rows) => {
      journal.handled(rows);
      options.onFillsWritten(rows);
    },
  });
  /** A spooled decision as its line; spools written before decisions were encoded once hold the record itself. */
  const encodedDecision = (entry: SpoolEntry): SpoolEntry<DecisionLine> =>
    typeof entry.row === 'string'
      ? (entry as SpoolEntry<DecisionLine>)
      : { ...entry, row: stores.decisions.encode(entry.replica, entry.row as DecisionRecord) };
  // Only durable records reach the Postgres writers.
  const deliver = (entry: SpoolEntry): void => {
    if (entry.kind === 'decision') audit.push(encodedDecision(entry));
    else fills.push(entry as SpoolEntry<FillRecord>);
  };
  const spool = options.dataDir ? new Spool({ dir: options.dataDir, logger, deliver }) : undefined;
  const journal: Journal = spool ?? new MemoryJournal(deliver);
  if (!spool) logger.warn('gate started without a data dir: what it acknowledges does not survive a crash');
  const problem = (): string | undefined => {
    if (journal.failure) return `the spool failed (${journal.failure.message}); restart the gate once the disk is fixed`;
    if (fills.full) return 'the fill backlog is full (Postgres unreachable too long)';
    if (audit.full) return 'the audit backlog is full (Postgres unreachable too long)';
    return undefined;
  };
  return { audit, fills, journal, spool, problem };
}

function decodedOrUndefined(decisions: GateStores['decisions'], line: DecisionLine): DecisionRecord | undefined {
  try {
    return decisions.decode(line).record;
  } catch {
    return undefined;
  }
}

/** Writes a batch as one insert per replica that made its rows (replayed rows keep their replica). */
async function byReplica<T>(entries: readonly SpoolEntry<T>[], insert: (replica: string, rows: T[]) => Promise<void>): Promise<void> {
  const groups = new Map<string, T[]>();
  for (const e of entries) {
    const rows = groups.get(e.replica);
    if (rows) rows.push(e.row);
    else groups.set(e.replica, [e.row]);
  }
  for (const [replica, rows] of groups) await insert(replica, rows);
}
