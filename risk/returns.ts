/**
 * Returns from price panels, and the data hygiene that decides which observations enter a covariance.
 *
 * Calendar policy (the default for everything that feeds an allocation): **common observations**.
 * Assets with too little history are dropped and reported; the remaining assets are aligned on the dates
 * where every one of them has a price, and each return runs between two consecutive common dates. A
 * missing price is therefore never forward-filled into an invented zero return: if one market is closed,
 * the next common return simply spans two of the other market's sessions.
 *
 * `periodReturns` keeps every asset's own calendar (NaN where either end is missing); it is the input
 * for pairwise-complete estimators (`pairwiseSampleCovariance`), which PyPortfolioOpt-style HRP uses.
 */
import { DataError, type PriceTable } from './timeseries';

export type ReturnKind = 'simple' | 'log';

/**
 * A panel of per-period returns, one column per asset (column-major keeps the covariance inner loops
 * on contiguous Float64Arrays). `dates[t]` is the date the t-th return ends on. Values are per observation
 * period (daily for daily prices), never annualized.
 */
export interface ReturnMatrix {
  readonly assets: readonly string[];
  readonly dates: readonly string[];
  readonly columns: readonly Float64Array[];
}

export interface DroppedAsset {
  readonly asset: string;
  /** Number of prices the asset had inside the window. */
  readonly prices: number;
  readonly reason: string;
}

export interface AlignedReturns {
  readonly returns: ReturnMatrix;
  /** Assets excluded because they had fewer than `minHistory` prices. */
  readonly dropped: readonly DroppedAsset[];
}

export function periodReturn(previous: number, current: number, kind: ReturnKind): number {
  return kind === 'simple' ? current / previous - 1 : Math.log(current / previous);
}

/**
 * Returns between consecutive rows of each asset's series; NaN where either price is missing. The first
 * row has no return and is omitted. Leading NaNs (late listings) stay NaN — no value is invented.
 */
export function periodReturns(table: PriceTable, kind: ReturnKind = 'simple'): ReturnMatrix {
  const rows = table.dates.length;
  const columns = table.series.map((prices) => {
    const out = new Float64Array(Math.max(rows - 1, 0));
    for (let t = 1; t < rows; t++) out[t - 1] = periodReturn(prices[t - 1], prices[t], kind);
    return out;
  });
  return { assets: [...table.assets], dates: table.dates.slice(1), columns };
}

/**
 * Returns on the common calendar (see the module comment). `minHistory` is the minimum number of prices an
 * asset needs inside the table to be kept; the result must also have at least `minObservations` returns.
 */
export function alignedReturns(
  table: PriceTable,
  opts: { kind?: ReturnKind; minHistory: number; minObservations?: number },
): AlignedReturns {
  const kind = opts.kind ?? 'simple';
  const dropped: DroppedAsset[] = [];
  const kept: number[] = [];
  table.series.forEach((prices, j) => {
    const count = countFinite(prices);
    if (count < opts.minHistory) {
      dropped.push({ asset: table.assets[j], prices: count, reason: `has ${count} prices, fewer than the required ${opts.minHistory}` });
    } else kept.push(j);
  });
  if (kept.length === 0) throw new DataError(`no asset has at least ${opts.minHistory} prices`);

  const common: number[] = [];
  for (let t = 0; t < table.dates.length; t++) {
    if (kept.every((j) => Number.isFinite(table.series[j][t]))) common.push(t);
  }
  const observations = Math.max(common.length - 1, 0);
  const minObs = opts.minObservations ?? 2;
  if (observations < minObs) {
    throw new DataError(`only ${observations} returns on dates where all ${kept.length} assets have prices; need at least ${minObs}`);
  }
  const columns = kept.map((j) => {
    const prices = table.series[j];
    const out = new Float64Array(observations);
    for (let k = 1; k < common.length; k++) out[k - 1] = periodReturn(prices[common[k - 1]], prices[common[k]], kind);
    return out;
  });
  return {
    returns: { assets: kept.map((j) => table.assets[j]), dates: common.slice(1).map((t) => table.dates[t]), columns },
    dropped,
  };
}

/** The last `count` returns (all of them if fewer): the estimation window. */
export function lastObservations(returns: ReturnMatrix, count: number): ReturnMatrix {
  const start = Math.max(returns.dates.length - count, 0);
  return { assets: returns.assets, dates: returns.dates.slice(start), columns: returns.columns.map((c) => c.subarray(start)) };
}

/** Restrict a return matrix to the named assets, in that order. */
export function selectAssets(returns: ReturnMatrix, assets: readonly string[]): ReturnMatrix {
  const columns = assets.map((name) => {
    const j = returns.assets.indexOf(name);
    if (j < 0) throw new DataError(`unknown asset "${name}" (have: ${returns.assets.join(', ')})`);
    return returns.columns[j];
  });
  return { assets: [...assets], dates: returns.dates, columns };
}

function countFinite(xs: Float64Array): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) n++;
  return n;
}
