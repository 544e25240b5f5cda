/**
 * Walk-forward use of the Gaussian HMM, shared by the live loop and the backtest: when the model is
 * refitted, on which returns, and how its filter reaches a given row.
 *
 * - A refit at row r trains on the index's observed log returns strictly before r (the refit row's
 *   own return is the first one filtered with the new model), over all history ('expanding') or the
 *   last `days` rows ('rolling').
 * - The filter of a model fitted at r is run over its training returns, then forward over every row
 *   from r on (a row without an observation only predicts). Its output at row t is P(state_t | data ≤ t).
 * - The loop refits every `every` bars, at bars that are multiples of `every`, so any worker derives
 *   the same model for the same bar; the backtest refits by calendar year by default, or likewise.
 */
import { type GaussianHmm, fitGaussianHmm, minimumObservations } from './hmm';
import { HmmFilter } from './filter';
import type { RegimeDetectionConfig } from '../config';

export type TrainingWindow = { readonly kind: 'expanding' } | { readonly kind: 'rolling'; readonly days: number };

export interface HmmFitSettings {
  readonly states: number;
  readonly restarts: number;
  readonly seed: number;
  readonly maxIterations?: number;
  readonly tolerance?: number;
}

/** The live loop's schedule: three years of daily returns, refitted monthly (every 21 bars). */
export const LIVE_TRAINING_WINDOW: TrainingWindow = { kind: 'rolling', days: 756 };
export const LIVE_REFIT_EVERY_BARS = 21;

export function liveFitSettings(detection: RegimeDetectionConfig): HmmFitSettings {
  return { states: detection.states, restarts: detection.restarts, seed: detection.seed };
}

/** Fewest training returns a fit of `states` states accepts (on daily returns alone). */
export const minimumTrainingReturns = (states: number): number => minimumObservations(states, 1);

/** The refit row in force at `row` under an every-`every`-rows schedule. */
export const refitAnchor = (row: number, every: number): number => row - (row % every);

/** Observed log returns strictly before row `t`, inside the training window. */
export function trainingReturns(logReturns: ArrayLike<number>, t: number, window: TrainingWindow): number[] {
  const from = window.kind === 'rolling' ? Math.max(0, t - window.days) : 0;
  const out: number[] = [];
  for (let i = from; i < t; i++) if (Number.isFinite(logReturns[i])) out.push(logReturns[i]);
  return out;
}

export function fitRegimeModel(training: readonly number[], settings: HmmFitSettings): GaussianHmm {
  return fitGaussianHmm(training, {
    states: settings.states,
    restarts: settings.restarts,
    seed: settings.seed,
    maxIterations: settings.maxIterations,
    tolerance: settings.tolerance,
  }).model;
}

/** A filter for a model fitted at row `anchor`, already run over its training returns. */
export function primedFilter(model: GaussianHmm, training: readonly number[]): HmmFilter {
  const filter = new HmmFilter(model);
  for (const x of training) filter.step(x);
  return filter;
}
