import { availableParallelism } from 'node:os';
import { BASELINE_DEFAULTS } from './latent/baseline-model';
import { SVD_DEFAULTS } from './latent/svd-model';
import { SVDPP_DEFAULTS } from './latent/svdpp-model';
import { KNN_BASELINE_DEFAULTS } from './neighbourhood/knn-baseline';
import { EASE_DEFAULTS } from './ranking/ease-model';
import { createModel, modelKinds } from './model-kinds';
import { checkParamBounds, describeBounds, formatBound, PARAM_BOUNDS, withinBound } from './param-bounds';

describe('PARAM_BOUNDS: one table of every parameter\'s accepted range', () => {
  it('covers every registered kind and every numeric parameter of each kind\'s defaults, which lie within it', () => {
    expect(Object.keys(PARAM_BOUNDS).sort()).toEqual(modelKinds());
    const defaults: Array<[string, Record<string, unknown>]> = [
      ...Object.values(SVD_DEFAULTS).map((d) => ['svd', d] as [string, Record<string, unknown>]),
      ['svdpp', SVDPP_DEFAULTS],
      ...Object.values(BASELINE_DEFAULTS).map((d) => ['baseline', d] as [string, Record<string, unknown>]),
      ['knn-baseline', KNN_BASELINE_DEFAULTS],
      ['ease', EASE_DEFAULTS],
    ];
    for (const [kind, d] of defaults) {
      for (const [name, value] of Object.entries(d)) {
        if (typeof value !== 'number') continue;
        const bound = PARAM_BOUNDS[kind][name];
        expect({ kind, name, bounded: bound !== undefined }).toEqual({ kind, name, bounded: true });
        expect({ kind, name, value, within: withinBound(value, bound) }).toEqual({ kind, name, value, within: true });
      }
    }
  });

  it('refuses what blew up serving (issue 9) with a RangeError naming the range', () => {
    expect(() => createModel('svd', { threads: 10_000 })).toThrow(
      `svd: threads must be an integer in 1..cores (os.availableParallelism()) (${availableParallelism()} on this machine), got 10000`,
    );
    expect(() => createModel('svd', { lr: 1e6 })).toThrow('svd: lr must be a number in 0..1, got 1000000');
    expect(() => createModel('svd', { initStd: 1e308 })).toThrow('svd: initStd must be a number with 0 < initStd ≤ 1, got 1e+308');
    expect(() => createModel('svd', { reg: 1e300 })).toThrow('svd: reg must be a number in 0..1000');
    expect(() => createModel('svd', { factors: 0, epochs: 0 })).toThrow('svd: epochs must be an integer in 1..1000, got 0');
    expect(() => createModel('svd', { factors: 1001 })).toThrow('svd: factors must be an integer in 0..1000, got 1001');
    expect(() => createModel('svdpp', { lr: 0 })).toThrow('svdpp: lr must be a number with 0 < lr ≤ 1, got 0');
    expect(() => createModel('svdpp', { epochs: 1001 })).toThrow('svdpp: epochs must be an integer in 1..1000');
    expect(() => createModel('baseline', { epochs: 0 })).toThrow('baseline: epochs must be an integer in 1..1000, got 0');
    expect(() => createModel('baseline', { regUser: 0 })).toThrow('baseline: regUser must be a number with 0 < regUser ≤ 1000, got 0');
    expect(() => createModel('knn-baseline', { k: 0 })).toThrow('knn-baseline: k must be an integer in 1..1000, got 0');
    expect(() => createModel('knn-baseline', { shrinkage: Number.NaN })).toThrow('knn-baseline: shrinkage must be a number in 0..1e6, got NaN');
  });

  it('accepts the edges: factors 0 (biases only), epochs 1 and 1000, lr 1, threads = cores', () => {
    expect(createModel('svd', { factors: 0, epochs: 1 }).params).toMatchObject({ factors: 0, epochs: 1 });
    expect(createModel('svd', { epochs: 1000, lr: 1, threads: availableParallelism() }).params).toMatchObject({ epochs: 1000, lr: 1 });
    expect(createModel('svd', { solver: 'als' }).params).toMatchObject({ lr: 0 });
    expect(() => checkParamBounds('x', { unbounded: 1e300 }, PARAM_BOUNDS.svd)).not.toThrow();
  });

  it('describes itself without machine-dependent numbers (the API schema prints it)', () => {
    expect(formatBound('threads', PARAM_BOUNDS.svd.threads)).toBe('an integer in 1..cores (os.availableParallelism())');
    expect(describeBounds(PARAM_BOUNDS.svdpp)).toContain('lr: a number with 0 < lr ≤ 1; ');
    expect(describeBounds(PARAM_BOUNDS.svd)).toContain('threads: an integer in 1..cores (os.availableParallelism())');
  });
});
