/**
 * Keeps the gate's snapshots current: a full load at start and after every change-feed (re)connect
 * (changes made while disconnected were never announced), a per-portfolio reload on each change, and a
 * periodic full poll as a safety net (it also carries the loop's heartbeat). All of this runs off the
 * request path; requests only read the swapped-in snapshot.
 */
import type { Logger } from 'pino';
import type { Subscription } from '../db/notifications';
import type { GateCore } from './gate';
import type { ChangeFeed, SnapshotReader } from './ports';
import type { CovarianceKernel } from '../risk/pretrade/riskState';
import { buildSnapshot } from '../risk/pretrade/snapshot';

export interface SnapshotSourceOptions {
  readonly reader: SnapshotReader;
  readonly changes: ChangeFeed;
  readonly core: GateCore;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Called after each successful full load (readiness). */
  onLoaded?(): void;
}

export class SnapshotSource {
  private subscription: Subscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private loadedOnce = false;
  /** Reloads are numbered; a slower, older read never overwrites what a newer one installed. */
  private reloadSeq = 0;
  private readonly installedBy = new Map<string, number>();

  constructor(private readonly options: SnapshotSourceOptions) {}

  /** True once every portfolio's budget has been loaded. */
  get ready(): boolean {
    return this.loadedOnce;
  }

  async start(): Promise<void> {
    this.subscription = await this.options.changes.subscribe({
      onConnected: () => this.reload(undefined),
      onChange: (portfolioId) => void this.reload(portfolioId),
    });
    this.pollTimer = setInterval(() => void this.reload(undefined), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  async close(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.subscription?.close();
  }

  /** Reload one portfolio (or all when undefined). Errors are logged; the old snapshot stays. */
  async reload(portfolioId: string | undefined): Promise<void> {
    const seq = ++this.reloadSeq;
    try {
      const core = this.options.core;
      // Risk models already built are not read again: only their ids travel.
      const kernels = new Map<string, CovarianceKernel>();
      for (const id of core.portfolioIds) {
        const risk = core.snapshot(id)?.risk;
        if (risk?.kernel) kernels.set(risk.modelId, risk.kernel);
      }
      const rows = await this.options.reader.read(portfolioId, new Set(kernels.keys()));
      if (portfolioId === undefined) core.setKnownPortfolios(new Set(rows.map((r) => r.portfolioId)));
      for (const row of rows) {
        if (!row.latest) continue;
        if ((this.installedBy.get(row.portfolioId) ?? 0) > seq) continue;
        this.installedBy.set(row.portfolioId, seq);
        const modelId = row.latest.budget.riskLimits?.modelId;
        const model = row.riskModel ?? (modelId === undefined ? undefined : kernels.get(modelId));
        if (core.install(buildSnapshot(row.latest, row.tradingState, row.overrides, row.loopHeartbeatAtMs, model, row.scopedStates))) {
          this.options.logger.debug({ portfolioId: row.portfolioId, version: row.latest.version }, 'budget snapshot installed');
        }
      }
      if (portfolioId === undefined && !this.loadedOnce) {
        this.loadedOnce = true;
        this.options.onLoaded?.();
      }
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message, portfolioId }, 'snapshot reload failed; keeping the current one');
    }
  }
}
