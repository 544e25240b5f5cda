/**
 * The one regime reading: from a price panel to the probability of each configured regime at a bar.
 * The live loop calls `readRegimes` on a window of its market data; the backtest advances the same
 * pieces (index builder, rule reading, walk-forward filter, state → regime mapping) one day at a
 * time. Hysteresis comes after, on regime probabilities, in `tracker.ts`.
 *
 * - Index: `marketIndex.ts` (holidays, halts and late listings handled as a book values them).
 * - Rule: the realized-vol/trend classifier on the last observed index levels, one-hot over regimes.
 * - HMM: state probabilities from the walk-forward filter (`walkForward.ts`), summed per regime with
 *   `stateRegimeNames` (several states may name one regime when there are more states than regimes).
 */
import { type RiskConfig } from '../config';
import type { RegimeMethod } from '../kinds';
import { DataError, type PriceTable } from '../timeseries';
import { trailingAnnualizedVol } from './features';
import type { GaussianHmm } from './hmm';
import { regimeIndex } from './marketIndex';
import { classifyByRule } from './rule';
import { stateRegimeNames } from './states';
import {
  LIVE_REFIT_EVERY_BARS,
  LIVE_TRAINING_WINDOW,
  fitRegimeModel,
  liveFitSettings,
  minimumTrainingReturns,
  primedFilter,
  refitAnchor,
  trainingReturns,
} from './walkForward';

export interface RegimeReading {
  /** Regime names ordered calm → turbulent, aligned with `probabilities`. */
  readonly regimes: readonly string[];
  readonly probabilities: readonly number[];
  readonly method: RegimeMethod;
  /** Measured annualized index volatility behind the reading. */
  readonly realizedVol: number;
  /** The bar (row of the market data) read; absent in readings recorded before per-bar tracking. */
  readonly bar?: number;
}

/** Rows read before the first row that matters, so a holiday at a window's edge is not taken for a listing. */
export const LEAD_IN_ROWS = 21;
/** Bars a loop that fell behind (paused, worker down) catches up on; older ones are skipped. */
export const MAX_CATCH_UP_BARS = 63;

/** Index levels the rule classifier reads at one bar: its vol window of returns, and its trend window. */
export function ruleLevelsNeeded(config: RiskConfig): number {
  const detection = config.regimeDetection;
  return Math.max(detection.volWindow + 1, detection.trend?.window ?? 0);
}

/** Rows of market data, ending at the latest bar, that `readRegimes` needs for up to MAX_CATCH_UP_BARS bars. */
export function regimeWindowRows(config: RiskConfig): number {
  const history =
    config.regimeDetection.method === 'hmm'
      ? LIVE_REFIT_EVERY_BARS + (LIVE_TRAINING_WINDOW.kind === 'rolling' ? LIVE_TRAINING_WINDOW.days : 0)
      : ruleLevelsNeeded(config);
  return MAX_CATCH_UP_BARS + history + LEAD_IN_ROWS;
}

/** The bars a cycle reads: every bar after the last one tracked (at most MAX_CATCH_UP_BARS), or only the latest. */
export function barsToRead(lastTracked: number | null | undefined, latest: number): number[] {
  const from = lastTracked === null || lastTracked === undefined ? latest : Math.max(lastTracked + 1, latest - MAX_CATCH_UP_BARS + 1);
  const bars: number[] = [];
  for (let b = from; b <= latest; b++) bars.push(b);
  return bars.length > 0 ? bars : [latest];
}

/** Rule reading at row t of the index: one-hot probabilities over the configured regimes. */
export function ruleReading(levels: ArrayLike<number>, t: number, config: RiskConfig): { probabilities: number[]; realizedVol: number } {
  const detection = config.regimeDetection;
  const needed = ruleLevelsNeeded(config);
  const observed = lastObserved(levels, t, needed);
  if (observed.length < needed) {
    throw new DataError(`the regime index has ${observed.length} observed prices up to this bar; the rule needs ${needed}`);
  }
  const { index, realizedVol } = classifyByRule(observed, {
    regimes: config.regimes,
    volWindow: detection.volWindow,
    periodsPerYear: config.periodsPerYear,
    trend: detection.trend ?? undefined,
  });
  return { probabilities: config.regimes.map((_, k) => (k === index ? 1 : 0)), realizedVol };
}

/** P(regime) = Σ P(state) over the states that name it (`stateRegimeNames`). */
export function regimeProbabilities(stateProbabilities: ArrayLike<number>, regimes: readonly string[]): number[] {
  const names = stateRegimeNames(stateProbabilities.length, regimes);
  const out = regimes.map(() => 0);
  for (let k = 0; k < names.length; k++) out[regimes.indexOf(names[k])] += stateProbabilities[k];
  return out;
}

/** Annualized vol of the last `window` observed index returns up to row t (fewer when the index is younger). */
function indexRealizedVol(logReturns: ArrayLike<number>, t: number, config: RiskConfig): number {
  const recent = lastObserved(logReturns, t, config.regimeDetection.volWindow);
  return recent.length < 2 ? Number.NaN : trailingAnnualizedVol(recent, recent.length, config.periodsPerYear);
}

export interface RegimeReadingRequest {
  /** Market data ending at the latest bar (all its columns form the index). */
  readonly prices: PriceTable;
  /** Bar number of the table's last row. */
  readonly lastBar: number;
  /** Bars to read, ascending, each inside the table. */
  readonly bars: readonly number[];
  readonly config: RiskConfig;
  /** Fits (or recalls) the model refitted at `anchor`; deterministic in its inputs, so safe to memoize. */
  readonly model?: (anchor: number, training: readonly number[]) => GaussianHmm;
}

/**
 * Readings at the requested bars. The last bar must be readable (else a DataError says why); an
 * earlier one without enough history is left out.
 */
export function readRegimes(request: RegimeReadingRequest): RegimeReading[] {
  const { prices, config, bars } = request;
  const firstBar = request.lastBar - prices.dates.length + 1;
  const index = regimeIndex(prices);
  const regimes = config.regimes.map((r) => r.name);
  const readOne = (bar: number): RegimeReading => {
    const t = bar - firstBar;
    if (t < 0 || t >= prices.dates.length) throw new RangeError(`bar ${bar} is outside the price window`);
    if (config.regimeDetection.method === 'rule') {
      return { regimes, method: 'rule', bar, ...ruleReading(index.levels, t, config) };
    }
    const states = hmmStateProbabilities(index.logReturns, t, firstBar, config, request.model);
    return {
      regimes,
      method: 'hmm',
      bar,
      probabilities: regimeProbabilities(states, regimes),
      realizedVol: indexRealizedVol(index.logReturns, t, config),
    };
  };
  const out: RegimeReading[] = [];
  bars.forEach((bar, i) => {
    try {
      out.push(readOne(bar));
    } catch (err) {
      if (i === bars.length - 1 || !(err instanceof DataError)) throw err;
    }
  });
  return out;
}

/** The live schedule: the model refitted at the bar's anchor, filtered from its training returns to row t. */
function hmmStateProbabilities(
  logReturns: Float64Array,
  t: number,
  firstBar: number,
  config: RiskConfig,
  model: RegimeReadingRequest['model'] = (_anchor, training) => fitRegimeModel(training, liveFitSettings(config.regimeDetection)),
): ArrayLike<number> {
  const anchor = refitAnchor(firstBar + t, LIVE_REFIT_EVERY_BARS);
  const r = anchor - firstBar;
  const training = trainingReturns(logReturns, Math.max(r, 0), LIVE_TRAINING_WINDOW);
  const needed = minimumTrainingReturns(config.regimeDetection.states);
  if (r < 0 || training.length < needed) {
    throw new DataError(`the HMM needs ${needed} returns of history before bar ${anchor}, the market data has ${training.length}`);
  }
  const filter = primedFilter(model(anchor, training), training);
  let probabilities: ArrayLike<number> = [];
  for (let i = r; i <= t; i++) probabilities = filter.step(logReturns[i]);
  return probabilities;
}

/** The last `count` finite values at or before row t, oldest first. */
function lastObserved(values: ArrayLike<number>, t: number, count: number): number[] {
  const out: number[] = [];
  for (let i = t; i >= 0 && out.length < count; i--) if (Number.isFinite(values[i])) out.push(values[i]);
  return out.reverse();
}
