/**
 * The regime index: one price path standing for "the market" of a price panel, built by the same
 * code in the live loop and in the backtest so both read regimes from the same numbers.
 *
 * The index is an equal-weighted book rebalanced every row (or one named column): its return on a row
 * is the average, over the assets listed before that row, of each asset's return since its last price.
 * Calendars (NaN = no price) are handled the way a book is valued:
 * - a **holiday or halt** of one asset: it contributes no move that row, and its move over the gap
 *   arrives with its next price (nothing is lost, nothing invented);
 * - a **late listing**: the asset joins the average from the row after its first price;
 * - a row on which **none** of the listed assets has a price is no observation (NaN level and return),
 *   so a closed market never looks like a calm one.
 * Before the first price of any asset the level is NaN; it is 1 at that first row.
 */
import { DataError, type PriceTable } from '../timeseries';

export interface RegimeIndexSeries {
  /** Index level per row of the panel (NaN: no observation on that row). */
  readonly levels: Float64Array;
  /** ln(level_t / level of the last observed row before t); NaN on rows without an observation. */
  readonly logReturns: Float64Array;
}

/** Builds the index one row at a time (the backtest advances it day by day; the loop runs it over a window). */
export class RegimeIndexBuilder {
  private readonly lastPrice: Float64Array;
  private level = Number.NaN;

  constructor(assets: number) {
    this.lastPrice = new Float64Array(assets).fill(Number.NaN);
  }

  /** Consumes one row of prices (one per asset, NaN = missing); returns the row's level and log return. */
  step(prices: ArrayLike<number>): { readonly level: number; readonly logReturn: number } {
    let sum = 0;
    let listed = 0;
    let traded = 0;
    for (let i = 0; i < this.lastPrice.length; i++) {
      const last = this.lastPrice[i];
      const p = prices[i];
      if (Number.isFinite(last)) {
        listed++;
        if (Number.isFinite(p)) {
          sum += p / last - 1;
          traded++;
        }
      }
      if (Number.isFinite(p)) this.lastPrice[i] = p;
    }
    if (traded === 0) {
      // Nothing listed traded: no observation. The very first prices start the index at 1.
      if (listed === 0 && Number.isNaN(this.level) && this.lastPrice.some(Number.isFinite)) {
        this.level = 1;
        return { level: 1, logReturn: Number.NaN };
      }
      return { level: Number.NaN, logReturn: Number.NaN };
    }
    const r = sum / listed;
    this.level *= 1 + r;
    return { level: this.level, logReturn: Math.log1p(r) };
  }
}

/** The index over a whole panel: every column, or only `column`. */
export function regimeIndex(table: PriceTable, column?: string): RegimeIndexSeries {
  const series = column === undefined ? table.series : [table.series[columnIndex(table.assets, column)]];
  const builder = new RegimeIndexBuilder(series.length);
  const rows = table.dates.length;
  const levels = new Float64Array(rows);
  const logReturns = new Float64Array(rows);
  const row = new Float64Array(series.length);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < series.length; i++) row[i] = series[i][t];
    const step = builder.step(row);
    levels[t] = step.level;
    logReturns[t] = step.logReturn;
  }
  return { levels, logReturns };
}

/** Position of the named regime-index column, or a DataError naming the columns there are. */
export function columnIndex(assets: readonly string[], name: string): number {
  const i = assets.indexOf(name);
  if (i < 0) throw new DataError(`regime index "${name}" is not a column of the price file (have: ${assets.join(', ')})`);
  return i;
}
