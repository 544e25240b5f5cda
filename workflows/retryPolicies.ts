/**
 * How the workflows call their activities: one proxy per retry class of the contract
 * (workflows/contract.ts). A tight start-to-close timeout lets a task lost with a crashed worker be
 * retried on another within seconds; errors the user caused (bad config, bad data) are not retried.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ReadActivities, WriteActivities } from './contract';

/** Reads and computations: a few retries, then the cycle fails and is alerted (the next cycle tries again). */
export const reads = proxyActivities<ReadActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['ConfigError', 'DataError'],
  },
});

/** Keyed writes are retried until they land: giving up would lose an output, retrying cannot duplicate one. */
export const writes = proxyActivities<WriteActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ConfigError', 'DataError', 'IdempotencyConflict'],
  },
});
