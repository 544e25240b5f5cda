/**
 * Failure alerting: a failed cycle is recorded in the loop's state and alerted once per distinct
 * failure, and the loop carries on. Errors the user caused (bad config, bad data: non-retryable
 * activity failures) are critical; anything else is a warning.
 */
import { ActivityFailure, ApplicationFailure, log, uuid4 } from '@temporalio/workflow';
import { cycleKey } from './keys';
import { writes } from './retryPolicies';

export interface FailureState {
  readonly cycle: number;
  lastError: string | null;
}

/** Never throws: an alert that cannot be written is logged instead. */
export async function recordFailure(state: FailureState, portfolioId: string, err: unknown): Promise<void> {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  const userError = cause instanceof ApplicationFailure && cause.nonRetryable;
  const repeat = state.lastError === message;
  state.lastError = message;
  if (repeat) return; // one alert per distinct failure, not one per cycle
  const kind = userError ? 'bad-input' : 'cycle-failed';
  try {
    await writes.raiseAlert({
      idempotencyKey: `${cycleKey(state.cycle, portfolioId)}:${kind}:${uuid4()}`,
      portfolioId,
      severity: userError ? 'critical' : 'warning',
      kind,
      message: `cycle ${state.cycle} failed: ${message}`,
      details: { cycle: state.cycle },
    });
  } catch (alertErr) {
    log.error('could not record a cycle failure', { portfolioId, message, alertError: String(alertErr) });
  }
}
