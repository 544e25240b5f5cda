import { calendarYears, computeMetrics, drawdownReduction, drawdownStats } from '../../../backtest/metrics';
import type { SimulationTrace } from '../../../backtest/simulator';

const trace = (nav: number[], gross: number[] = nav.map(() => 1), turnover: number[] = nav.map(() => 0)): SimulationTrace => ({
  strategy: 'x',
  nav: Float64Array.from(nav),
  gross: Float64Array.from(gross),
  turnover: Float64Array.from(turnover),
  cost: Float64Array.from(turnover.map((t) => t * 0.001)),
  decisions: [],
});

describe('metrics', () => {
  const dates = ['2020-01-01', '2020-01-02', '2020-01-03', '2020-01-04', '2020-01-05', '2020-01-06'];
  const nav = [1, 1.1, 0.99, 0.891, 1.2, 1.08];

  it('finds the max drawdown, its peak/trough dates, recovery and time under water by hand', () => {
    const dd = drawdownStats(nav, dates, 0, 5);
    // Peak 1.1 on 01-02, trough 0.891 on 01-04: 0.891 / 1.1 − 1 = −0.19.
    expect(dd.maxDrawdown).toBeCloseTo(-0.19, 12);
    expect(dd.maxDrawdownStart).toBe('2020-01-02');
    expect(dd.maxDrawdownEnd).toBe('2020-01-04');
    expect(dd.maxDrawdownRecovery).toBe('2020-01-05');
    // Under water on 01-03, 01-04, 01-06: 3 of 5 return days; longest run 2.
    expect(dd.timeUnderWater).toBeCloseTo(3 / 5, 12);
    expect(dd.longestUnderWaterDays).toBe(2);
  });

  it('computes vol, Sharpe, Sortino, CAGR and Calmar as stated in the module comment', () => {
    const m = computeMetrics(trace(nav, [0, 0.5, 0.5, 0.5, 0.5, 0.5], [0, 1, 0, 0, 0.5, 0]), dates, { from: 0, to: 5 }, 252, 0);
    const r = [0.1, -0.1, -0.1, 1.2 / 0.891 - 1, -0.1];
    const mean = r.reduce((a, b) => a + b) / 5;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / 4);
    const downside = Math.sqrt((3 * 0.01) / 5);
    const years = 5 / 365.25;
    expect(m.volAnnual).toBeCloseTo(sd * Math.sqrt(252), 12);
    expect(m.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 12);
    expect(m.sortino).toBeCloseTo((mean / downside) * Math.sqrt(252), 12);
    expect(m.cagr).toBeCloseTo(Math.pow(1.08, 1 / years) - 1, 6);
    expect(m.calmar).toBeCloseTo(m.cagr / 0.19, 6);
    expect(m.avgGrossExposure).toBeCloseTo(0.5, 12);
    expect(m.capitalEfficiency).toBeCloseTo((mean * 252) / 0.5, 12);
    expect(m.turnoverAnnual).toBeCloseTo(1.5 / years, 9);
    expect(m.costAnnual).toBeCloseTo(0.0015 / years, 12);
  });

  it('measures excess returns over the cash rate', () => {
    const flat = [1, 1.001, 1.002001];
    const m = computeMetrics(trace(flat), dates.slice(0, 3), { from: 0, to: 2 }, 252, 0.001);
    expect(m.sharpe).toBe(0); // no volatility of excess return
    expect(m.capitalEfficiency).toBeCloseTo(0, 12);
  });

  it('states drawdown reduction relative to the baseline', () => {
    expect(drawdownReduction(-0.3, -0.5)).toBeCloseTo(0.4, 12);
    expect(drawdownReduction(-0.6, -0.5)).toBeCloseTo(-0.2, 12);
    expect(calendarYears('2020-01-01', '2021-01-01')).toBeCloseTo(366 / 365.25, 12);
  });
});
