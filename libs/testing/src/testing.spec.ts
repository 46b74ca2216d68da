import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectSkipped } from './collection';
import { gaussianSolve, longTailDensity, planDataBlock, randomRatingDraws, randomRatings, randomSpd, randomSpdSystem, SeededRandom, SHARED_DATA_DIR, sharedDataPath, tempDir, withTempDir } from './index';

describe('SeededRandom', () => {
  it('gives the stream of @recsys/data Random and @recsys/optimization Xoshiro128 for a seed (xoshiro128**, splitmix32 seeding)', () => {
    const r = new SeededRandom(42);
    // Pinned from @recsys/data's Random(42): nextUint32 ×3, then normal ×2 and int(1000).
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([2837322924, 544945897, 479756282]);
    expect([r.normal(), r.normal(), r.int(1000)]).toEqual([0.5623422612020134, 0.30504784787178235, 26]);
  });

  it('is deterministic per seed, uniform in [0, 1)', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe('randomRatings', () => {
  it('visits users then movies, one draw per cell, then the stars and the day: the loop it replaces', () => {
    const t = randomRatings({ seed: 3, users: 6, movies: 5, density: 0.4, userId: (u) => 10 * (u + 1), movieId: (m) => 3 * (m + 1), days: { first: 10_000, span: 500 } });
    const r = new SeededRandom(3);
    const expected: number[][] = [];
    for (let u = 1; u <= 6; u++) for (let m = 1; m <= 5; m++) if (r.next() < 0.4) expected.push([u * 10, m * 3, 2 * (1 + r.int(5)), 10_000 + r.int(500)]);
    expect(t.length).toBe(expected.length);
    expect(Array.from({ length: t.length }, (_, k) => [t.users[k], t.movies[k], t.ratings[k], t.days![k]])).toEqual(expected);
  });

  it('is the full matrix at density 1 (default ids 1..n, whole stars ×2) and empty at density 0', () => {
    const full = randomRatings({ seed: 1, users: 3, movies: 4, density: 1 });
    expect(full.length).toBe(12);
    expect(Array.from(full.users)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(Array.from(full.movies)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect(full.days).toBeNull();
    for (const code of full.ratings) expect([2, 4, 6, 8, 10]).toContain(code);
    expect(randomRatings({ seed: 1, users: 3, movies: 4, density: 0 }).length).toBe(0);
  });

  it('takes a density per cell, custom stars and a shared generator, and grows past its first guess', () => {
    const random = new SeededRandom(5);
    const t = randomRatings({ random, users: 40, movies: 30, density: (u) => (u % 2 === 0 ? 1 : 0), stars: () => 4.5 });
    expect(t.length).toBe(20 * 30);
    expect(new Set(t.users).size).toBe(20);
    expect(t.ratings.every((code) => code === 9)).toBe(true);
    expect(() => randomRatings({ seed: 1, users: 1, movies: 1, density: 1, stars: () => 3.3 })).toThrow('stars must be a multiple of 0.5 in [0.5, 5], got 3.3');
  });
});

describe('longTailDensity', () => {
  it('falls with the movie index and favours every heavyEvery-th user', () => {
    const p = longTailDensity(0.2, 10);
    expect(p(0, 0)).toBeCloseTo(0.2 * 1.5 * 2.5, 15);
    expect(p(1, 0)).toBeCloseTo(0.2 * 1.5 * 0.5, 15);
    expect(p(4, 5)).toBeCloseTo(0.2 * 1.0 * 2.5, 15);
    const q = longTailDensity(0.1, 4, { heavyEvery: 3, heavy: 2, light: 0.6 });
    expect([q(3, 0), q(2, 2)]).toEqual([0.1 * 1.5 * 2, 0.1 * (1.5 - 2 / 4) * 0.6]);
  });
});

describe('randomRatingDraws', () => {
  it('draws user, movie, stars and day in that order, pairs may repeat', () => {
    const t = randomRatingDraws({ seed: 9, count: 500, users: 10, movies: 7, userId: (u) => 100 + 3 * u, days: { first: 10_000, span: 50 } });
    const r = new SeededRandom(9);
    for (let k = 0; k < 500; k++) {
      expect([t.users[k], t.movies[k], t.ratings[k], t.days![k]]).toEqual([100 + 3 * r.int(10), 1 + r.int(7), 2 * (1 + r.int(5)), 10_000 + r.int(50)]);
    }
    const pairs = new Set(Array.from({ length: t.length }, (_, k) => `${t.users[k]}:${t.movies[k]}`));
    expect(pairs.size).toBeLessThan(t.length);
  });
});

describe('random SPD systems', () => {
  it('are symmetric with a dominant diagonal part, and gaussianSolve solves them', () => {
    const { A, b } = randomSpdSystem(7, 2);
    for (let i = 0; i < 7; i++) {
      expect(A[i * 7 + i]).toBeGreaterThanOrEqual(1);
      for (let j = 0; j < 7; j++) expect(A[i * 7 + j]).toBe(A[j * 7 + i]);
    }
    const x = gaussianSolve(A, b, 7);
    for (let i = 0; i < 7; i++) {
      let sum = 0;
      for (let j = 0; j < 7; j++) sum += A[i * 7 + j] * x[j];
      expect(sum).toBeCloseTo(b[i], 10);
    }
  });

  it('randomSpd draws from any uniform source (the same matrix for the same stream)', () => {
    expect(randomSpd(4, new SeededRandom(17))).toEqual(randomSpd(4, new SeededRandom(17)));
    expect(randomSpdSystem(4, 17).A).toEqual(randomSpd(4, new SeededRandom(17)));
  });
});

describe('temporary folders', () => {
  let kept = '';

  describe('tempDir', () => {
    const dir = tempDir('recsys-testing-spec-');
    kept = dir;
    // Made at once, so that collecting the block may write into it.
    const madeAtCollection = existsSync(dir);

    it('exists for the tests of its block, from the time it is called', () => {
      expect(madeAtCollection).toBe(true);
      expect(existsSync(dir)).toBe(true);
      writeFileSync(join(dir, 'a.txt'), 'a');
    });

    it('keeps what an earlier test of the block wrote', () => {
      expect(readdirSync(dir)).toEqual(['a.txt']);
    });
  });

  it('is removed after its block', () => {
    expect(kept).not.toBe('');
    expect(existsSync(kept)).toBe(false);
  });

  let unmade = '';
  collectSkipped(() => {
    unmade = tempDir('recsys-testing-spec-');
  });

  it('makes nothing while describeWithData collects a block it skips (whose afterAll would never run)', () => {
    expect(unmade).not.toBe('');
    expect(existsSync(unmade)).toBe(false);
  });

  describe('tempDir with { each: true }', () => {
    const dir = tempDir('recsys-testing-spec-', { each: true });

    it('starts empty (1)', () => {
      expect(readdirSync(dir)).toEqual([]);
      writeFileSync(join(dir, 'b.txt'), 'b');
    });

    it('starts empty (2)', () => {
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it('withTempDir removes the folder when the function settles, also when it throws', async () => {
    let seen = '';
    const result = await withTempDir(async (dir) => {
      seen = dir;
      writeFileSync(join(dir, 'c.txt'), 'c');
      return 7;
    });
    expect(result).toBe(7);
    expect(existsSync(seen)).toBe(false);
    await expect(
      withTempDir((dir) => {
        seen = dir;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(seen)).toBe(false);
  });
});

describe('planDataBlock (what describeWithData does)', () => {
  const none = () => false;
  const all = () => true;

  it('runs the block when every required path exists', () => {
    expect(planDataBlock('b', ['movielens-100k/u1.base'], {}, all)).toEqual({ action: 'run' });
    expect(planDataBlock('b', ['movielens-100k/u1.base'], { CI: 'true' }, all)).toEqual({ action: 'run' });
  });

  it('skips with a plain note outside CI', () => {
    expect(planDataBlock('MovieLens u1', ['movielens-100k/u1.base'], {}, none)).toEqual({
      action: 'skip',
      missing: ['../shared/data/movielens-100k/u1.base'],
      note: 'skipped: ../shared/data/movielens-100k/u1.base is missing ("MovieLens u1")',
    });
    const exists = (p: string) => p.endsWith('u1.base');
    expect(planDataBlock('folds', ['movielens-100k/u1.base', 'movielens-100k/u1.test', 'movielens-100k/u2.test'], { CI: 'false' }, exists)).toMatchObject({
      action: 'skip',
      note: 'skipped: ../shared/data/movielens-100k/u1.test, ../shared/data/movielens-100k/u2.test are missing ("folds")',
    });
  });

  it('fails, with the reason, when CI=true', () => {
    const plan = planDataBlock('Netflix sample', ['netflix-kaggle-sample/Netflix_Dataset_Rating.csv'], { CI: 'true' }, none);
    expect(plan).toMatchObject({ action: 'fail', missing: ['../shared/data/netflix-kaggle-sample/Netflix_Dataset_Rating.csv'] });
    expect(plan.action === 'fail' && plan.reason).toBe(
      `../shared/data/netflix-kaggle-sample/Netflix_Dataset_Rating.csv is missing (looked in ${SHARED_DATA_DIR}); CI=true, so "Netflix sample" fails instead of being skipped`,
    );
  });

  it('checks the paths under ../shared/data and refuses paths outside it', () => {
    const asked: string[] = [];
    planDataBlock('b', ['movielens-100k/u.data'], {}, (p) => (asked.push(p), true));
    expect(asked).toEqual([sharedDataPath('movielens-100k/u.data')]);
    expect(SHARED_DATA_DIR.endsWith(join('shared', 'data'))).toBe(true);
    expect(() => planDataBlock('b', ['/etc/passwd'])).toThrow("'/etc/passwd' must be a path inside ../shared/data");
    expect(() => planDataBlock('b', ['../secret'])).toThrow("'../secret' must be a path inside ../shared/data");
    expect(() => planDataBlock('b', [])).toThrow('no required paths given');
  });
});
