/**
 * Write activities: the loop's outputs and operator controls. Every row carries an idempotency key
 * (or a natural key) and the stores insert with `ON CONFLICT DO NOTHING`, so these are retried until
 * they land (workflows/retryPolicies.ts): a retry or a crash never writes twice.
 */
import { commitRefusal } from '../risk/approval';
import { type MetricSample, bookMetrics } from '../risk/bookMetrics';
import type { RiskBudget } from '../risk/budget';
import type { RiskConfig } from '../risk/config';
import { valueHoldings } from '../risk/holdings';
import type { MarketRef } from '../risk/marketData';
import { rebalancePlan } from '../risk/rebalancePlan';
import type { CycleReading, WriteActivities } from '../workflows/contract';
import type { ActivityDeps } from './deps';
import { crashAfterCommitIfInjected } from './faults';
import { storedReferences } from './references';
import { parseConfig } from './userErrors';
import { postAlert } from './webhook';

export function writeActivities(
  { stores, market, logger, alertWebhookUrl }: ActivityDeps,
  refs = storedReferences(stores),
): WriteActivities {
  /** The regime probabilities, the book's metrics against the committed budget when there is one, and the index's realized vol. */
  const writeMetrics = async (
    idempotencyKey: string,
    portfolioId: string,
    ref: MarketRef,
    committed: { readonly budget: RiskBudget; readonly config: RiskConfig } | null,
    reading: CycleReading,
  ) => {
    const observedAt = new Date();
    // Bounded labels: the configured regimes (two or three names).
    const samples: MetricSample[] = reading.regimes.map((regime, i) => ({
      name: 'regime_probability',
      value: reading.probabilities[i],
      labels: { regime },
    }));
    if (committed) {
      const { budget, config } = committed;
      const holdings = valueHoldings(await stores.positions.forPortfolio(portfolioId), budget);
      samples.push(...bookMetrics({ budget, holdings, prices: await market.window(ref, config.lookbackDays + 1), config }));
    }
    // Last: its row announces the cycle to the console (migration 1766000000100), after the rest is in.
    samples.push({ name: 'index_realized_vol', value: reading.realizedVol, labels: {} });
    await stores.metrics.record(
      samples.map((s) => ({ ...s, idempotencyKey: `${idempotencyKey}:${s.name}:${JSON.stringify(s.labels)}`, portfolioId, observedAt })),
    );
  };

  return {
    async ensurePortfolio({ portfolioId, marketData }) {
      await stores.portfolios.ensure(portfolioId);
      await stores.portfolios.setMarketData(portfolioId, marketData);
    },

    heartbeat: (portfolioId) => stores.portfolios.heartbeat(portfolioId),

    recordRecommendation: ({ recommendation, status, committedVersion, settledReason }) =>
      stores.recommendations.record(recommendation, status, committedVersion, settledReason),

    async recordDecision(decision) {
      await stores.approvals.record(decision);
      logger.info(
        { recommendationId: decision.recommendationId, decision: decision.decision, approver: decision.approver },
        'approval decision recorded',
      );
    },

    async commitRecommendation({ recommendation: r }) {
      const outcome = await stores.recommendations.commit(
        r,
        (latest) => commitRefusal(latest, r),
        (version, positions) => rebalancePlan(r.budget, version, positions),
      );
      if ('refused' in outcome) return { version: 0, created: false, refused: outcome.refused };
      logger.info(
        { portfolioId: r.portfolioId, version: outcome.version, created: outcome.created, regime: r.budget.regime },
        'budget committed',
      );
      if (outcome.created) crashAfterCommitIfInjected();
      return { version: outcome.version, created: outcome.created, refused: null };
    },

    emitRebalancePlan: ({ idempotencyKey, portfolioId, version, budget }) =>
      stores.rebalancePlans.emit(idempotencyKey, portfolioId, (positions) => rebalancePlan(budget, version, positions)),

    /** Alerts go to the table, the structured log and (optionally) a webhook; the row is written once. */
    async raiseAlert(alert) {
      const { inserted, webhookStatus } = await stores.alerts.raise(alert);
      const log = alert.severity === 'critical' ? logger.error : alert.severity === 'warning' ? logger.warn : logger.info;
      log.call(logger, { alert: alert.kind, portfolioId: alert.portfolioId, details: alert.details }, alert.message);
      if (!alertWebhookUrl || (!inserted && webhookStatus === 'delivered')) return;
      const status = await postAlert(alertWebhookUrl, alert);
      await stores.alerts.setWebhookStatus(alert.idempotencyKey, status);
      // Best effort: a dead webhook must not stall the loop; the status column says what happened.
      if (status !== 'delivered') logger.warn({ alert: alert.kind, webhookStatus: status }, 'alert webhook delivery failed');
    },

    recordRegimeChange: ({ idempotencyKey, portfolioId, change }) => stores.regimeChanges.record(idempotencyKey, portfolioId, change),

    /** The cycle's success metrics (risk/bookMetrics.ts) at this moment. */
    recordMetrics: ({ idempotencyKey, portfolioId, ref, config, budget, reading }) =>
      writeMetrics(idempotencyKey, portfolioId, ref, budget && { budget, config: parseConfig(config) }, reading),

    async recordCalmCycle({ idempotencyKey, portfolioId, ref, policy, budgetVersion, reading }) {
      const committed =
        budgetVersion === null
          ? null
          : { budget: await refs.budget(portfolioId, budgetVersion), config: await refs.config(portfolioId, policy) };
      await writeMetrics(idempotencyKey, portfolioId, ref, committed, reading);
      await stores.portfolios.heartbeat(portfolioId);
    },

    recordOperatorAction: (action) => stores.operatorActions.record(action),

    recordPolicyStatus: ({ portfolioId, version, status, riskReasons, recommendationId }) =>
      stores.policies.setStatus(portfolioId, version, status, { riskReasons, recommendationId }),

    setTradingState: ({ idempotencyKey, portfolioId, request }) => stores.tradingStates.set(portfolioId, request, idempotencyKey),

    async createOverride({ idempotencyKey, portfolioId, request }) {
      return { overrideId: await stores.overrides.create(idempotencyKey, portfolioId, request) };
    },

    async revokeOverride({ idempotencyKey, portfolioId, request }) {
      return { revoked: await stores.overrides.revoke(idempotencyKey, portfolioId, request) };
    },
  };
}
