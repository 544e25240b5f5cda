/**
 * The typed forms of what GetCurrentBudget and GetRecommendations used to send only as JSON strings
 * (`budget_json`, `payload_json`, still sent beside them for existing clients). A budget is typed in
 * risk/budget.ts; a recommendation's JSON columns are read defensively, since rows written by older
 * versions may lack fields: a missing number stays absent, never 0.
 */
import type { RecommendationView } from '../db/stores/recommendationViews';
import type { RiskBudget } from '../risk/budget';
import type {
  Allocation,
  AssetDelta,
  Budget,
  ProposalSummary,
  RecommendationDetail,
  RecommendationPayload,
  TriggerReading,
} from './generated/ballast/gate/v1/gate';
import { timestamp } from './plans';

export function budgetMessage(b: RiskBudget): Budget {
  return {
    portfolioId: b.portfolioId,
    asOf: timeOf(b.asOf),
    regime: b.regime,
    volTarget: b.volTarget,
    forecastVol: b.forecastVol,
    limits: { ...b.limits },
    strategies: b.strategies.map((s) => ({ ...s })),
    assets: b.assets.map((a) => ({ ...a, lotSize: a.lotSize ?? 0 })),
    riskLimits: b.riskLimits && {
      modelId: b.riskLimits.modelId,
      volLimit: b.riskLimits.volLimit,
      riskBudgetTolerance: b.riskLimits.riskBudgetTolerance,
      assetCount: b.riskLimits.assetCount,
    },
  };
}

export function recommendationPayload(v: RecommendationView): RecommendationPayload {
  return {
    summary: summaryMessage(record(v.summary)),
    detail: v.detail ? detailMessage(record(v.detail)) : undefined,
    triggers: (Array.isArray(v.triggers) ? v.triggers : []).map((t) => triggerMessage(record(t))),
    committedVersion: v.committedVersion ?? undefined,
  };
}

function summaryMessage(s: Record<string, unknown>): ProposalSummary {
  return {
    regimeBefore: text(s.regimeBefore),
    regimeAfter: text(s.regimeAfter),
    grossLimitBefore: num(s.grossLimitBefore),
    grossLimitAfter: num(s.grossLimitAfter),
    leverageBefore: num(s.leverageBefore),
    leverageAfter: num(s.leverageAfter),
    priority: text(s.priority),
    turnover: num(s.turnover),
    estimatedCost: num(s.estimatedCost),
    bookRiskUp: s.bookRiskUp === 'yes' || s.bookRiskUp === true,
  };
}

function detailMessage(d: Record<string, unknown>): RecommendationDetail {
  return {
    asOf: typeof d.asOf === 'string' ? timeOf(d.asOf) : undefined,
    regime: text(d.regime),
    capital: num(d.capital) ?? 0,
    current: allocationMessage(record(d.current)),
    target: allocationMessage(record(d.target)),
    deltas: (Array.isArray(d.deltas) ? d.deltas : []).map((x) => deltaMessage(record(x))),
    turnover: num(d.turnover) ?? 0,
    tradedNotional: num(d.tradedNotional) ?? 0,
    estimatedCost: num(d.estimatedCost) ?? 0,
    costBps: num(d.costBps) ?? 0,
    currentForecastVol: num(d.currentForecastVol),
    targetForecastVol: num(d.targetForecastVol),
    addsRisk: d.addsRisk === true,
    priority: text(d.priority),
    reasons: Array.isArray(d.reasons) ? d.reasons.filter((r): r is string => typeof r === 'string') : [],
  };
}

const allocationMessage = (a: Record<string, unknown>): Allocation => ({
  notionals: numbers(a.notionals),
  weights: numbers(a.weights),
  cash: num(a.cash) ?? 0,
  gross: num(a.gross) ?? 0,
});

const deltaMessage = (d: Record<string, unknown>): AssetDelta => ({
  asset: text(d.asset),
  currentNotional: num(d.currentNotional) ?? 0,
  targetNotional: num(d.targetNotional) ?? 0,
  deltaNotional: num(d.deltaNotional) ?? 0,
  currentWeight: num(d.currentWeight) ?? 0,
  targetWeight: num(d.targetWeight) ?? 0,
  deltaWeight: num(d.deltaWeight) ?? 0,
});

const triggerMessage = (t: Record<string, unknown>): TriggerReading => ({
  kind: text(t.kind),
  fired: t.fired === true,
  value: num(t.value),
  threshold: num(t.threshold),
  valueLabel: text(t.value),
  detail: text(t.detail),
});

/** An ISO-8601 time as a Timestamp; absent when it does not parse. */
function timeOf(iso: string): ReturnType<typeof timestamp> | undefined {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? timestamp(ms) : undefined;
}

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const numbers = (v: unknown): Record<string, number> =>
  Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
