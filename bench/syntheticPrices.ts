import { seededRng } from '../risk/random';
import type { PriceTable } from '../risk/timeseries';

/** Seeded 3-factor daily prices: r = Bf + e, factor vol ~1 %/day, idiosyncratic vol ~0.8–3.5 %/day. */
export function syntheticPrices(n: number, days: number, seed: number): PriceTable {
  const rand = seededRng(seed).uniform;
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const loadings = Array.from({ length: n }, () => [0.5 + rand(), rand() - 0.5, rand() - 0.5]);
  const idio = Array.from({ length: n }, () => 0.008 + 0.027 * rand());
  const series = Array.from({ length: n }, () => new Float64Array(days));
  const price = new Float64Array(n).fill(100);
  for (let t = 0; t < days; t++) {
    const f = [0.01 * normal(), 0.006 * normal(), 0.004 * normal()];
    for (let i = 0; i < n; i++) {
      if (t > 0) price[i] *= 1 + loadings[i][0] * f[0] + loadings[i][1] * f[1] + loadings[i][2] * f[2] + idio[i] * normal();
      series[i][t] = price[i];
    }
  }
  const dates = Array.from({ length: days }, (_, t) => new Date(Date.UTC(2020, 0, 1) + t * 86_400_000).toISOString().slice(0, 10));
  return { dates, assets: Array.from({ length: n }, (_, i) => `S${String(i).padStart(3, '0')}`), series };
}
