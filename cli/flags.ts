/**
 * The flag vocabulary of `ballast` on top of commander: value checks that reject a bad value with one
 * sentence naming the flag (`--port must be an integer in [0, 65535], got "abc"`), and UsageError,
 * the error of a command called wrongly (exit code 2). Commander itself reports unknown options,
 * missing values, missing required options and surplus arguments.
 */
import { type Command, Option } from 'commander';
import { ConfigError, duration } from '../risk/config';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Thrown by a value check with what the value must be ("must be a positive integer"). */
export class InvalidValue extends Error {}

/** Turns a flag's text into its value, or throws InvalidValue. */
export type Check<T> = (text: string) => T;

/**
 * An option whose value `check` validates as commander reads it (from the command line or from the
 * option's environment variable); a bad value is a UsageError that names the flag.
 */
export function option<T>(flags: string, description: string, check?: Check<T>): Option {
  const opt = new Option(flags, description);
  if (!check) return opt;
  return opt.argParser((text: string) => {
    try {
      return check(text);
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      const name = opt.envVar ? `${opt.long} (or ${opt.envVar})` : opt.long;
      throw new UsageError(`${name} ${err.message}, got "${text}"`);
    }
  });
}

export function integer(min: number, max: number): Check<number> {
  return (text) => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) throw new InvalidValue(`must be an integer in [${min}, ${max}]`);
    return n;
  };
}

export const positiveInteger: Check<number> = (text) => {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new InvalidValue('must be a positive integer');
  return n;
};

export const number: Check<number> = (text) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidValue('must be a number');
  return n;
};

export const positiveNumber: Check<number> = (text) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidValue('must be a positive number');
  return n;
};

export const nonNegativeNumber: Check<number> = (text) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidValue('must be a number >= 0');
  return n;
};

/** A number strictly between `low` and `high`. */
export function between(low: number, high: number): Check<number> {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !(n > low && n < high)) throw new InvalidValue(`must be a number in (${low}, ${high})`);
    return n;
  };
}

export const isoDate: Check<string> = (text) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) throw new InvalidValue('must be a date YYYY-MM-DD');
  return text;
};

/** Milliseconds from "500ms", "10s", "5m", "1h", "1d" or a number of seconds. */
export const durationMs: Check<number> = (text) => {
  try {
    return duration(/^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text, 'flag');
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidValue('must be a positive duration like 500ms, 10s, 5m, 1h or 1d');
    throw err;
  }
};

/** A comma-separated list without empty entries. */
export const list: Check<string[]> = (text) => {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new InvalidValue('must be a comma-separated list without empty entries');
  return parts;
};

export const numberList: Check<number[]> = (text) => {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '' || !Number.isFinite(Number(p)))) throw new InvalidValue('must be a comma-separated list of numbers');
  return parts.map(Number);
};

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) throw new InvalidValue(`must be one of ${values.join(', ')}`);
    return text as T;
  };
}

/** Rejects a start date after the end date (both optional). */
export function dateRange(start: string | undefined, end: string | undefined): void {
  if (start && end && start > end) throw new UsageError(`--start ${start} is after --end ${end}`);
}

/**
 * The command line that gave `command` its options, rebuilt from what was typed (in the command's
 * option order, quoted for a POSIX shell): `ballast backtest --prices x.csv --out out/x`.
 */
export function commandLine(command: Command): string {
  const words = ['ballast', command.name()];
  for (const opt of command.options) {
    const key = opt.attributeName();
    if (command.getOptionValueSource(key) !== 'cli' || !opt.long) continue;
    const value: unknown = command.getOptionValue(key);
    if (typeof value === 'boolean') {
      if (value !== opt.negate) words.push(opt.long);
    } else {
      words.push(opt.long, String(value));
    }
  }
  return words.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
