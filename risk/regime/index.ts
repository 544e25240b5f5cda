/** Regime detection: rule classifier, Gaussian HMM (Baum–Welch, forward filter), hysteresis. */
export * from './features';
export * from './filter';
export { type FitOptions, type GaussianHmm, type HmmFit, type ObservationInput, type RestartSummary, fitGaussianHmm, logLikelihood, minimumObservations, orderByVolatility } from './hmm';
export * from './hysteresis';
export * from './random';
export * from './rule';
export * from './states';
