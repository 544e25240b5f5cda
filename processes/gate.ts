/**
 * The gate process's wiring, in one place: one Postgres pool, the stores the gate reads and writes,
 * the LISTEN change feed, and the control ports it is given (over Temporal: `temporalControls` in
 * gateControls.ts). Used by `ballast gate`, `ballast start` (what `npm start` runs), the benchmarks
 * and the integration tests.
 */
import { join } from 'node:path';
import { planCommitFeed, portfolioChangeFeed } from '../db/notifications';
import { createPool } from '../db/pool';
import { AlertStore } from '../db/stores/alerts';
import { FillsStore } from '../db/stores/fills';
import { GateDecisionsStore } from '../db/stores/gateDecisions';
import { GateLeaseStore } from '../db/stores/gateLeases';
import { GateSnapshotsStore } from '../db/stores/gateSnapshots';
import { PlanOutboxStore } from '../db/stores/planOutbox';
import { MarketCloseStore } from '../db/stores/marketCloses';
import { PositionsStore } from '../db/stores/positions';
import { RecommendationViewsStore } from '../db/stores/recommendationViews';
import type { GateControls } from '../grpc/ports';
import type { HaOptions } from '../grpc/ha';
import { type GateOptions, type RunningGate, serveGate } from '../grpc/server';
import { repoRoot } from '../lib/paths';

/** Where a gate keeps its spool and quarantine file unless told: `$BALLAST_DATA_DIR/gate` (default `.data/gate`). */
export const defaultGateDataDir = (): string => join(process.env.BALLAST_DATA_DIR ?? join(repoRoot(), '.data'), 'gate');

export interface GateProcessOptions extends Omit<GateOptions, 'stores' | 'controls' | 'plans' | 'ha'> {
  /** Gate HA (docs/gate-ha.md): lease TTL, the address peers forward to, how to call them; the stores are built here. */
  readonly ha?: Omit<HaOptions, 'ports'>;
  /** Plan stream settings (keepalive, batch, subscriber bound); the stream reads the outbox over this pool. */
  readonly planStream?: Omit<NonNullable<GateOptions['plans']>, 'ports'>;
  /** Wakes loops after IngestCloses stored closes (`temporalMarketEvents(client)`); without it loops see them on their next cycle. */
  readonly marketEvents?: (portfolioIds: readonly string[], source: string) => Promise<void>;
  readonly databaseUrl: string;
  /**
   * TriggerRebalance and OverrideLimit (`temporalControls(client)`; tests pass stand-ins); without them
   * those RPCs answer FAILED_PRECONDITION. GetRecommendations reads the store unless replaced here.
   * Temporal stays out of a gate that is not given it (loading its client and the workflow definitions costs ~7 MB of heap).
   */
  readonly controls?: GateControls;
}

/** Pool connections: the two batch writers, the snapshot reads (two queries each), reconciliation and the plan streams. */
const POOL_SIZE = 5;
/** HA adds the two fenced writers on the answer path, the lease round and a takeover's three reads. */
const HA_POOL_SIZE = 10;

export async function startGate(options: GateProcessOptions): Promise<RunningGate> {
  const { databaseUrl, controls, planStream, marketEvents, ha, ...gateOptions } = options;
  const pool = createPool(databaseUrl, ha ? HA_POOL_SIZE : POOL_SIZE);
  const decisions = new GateDecisionsStore(pool);
  const fills = new FillsStore(pool);
  const positions = new PositionsStore(pool);
  let gate: RunningGate;
  try {
    gate = await serveGate({
      ...gateOptions,
      dataDir: gateOptions.dataDir ?? defaultGateDataDir(),
      ha: ha && { ...ha, ports: { leases: new GateLeaseStore(pool), decisions, fills, positions } },
      stores: {
        decisions,
        fills,
        snapshots: new GateSnapshotsStore(pool),
        positions,
        changes: portfolioChangeFeed(databaseUrl, options.logger),
        alerts: new AlertStore(pool),
      },
      controls: { recommendationReader: new RecommendationViewsStore(pool), ...controls },
      plans: { ...planStream, ports: { store: new PlanOutboxStore(pool), commits: planCommitFeed(databaseUrl, options.logger) } },
      ingest: { store: new MarketCloseStore(pool), wake: marketEvents },
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    address: gate.address,
    core: gate.core,
    leases: gate.leases,
    connections: () => gate.connections(),
    stats: () => gate.stats(),
    // The gate writes everything queued on close; only then may the pool go.
    close: () => (closing ??= gate.close().then(() => pool.end())),
  };
}
