/**
 * The closed sets of kinds and states that cross layers (loop, gate, stores, console), each defined
 * once with its list of values, so a switch over one is checked for exhaustiveness by the compiler and
 * a value read from outside (SQL, JSON, a request) is checked against the same list.
 */

/** The side of an order or a fill. */
export const SIDES = ['BUY', 'SELL'] as const;
export type Side = (typeof SIDES)[number];

/** What the gate lets a portfolio do. Most restrictive wins when several apply. */
export const TRADING_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export type TradingState = (typeof TRADING_STATES)[number];
export const TRADING_STATE_SEVERITY: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export const isTradingState = (value: unknown): value is TradingState => (TRADING_STATES as readonly unknown[]).includes(value);

/** The stricter of two trading states. */
export const stricterState = (a: TradingState, b: TradingState): TradingState =>
  TRADING_STATE_SEVERITY[a] >= TRADING_STATE_SEVERITY[b] ? a : b;

/**
 * What a trading state applies to: the whole portfolio, one strategy (all its instruments), or one
 * instrument (in every strategy). An order is under the stricter of the three that cover it.
 */
export const TRADING_SCOPE_KINDS = ['portfolio', 'strategy', 'instrument'] as const;
export type TradingScopeKind = (typeof TRADING_SCOPE_KINDS)[number];
export const isTradingScopeKind = (value: unknown): value is TradingScopeKind =>
  (TRADING_SCOPE_KINDS as readonly unknown[]).includes(value);

/** A scope: `name` is the strategy or instrument, '' for the portfolio. */
export interface TradingScope {
  readonly kind: TradingScopeKind;
  readonly name: string;
}

/** The engine's rebalancing triggers (risk/triggers.ts), in the order it evaluates them. */
export const ENGINE_TRIGGER_KINDS = ['drift', 'regime-change', 'correlation-spike', 'vol-breach', 'budget-breach'] as const;
export type EngineTriggerKind = (typeof ENGINE_TRIGGER_KINDS)[number];

/**
 * Every reason the loop reports for a proposal: the engine's triggers, plus "no budget yet", "the
 * limits the engine now computes moved materially" and an operator's manual rebalance.
 */
export const TRIGGER_KINDS = ['initial-budget', ...ENGINE_TRIGGER_KINDS, 'limit-change', 'manual'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** Triggers about the book against a budget that still stands: answered by a rebalancing plan, not a new budget. */
export const BOOK_TRIGGER_KINDS: readonly TriggerKind[] = ['drift', 'budget-breach'];

/** A recommendation's life: PENDING until decided; statuses only move forward (the store enforces it). */
export const RECOMMENDATION_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'COMMITTED', 'SUPERSEDED'] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];

/** What the approval record says happened to a recommendation that waited for a human. */
export const APPROVAL_DECISIONS = ['APPROVED', 'REJECTED', 'EXPIRED'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Every alert the loop raises. */
export const ALERT_KINDS = [
  'regime-change',
  'approval-required',
  'approval-expired',
  'commit-refused',
  'invalid-decision',
  'separation-of-duties',
  'bad-input',
  'cycle-failed',
  // The gate quarantined a row Postgres refused (grpc/quarantine.ts): kept in the gate's data dir, not in the table.
  'gate-quarantine',
  // An approved order took a limit past the gate's warning level (default 80 %): once per crossing.
  'limit-warning',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Why the workflow refused a person's message: the \`type\` of the ApplicationFailure an Update fails
 * with (a Signal cannot fail: it is alerted and noted in the workflow's summary instead).
 */
export const REFUSAL_KINDS = ['SeparationOfDuties', 'InvalidDecision', 'InvalidRequest'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/** How the regime is read: the realized-vol rule or the Gaussian HMM (config `regime_detection.method`). */
export const REGIME_METHODS = ['rule', 'hmm'] as const;
export type RegimeMethod = (typeof REGIME_METHODS)[number];

/** The success metrics the loop records as time series (`metrics` table), each under one name. */
export const METRIC_NAMES = [
  'index_realized_vol',
  'target_vol',
  'gross_utilization',
  'book_forecast_vol',
  'risk_utilization',
  'book_realized_vol',
  'return_per_risk',
  'regime_response_ms',
  'override_created',
  /** The filtered probability of one regime (label `regime`) at the cycle's bar: the console's regime timeline. */
  'regime_probability',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** What an operator did, as the audit trail names it. */
export type OperatorActionKind =
  'pause' | 'resume' | 'manual-rebalance' | 'override' | 'override-revoked' | `trading-state:${TradingState}`;
