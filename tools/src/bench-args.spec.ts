import { BenchUsageError, helpText, intListValue, intValue, numberValue, parseBench } from '../bench/bench-args';
import { markdownTable, TableRow } from '../bench/ranking-table';
import * as apiBench from '../bench/api-bench';
import * as dataBench from '../bench/data-bench';
import * as similarityBench from '../bench/similarity-bench';
import * as svdBench from '../bench/svd-bench';
import * as netflixBench from '../bench/netflix-bench';
import * as rankingTable from '../bench/ranking-table';

const benches = [apiBench, dataBench, similarityBench, svdBench, netflixBench, rankingTable];

function args<A>(bench: { CLI: Parameters<typeof parseBench>[0]; argsFrom: (v: never) => A }, ...argv: string[]): A {
  const parsed = parseBench(bench.CLI, bench.argsFrom as (v: unknown) => A, argv);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.args;
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BenchUsageError) return e.message;
    throw e;
  }
  throw new Error('expected a BenchUsageError');
}

describe('benchmark options (util.parseArgs, strict)', () => {
  it.each(benches.map((b) => [b.CLI.name, b] as const))('%s: --help and -h print every option with its default', (_name, bench) => {
    for (const flag of ['--help', '-h']) {
      const parsed = parseBench(bench.CLI, bench.argsFrom as (v: unknown) => unknown, [flag]);
      expect(parsed).toEqual({ help: true, text: helpText(bench.CLI) });
    }
    const text = helpText(bench.CLI);
    expect(text.startsWith(`usage: node tools/dist/bench/${bench.CLI.name}.js [options]\n`)).toBe(true);
    for (const [name, option] of Object.entries(bench.CLI.options) as Array<[string, { default?: string }]>) {
      const line = text.split('\n').find((l) => new RegExp(`^  --${name}( |$)`).test(l));
      expect(line).toBeDefined();
      if (option.default !== undefined) expect(line).toContain(`(default ${option.default})`);
    }
    expect(text).toContain('-h, --help');
  });

  it.each(benches.map((b) => [b.CLI.name, b] as const))('%s: an unknown flag, a missing value or a stray argument is an error', (_name, bench) => {
    const run = (...argv: string[]) => usageError(() => parseBench(bench.CLI, bench.argsFrom as (v: unknown) => unknown, argv));
    expect(run('--bogus')).toContain("Unknown option '--bogus'");
    expect(run('stray')).toContain("Unexpected argument 'stray'");
    const firstString = Object.entries(bench.CLI.options).find(([, o]) => o.type === 'string')![0];
    expect(run(`--${firstString}`)).toContain(`--${firstString}`);
  });

  it('data-bench: the defaults and values of before', () => {
    expect(args(dataBench)).toEqual({ ratings: 10_000_000, keep: false, clicks: false });
    expect(args(dataBench, '--ratings', '1000000', '--keep')).toEqual({ ratings: 1_000_000, keep: true, clicks: false });
    expect(args(dataBench, '--clicks')).toEqual({ ratings: 10_000_000, keep: false, clicks: true });
    expect(usageError(() => args(dataBench, '--ratings', '5'))).toBe('--ratings must be an integer ≥ 1000, got "5"');
  });

  it('netflix-bench: the Prize\'s size by default, steps and thread lists checked', () => {
    expect(args(netflixBench)).toMatchObject({ ratings: 100_000_000, users: 480_189, movies: 17_770, epochs: 3, trainEpochs: 12, threads: [2, 1], pairs: 1, skip: [] });
    expect(args(netflixBench, '--skip', 'api,svdpp', '--threads', '1')).toMatchObject({ skip: ['api', 'svdpp'], threads: [1] });
    expect(usageError(() => args(netflixBench, '--skip', 'api,foo'))).toBe('--skip: unknown value "foo" (one of import, sgd, als, svdpp, baseline, train, api)');
    expect(usageError(() => args(netflixBench, '--epochs', '1'))).toBe('--epochs must be an integer ≥ 2, got "1"');
  });

  it('similarity-bench: the defaults of before, lists and metric names checked', () => {
    expect(args(similarityBench)).toEqual({
      ratings: 10_000_000,
      seed: 42,
      queries: 100,
      k: 10,
      indexK: 50,
      threads: [1, 2],
      indexMetrics: ['jaccard', 'pearson-baseline'],
      index: true,
      repeats: 20,
      pool: true,
      scorer: true,
      snapshot: undefined,
      movieIndices: ['shared'],
      interleave: false,
    });
    expect(args(similarityBench, '--ratings', '100_000_000', '--no-index', '--no-pool', '--threads', '2', '--index-metrics', 'cosine', '--movie-indices', 'u16,shared,u16plain', '--interleave')).toMatchObject({
      ratings: 100_000_000,
      index: false,
      pool: false,
      threads: [2],
      indexMetrics: ['cosine'],
      movieIndices: ['u16', 'shared', 'u16plain'],
      interleave: true,
    });
    expect(usageError(() => args(similarityBench, '--index-metrics', 'jaccard,foo'))).toBe('--index-metrics: unknown value "foo" (one of jaccard, cosine, pearson, pearson-baseline)');
    expect(usageError(() => args(similarityBench, '--threads', '0,2'))).toBe('--threads takes integers ≥ 1 separated by commas, got "0,2"');
  });

  it('svd-bench: the defaults of before; the bias rates follow --lr / --reg unless given', () => {
    expect(args(svdBench)).toEqual({
      ratings: 10_000_000,
      users: 200_000,
      movies: 17_770,
      seed: 42,
      factors: 100,
      epochs: 20,
      threads: [1, 2],
      lr: 0.01,
      reg: 0.05,
      lrBias: undefined,
      regBias: undefined,
      alsIterations: 3,
      alsFactors: 100,
      alsThreads: [1, 2],
      als: true,
      sgd: true,
      dir: undefined,
      keepFiles: false,
    });
    expect(args(svdBench, '--lr-bias', '0.02', '--no-als', '--dir', '/x', '--keep-files')).toMatchObject({ lrBias: 0.02, als: false, dir: '/x', keepFiles: true });
    expect(usageError(() => args(svdBench, '--lr', 'fast'))).toBe('--lr must be a number, got "fast"');
  });

  it('api-bench: the defaults of before; the retrain-load scenario has the spec\'s 8 connections for 4 s', () => {
    expect(args(apiBench)).toEqual({
      scenario: 'throughput',
      check: false,
      connections: 10,
      duration: 10,
      warmup: 3,
      rounds: 2,
      pairs: 1000,
      variables: false,
      data: undefined,
      format: undefined,
      cpuProf: undefined,
      replicas: 1,
      databaseUrl: undefined,
    });
    expect(args(apiBench, '--replicas', '2', '--database-url', 'postgres://x@h:5/db')).toMatchObject({ scenario: 'throughput', replicas: 2, databaseUrl: 'postgres://x@h:5/db' });
    expect(usageError(() => args(apiBench, '--replicas', '0'))).toBe('--replicas must be an integer ≥ 1, got "0"');
    expect(args(apiBench, '--scenario', 'retrain-load', '--check')).toMatchObject({ scenario: 'retrain-load', check: true, connections: 8, duration: 4 });
    expect(args(apiBench, '--scenario', 'retrain-load', '--connections', '3')).toMatchObject({ connections: 3, duration: 4 });
    expect(usageError(() => args(apiBench, '--connections', '0'))).toBe('--connections must be an integer ≥ 1, got "0"');
    expect(usageError(() => args(apiBench, '--scenario', 'soak'))).toBe('--scenario must be one of throughput, similar-burst, retrain-load, got "soak"');
  });

  it('value helpers', () => {
    expect(intValue('n', '1_000')).toBe(1000);
    expect(() => intValue('n', '')).toThrow(BenchUsageError);
    expect(() => intValue('n', '1.5')).toThrow('--n must be an integer ≥ 0, got "1.5"');
    expect(numberValue('x', '1e-3')).toBe(0.001);
    expect(intListValue('t', '1, 2')).toEqual([1, 2]);
    expect(() => intListValue('t', '1,,2')).toThrow(BenchUsageError);
  });
});

describe('ranking-table options', () => {
  it('defaults to the issue protocol: popular and svd on u1..u5, k 10, threshold 4', () => {
    expect(args(rankingTable)).toEqual({ models: ['popular', 'svd'], folds: [1, 2, 3, 4, 5], dataDir: '../shared/data', k: 10, threshold: 4, params: {}, markdown: false });
    expect(args(rankingTable, '--models', 'popular,ease', '--folds', '1', '--params', '{"ease":{"lambda":500}}', '--markdown')).toMatchObject({
      models: ['popular', 'ease'],
      folds: [1],
      params: { ease: { lambda: 500 } },
      markdown: true,
    });
  });

  it('refuses malformed lists, cutoffs and parameters', () => {
    expect(usageError(() => args(rankingTable, '--models', 'popular,,svd'))).toBe('--models takes model kinds separated by commas, got "popular,,svd"');
    expect(usageError(() => args(rankingTable, '--folds', '0'))).toBe('--folds takes integers ≥ 1 separated by commas, got "0"');
    expect(usageError(() => args(rankingTable, '--k', '0'))).toBe('--k must be an integer ≥ 1, got "0"');
    expect(usageError(() => args(rankingTable, '--threshold', 'x'))).toBe('--threshold must be a number, got "x"');
    expect(usageError(() => args(rankingTable, '--params', '{'))).toContain('--params is not valid JSON');
    expect(usageError(() => args(rankingTable, '--params', '{"svd":5}'))).toContain('--params must be a JSON object of kind → parameters object');
    expect(usageError(() => args(rankingTable, '--params', '{"ease":{}}'))).toBe('--params names kind(s) not in --models: ease');
  });
});

describe('markdownTable', () => {
  it('prints one row per model with the means to 3 decimals, "-" where there is no figure', () => {
    const row = (model: string, precision: number, ndcg: number, coverage: number): TableRow => ({
      model,
      params: {},
      ranks: false,
      mean: { precision, recall: 0, ndcg, map: 0, mrr: 0, hitRate: 0, coverage, rmse: null, mae: null, fitSeconds: 0 },
      sd: { precision: 0, recall: 0, ndcg: 0, map: 0, mrr: 0, hitRate: 0, coverage: 0, rmse: null, mae: null, fitSeconds: 0 },
      folds: [],
    });
    expect(markdownTable([row('popular', 0.15684, 0.19815, 0.0361), row('x', NaN, 0.4, 1)], 10)).toBe(
      ['| model | P@10 | NDCG@10 | coverage |', '|---|---|---|---|', '| `popular` | 0.157 | 0.198 | 0.036 |', '| `x` | - | 0.400 | 1.000 |'].join('\n'),
    );
  });
});
