/** Regime detection: rule classifier, Gaussian HMM (Baum–Welch, forward filter), hysteresis. */
export * from './features';
export * from './hysteresis';
export * from './random';
export * from './rule';
