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
