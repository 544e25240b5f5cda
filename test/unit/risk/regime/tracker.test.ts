import { regimeProbabilities } from '../../../../risk/regime/reading';
import { type RegimeTrack, mostLikelyRegime, trackRegime } from '../../../../risk/regime/tracker';

const regimes = ['calm', 'turbulent'];
const reading = (pTurbulent: number, bar?: number) => ({ regimes, probabilities: [1 - pTurbulent, pTurbulent], bar });
const opts = { threshold: 0.6, minDwell: 2 };

describe('tracking the declared regime', () => {
  it('declares the most likely regime of the first reading (ties go to the calmer one)', () => {
    expect(trackRegime(null, [reading(0.8, 10)], opts)).toMatchObject({ regime: 'turbulent', bar: 10 });
    expect(mostLikelyRegime(reading(0.5))).toBe('calm');
  });

  it('switches after minDwell new bars with the challenger at or above the threshold', () => {
    let track = trackRegime(null, [reading(0.1, 1)], opts);
    track = trackRegime(track, [reading(0.7, 2)], opts);
    expect(track?.regime).toBe('calm');
    track = trackRegime(track, [reading(0.7, 3)], opts);
    expect(track).toMatchObject({ regime: 'turbulent', bar: 3 });
  });

  it('counts bars, not cycles: a reading of a bar already tracked changes nothing', () => {
    const start = trackRegime(null, [reading(0.1, 1)], opts) as RegimeTrack;
    let track: RegimeTrack | null = trackRegime(start, [reading(0.9, 2)], opts);
    for (let cycle = 0; cycle < 5; cycle++) track = trackRegime(track, [reading(0.9, 2)], opts);
    expect(track).toMatchObject({ regime: 'calm', bar: 2 });
  });

  it('catches up over several bars at once exactly as bar by bar', () => {
    const path = [0.1, 0.7, 0.2, 0.7, 0.8, 0.9, 0.3, 0.65, 0.7].map((p, i) => reading(p, i));
    let oneByOne: RegimeTrack | null = null;
    const declared: string[] = [];
    for (const r of path) {
      oneByOne = trackRegime(oneByOne, [r], opts);
      declared.push(oneByOne!.regime);
    }
    expect(declared).toEqual(['calm', 'calm', 'calm', 'calm', 'turbulent', 'turbulent', 'turbulent', 'turbulent', 'turbulent']);
    const batched = trackRegime(trackRegime(null, path.slice(0, 4), opts), path.slice(4), opts);
    expect(batched).toEqual(oneByOne);
  });

  it('steps every reading without a bar, as readings recorded before per-bar tracking were', () => {
    let track = trackRegime(null, [reading(0.1)], opts);
    track = trackRegime(track, [reading(0.9)], opts);
    track = trackRegime(track, [reading(0.9)], opts);
    expect(track).toMatchObject({ regime: 'turbulent', bar: null });
  });

  it('starts afresh when the configured regimes no longer include the declared one', () => {
    const track = trackRegime(null, [reading(0.1, 1)], opts);
    expect(trackRegime(track, [{ regimes: ['bull', 'bear'], probabilities: [0.2, 0.8], bar: 2 }], opts)).toMatchObject({ regime: 'bear' });
  });

  it('decides on regime probabilities: mass split over several states of one regime still counts', () => {
    // 3 HMM states over 2 regimes: state 0 → calm, states 1 and 2 → turbulent. No single state reaches
    // the threshold, the turbulent regime does.
    const states = [0.45, 0.3, 0.25];
    const probabilities = regimeProbabilities(states, regimes);
    expect(probabilities[0]).toBeCloseTo(0.45, 12);
    expect(probabilities[1]).toBeCloseTo(0.55, 12);
    let track = trackRegime(null, [{ regimes, probabilities: [0.9, 0.1], bar: 0 }], { threshold: 0.55, minDwell: 1 });
    track = trackRegime(track, [{ regimes, probabilities, bar: 1 }], { threshold: 0.55, minDwell: 1 });
    expect(track?.regime).toBe('turbulent');
  });
});
