import path from 'node:path';
import { run } from '../../../cli/commands/risk';
import { equalRiskContribution } from '../../../risk/allocation/riskBudgeting';
import { covarianceFromRows } from '../../../risk/covariance';
import { riskContributions } from '../../../risk/measures';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const RISKFOLIO = path.join(DATA, 'riskfolio/tests/stock_prices.csv');
const PYRB = path.join(DATA, 'pyrb/data.csv');

async function capture(argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (chunks.push(String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run(argv);
    return { code, json: JSON.parse(chunks.join('')) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('ballast risk', () => {
  it('prints an annualized sample covariance and the ERC allocation for the selected assets and dates', async () => {
    const { code, json } = await capture([
      '--prices',
      RISKFOLIO,
      '--assets',
      'AMZN,CPB,JPM',
      '--start',
      '2019-01-01',
      '--end',
      '2019-06-30',
    ]);
    expect(code).toBe(0);
    expect(json.assets).toEqual(['AMZN', 'CPB', 'JPM']);
    // 2019-01-02 … 2019-06-28 has 124 trading days, hence 123 returns.
    expect(json.observations).toBe(123);
    expect(json.shrinkage).toBeNull();
    const cov = covarianceFromRows('annualized', json.assets as string[], json.covariance as number[][]);
    const w = json.weights as number[];
    expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 14);
    const rc = json.riskContributions as number[];
    rc.forEach((x) => expect(x).toBeCloseTo(1 / 3, 10));
    expect(json.portfolioVol).toBeCloseTo(riskContributions(cov, w as never).portfolioVol, 14);
    expect(equalRiskContribution(cov).weights).toEqual(w.map((x) => expect.closeTo(x, 12)));
    expect(json.iterations).toBeGreaterThan(0);
  });

  it('reads a ;-separated DD/MM/YYYY file, shrinks with Ledoit–Wolf and meets a custom budget', async () => {
    const { json } = await capture([
      '--prices',
      PYRB,
      '--assets',
      'S&P 500,US BONDS 10Y,NIKKEI',
      '--cov',
      'lw',
      '--method',
      'rb',
      '--budget',
      '0.5,0.3,0.2',
    ]);
    expect(json.shrinkage as number).toBeGreaterThan(0);
    expect(json.shrinkage as number).toBeLessThan(1);
    [0.5, 0.3, 0.2].forEach((b, i) => expect((json.riskContributions as number[])[i]).toBeCloseTo(b, 10));
  });

  it('supports ewma, lw-cc, ivol and hrp', async () => {
    const ewma = await capture(['--prices', RISKFOLIO, '--cov', 'ewma', '--lambda', '0.97', '--method', 'ivol']);
    expect(ewma.json.assets).toHaveLength(11);
    expect(ewma.json.shrinkage).toBeNull();
    const hrp = await capture(['--prices', RISKFOLIO, '--cov', 'lw-cc', '--method', 'hrp']);
    expect(hrp.json.shrinkage as number).toBeGreaterThan(0);
    expect((hrp.json.weights as number[]).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 14);
  });

  it.each([
    [['--prices', '/no/such/file.csv'], /cannot read price file/],
    [['--prices', RISKFOLIO, '--assets', 'AMZN,NOPE'], /unknown asset column "NOPE"/],
    [['--prices', RISKFOLIO, '--start', '2019-12-27'], /too few observations/],
    [['--prices', RISKFOLIO, '--assets', 'AMZN,CPB', '--method', 'rb', '--budget', '0.5,0.4'], /sums to 0.9, not 1/],
    [['--prices', RISKFOLIO, '--assets', 'AMZN,CPB', '--method', 'rb', '--budget', '0.2,0.3,0.5'], /3 entries for 2 assets/],
    [['--prices', RISKFOLIO, '--method', 'rb'], /needs --budget/],
    [['--prices', RISKFOLIO, '--cov', 'shrunk'], /--cov must be one of/],
    [['--prices', RISKFOLIO, '--lambda', '0.9'], /only applies to --cov ewma/],
    [[], /missing required option --prices/],
  ])('fails with one clear message: %j', async (argv, message) => {
    await expect(run(argv as string[])).rejects.toThrow(message);
  });
});
