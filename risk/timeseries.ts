/**
 * Aligned daily price panels. Missing observations are NaN (never a forward-filled copy), so the
 * return functions can tell "did not trade" from "did not move".
 */
export interface PriceTable {
  /** ISO dates (YYYY-MM-DD), strictly ascending. */
  readonly dates: readonly string[];
  readonly assets: readonly string[];
  /** One series per asset, aligned with `dates`; NaN marks a missing observation. */
  readonly series: readonly Float64Array[];
}

export class DataError extends Error {
  override readonly name = 'DataError';
}

/** Restrict a table to an inclusive date range and/or a subset of assets (in the given order). */
export function sliceTable(table: PriceTable, opts: { start?: string; end?: string; assets?: readonly string[] } = {}): PriceTable {
  const { start, end } = opts;
  let lo = 0;
  let hi = table.dates.length;
  if (start !== undefined) while (lo < hi && table.dates[lo] < start) lo++;
  if (end !== undefined) while (hi > lo && table.dates[hi - 1] > end) hi--;
  const wanted = opts.assets ?? table.assets;
  const series = wanted.map((name) => {
    const idx = table.assets.indexOf(name);
    if (idx < 0) throw new DataError(`unknown asset column "${name}" (have: ${table.assets.join(', ')})`);
    return table.series[idx].slice(lo, hi);
  });
  return { dates: table.dates.slice(lo, hi), assets: [...wanted], series };
}
