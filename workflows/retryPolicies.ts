/**
 * How the workflows call their activities: one proxy per retry class of the contract
 * (workflows/contract.ts). A tight start-to-close timeout lets a task lost with a crashed worker be
 * retried on another within seconds; errors the user caused (bad config, bad data) are not retried.
 */
import { type ActivityOptions, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ReadActivities, WriteActivities } from './contract';

/** Reads and computations: a few retries, then the cycle fails and is alerted (the next cycle tries again). */
const READ_OPTIONS = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['ConfigError', 'DataError'],
  },
} satisfies ActivityOptions;
export const reads = proxyActivities<ReadActivities>(READ_OPTIONS);

/** Keyed writes are retried until they land: giving up would lose an output, retrying cannot duplicate one. */
const WRITE_OPTIONS = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ConfigError', 'DataError', 'IdempotencyConflict'],
  },
} satisfies ActivityOptions;
export const writes = proxyActivities<WriteActivities>(WRITE_OPTIONS);

/**
 * The calm cycle's two calls run as local activities, in the worker that runs the workflow task: each
 * is one marker event in history (its result only), not a scheduled/started/completed triple and a
 * workflow task of its own. Same retry classes as above.
 */
export const localReads = proxyLocalActivities<Pick<ReadActivities, 'checkCycle'>>(READ_OPTIONS);
export const localWrites = proxyLocalActivities<Pick<WriteActivities, 'recordCalmCycle'>>(WRITE_OPTIONS);
