/**
 * Declaring the regime from successive readings: hysteresis over *regime* probabilities, one step per
 * bar. The live loop runs this inside its workflow (the declared regime is workflow state) and the
 * backtest runs it day by day, so both declare the same regime from the same readings.
 *
 * REPLAY-BOUND: the portfolio-loop workflow executes this code. Any change to what it returns for a
 * given input changes the commands a recorded history replays into; keep the recorded histories in
 * test/fixtures/histories replaying (test/integration/workflows/replay.test.ts) or guard with patched().
 *
 * - The first reading declares its most likely regime (ties go to the calmer one).
 * - Each later reading of a new bar steps the hysteresis (`hysteresis.ts`); a reading of a bar already
 *   tracked is ignored, so a loop cycling faster than its data counts bars, not cycles. A reading
 *   without a bar (recorded before per-bar tracking) is always stepped, as it was then.
 */
import { type HysteresisOptions, type HysteresisState, initialHysteresis, stepHysteresis } from './hysteresis';

export interface RegimeTrack {
  readonly regime: string;
  readonly hysteresis: HysteresisState;
  /** Last bar stepped; null before per-bar tracking. */
  readonly bar: number | null;
}

export interface TrackedReading {
  readonly regimes: readonly string[];
  readonly probabilities: readonly number[];
  readonly bar?: number;
}

/** A declared switch, as the loop records it: detection time, and the commit that answered it. */
export interface RegimeChange {
  readonly from: string | null;
  readonly to: string;
  /** Data time (bar) at which the switch was declared. */
  readonly detectedAsOf: string;
  /** Workflow time (ms since epoch) of detection and of the committed budget; response = difference. */
  readonly detectedAtMs: number;
  committedAtMs?: number;
  committedVersion?: number;
}

/** The regime the reading finds most likely (ties go to the calmer one, the first in the list). */
export function mostLikelyRegime(reading: TrackedReading): string {
  return reading.regimes[reading.probabilities.indexOf(Math.max(...reading.probabilities))];
}

/** Advances the track over `readings`, oldest first. */
export function trackRegime(
  track: RegimeTrack | null,
  readings: readonly TrackedReading[],
  options: HysteresisOptions,
): RegimeTrack | null {
  let current = track;
  for (const reading of readings) {
    const bar = reading.bar ?? null;
    if (current !== null && bar !== null && current.bar !== null && bar <= current.bar) continue;
    if (current === null || !reading.regimes.includes(current.regime)) {
      const regime = mostLikelyRegime(reading);
      current = { regime, hysteresis: initialHysteresis(reading.regimes.indexOf(regime)), bar };
      continue;
    }
    const index = reading.regimes.indexOf(current.regime);
    const prior = current.hysteresis.current === index ? current.hysteresis : initialHysteresis(index);
    const hysteresis = stepHysteresis(prior, reading.probabilities, options);
    current = { regime: reading.regimes[hysteresis.current], hysteresis, bar };
  }
  return current;
}
