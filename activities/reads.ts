/**
 * Read activities: market data, configuration, the regime reading, the budget and the trigger
 * assessment, one by one or (`checkCycle`) a cycle's all at once. Each is a pure function of its inputs and the data they name, so a retry on another
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
import type { RiskBudget } from '../risk/budget';
import type { RiskConfig } from '../risk/config';
import type { MarketRef } from '../risk/marketData';
import type { CommittedBudget, ReadActivities, RegimeObservation, TriggerRequest } from '../workflows/contract';
import type { ActivityDeps } from './deps';
import { storedReferences } from './references';
import { parseConfig, userErrors } from './userErrors';

/** Fitted HMMs kept per worker; a fit is a pure function of its key, so the cache never changes an answer. */
const MAX_CACHED_MODELS = 64;

export function readActivities({ stores, market }: ActivityDeps, refs = storedReferences(stores)): ReadActivities {
  const heldBudget = (portfolioId: string, version: number | null) => (version === null ? null : refs.budget(portfolioId, version));
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

  /** Readings of every bar since `sinceBar` (risk/regime/reading.ts), the latest last. */
  const readRegime = async (ref: MarketRef, config: RiskConfig, sinceBar: number | null | undefined): Promise<RegimeObservation> => {
    const readings = readRegimes({
      prices: await market.window(ref, regimeWindowRows(config)),
      lastBar: ref.lastIndex,
      bars: barsToRead(sinceBar ?? null, ref.lastIndex),
      config,
      model: memoized(ref.spec, liveFitSettings(config.regimeDetection)),
    });
    const latest = readings[readings.length - 1];
    return readings.length > 1 ? { ...latest, earlier: readings.slice(0, -1) } : latest;
  };

  const budgetFor = async (portfolioId: string, ref: MarketRef, regime: string, config: RiskConfig, previous: RiskBudget | null) => {
    const { budget, riskModel } = buildBudgetWithModel({
      portfolioId,
      asOf: ref.asOf,
      prices: await market.window(ref, config.lookbackDays + 1),
      regime,
      config,
      previous: previous ?? undefined,
    });
    // The model goes to Postgres under its content id; only the id travels on in the budget (a
    // 50-asset covariance would add ~50 kB to every cycle's history). Idempotent on retry.
    await stores.riskModels.put(riskModel);
    return budget;
  };

  const assess = async (input: Omit<TriggerRequest, 'config'>, config: RiskConfig) => {
    const holdings = valueHoldings(await stores.positions.forPortfolio(input.portfolioId), input.proposed);
    return assessBudget({
      config,
      current: input.current,
      proposed: input.proposed,
      positions: notionalsByAsset(holdings),
      lastRegimeCommitAtMs: input.lastRegimeCommitAtMs ?? null,
      nowMs: input.nowMs ?? Date.now(),
    });
  };

  /** The committed budget when its version is not the one the loop holds (absent when it is). */
  const committedUnlessHeld = async (portfolioId: string, held: number | null): Promise<{ committed?: CommittedBudget | null }> => {
    const version = await stores.budgets.latestVersion(portfolioId);
    if (version === held) return {};
    return { committed: version === null ? null : { version, budget: await refs.budget(portfolioId, version) } };
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

    assessRegime: ({ ref, config, sinceBar }) => userErrors(async () => readRegime(ref, parseConfig(config), sinceBar)),

    computeBudget: (input) =>
      userErrors(() => budgetFor(input.portfolioId, input.ref, input.regime, parseConfig(input.config), input.previous ?? null)),

    evaluateTriggers: (input) => userErrors(() => assess(input, parseConfig(input.config))),

    checkCycle: (input) =>
      userErrors(async () => {
        const { portfolioId, regime } = input;
        const config = await refs.config(portfolioId, input.policy);
        const ref = await market.observe(input.marketData);
        const observation = await readRegime(ref, config, input.sinceBar);
        const { committed } = await committedUnlessHeld(portfolioId, input.committedVersion);
        const at = { lastIndex: ref.lastIndex, asOf: ref.asOf };
        const held = committed === undefined ? {} : { committed };
        if (regime === null) return { ref: at, observation, ...held };
        const current = committed !== undefined ? (committed?.budget ?? null) : await heldBudget(portfolioId, input.committedVersion);
        const budget = await budgetFor(portfolioId, ref, regime, config, current);
        const assessment = await assess({ ...input, current, proposed: budget }, config);
        const calm = !assessment.proposeBudget && !assessment.rebalanceBook;
        // Calm: only the triggers' readings travel back (not their sentences, which restate value and
        // threshold: most of a calm cycle's bytes); otherwise what the loop acts on.
        const triggers = assessment.triggers.map(({ detail: _detail, ...reading }) => reading);
        const verdict = calm ? { calm, regime, triggers } : { calm, regime, budget, assessment };
        return { ref: at, observation, ...held, verdict };
      }),

    assessPolicyChange: ({ current, proposed }) =>
      userErrors(() => ({ riskReasons: policyRiskIncreases(parseConfig(current), parseConfig(proposed)) })),
  };
}
