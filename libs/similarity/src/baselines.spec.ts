import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { fitBaselinesAls } from './baselines';

function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** Surprise's baseline_als written plainly over Maps keyed by external ids (items first, then users). */
function mapAls(rows: Array<[number, number, number]>, iterations: number, regUser: number, regMovie: number) {
  const ur = new Map<number, Array<[number, number]>>();
  const ir = new Map<number, Array<[number, number]>>();
  for (const [u, i, r] of rows) {
    if (!ur.has(u)) ur.set(u, []);
    if (!ir.has(i)) ir.set(i, []);
    ur.get(u)!.push([i, r]);
    ir.get(i)!.push([u, r]);
  }
  const mu = rows.reduce((s, [, , r]) => s + r, 0) / rows.length;
  const bu = new Map<number, number>([...ur.keys()].map((u) => [u, 0]));
  const bi = new Map<number, number>([...ir.keys()].map((i) => [i, 0]));
  for (let it = 0; it < iterations; it++) {
    for (const [i, list] of ir) bi.set(i, list.reduce((s, [u, r]) => s + r - mu - bu.get(u)!, 0) / (regMovie + list.length));
    for (const [u, list] of ur) bu.set(u, list.reduce((s, [i, r]) => s + r - mu - bi.get(i)!, 0) / (regUser + list.length));
  }
  return { mu, bu, bi };
}

describe('fitBaselinesAls', () => {
  it('does one ALS pass by hand (movies first, as Surprise)', () => {
    // Users a=1, b=2; movie 1: a→4, b→2; movie 2: a→5.  μ = 11/3.
    // b_1 = ((4−μ)+(2−μ)) / (10+2) = (−4/3)/12 = −1/9;  b_2 = (5−μ)/(10+1) = 4/33
    // b_a = ((4−μ−b_1)+(5−μ−b_2)) / (15+2) = (5/3 + 1/9 − 4/33)/17 = (164/99)/17 = 164/1683
    // b_b = (2−μ−b_1)/(15+1) = (−5/3 + 1/9)/16 = −7/72
    const m = matrixOf([
      [1, 1, 4],
      [2, 1, 2],
      [1, 2, 5],
    ]);
    const b = fitBaselinesAls(m, { iterations: 1 });
    expect(b.globalMean).toBeCloseTo(11 / 3, 14);
    expect(b.movieBias[0]).toBeCloseTo(-1 / 9, 14);
    expect(b.movieBias[1]).toBeCloseTo(4 / 33, 14);
    expect(b.userBias[0]).toBeCloseTo(164 / 1683, 14);
    expect(b.userBias[1]).toBeCloseTo(-7 / 72, 14);
  });

  it('equals a plain Map-based re-implementation (defaults and custom options)', () => {
    const rng = new Random(7);
    const rows: Array<[number, number, number]> = [];
    for (let u = 0; u < 120; u++) for (let i = 0; i < 40; i++) if (rng.next() < 0.2 + (i % 5) * 0.05) rows.push([1000 + u * 3, 50 + i * 2, 1 + rng.int(5)]);
    const matrix = matrixOf(rows);
    for (const [options, it, ru, ri] of [
      [{}, 10, 15, 10],
      [{ iterations: 3, regUser: 2, regMovie: 0.5 }, 3, 2, 0.5],
    ] as const) {
      const fast = fitBaselinesAls(matrix, options);
      const plain = mapAls(rows, it, ru, ri);
      expect(fast.globalMean).toBeCloseTo(plain.mu, 12);
      for (const [u, v] of plain.bu) expect(Math.abs(fast.userBias[matrix.users.indexOf(u)] - v)).toBeLessThan(1e-12);
      for (const [i, v] of plain.bi) expect(Math.abs(fast.movieBias[matrix.movies.indexOf(i)] - v)).toBeLessThan(1e-12);
    }
  });

  it('rejects bad options', () => {
    const m = matrixOf([[1, 1, 3]]);
    expect(() => fitBaselinesAls(m, { iterations: -1 })).toThrow(/iterations must be a non-negative integer, got -1/);
    expect(() => fitBaselinesAls(m, { regUser: -1 })).toThrow(/regUser and regMovie must be finite and ≥ 0, got -1 and 10/);
  });
});
