/**
 * Unit-carrying number types. They are zero-cost brands: at run time they are plain numbers, but the
 * compiler refuses to pass a daily volatility where an annualized one is expected, a percent where a
 * fraction is expected, or a weight where a currency amount is expected.
 *
 * Conventions used throughout Ballast:
 * - A Fraction is a dimensionless share, 0.25 = 25 %. Percents exist only at the edges (display).
 * - Volatilities are standard deviations of simple returns; "Daily" is per observation period,
 *   "Annualized" is scaled by √(periods per year) of the asset class (never a hard-wired 252).
 * - Variances and covariances follow the same Daily/Annualized split, scaled by periods per year.
 * - Currency is an amount in the portfolio's base currency. Quantity is units of an instrument.
 * - Leverage is gross notional / capital (1 = fully invested, 0.6 = 60 % invested + 40 % cash).
 */

declare const unitBrand: unique symbol;
type Brand<Unit extends string> = number & { readonly [unitBrand]: Unit };

export type Fraction = Brand<'fraction'>;
export type Percent = Brand<'percent'>;
export type DailyVol = Brand<'daily-vol'>;
export type AnnualizedVol = Brand<'annualized-vol'>;
export type DailyVariance = Brand<'daily-variance'>;
export type AnnualizedVariance = Brand<'annualized-variance'>;
export type Currency = Brand<'currency'>;
export type Quantity = Brand<'quantity'>;
export type Price = Brand<'price'>;
export type Leverage = Brand<'leverage'>;
/** Observations per year for an asset class: 252 for exchange-traded equities, 365 for crypto. */
export type PeriodsPerYear = Brand<'periods-per-year'>;
export type Milliseconds = Brand<'milliseconds'>;

export const fraction = (x: number): Fraction => x as Fraction;
export const percent = (x: number): Percent => x as Percent;
export const dailyVol = (x: number): DailyVol => x as DailyVol;
export const annualizedVol = (x: number): AnnualizedVol => x as AnnualizedVol;
export const currency = (x: number): Currency => x as Currency;
export const quantity = (x: number): Quantity => x as Quantity;
export const price = (x: number): Price => x as Price;
export const leverage = (x: number): Leverage => x as Leverage;
export const periodsPerYear = (x: number): PeriodsPerYear => x as PeriodsPerYear;
export const milliseconds = (x: number): Milliseconds => x as Milliseconds;

export const fractionToPercent = (x: Fraction): Percent => (x * 100) as Percent;
export const percentToFraction = (x: Percent): Fraction => (x / 100) as Fraction;

export const annualizeVol = (vol: DailyVol, periods: PeriodsPerYear): AnnualizedVol => (vol * Math.sqrt(periods)) as AnnualizedVol;
export const deannualizeVol = (vol: AnnualizedVol, periods: PeriodsPerYear): DailyVol => (vol / Math.sqrt(periods)) as DailyVol;
export const annualizeVariance = (v: DailyVariance, periods: PeriodsPerYear): AnnualizedVariance => (v * periods) as AnnualizedVariance;

/** Standard annualization factors by asset class. Callers choose; nothing defaults silently. */
export const PERIODS_PER_YEAR = {
  equity: periodsPerYear(252),
  crypto: periodsPerYear(365),
  /** Five-day calendars that keep holidays as rows (e.g. some index providers). */
  weekdays: periodsPerYear(260),
} as const;
export type AssetClass = keyof typeof PERIODS_PER_YEAR;

/** Portfolio weights: fractions of capital per asset, in the order of an accompanying asset list. */
export type Weights = readonly Fraction[];
export const weights = (xs: readonly number[]): Weights => xs as Weights;
