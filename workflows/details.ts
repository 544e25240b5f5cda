/**
 * The workflow's "current details" (workflow metadata, rendered as Markdown by the Temporal UI): what
 * a person approving in the UI needs on one screen — what changes, why, limits and forecast vol before
 * → after, who asked, when it expires, in ISO-8601 times — instead of a 272-line query result with
 * epoch-millisecond times. Pure and deterministic (it only formats workflow state); setting it writes
 * nothing to history.
 */
import { type Recommendation, requesterOf } from '../risk/approval';
import type { RiskBudget } from '../risk/budget';
import type { ApprovalState, LoopState } from './types';

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const money = (v: number | null | undefined): string => (v == null ? '–' : `$${(v / 1e6).toFixed(2)}M`);
const percent = (v: number | null | undefined): string => (v == null ? '–' : `${(v * 100).toFixed(1)}%`);
const times = (v: number | null | undefined): string => (v == null ? '–' : `${v.toFixed(2)}×`);

/** What a decision payload looks like, for a person typing it into the UI's Update dialog. */
export const decisionTemplate = (id: string): string => `{"recommendationId": "${id}", "approver": "<your name>", "reason": "<why>"}`;

/** Limits and forecast vol before → after, one row each, marking the rows that change. */
function beforeAfter(before: RiskBudget | null, after: RiskBudget): string[] {
  const rows: [string, string, string][] = [
    ['regime', before?.regime ?? '–', after.regime],
    ['gross limit', money(before?.limits.maxGrossNotional), money(after.limits.maxGrossNotional)],
    ['net limit', money(before?.limits.maxNetNotional), money(after.limits.maxNetNotional)],
    ['gross leverage', times(before?.limits.grossLeverage), times(after.limits.grossLeverage)],
    ['max order', money(before?.limits.maxOrderNotional), money(after.limits.maxOrderNotional)],
    ['vol target', percent(before?.volTarget), percent(after.volTarget)],
    ['forecast vol', percent(before?.forecastVol), percent(after.forecastVol)],
  ];
  return ['| | before | after |', '|---|---|---|', ...rows.map(([name, b, a]) => `| ${name} | ${b} | ${b === a ? a : `**${a}**`} |`)];
}

/** The pending recommendation, explained: the part of the summary an approver reads. */
export function describePending(rec: Recommendation, before: RiskBudget | null): string[] {
  const fired = rec.triggers.filter((t) => t.fired);
  return [
    `### ${rec.addsRisk ? 'Waiting for approval' : 'Proposed'}: \`${rec.id}\``,
    `- **why:** ${rec.reason || 'no trigger named'}`,
    ...fired.map(
      (t) => `  - ${t.kind}${t.value !== null ? `: ${t.value}` : ''}${t.threshold !== null ? ` (threshold ${t.threshold})` : ''}`,
    ),
    `- **requested by:** ${requesterOf(rec)} (may not approve it)`,
    `- **proposed at:** ${iso(rec.createdAtMs)}`,
    `- **expires at:** ${rec.expiresAtMs === null ? 'never (no approval needed)' : iso(rec.expiresAtMs)}`,
    `- **adds risk:** ${rec.addsRisk ? 'yes — a second person must approve' : 'no'}`,
    '',
    ...beforeAfter(before, rec.budget),
    '',
    `Approve or reject with the **Update** \`approveRecommendation\` / \`rejectRecommendation\` (validated; it tells you if it was refused): \`${decisionTemplate(rec.id)}\``,
  ];
}

function describeNotices(state: ApprovalState): string[] {
  const notices = state.notices ?? [];
  if (notices.length === 0) return [];
  return ['', '### Notes (newest last)', ...notices.map((n) => `- ${iso(n.atMs)} — ${n.text}`)];
}

/** The portfolio loop's summary. */
export function describeLoop(portfolioId: string, state: LoopState): string {
  const budget = state.committedBudget;
  return [
    `## Ballast control loop — portfolio \`${portfolioId}\``,
    `**${state.paused ? 'PAUSED' : 'running'}** · trading **${state.tradingState ?? 'ACTIVE'}** · regime **${state.regime ?? 'not declared yet'}** · budget v${state.committedVersion ?? '–'}` +
      ` · gross limit ${money(budget?.limits.maxGrossNotional)} · forecast vol ${percent(budget?.forecastVol)}` +
      ` · cycle ${state.cycle} · market as of ${state.lastMarketAsOf ?? '–'}`,
    ...(state.lastError ? [`> ⚠ last cycle failed: ${state.lastError}`] : []),
    '',
    ...(state.pending ? describePending(state.pending, budget) : ['Nothing is waiting for approval.']),
    ...describeNotices(state),
  ].join('\n');
}

/** A manual rebalance's summary. */
export function describeManualRebalance(portfolioId: string, state: ApprovalState, outcome?: string): string {
  return [
    `## Ballast manual rebalance — portfolio \`${portfolioId}\``,
    `budget v${state.committedVersion ?? '–'}${outcome ? ` · outcome **${outcome}**` : ''}`,
    '',
    ...(state.pending ? describePending(state.pending, state.committedBudget) : [outcome ? '' : 'Computing the proposal…']),
    ...describeNotices(state),
  ].join('\n');
}
