import { Random } from '@recsys/core';
import { MovieScorer, scoreAllMovies } from './score';

/** out[m] = base + bias[m] + Σ_f p[f]·Q[m·k + f], the definition, one term at a time. */
function plainScores(p: Float32Array, Q: Float32Array, bias: Float32Array, base: number): Float64Array {
  const k = p.length;
  const out = new Float64Array(bias.length);
  for (let m = 0; m < bias.length; m++) {
    let s = base + bias[m];
    for (let f = 0; f < k; f++) s += p[f] * Q[m * k + f];
    out[m] = s;
  }
  return out;
}

function randomArray(n: number, rng: Random): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * 0.3;
  return a;
}

describe('scoring every movie', () => {
  it('scores 2 movies with 2 factors by hand', () => {
    // base 3, biases 0.5 / −1; p = (1, 2); q_0 = (0.5, 0.25), q_1 = (−1, 1):
    // 3 + 0.5 + 0.5 + 0.5 = 4.5 and 3 − 1 − 1 + 2 = 3.
    const p = Float32Array.of(1, 2);
    const Q = Float32Array.of(0.5, 0.25, -1, 1);
    const bias = Float32Array.of(0.5, -1);
    const out = new Float64Array(2);
    scoreAllMovies(p, Q, bias, 3, out);
    expect(Array.from(out)).toEqual([4.5, 3]);
    const simd = new Float64Array(2);
    new MovieScorer(Q, bias, 2).score(p, 3, simd);
    expect(Array.from(simd)).toEqual([4.5, 3]);
  });

  for (const k of [1, 7, 16, 100]) {
    it(`agrees with the plain loop for ${k} factors (JS loop and SIMD scorer)`, () => {
      const rng = new Random(k);
      const nMovies = 257;
      const Q = randomArray(nMovies * k, rng);
      const bias = randomArray(nMovies, rng);
      const scorer = new MovieScorer(Q, bias, k);
      for (let user = 0; user < 3; user++) {
        const p = randomArray(k, rng);
        const expected = plainScores(p, Q, bias, 3.6);
        const out = new Float64Array(nMovies);
        scoreAllMovies(p, Q, bias, 3.6, out);
        const simd = new Float32Array(nMovies);
        scorer.score(p, 3.6, simd);
        for (let m = 0; m < nMovies; m++) {
          expect(out[m]).toBeCloseTo(expected[m], 10);
          // The SIMD dot product sums in f32: agreement to f32 precision.
          expect(simd[m]).toBeCloseTo(expected[m], 4);
        }
      }
    });
  }

  it('refuses mismatched shapes', () => {
    const out = new Float64Array(2);
    expect(() => scoreAllMovies(new Float32Array(3), new Float32Array(5), new Float32Array(2), 0, out)).toThrow(
      'Q has 5 floats, expected 2 movies × 3 factors',
    );
    expect(() => new MovieScorer(new Float32Array(4), new Float32Array(2), 2).score(new Float32Array(3), 0, out)).toThrow(
      'p has 3 floats, expected 2',
    );
  });
});
