import { defaultStateNames, describeStates, stateRegimeNames } from '../../../../risk/regime/states';
import { periodsPerYear } from '../../../../risk/units';

describe('state naming', () => {
  const configured = ['bull', 'neutral', 'bear', 'crisis'];

  it('maps state k to regime k when K equals the number of configured regimes', () => {
    expect(stateRegimeNames(4, configured)).toEqual(configured);
  });

  it('otherwise spreads states over the list, keeping the calmest first and the most turbulent last', () => {
    expect(stateRegimeNames(2, configured)).toEqual(['bull', 'crisis']);
    expect(stateRegimeNames(3, configured)).toEqual(['bull', 'bear', 'crisis']); // round(1.5) = 2
    expect(stateRegimeNames(1, configured)).toEqual(['bull']);
    expect(stateRegimeNames(5, ['calm', 'turbulent'])).toEqual(['calm', 'calm', 'turbulent', 'turbulent', 'turbulent']);
  });

  it('has documented defaults', () => {
    expect(defaultStateNames(2)).toEqual(['calm', 'turbulent']);
    expect(defaultStateNames(4)).toEqual(configured);
    expect(defaultStateNames(5)[4]).toBe('state-5');
  });

  it('annualizes mean ×P and vol ×√P from the first feature', () => {
    const model = { initial: [1], transition: [[1]], means: [[0.001, 9]], variances: [[0.0001, 9]] };
    const [s] = describeStates(model, periodsPerYear(252), ['only']);
    expect(s.name).toBe('only');
    expect(s.meanAnnual).toBeCloseTo(0.252, 14);
    expect(s.volAnnual).toBeCloseTo(0.01 * Math.sqrt(252), 14);
  });
});
