import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildRatingMatrix } from '../build-matrix';
import { HALF_STARS_05_TO_5 } from '../rating-scale';
import { readSnapshot, writeSnapshot } from '../snapshot';
import { expectedRatingTable, generateSynthetic, plantedScore } from './generate';

describe('generateSynthetic with halfStars', () => {
  const whole = generateSynthetic({ ratings: 30_000, users: 300, movies: 400, seed: 11 });
  const half = generateSynthetic({ ratings: 30_000, users: 300, movies: 400, seed: 11, halfStars: true });

  it('leaves the default whole-star output unchanged (halfStars: false is the default)', () => {
    expect(whole.options.halfStars).toBe(false);
    const explicit = generateSynthetic({ ratings: 30_000, users: 300, movies: 400, seed: 11, halfStars: false });
    expect(Buffer.from(explicit.list.ratings).equals(Buffer.from(whole.list.ratings))).toBe(true);
    expect(explicit.noiseFloorRmse).toBe(whole.noiseFloorRmse);
    expect(whole.histogram).toHaveLength(5);
    for (const code of whole.list.ratings) expect(code % 2).toBe(0);
  });

  it('rates the same (user, movie) pairs on the 0.5 … 5 grid, at most half a star from the whole-star rating', () => {
    expect(half.options.halfStars).toBe(true);
    expect(Buffer.from(half.list.users.buffer).equals(Buffer.from(whole.list.users.buffer))).toBe(true);
    expect(Buffer.from(half.list.movies.buffer).equals(Buffer.from(whole.list.movies.buffer))).toBe(true);
    let odd = 0;
    for (let k = 0; k < half.list.length; k++) {
      const code = half.list.ratings[k];
      expect(code).toBeGreaterThanOrEqual(1);
      expect(code).toBeLessThanOrEqual(10);
      expect(Math.abs(code - whole.list.ratings[k])).toBeLessThanOrEqual(1);
      if (code % 2 === 1) odd++;
    }
    // Roughly half the ratings land on a half star.
    expect(odd / half.list.length).toBeGreaterThan(0.35);
    expect(odd / half.list.length).toBeLessThan(0.65);
    expect(half.histogram).toHaveLength(10);
    expect(half.histogram.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(half.histogram[0]).toBeGreaterThan(0); // some 0.5-star ratings
    // Finer rounding lowers the noise floor (rounding variance 1/48 instead of 1/12).
    expect(half.noiseFloorRmse).toBeLessThan(whole.noiseFloorRmse);
  });

  it('rounds the planted score to the nearest half star when there is no noise', () => {
    const d = generateSynthetic({ ratings: 5000, users: 100, movies: 200, seed: 3, noise: 0, halfStars: true });
    const p = d.planted;
    const userIndex = new Map<number, number>();
    p.userIds.forEach((id, u) => userIndex.set(id, u));
    for (let k = 0; k < d.list.length; k++) {
      const s = plantedScore(p.mu, p.userBias, p.movieBias, p.userFactors, p.movieFactors, p.factors, userIndex.get(d.list.users[k])!, d.list.movies[k] - 1);
      const c = Math.round(2 * s);
      expect(d.list.ratings[k]).toBe(c < 1 ? 1 : c > 10 ? 10 : c);
    }
    expect(d.noiseFloorRmse).toBeLessThan(1e-9);
  });

  it('gives E[rating | score] on the half-star grid: 0.5 far below, 5 far above, the score itself in between', () => {
    const e = expectedRatingTable(0.8, 0.5);
    expect(e(-3)).toBeCloseTo(0.5, 4);
    expect(e(9)).toBeCloseTo(5, 4);
    expect(e(2.75)).toBeCloseTo(2.75, 2);
  });

  it('builds a half-star matrix that a snapshot carries with its scale', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-half-'));
    try {
      const file = path.join(dir, 'half.rsnap');
      writeSnapshot(file, { matrix: buildRatingMatrix(half.list, HALF_STARS_05_TO_5).matrix, catalog: half.catalog });
      const back = readSnapshot(file);
      expect(back.matrix.scale).toEqual(HALF_STARS_05_TO_5);
      expect(back.matrix.nRatings).toBe(30_000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
