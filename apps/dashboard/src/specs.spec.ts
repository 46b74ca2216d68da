import { contributionSpec, curveSpec, metricsSpec, secondsLeft, similarSpec } from './specs';

const epoch = (n: number, seconds: number, trainRmse: number | null = 1, validationRmse: number | null = null) => ({ epoch: n, epochs: 10, seconds, trainRmse, validationRmse });

describe('secondsLeft: mean epoch seconds × epochs left', () => {
  it('sums per-epoch seconds (svd: 1 s and 3 s done, 8 left → 2 s × 8)', () => {
    expect(secondsLeft('SVD', [epoch(1, 1), epoch(2, 3)], 10)).toBe(16);
  });
  it('reads cumulative seconds of ials, bpr and ease from the last epoch (4 s after 2 epochs, 8 left → 16)', () => {
    expect(secondsLeft('IALS', [epoch(1, 1), epoch(2, 4)], 10)).toBe(16);
  });
  it('is null before the first epoch, after the last, or without a total', () => {
    expect(secondsLeft('SVD', [], 10)).toBeNull();
    expect(secondsLeft('SVD', [epoch(1, 1), epoch(2, 1)], 2)).toBeNull();
    expect(secondsLeft('SVD', [epoch(1, 1)], null)).toBeNull();
  });
});

describe('chart specs', () => {
  it('metricsSpec: one bar per known metric, the active model highlighted', () => {
    const spec = metricsSpec(
      'm',
      [
        { id: 'svd-a', kind: 'SVD', role: 'RATING', active: true, metrics: { heldOutRmse: 0.9, heldOutMae: 0.7, heldOutNdcg: null } },
        { id: 'svd-b', kind: 'SVD', role: 'RATING', active: false, metrics: { heldOutRmse: 0.95, heldOutMae: null, heldOutNdcg: null } },
      ],
      [
        { key: 'heldOutRmse', name: 'RMSE' },
        { key: 'heldOutMae', name: 'MAE' },
      ],
      'c',
    );
    expect(spec.bars).toEqual([
      { category: 'svd-a (active)', group: 'RMSE', value: 0.9, highlight: true },
      { category: 'svd-a (active)', group: 'MAE', value: 0.7, highlight: true },
      { category: 'svd-b', group: 'RMSE', value: 0.95, highlight: undefined },
    ]);
  });
  it('curveSpec: training and validation series, a series without values left out', () => {
    expect(curveSpec('c', [epoch(1, 1, 1.2, 1.3), epoch(2, 1, 1.1, 1.25)]).series.map((s) => [s.name, s.points.length])).toEqual([
      ['training RMSE', 2],
      ['validation RMSE', 2],
    ]);
    expect(curveSpec('c', [epoch(1, 1, 1.2, null)]).series.map((s) => s.name)).toEqual(['training RMSE']);
  });
  it('similarSpec and contributionSpec: each bar links to its movie; equal labels made unique by the id', () => {
    const movie = { title: 'Same', year: 2000 };
    const spec = similarSpec('JACCARD', [
      { movieId: 1, similarity: 0.5, support: 3, movie },
      { movieId: 2, similarity: 0.4, support: 3, movie },
    ]);
    expect(spec.bars.map((b) => [b.category, b.href])).toEqual([
      ['Same (2000) · 3', '#/movie/1'],
      ['Same (2000) · 3 · #2', '#/movie/2'],
    ]);
    expect(spec.signed).toBe(false);
    const why = contributionSpec('w', [{ movieId: 7, rating: 4, contribution: -0.2, movie }]);
    expect(why.bars).toEqual([{ category: 'Same (2000) · rated 4', value: -0.2, href: '#/movie/7' }]);
    expect(why.signed).toBe(true);
  });
});
