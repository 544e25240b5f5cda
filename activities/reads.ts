/**
 * Read activities: market data, configuration, the regime reading, the budget and the trigger
 * assessment. Each is a pure function of its inputs and the data they name, so a retry on another
 * worker returns the same answer; their retry policy is bounded (workflows/retryPolicies.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { assessBudget } from '../risk/assessment';
import { buildBudgetWithModel } from '../risk/engine';
import { policyRiskIncreases } from '../risk/portfolioSpec';
import { notionalsByAsset, valueHoldings } from '../risk/holdings';
import type { GaussianHmm } from '../risk/regime/hmm';
import { barsToRead, readRegimes, regimeWindowRows } from '../risk/regime/reading';
import { fitRegimeModel, liveFitSettings } from '../risk/regime/walkForward';
import type { MarketDataSpec } from '../risk/marketData';
import type { ReadActivities } from '../workflows/contract';
import type { ActivityDeps } from './deps';
import { parseConfig, userErrors } from './userErrors';

/** Fitted HMMs kept per worker; a fit is a pure function of its key, so the cache never changes an answer. */
const MAX_CACHED_MODELS = 64;

export function readActivities({ stores, market }: ActivityDeps): ReadActivities {
  const models = new Map<string, GaussianHmm>();
  const memoized =
    (spec: MarketDataSpec, settings: ReturnType<typeof liveFitSettings>) => (anchor: number, training: readonly number[]) => {
      const key = JSON.stringify([spec, settings, anchor, training.length, training[0], training[training.length - 1]]);
      let model = models.get(key);
      if (!model) {
        model = fitRegimeModel(training, settings);
        if (models.size >= MAX_CACHED_MODELS) models.delete(models.keys().next().value as string);
        models.set(key, model);
      }
      return model;
    };

  return {
    async validateConfig(document) {
      const config = await userErrors(() => parseConfig(document));
      const { threshold, minDwell } = config.regimeDetection;
      return {
        monitoringIntervalMs: config.monitoringInterval,
        approvalTimeoutMs: config.approvalTimeout,
        hysteresis: { threshold, minDwell },
        rerisking: config.rerisking,
      };
    },

    async portfolioMarketData(portfolioId) {
      const spec = await stores.portfolios.marketData(portfolioId);
      if (spec === undefined) throw ApplicationFailure.nonRetryable(`unknown portfolio "${portfolioId}"`, 'DataError');
      if (spec === null)
        throw ApplicationFailure.nonRetryable(`portfolio "${portfolioId}" has no market data source; pass marketData`, 'DataError');
      return spec;
    },

    observeMarket: (spec) => userErrors(() => market.observe(spec)),

    async latestCommitted(portfolioId) {
      const latest = await stores.budgets.latestBudget(portfolioId);
      return latest ? { version: latest.version, budget: latest.budget } : null;
    },

    /** Readings of every bar since the loop's last one (risk/regime/reading.ts), the latest last. */
    assessRegime: ({ ref, config: document, sinceBar }) =>
      userErrors(async () => {
        const config = parseConfig(document);
        const readings = readRegimes({
          prices: await market.window(ref, regimeWindowRows(config)),
          lastBar: ref.lastIndex,
          bars: barsToRead(sinceBar, ref.lastIndex),
          config,
          model: memoized(ref.spec, liveFitSettings(config.regimeDetection)),
        });
        const latest = readings[readings.length - 1];
        return readings.length > 1 ? { ...latest, earlier: readings.slice(0, -1) } : latest;
      }),

    computeBudget: (input) =>
      userErrors(async () => {
        const config = parseConfig(input.config);
        const { budget, riskModel } = buildBudgetWithModel({
          portfolioId: input.portfolioId,
          asOf: input.ref.asOf,
          prices: await market.window(input.ref, config.lookbackDays + 1),
          regime: input.regime,
          config,
          previous: input.previous ?? undefined,
        });
        // The model goes to Postgres under its content id; only the id travels on in the budget (a
        // 50-asset covariance would add ~50 kB to every cycle's history). Idempotent on retry.
        await stores.riskModels.put(riskModel);
        return budget;
      }),

    evaluateTriggers: (input) =>
      userErrors(async () => {
        const holdings = valueHoldings(await stores.positions.forPortfolio(input.portfolioId), input.proposed);
        return assessBudget({
          config: parseConfig(input.config),
          current: input.current,
          proposed: input.proposed,
          positions: notionalsByAsset(holdings),
          lastRegimeCommitAtMs: input.lastRegimeCommitAtMs ?? null,
          nowMs: input.nowMs ?? Date.now(),
        });
      }),

    assessPolicyChange: ({ current, proposed }) =>
      userErrors(() => ({ riskReasons: policyRiskIncreases(parseConfig(current), parseConfig(proposed)) })),
  };
}
