import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { BasePredictor, registerModelKind } from '@recsys/models';
import { EvaluationFold } from './evaluate';
import { gridPoints, gridSearch, randomSearch, sampleParams } from './search';

/** Predicts value + offset for every pair: its RMSE on a test set has a closed form. */
class ConstantModel extends BasePredictor {
  static fits = 0;
  readonly kind = 'test-constant';
  constructor(readonly params: { value: number; offset: number }) {
    super();
  }
  protected fitModel(): void {
    ConstantModel.fits++;
  }
  protected estimate(): number {
    return this.params.value + this.params.offset;
  }
  protected override fallbackEstimate(): number {
    return this.params.value + this.params.offset;
  }
}

registerModelKind('test-constant', {
  create: (params) => {
    const unknown = Object.keys(params).filter((k) => k !== 'value' && k !== 'offset');
    if (unknown.length > 0) throw new RangeError(`test-constant: unknown parameter(s) ${unknown.join(', ')}`);
    return new ConstantModel({ value: Number(params.value ?? 3), offset: Number(params.offset ?? 0) });
  },
  fromArtifact: () => {
    throw new Error('not saved');
  },
});

function build(rows: Array<[number, number, number]>): { matrix: RatingMatrix; list: ReturnType<RatingListBuilder['finish']> } {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, s] of rows) b.push(u, m, s * 2);
  const list = b.finish();
  return { matrix: buildRatingMatrix(list, WHOLE_STARS_1_TO_5).matrix, list };
}

// Train: anything; test ratings 1, 4, 4, 5 (mean 3.5).
const train = build([
  [1, 1, 3],
  [2, 2, 4],
]).matrix;
const test = build([
  [1, 2, 1],
  [2, 1, 4],
  [3, 1, 4],
  [1, 3, 5],
]).list;
const folds = (): EvaluationFold[] => [{ name: 'hand', train, test }];

/**
 * Predicts `value` + `tilt` · movieId for every pair: with a tiny tilt its RMSE is that of the
 * constant `value`, while the sign of the tilt orders its lists by movie id (descending for a
 * positive tilt). So RMSE and a ranking figure can be made to disagree on purpose.
 */
class TiltedModel extends BasePredictor {
  readonly kind = 'test-tilted';
  readonly ranks: boolean;
  constructor(readonly params: { value: number; tilt: number; ranks?: boolean }) {
    super();
    this.ranks = params.ranks === true;
  }
  protected fitModel(): void {}
  protected estimate(_u: number, m: number): number {
    return this.params.value + this.params.tilt * this.train.movies.ids[m];
  }
}

registerModelKind('test-tilted', {
  create: (params) => new TiltedModel({ value: Number(params.value ?? 3), tilt: Number(params.tilt ?? 0), ranks: params.ranks === true }),
  fromArtifact: () => {
    throw new Error('not saved');
  },
});

// Movies 1..5 in train; users 1..3 rated movie 1. In test each of them rates movie 5 five stars
// (relevant) and movie 2 one star.
const tiltTrain = build([
  [1, 1, 3],
  [2, 1, 3],
  [3, 1, 3],
  [4, 2, 3],
  [4, 3, 3],
  [4, 4, 3],
  [4, 5, 3],
]).matrix;
const tiltTest = build([1, 2, 3].flatMap((u): Array<[number, number, number]> => [[u, 5, 5], [u, 2, 1]])).list;
const tiltFolds = (): EvaluationFold[] => [{ name: 'tilt', train: tiltTrain, test: tiltTest }];
const testStars = [1, 4, 4, 5];
const rmseOf = (c: number) => Math.sqrt(testStars.reduce((s, r) => s + (Math.min(5, Math.max(1, c)) - r) ** 2, 0) / testStars.length);

describe('gridPoints', () => {
  it('enumerates the Cartesian product exactly, last key fastest', () => {
    const grid = { a: [1, 2], b: ['x', 'y', 'z'], c: [true] };
    const expected: Array<Record<string, unknown>> = [];
    for (const a of grid.a) for (const b of grid.b) for (const c of grid.c) expected.push({ a, b, c });
    expect(gridPoints(grid)).toEqual(expected);
    expect(gridPoints(grid).map((p) => Object.keys(p))).toEqual(expected.map(() => ['a', 'b', 'c']));
  });

  it('has one empty point for an empty grid and refuses an empty value list', () => {
    expect(gridPoints({})).toEqual([{}]);
    expect(() => gridPoints({ a: [1], b: [] })).toThrow('grid: parameter "b" needs a non-empty list of values, got []');
  });
});

describe('gridSearch', () => {
  it('scores every grid point by its closed-form RMSE and sorts best first', async () => {
    const seen: number[] = [];
    const trials = await gridSearch('test-constant', { value: [1, 2, 3, 4, 5], offset: [0, 0.5] }, folds, { onTrial: (_t, done) => seen.push(done) });
    expect(trials).toHaveLength(10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Every point appears once; each trial's RMSE is the closed form for value + offset.
    expect(trials.map((t) => t.params).sort((p, q) => (p.value as number) - (q.value as number) || (p.offset as number) - (q.offset as number))).toEqual(
      gridPoints({ value: [1, 2, 3, 4, 5], offset: [0, 0.5] }),
    );
    for (const t of trials) {
      const c = (t.params.value as number) + (t.params.offset as number);
      expect(t.meanRmse).toBeCloseTo(rmseOf(c), 12);
      expect(t.folds).toHaveLength(1);
      expect(t.modelParams).toEqual(t.params);
    }
    // Best first, and the best is the minimum: the constant nearest the test mean 3.5 is 3.5 itself.
    for (let i = 1; i < trials.length; i++) expect(trials[i].meanRmse).toBeGreaterThanOrEqual(trials[i - 1].meanRmse);
    expect(trials[0].params).toEqual({ value: 3, offset: 0.5 });
    expect(trials[0].meanRmse).toBe(Math.min(...trials.map((t) => t.meanRmse)));
    // Trials keep the order they ran in: index 5 is the sixth grid point (value 3, offset 0.5).
    expect(trials[0].index).toBe(5);
  });

  it('applies baseParams under the trial parameters', async () => {
    const trials = await gridSearch('test-constant', { value: [2] }, folds, { baseParams: { offset: 1, value: 9 } });
    expect(trials[0].modelParams).toEqual({ value: 2, offset: 1 });
    expect(trials[0].meanRmse).toBeCloseTo(rmseOf(3), 12);
  });

  it('refuses a bad parameter before fitting anything', async () => {
    const before = ConstantModel.fits;
    await expect(gridSearch('test-constant', { value: [1, 2], bogus: [1] }, folds)).rejects.toThrow('test-constant: unknown parameter(s) bogus');
    expect(ConstantModel.fits).toBe(before);
  });
});

describe('search objectives', () => {
  // Setting A: constant 3 (RMSE 2 on ratings 5 and 1), lists ascending: [2, 3] with no hit.
  // Setting B: constant 4.5 (RMSE √((0.25 + 12.25) / 2) = 2.5), lists descending: [5, 4], a hit at rank 1.
  const grid = { value: [3, 4.5], tilt: [-1e-9, 1e-9] };
  const A = { value: 3, tilt: -1e-9 };
  const B = { value: 4.5, tilt: 1e-9 };

  it('RMSE (the default) ranks the constant nearest the ratings first', async () => {
    const trials = await gridSearch('test-tilted', grid, tiltFolds);
    expect(trials[0].objective).toBe('rmse');
    expect(trials[0].params.value).toBe(3);
    expect(trials[0].meanObjective).toBeCloseTo(2, 6);
    expect(trials[0].meanObjective).toBe(trials[0].meanRmse);
    expect(trials[trials.length - 1].params.value).toBe(4.5);
  });

  it('NDCG@2 puts the setting whose lists hit first, though its RMSE is worse, and reports every figure by hand', async () => {
    const trials = await gridSearch('test-tilted', grid, tiltFolds, { objective: { metric: 'ndcg', k: 2 } });
    expect(trials.map((t) => t.objective)).toEqual(['ndcg@2', 'ndcg@2', 'ndcg@2', 'ndcg@2']);
    // Both descending settings hit at rank 1 (NDCG 1); ties keep the order they ran: value 3 then 4.5.
    expect(trials.map((t) => [t.params.tilt, t.meanObjective])).toEqual([
      [1e-9, 1],
      [1e-9, 1],
      [-1e-9, 0],
      [-1e-9, 0],
    ]);
    const vs = async (metric: 'precision' | 'recall' | 'ndcg' | 'map' | 'mrr' | 'hit') => {
      const a = (await gridSearch('test-tilted', { value: [A.value] }, tiltFolds, { baseParams: { tilt: A.tilt }, objective: { metric, k: 2 } }))[0];
      const b = (await gridSearch('test-tilted', { value: [B.value] }, tiltFolds, { baseParams: { tilt: B.tilt }, objective: { metric, k: 2 } }))[0];
      return [a.meanObjective, b.meanObjective];
    };
    // B: one hit of one relevant movie at rank 1 for each user: P 1/2, R 1, MAP 1, MRR 1, HR 1.
    expect(await vs('precision')).toEqual([0, 0.5]);
    expect(await vs('recall')).toEqual([0, 1]);
    expect(await vs('map')).toEqual([0, 1]);
    expect(await vs('mrr')).toEqual([0, 1]);
    expect(await vs('hit')).toEqual([0, 1]);
    const rmse = (await gridSearch('test-tilted', { value: [B.value] }, tiltFolds, { baseParams: { tilt: B.tilt }, objective: { metric: 'ndcg', k: 2 } }))[0];
    expect(rmse.meanRmse).toBeCloseTo(2.5, 6);
    expect(rmse.folds).toEqual([{ name: 'tilt', rmse: rmse.meanRmse, mae: rmse.meanMae, objective: 1 }]);
  });

  it('MAE ranks by the median where RMSE ranks by the mean', async () => {
    // Test ratings 1, 4, 4, 5: RMSE is least at the mean 3.5, MAE at the median 4
    // (MAE: 4 → (3 + 0 + 0 + 1) / 4 = 1, 3.5 → (2.5 + 0.5 + 0.5 + 1.5) / 4 = 1.25).
    const byRmse = await gridSearch('test-constant', { value: [3.5, 4] }, folds);
    const byMae = await gridSearch('test-constant', { value: [3.5, 4] }, folds, { objective: { metric: 'mae' } });
    expect(byRmse.map((t) => t.params.value)).toEqual([3.5, 4]);
    expect(byMae.map((t) => t.params.value)).toEqual([4, 3.5]);
    expect(byMae.map((t) => t.meanObjective)).toEqual([1, 1.25]);
  });

  it('refuses an error objective for a ranking model, and a failed trial ranks last under a ranking objective', async () => {
    await expect(gridSearch('test-tilted', { value: [3] }, tiltFolds, { baseParams: { ranks: true } })).rejects.toThrow(
      'search: test-tilted ranks movies and its scores are not ratings, so rmse means nothing for it; use a ranking objective such as ndcg@10',
    );
    const ranked = await gridSearch('test-tilted', { value: [3] }, tiltFolds, { baseParams: { ranks: true, tilt: 1e-9 }, objective: { metric: 'ndcg', k: 2 } });
    expect(ranked[0].meanObjective).toBe(1);
    expect(ranked[0].meanRmse).toBeNaN();
  });
});

describe('sampleParams / randomSearch', () => {
  const space = { factors: { min: 10, max: 200, integer: true }, lr: { min: 0.001, max: 0.1, log: true }, reg: { min: 0.01, max: 0.2 }, solver: ['sgd', 'als'] };

  it('is deterministic for a seed and differs across seeds', () => {
    const a = sampleParams(space, { trials: 20, seed: 7 });
    expect(sampleParams(space, { trials: 20, seed: 7 })).toEqual(a);
    expect(sampleParams(space, { trials: 20, seed: 8 })).not.toEqual(a);
    expect(a).toHaveLength(20);
  });

  it('draws within each range, integers for integer ranges, 4 significant figures otherwise', () => {
    const samples = sampleParams(space, { trials: 500, seed: 1 });
    for (const s of samples) {
      expect(Number.isInteger(s.factors)).toBe(true);
      expect(s.factors).toBeGreaterThanOrEqual(10);
      expect(s.factors).toBeLessThanOrEqual(200);
      expect(s.lr).toBeGreaterThanOrEqual(0.001);
      expect(s.lr).toBeLessThanOrEqual(0.1);
      expect(Number((s.lr as number).toPrecision(4))).toBe(s.lr);
      expect(s.reg).toBeGreaterThanOrEqual(0.01);
      expect(s.reg).toBeLessThanOrEqual(0.2);
      expect(['sgd', 'als']).toContain(s.solver);
    }
    // Log-uniform: about half the draws fall below the geometric midpoint 0.01 (a uniform draw would put ~9% there).
    const low = samples.filter((s) => (s.lr as number) < 0.01).length / samples.length;
    expect(low).toBeGreaterThan(0.4);
    expect(low).toBeLessThan(0.6);
    // Uniform: about half below the arithmetic midpoint 0.105.
    const lowReg = samples.filter((s) => (s.reg as number) < 0.105).length / samples.length;
    expect(lowReg).toBeGreaterThan(0.4);
    expect(lowReg).toBeLessThan(0.6);
  });

  it('samples a finite grid without replacement, and all of it when trials ≥ its size', () => {
    const grid = { a: [1, 2, 3], b: [1, 2, 3, 4] };
    for (const trials of [3, 8, 11]) {
      const s = sampleParams(grid, { trials, seed: 3 });
      expect(new Set(s.map((p) => JSON.stringify(p))).size).toBe(trials);
      for (const p of s) expect(gridPoints(grid)).toContainEqual(p);
    }
    expect(sampleParams(grid, { trials: 12, seed: 3 })).toEqual(gridPoints(grid));
    expect(sampleParams(grid, { trials: 50, seed: 3 })).toEqual(gridPoints(grid));
  });

  it('refuses malformed spaces', () => {
    expect(() => sampleParams({ lr: { min: 0, max: 1, log: true } }, { trials: 1 })).toThrow('log-uniform, so min must be > 0');
    expect(() => sampleParams({ lr: { min: 2, max: 1 } }, { trials: 1 })).toThrow('needs finite min ≤ max');
    expect(() => sampleParams({ k: { min: 1.2, max: 1.8, integer: true } }, { trials: 1 })).toThrow('holds no integer in [1.2, 1.8]');
    expect(() => sampleParams({ k: 5 } as never, { trials: 1 })).toThrow('must be a list of choices or {min, max, log?, integer?}, got 5');
    expect(() => sampleParams({ k: [1] }, { trials: 0 })).toThrow('trials must be an integer of at least 1, got 0');
  });

  it('random search scores the sampled settings and sorts them best first, reproducibly', async () => {
    const s = { value: { min: 1, max: 5 } };
    const a = await randomSearch('test-constant', s, { trials: 6, seed: 11 }, folds);
    const b = await randomSearch('test-constant', s, { trials: 6, seed: 11 }, folds);
    expect(a.map((t) => t.params)).toEqual(b.map((t) => t.params));
    expect(a.map((t) => t.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.slice().sort((p, q) => p.index - q.index).map((t) => t.params)).toEqual(sampleParams(s, { trials: 6, seed: 11 }));
    for (const t of a) expect(t.meanRmse).toBeCloseTo(rmseOf(t.params.value as number), 12);
    for (let i = 1; i < a.length; i++) expect(a[i].meanRmse).toBeGreaterThanOrEqual(a[i - 1].meanRmse);
  });
});
