import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { checkGradient } from '@recsys/optimization';
import { randomRatings } from '@recsys/testing';
import { baselineObjective, svdLayout, svdObjective } from './objectives';

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  return buildRatingMatrix(randomRatings({ seed, users, movies, density, userId: (u) => (u + 1) * 3, movieId: (m) => (m + 1) * 7 }), WHOLE_STARS_1_TO_5).matrix;
}

function randomPoint(n: number, seed: number, scale = 0.5): Float64Array {
  const random = new Random(seed);
  return Float64Array.from({ length: n }, () => scale * random.normal());
}

describe('baselineObjective', () => {
  const m = randomMatrix(1, 6, 5, 0.6);

  it('equals a plain evaluation of (1/N) Σ (α + b_u + b_i − r)² + λ‖b‖²', () => {
    const x = randomPoint(1 + m.nUsers + m.nMovies, 2);
    const lambda = 0.01;
    let sse = 0;
    for (let u = 0; u < m.nUsers; u++) {
      for (let i = 0; i < m.nMovies; i++) {
        const r = m.rating(u, i);
        if (Number.isNaN(r)) continue;
        sse += (x[0] + x[1 + u] + x[1 + m.nUsers + i] - r) ** 2;
      }
    }
    let pen = 0;
    for (let j = 1; j < x.length; j++) pen += x[j] ** 2;
    const f = baselineObjective(m, lambda)(x, new Float64Array(x.length));
    expect(f).toBeCloseTo(sse / m.nRatings + lambda * pen, 12);
  });

  it('has a gradient that matches central differences', () => {
    const x = randomPoint(1 + m.nUsers + m.nMovies, 3);
    const result = checkGradient(baselineObjective(m, 0.001), x);
    expect(result.maxRelError).toBeLessThan(1e-6);
  });

  it('a wrong gradient is caught by the same check (the test can fail)', () => {
    const objective = baselineObjective(m, 0.001);
    const broken = (x: Float64Array, g: Float64Array) => {
      const f = objective(x, g);
      g[0] *= 0.5; // e.g. a missing factor 2, the notebook's kind of mistake
      return f;
    };
    expect(checkGradient(broken, randomPoint(1 + m.nUsers + m.nMovies, 4)).maxRelError).toBeGreaterThan(1e-3);
  });
});

describe('svdObjective', () => {
  const m = randomMatrix(5, 7, 6, 0.5);
  const k = 3;
  const layout = svdLayout(m.nUsers, m.nMovies, k);

  it('equals a plain evaluation of the mean-form objective and reports the MSE', () => {
    const x = randomPoint(layout.length, 6);
    const lambda = 0.02;
    const lambdaBias = 0.005;
    let sse = 0;
    for (let u = 0; u < m.nUsers; u++) {
      for (let i = 0; i < m.nMovies; i++) {
        const r = m.rating(u, i);
        if (Number.isNaN(r)) continue;
        let dot = 0;
        for (let f = 0; f < k; f++) dot += x[layout.userFactors + u * k + f] * x[layout.movieFactors + i * k + f];
        sse += (x[0] + x[layout.userBias + u] + x[layout.movieBias + i] + dot - r) ** 2;
      }
    }
    let biasPen = 0;
    for (let j = layout.userBias; j < layout.userFactors; j++) biasPen += x[j] ** 2;
    let factorPen = 0;
    for (let j = layout.userFactors; j < layout.length; j++) factorPen += x[j] ** 2;
    const stats = { mse: NaN };
    const f = svdObjective(m, k, lambda, lambdaBias, stats)(x, new Float64Array(x.length));
    expect(f).toBeCloseTo(sse / m.nRatings + lambdaBias * biasPen + lambda * factorPen, 12);
    expect(stats.mse).toBeCloseTo(sse / m.nRatings, 12);
  });

  it('has a gradient that matches central differences (every component)', () => {
    const x = randomPoint(layout.length, 7);
    const result = checkGradient(svdObjective(m, k, 0.01, 0.003), x);
    expect(result.maxRelError).toBeLessThan(1e-6);
  });

  it('the K = 2 gradient checks too', () => {
    const l2 = svdLayout(m.nUsers, m.nMovies, 2);
    expect(checkGradient(svdObjective(m, 2, 0.001), randomPoint(l2.length, 8)).maxRelError).toBeLessThan(1e-6);
  });
});
