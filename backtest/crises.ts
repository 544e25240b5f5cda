/**
 * Named market stress periods, S&P 500 peak to trough (closing levels). Used to shade charts and to
 * time the dynamic book's response: the clock starts at the peak, before anyone knew it was one.
 */
export interface CrisisPeriod {
  readonly name: string;
  readonly start: string;
  readonly end: string;
}

export const CRISIS_PERIODS: readonly CrisisPeriod[] = [
  { name: 'Gulf War 1990', start: '1990-07-16', end: '1990-10-11' },
  { name: 'LTCM 1998', start: '1998-07-17', end: '1998-10-08' },
  { name: 'Dot-com 2000-02', start: '2000-03-24', end: '2002-10-09' },
  { name: 'GFC 2007-09', start: '2007-10-09', end: '2009-03-09' },
  { name: 'Euro debt 2011', start: '2011-04-29', end: '2011-10-03' },
  { name: 'COVID 2020', start: '2020-02-19', end: '2020-03-23' },
  { name: 'Inflation 2022', start: '2022-01-03', end: '2022-10-12' },
];
