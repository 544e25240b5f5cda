/**
 * Regime detection (pure, deterministic; daily log returns in, annualized figures out).
 *
 * - `rule.ts`: realized vol of the index vs each regime's `max_vol` (calm → turbulent), optional trend
 *   floor (price below its moving average ⇒ at least a named regime). The fallback and the benchmark.
 * - `hmm.ts`: Gaussian HMM, diagonal covariance over D features (D = 1: index log returns; optional
 *   ln realized vol / ln implied vol via `features.ts`), Baum–Welch with scaled forward–backward,
 *   seeded restarts (best log-likelihood wins) and a variance floor; states ordered by the variance
 *   of the first feature, calm → turbulent.
 * - `filter.ts`: online use. Forward recursion only, P(state_t | x_1..t); incremental `HmmFilter`
 *   with a JSON state, and a batch `filterProbabilities`. Smoothed probabilities are never exposed.
 * - `states.ts`: naming states (K = number of configured regimes ⇒ state k is regime k) and
 *   annualized state summaries.
 * - `hysteresis.ts`: declared regime switches need `minDwell` consecutive observations with the
 *   challenger most likely at probability ≥ `threshold`; pure, JSON state, safe in a workflow.
 * - `marketIndex.ts`: the regime index of a price panel (holidays, halts, late listings).
 * - `walkForward.ts`: when the HMM is refitted, on which returns, and how its filter reaches a row.
 * - `reading.ts`: the one regime reading (index → rule or HMM → probability per regime), for the loop
 *   and the backtest.
 * - `tracker.ts`: the declared regime: hysteresis over regime probabilities, one step per bar
 *   (replay-bound: the loop's workflow runs it).
 * - `random.ts`: seeded generator for restarts and synthetic data.
 *
 * Workflow code should import `hysteresis.ts` directly: this index pulls in config validation.
 */
export * from './features';
export * from './filter';
export {
  type FitOptions,
  type GaussianHmm,
  type HmmFit,
  type ObservationInput,
  type RestartSummary,
  fitGaussianHmm,
  logLikelihood,
  minimumObservations,
  orderByVolatility,
  stationaryDistribution,
} from './hmm';
export * from './hysteresis';
export * from './marketIndex';
export * from './reading';
export * from './tracker';
export * from './walkForward';
export * from '../random';
export * from './rule';
export * from './states';
