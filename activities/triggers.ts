/**
 * Trigger evaluation for a proposed budget against the committed one, on the production trigger set
 * (risk/triggers.ts) plus the two that only the live loop has: "no budget yet" and "the limits the
 * engine now computes differ materially from the committed ones". Runs as an activity so the workflow
 * never executes risk math itself (changing the math cannot break workflow replay).
 */
import type pg from 'pg';
import { addsRisk, type RiskBudget } from '../risk/budget';
import { type Recommendation as EngineRecommendation, buildRecommendation } from '../risk/recommendation';
import { type Positions, type TriggerResult, evaluateTriggers } from '../risk/triggers';
import { type AnnualizedVol, type Currency, type Fraction, fraction } from '../risk/units';
import type { TriggerReading } from '../workflows/types';
import { loadHoldings } from './positions';
import { parseConfig } from './riskCycle';

/** Triggers about the book (positions vs the committed budget): answered by a rebalancing plan. */
const BOOK_TRIGGERS = new Set(['drift', 'budget-breach']);

export interface TriggerAssessment {
  readonly triggers: TriggerReading[];
  /** A budget trigger fired: the freshly computed budget should replace the committed one. */
  readonly proposeBudget: boolean;
  /** Only book triggers fired: the book should be traded back to the committed budget. */
  readonly rebalanceBook: boolean;
  readonly addsRisk: boolean;
  readonly summary: Record<string, number | string | null>;
  /** The engine's recommendation for the proposal: allocations, per-asset deltas, turnover, cost, priority. */
  readonly detail: EngineRecommendation | null;
}

export function triggerActivities(pool: pg.Pool) {
  return {
    async evaluateTriggers(input: {
      portfolioId: string;
      config?: unknown;
      current: RiskBudget | null;
      proposed: RiskBudget;
      /** Workflow time of the last regime-driven commit (for the regime-change cooldown). */
      lastRegimeCommitAtMs?: number | null;
      nowMs?: number;
    }): Promise<TriggerAssessment> {
      const config = parseConfig(input.config);
      const { current, proposed } = input;
      const triggers: TriggerReading[] = [
        { kind: 'initial-budget', fired: current === null, value: current === null ? 'none' : 'exists', threshold: null },
      ];
      const positions = await positionNotionals(pool, input.portfolioId, proposed);
      const engineTriggers: TriggerResult[] = [];
      if (current) {
        const avgCorrelation = correlationNotPricedIn(current, proposed, config.triggers.correlationSpike);
        for (const t of evaluateTriggers({
          settings: config.triggers,
          budget: current,
          positions,
          regime: {
            detectedRegime: proposed.regime,
            lastRegimeRebalanceAtMs: input.lastRegimeCommitAtMs ?? null,
            nowMs: input.nowMs ?? Date.now(),
          },
          averageCorrelation: avgCorrelation,
          realizedVol: committedExposureVol(current, proposed),
        })) {
          engineTriggers.push(t);
          triggers.push({
            kind: t.kind,
            fired: t.fired,
            value: Number.isFinite(t.value) ? t.value : null,
            threshold: t.threshold,
            detail: t.detail,
          });
        }
        triggers.push(limitChangeTrigger(current, proposed, config.triggers.driftThreshold));
      }
      const fired = triggers.filter((t) => t.fired);
      const proposeBudget = fired.some((t) => !BOOK_TRIGGERS.has(t.kind));
      const detail = proposeBudget
        ? buildRecommendation({ positions, budget: proposed, committed: current ?? undefined, config, triggers: engineTriggers })
        : null;
      return {
        triggers,
        proposeBudget,
        rebalanceBook: !proposeBudget && fired.length > 0,
        addsRisk: addsRisk(current ?? undefined, proposed),
        summary: {
          regimeBefore: current?.regime ?? null,
          regimeAfter: proposed.regime,
          grossLimitBefore: current?.limits.maxGrossNotional ?? null,
          grossLimitAfter: proposed.limits.maxGrossNotional,
          leverageBefore: current?.limits.grossLeverage ?? null,
          leverageAfter: proposed.limits.grossLeverage,
          ...(detail && {
            priority: detail.priority,
            turnover: detail.turnover,
            estimatedCost: detail.estimatedCost,
            // The book's risk would rise (informational: approval follows the budget's limits).
            bookRiskUp: detail.addsRisk ? 'yes' : 'no',
          }),
        },
        detail,
      };
    },
  };
}

/**
 * Forecast vol of the committed exposure under the latest covariance: the proposed budget's forecast
 * rescaled to the committed leverage. This is what "the committed budget now runs hotter than its
 * target" means; the index's own vol would keep firing after the budget has already been resized.
 */
function committedExposureVol(current: RiskBudget, proposed: RiskBudget): AnnualizedVol {
  const scale = proposed.limits.grossLeverage > 0 ? current.limits.grossLeverage / proposed.limits.grossLeverage : 0;
  return (proposed.forecastVol * scale) as AnnualizedVol;
}

/** Average correlation, or 0 when the committed budget already saw a spike (it is priced in). */
function correlationNotPricedIn(current: RiskBudget, proposed: RiskBudget, spike: number): number {
  const now = typeof proposed.diagnostics.avgCorrelation === 'number' ? proposed.diagnostics.avgCorrelation : 0;
  const then = typeof current.diagnostics.avgCorrelation === 'number' ? current.diagnostics.avgCorrelation : 0;
  return then > spike ? 0 : now;
}

/** The engine's gross limit moved by more than the drift threshold (relative) since the last commit. */
function limitChangeTrigger(current: RiskBudget, proposed: RiskBudget, threshold: Fraction): TriggerReading {
  const change = Math.abs(proposed.limits.maxGrossNotional / current.limits.maxGrossNotional - 1);
  return {
    kind: 'limit-change',
    fired: change > threshold,
    value: fraction(change),
    threshold,
    detail: `gross limit ${Math.round(current.limits.maxGrossNotional)} → ${Math.round(proposed.limits.maxGrossNotional)}`,
  };
}

/** Signed notional per asset, summed over strategies. */
async function positionNotionals(pool: pg.Pool, portfolioId: string, budget: RiskBudget): Promise<Positions> {
  const out: Record<string, Currency> = {};
  for (const h of await loadHoldings(pool, portfolioId, budget)) out[h.asset] = ((out[h.asset] ?? 0) + h.notional) as Currency;
  return out;
}
