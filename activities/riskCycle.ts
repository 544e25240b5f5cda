/**
 * Activities of one control-loop cycle: observe the market, read the regime, compute the budget,
 * commit it. Each is idempotent: reads are pure functions of their (small) inputs, the commit is keyed.
 * User-caused failures (bad config, bad data) are non-retryable so the loop alerts instead of spinning.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import { BudgetStore } from '../db/budgetStore';
import type { MarketDataService } from '../market/source';
import type { RiskBudget } from '../risk/budget';
import { ConfigError, type RiskConfig, parseRiskConfig } from '../risk/config';
import { buildRiskBudget } from '../risk/engine';
import { logReturns, trailingAnnualizedVol } from '../risk/regime/features';
import { filterProbabilities } from '../risk/regime/filter';
import { type GaussianHmm, fitGaussianHmm, minimumObservations } from '../risk/regime/hmm';
import { classifyByRule } from '../risk/regime/rule';
import { stateRegimeNames } from '../risk/regime/states';
import { alignedReturns } from '../risk/returns';
import { DataError, type PriceTable } from '../risk/timeseries';
import type { MarketDataSpec, MarketRef, RegimeReading } from '../workflows/types';

export interface LoopSettings {
  readonly monitoringIntervalMs: number;
  readonly approvalTimeoutMs: number;
  readonly hysteresis: { readonly threshold: number; readonly minDwell: number };
}

export interface ActivityDeps {
  readonly pool: pg.Pool;
  readonly market: MarketDataService;
  readonly logger: Logger;
  readonly alertWebhookUrl?: string;
}

/** HMM training window and refit cadence, in bars. */
export const HMM_TRAINING_BARS = 756;
export const HMM_REFIT_EVERY_BARS = 21;

export function riskCycleActivities(deps: ActivityDeps) {
  const budgets = new BudgetStore(deps.pool);
  const fittedModels = new Map<string, { fittedAt: number; model: GaussianHmm }>();

  /**
   * Fits on the index's log returns up to the ref's bar (never later), refitting every
   * HMM_REFIT_EVERY_BARS; the fit is seeded, so a retry on another worker reads the same regime.
   */
  async function hmmReading(ref: MarketRef, config: RiskConfig): Promise<RegimeReading> {
    const detection = config.regimeDetection;
    const key = JSON.stringify([ref.spec, detection.states, detection.restarts, detection.seed]);
    const returns = indexLogReturns(await deps.market.window(ref, HMM_TRAINING_BARS + 1));
    let cached = fittedModels.get(key);
    if (!cached || ref.lastIndex < cached.fittedAt || ref.lastIndex - cached.fittedAt >= HMM_REFIT_EVERY_BARS) {
      const needed = minimumObservations(detection.states, 1);
      if (returns.length < needed) throw new DataError(`the HMM needs ${needed} returns of history, the market data has ${returns.length}`);
      const fit = fitGaussianHmm(returns, { states: detection.states, restarts: detection.restarts, seed: detection.seed });
      cached = { fittedAt: ref.lastIndex, model: fit.model }; // states come ordered calm → turbulent
      fittedModels.set(key, cached);
    }
    const path = filterProbabilities(cached.model, returns);
    const stateProbabilities = path[path.length - 1];
    const regimes = config.regimes.map((r) => r.name);
    const stateNames = stateRegimeNames(detection.states, regimes);
    const probabilities = regimes.map((name) => stateNames.reduce((sum, s, k) => (s === name ? sum + stateProbabilities[k] : sum), 0));
    const realizedVol = trailingAnnualizedVol(returns, Math.min(detection.volWindow, returns.length), config.periodsPerYear);
    return { regimes, probabilities, method: 'hmm', realizedVol };
  }

  return {
    /** Validates the configuration once per run; a bad config fails the run with the bad key named. */
    async validateConfig(document: unknown): Promise<LoopSettings> {
      const config = await userErrorsAsync(async () => parseConfig(document));
      return {
        monitoringIntervalMs: config.monitoringInterval,
        approvalTimeoutMs: config.approvalTimeout,
        hysteresis: { threshold: config.regimeDetection.threshold, minDwell: config.regimeDetection.minDwell },
      };
    },

    /** Registers the portfolio and remembers the market data its loop uses (manual rebalances default to it). */
    async ensurePortfolio(input: { portfolioId: string; marketData: MarketDataSpec }): Promise<void> {
      await budgets.ensurePortfolio(input.portfolioId);
      await deps.pool.query('UPDATE portfolios SET market_data = $2 WHERE id = $1', [input.portfolioId, JSON.stringify(input.marketData)]);
    },

    async portfolioMarketData(portfolioId: string): Promise<MarketDataSpec> {
      const { rows } = await deps.pool.query<{ market_data: MarketDataSpec | null }>('SELECT market_data FROM portfolios WHERE id = $1', [
        portfolioId,
      ]);
      if (!rows[0]) throw ApplicationFailure.nonRetryable(`unknown portfolio "${portfolioId}"`, 'DataError');
      if (!rows[0].market_data)
        throw ApplicationFailure.nonRetryable(`portfolio "${portfolioId}" has no market data source; pass marketData`, 'DataError');
      return rows[0].market_data;
    },

    async observeMarket(spec: MarketDataSpec): Promise<MarketRef> {
      return userErrorsAsync(() => deps.market.observe(spec));
    },

    /**
     * Regime reading on an equal-weighted index of the portfolio's assets: the rule classifier, or the
     * Gaussian HMM's filtered probabilities (config `regime_detection.method`).
     */
    async assessRegime(input: { ref: MarketRef; config?: unknown }): Promise<RegimeReading> {
      return userErrorsAsync(async () => {
        const config = parseConfig(input.config);
        const detection = config.regimeDetection;
        if (detection.method === 'hmm') return hmmReading(input.ref, config);
        const window = await deps.market.window(input.ref, Math.max(detection.volWindow, detection.trend?.window ?? 0) + 2);
        const index = equalWeightIndex(window);
        const reading = classifyByRule(index, {
          regimes: config.regimes,
          volWindow: detection.volWindow,
          periodsPerYear: config.periodsPerYear,
          trend: detection.trend ?? undefined,
        });
        const regimes = config.regimes.map((r) => r.name);
        return {
          regimes,
          probabilities: regimes.map((_, i) => (i === reading.index ? 1 : 0)),
          method: 'rule',
          realizedVol: reading.realizedVol,
        };
      });
    },

    async computeBudget(input: {
      portfolioId: string;
      ref: MarketRef;
      regime: string;
      config?: unknown;
      previous?: RiskBudget | null;
    }): Promise<RiskBudget> {
      return userErrorsAsync(async () => {
        const config = parseConfig(input.config);
        const prices = await deps.market.window(input.ref, config.lookbackDays + 1);
        return buildRiskBudget({
          portfolioId: input.portfolioId,
          asOf: input.ref.asOf,
          prices,
          regime: input.regime,
          config,
          previous: input.previous ?? undefined,
        });
      });
    },

    /** Marks the loop alive: the gate measures budget staleness from this heartbeat. */
    async heartbeat(portfolioId: string): Promise<void> {
      await deps.pool.query('UPDATE portfolios SET loop_heartbeat_at = now() WHERE id = $1', [portfolioId]);
    },
  };
}

export function parseConfig(document: unknown): RiskConfig {
  return parseRiskConfig(document ?? {});
}

function indexLogReturns(table: PriceTable): Float64Array {
  return logReturns(equalWeightIndex(table)).returns;
}

/** Equal-weighted index level from the assets' common-calendar simple returns (starts at 1). */
function equalWeightIndex(table: PriceTable): Float64Array {
  const { returns } = alignedReturns(table, { kind: 'simple', minHistory: 2 });
  const n = returns.columns.length;
  const level = new Float64Array(returns.dates.length + 1);
  level[0] = 1;
  for (let t = 0; t < returns.dates.length; t++) {
    let sum = 0;
    for (const col of returns.columns) sum += col[t];
    level[t + 1] = level[t] * (1 + sum / n);
  }
  return level;
}

/** Turns errors the user caused into non-retryable failures that name their cause. */
async function userErrorsAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(err);
  }
}

function toFailure(err: unknown): unknown {
  if (err instanceof ConfigError || err instanceof DataError) {
    return ApplicationFailure.nonRetryable(err.message, err.name);
  }
  return err;
}
