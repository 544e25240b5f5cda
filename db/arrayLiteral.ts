/**
 * Postgres array literals for the batch inserts' `unnest($n::type[])` parameters, built directly.
 * node-postgres would build the same text from a JS array, but through a generic path (type checks
 * and two regex replaces per element) that cost the gate ~6 µs of CPU per audit row in its profile.
 * Only flat arrays of non-null strings, finite-or-not numbers and booleans: what the gate writes.
 */

/** `{"a","b \"q\""}`: every element quoted, with `\` and `"` escaped (the quoted form accepts anything else). */
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const escaped = v.includes('\\') || v.includes('"') ? v.replace(/[\\"]/g, '\\$&') : v;
    out += (i === 0 ? '"' : ',"') + escaped + '"';
  }
  return out + '}';
}

/** `{1.5,2,NaN,-Infinity}`: JavaScript's number text is what float8/int4 input reads (NaN and ±Infinity included). */
export function numberArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** `{t,f}` */
export function boolArray(values: readonly boolean[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + (values[i] ? 't' : 'f');
  return out + '}';
}
