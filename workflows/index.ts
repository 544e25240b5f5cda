// The workflow bundle's entry point: every workflow type the Ballast worker serves.
export { portfolioLoop } from './portfolioLoop';
export { manualRebalance } from './manualRebalance';
