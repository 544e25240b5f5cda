/**
 * Errors a user caused (bad config, bad data) become non-retryable failures that name their cause, so
 * the loop alerts once instead of retrying what cannot succeed.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ConfigError, type RiskConfig, parseRiskConfig } from '../risk/config';
import { DataError } from '../risk/timeseries';

export async function userErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DataError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

/** The workflow passes the raw `risk_budgeting` document; absent means the defaults. */
export function parseConfig(document: unknown): RiskConfig {
  return parseRiskConfig(document ?? {});
}
