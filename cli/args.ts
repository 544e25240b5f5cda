/** Minimal, strict `--flag value` parsing for the CLI: unknown flags and missing values are errors. */
import { UsageError } from './main';

export type FlagSpec = Record<string, 'string' | 'boolean'>;

export function parseFlags<S extends FlagSpec>(argv: string[], spec: S): Partial<Record<keyof S, string>> & { _: string[] } {
  const out: Record<string, string> & { _: string[] } = { _: [] } as never;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind)
      throw new UsageError(
        `unknown option --${name} (known: ${Object.keys(spec)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    if (kind === 'boolean') {
      out[name] = 'true';
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${name} needs a value`);
    out[name] = value;
  }
  return out as never;
}

export function requireFlag(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing required option --${name}`);
  return value;
}

export function isoDateFlag(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`--${name} must be a date YYYY-MM-DD, got "${value}"`);
  return value;
}
