import { HmmFilter } from '../../../../risk/regime/filter';
import { fitGaussianHmm } from '../../../../risk/regime/hmm';
import { primedFilter, refitAnchor, trainingReturns } from '../../../../risk/regime/walkForward';
import { seededRng } from '../../../../risk/random';

describe('walk-forward HMM pieces', () => {
  it('trains on the observed returns strictly before the refit row, inside the window', () => {
    const r = [Number.NaN, 0.01, 0.02, Number.NaN, 0.04, 0.05, 0.06];
    expect(trainingReturns(r, 5, { kind: 'expanding' })).toEqual([0.01, 0.02, 0.04]);
    expect(trainingReturns(r, 6, { kind: 'rolling', days: 3 })).toEqual([0.04, 0.05]);
    expect(trainingReturns(r, 0, { kind: 'expanding' })).toEqual([]);
  });

  it('anchors a bar to the last refit at a multiple of the refit interval', () => {
    expect([0, 20, 21, 41, 42, 300].map((b) => refitAnchor(b, 21))).toEqual([0, 0, 21, 21, 42, 294]);
  });

  it('primes a filter over the training returns, as stepping a fresh one would', () => {
    const rng = seededRng(3);
    const training = Array.from({ length: 400 }, (_, i) => (i % 100 < 80 ? 0.005 : 0.03) * rng.normal());
    const model = fitGaussianHmm(training, { states: 2, restarts: 1, seed: 1 }).model;
    const manual = new HmmFilter(model);
    for (const x of training) manual.step(x);
    expect(primedFilter(model, training).state).toEqual(manual.state);
  });
});
