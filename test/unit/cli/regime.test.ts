import * as path from 'node:path';
import { run } from '../../../cli/commands/regime';
import { UsageError } from '../../../cli/main';
import { DataError } from '../../../risk/timeseries';

const file = path.resolve(__dirname, '../../../../shared/data/skfolio/sp500_index.csv.gz');

/** Runs the command, capturing stdout; stderr (progress) is silenced. */
async function capture(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await run(argv), stdout };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('ballast regime', () => {
  it('prints states calm → turbulent, a stochastic transition matrix and one filtered row per return date', async () => {
    const { code, stdout } = await capture(['--prices', file, '--column', 'SP500', '--start', '2020-01-01', '--end', '2022-12-31']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.states.map((s: { name: string }) => s.name)).toEqual(['calm', 'turbulent']);
    expect(out.states[0].volAnnual).toBeLessThan(out.states[1].volAnnual);
    expect(out.transition).toHaveLength(2);
    for (const row of out.transition) expect(row[0] + row[1]).toBeCloseTo(1, 12);
    expect(Number.isFinite(out.logLikelihood)).toBe(true);
    // 2020-01-02 is the first price in range, so the first return (and filtered row) is 2020-01-03.
    expect(out.filtered).toHaveLength(out.observations);
    expect(out.filtered[0][0]).toBe('2020-01-03');
    expect(out.filtered[out.filtered.length - 1][0]).toBe('2022-12-28');
    for (const [, p0, p1] of out.filtered) expect(p0 + p1).toBeCloseTo(1, 5);
    const march2020 = out.filtered.filter(([d]: [string]) => d >= '2020-03-01' && d <= '2020-03-31');
    expect(march2020.every(([, , p1]: number[]) => p1 > 0.5)).toBe(true);
  });

  it('names four states bull … crisis with --states 4', async () => {
    const { stdout } = await capture([
      '--prices',
      file,
      '--column',
      'SP500',
      '--start',
      '2005-01-01',
      '--end',
      '2012-12-31',
      '--states',
      '4',
      '--restarts',
      '2',
    ]);
    const out = JSON.parse(stdout);
    expect(out.states.map((s: { name: string }) => s.name)).toEqual(['bull', 'neutral', 'bear', 'crisis']);
    const vols = out.states.map((s: { volAnnual: number }) => s.volAnnual);
    expect([...vols].sort((a, b) => a - b)).toEqual(vols);
    expect(out.filtered[0]).toHaveLength(5);
  });

  it('fails with a typed, one-line error on bad input', async () => {
    await expect(capture(['--prices', '/nonexistent.csv', '--column', 'SP500'])).rejects.toThrow(DataError);
    await expect(capture(['--prices', file, '--column', 'NOPE'])).rejects.toThrow(/unknown asset column "NOPE"/);
    await expect(capture(['--prices', file, '--column', 'SP500', '--start', '2022-12-01'])).rejects.toThrow(/too few observations/);
    await expect(capture(['--prices', file, '--column', 'SP500', '--states', '1'])).rejects.toThrow(UsageError);
    await expect(capture(['--prices', file, '--column', 'SP500', '--states', 'x'])).rejects.toThrow(UsageError);
    await expect(capture(['--prices', file])).rejects.toThrow(/missing required option --column/);
    await expect(capture(['--prices', file, '--column', 'SP500', '--start', '2021-01-01', '--end', '2020-01-01'])).rejects.toThrow(
      UsageError,
    );
  });
});
