/**
 * Similarity benchmark: mostSimilar latency per metric and neighbour-index build time on a
 * synthetic Netflix-shaped data set (or a snapshot file). Prints ONE JSON document on stdout;
 * progress on stderr.
 *
 *   npx tsc -b tools && node tools/dist/bench/similarity-bench.js [--ratings 10000000] [--seed 42]
 *     [--snapshot FILE] [--queries 100] [--k 10] [--index-k 50] [--threads 1,2]
 *     [--index-metrics jaccard,pearson-baseline] [--repeats 20] [--no-index] [--no-pool] [--no-scorer]
 *     [--movie-indices shared,u16,u16plain] [--interleave]
 *     (--help: the options)
 *
 * At 100M: `npm run bench:similarity -- --snapshot /path/prize-100m.snap --no-index --no-scorer
 * --repeats 100` gives `similarityPool.threadsN.latency[metric].mostRated` (p50 / p99 over the
 * repeats, the SimilarityPool's WebAssembly kernels), `firstQueryMs` (the first query of each
 * metric right after the pool started, before any warm-up: pearson-baseline's included, since its
 * baselines come with the pool) and `mostSimilar.baselineAlsSeconds` (the ALS fit of the
 * baselines on the calling thread) beside `similarityPool.threadsN.fitBaselinesOnWorkerSeconds` (the
 * same fit on a pool worker: what the API runs, before the pool serves, for a model without biases).
 *
 * Latency: 100 movies (the most-rated one plus random others, seeded), one SimilarityScorer per
 * metric (baselines for pearson-baseline fitted once beforehand and timed apart), 3 warm-up
 * queries on the most-rated movie, then each movie queried once. The machine may be shared, so
 * the most-rated movie is also queried `--repeats` more times: the best of those (the least
 * disturbed run) estimates the latency on a quiet machine, and the process CPU time per query
 * (all threads) says how much work a query is, whatever the load.
 *
 * Pool latency: the same for a SimilarityPool with each `--threads` count (its default light-query
 * threshold, so light movies run on the calling thread as they would in the API), plus the
 * load average before and after.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { Random } from '@recsys/core';
import { buildRatingMatrix, generateSynthetic, RatingMatrix, readSnapshot, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import {
  buildNeighbourIndex,
  fitBaselinesAls,
  mostSimilar,
  SimilarityMetric,
  Neighbour,
  SIMILARITY_METRICS,
  SimilarityPool,
  SimilarityScorer,
} from '@recsys/similarity';
import { BenchCli, BenchOption, BenchValues, choiceListValue, intListValue, intValue, readBenchArgs } from './bench-args';

/**
 * The pool's movie indices: the matrix's own i32 in place (`shared`, zero copy), a u16 copy
 * (`u16`, `narrowMovieIndices`: segmented by rating code where it fits), or the plain u16 copy in
 * the rows' order (`u16plain`, `segmentMovieIndices: false`).
 */
const MOVIE_INDICES = ['shared', 'u16', 'u16plain'] as const;
type MovieIndices = (typeof MOVIE_INDICES)[number];

export interface Args {
  ratings: number;
  seed: number;
  queries: number;
  k: number;
  indexK: number;
  threads: number[];
  indexMetrics: SimilarityMetric[];
  index: boolean;
  repeats: number;
  pool: boolean;
  movieIndices: MovieIndices[];
  scorer: boolean;
  interleave: boolean;
  snapshot: string | undefined;
}

export const CLI = {
  name: 'similarity-bench',
  description:
    'mostSimilar latency per metric (single-threaded and through SimilarityPool) and neighbour-index build time on a synthetic ' +
    'Netflix-shaped data set. Prints one JSON document on stdout; progress on stderr.',
  options: {
    ratings: { type: 'string', value: 'N', default: '10000000', description: 'synthetic ratings to generate' },
    seed: { type: 'string', value: 'N', default: '42', description: 'seed of the data and of the movie sample' },
    queries: { type: 'string', value: 'N', default: '100', description: 'movies queried (the most-rated one plus random others)' },
    k: { type: 'string', value: 'N', default: '10', description: 'neighbours per query' },
    'index-k': { type: 'string', value: 'N', default: '50', description: 'neighbours per movie in the neighbour index' },
    threads: { type: 'string', value: 'LIST', default: '1,2', description: 'thread counts of the pool and of the index build' },
    'index-metrics': { type: 'string', value: 'LIST', default: 'jaccard,pearson-baseline', description: `metrics of the index builds (${SIMILARITY_METRICS.join(', ')})` },
    repeats: { type: 'string', value: 'N', default: '20', description: 'extra queries of the most-rated movie (the best estimates a quiet machine)' },
    'no-index': { type: 'boolean', description: 'skip the neighbour-index builds' },
    'no-pool': { type: 'boolean', description: 'skip the SimilarityPool latencies' },
    'movie-indices': {
      type: 'string',
      value: 'LIST',
      default: 'shared',
      description:
        "pool layouts to run, in turn for each thread count: 'shared' (the matrix's own i32 movie indices, no copy), 'u16' (narrowMovieIndices: a 2 B/rating copy, " +
        "segmented by rating code where it fits) and 'u16plain' (the same copy in the rows' order)",
    },
    'no-scorer': { type: 'boolean', description: 'skip the single-threaded SimilarityScorer latencies (the TypeScript reference)' },
    interleave: {
      type: 'boolean',
      description:
        'also start one pool per --movie-indices layout at once (each --threads count) and query the most-rated movie in turn on each, one query at a time ' +
        '(--repeats rounds, the order alternating): CPU per query and latency per layout and the median ratio of each pair, with the load shared alike',
    },
    snapshot: { type: 'string', value: 'FILE', description: 'read the ratings from this snapshot instead of generating them (--ratings and --seed then only seed the movie sample)' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    ratings: intValue('ratings', v.ratings),
    seed: intValue('seed', v.seed),
    queries: intValue('queries', v.queries),
    k: intValue('k', v.k),
    indexK: intValue('index-k', v['index-k']),
    threads: intListValue('threads', v.threads),
    indexMetrics: choiceListValue('index-metrics', v['index-metrics'], SIMILARITY_METRICS),
    index: !v['no-index'],
    repeats: intValue('repeats', v.repeats),
    pool: !v['no-pool'],
    movieIndices: choiceListValue('movie-indices', v['movie-indices'], MOVIE_INDICES),
    scorer: !v['no-scorer'],
    interleave: v.interleave === true,
    snapshot: v.snapshot,
  };
}

const log = (message: string): void => {
  process.stderr.write(`[similarity-bench] ${message}\n`);
};

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Σ over the raters of m of their number of ratings: the accumulation work of one query. */
function queryWork(matrix: RatingMatrix, m: number): number {
  let work = 0;
  for (let p = matrix.moviePtr[m]; p < matrix.moviePtr[m + 1]; p++) work += matrix.userCount(matrix.movieUsers[p]);
  return work;
}

async function main(): Promise<void> {
  const args = readBenchArgs(CLI, argsFrom);

  let t = process.hrtime.bigint();
  let generateSeconds = 0;
  let matrix: RatingMatrix;
  if (args.snapshot !== undefined) {
    log(`reading ${args.snapshot}`);
    matrix = readSnapshot(args.snapshot).matrix;
  } else {
    log(`generating ${args.ratings.toLocaleString('en')} synthetic ratings (seed ${args.seed})`);
    const synthetic = generateSynthetic({ ratings: args.ratings, seed: args.seed });
    generateSeconds = seconds(t);
    t = process.hrtime.bigint();
    matrix = buildRatingMatrix(synthetic.list, WHOLE_STARS_1_TO_5).matrix;
  }
  const matrixSeconds = seconds(t);
  log(`matrix: ${matrix.nUsers} users, ${matrix.nMovies} movies, ${matrix.nRatings} ratings (${matrixSeconds.toFixed(1)} s)`);

  // Query set: the most-rated movie plus random distinct others.
  let mostRated = 0;
  for (let m = 1; m < matrix.nMovies; m++) if (matrix.movieCount(m) > matrix.movieCount(mostRated)) mostRated = m;
  const rng = new Random(args.seed);
  const others = rng.shuffle(Int32Array.from({ length: matrix.nMovies }, (_, i) => i)).filter((m) => m !== mostRated);
  const queries = [mostRated, ...others.subarray(0, Math.max(0, Math.min(args.queries, matrix.nMovies) - 1))];

  t = process.hrtime.bigint();
  const baselines = fitBaselinesAls(matrix);
  const baselineSeconds = seconds(t);
  log(`ALS baselines: ${baselineSeconds.toFixed(2)} s`);

  const latency: Record<string, unknown> = {};
  for (const metric of args.scorer ? SIMILARITY_METRICS : []) {
    const scorer = new SimilarityScorer(matrix, { metric, baselines });
    for (let w = 0; w < 3; w++) scorer.mostSimilar(mostRated, args.k);
    const times: number[] = [];
    let mostRatedMs = 0;
    for (const m of queries) {
      const start = process.hrtime.bigint();
      scorer.mostSimilar(m, args.k);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (m === mostRated) mostRatedMs = ms;
      times.push(ms);
    }
    const repeated = await repeatQuery(args.repeats, () => scorer.mostSimilar(mostRated, args.k));
    // The one-shot function allocates its accumulators per call.
    const start = process.hrtime.bigint();
    mostSimilar(matrix, mostRated, args.k, { metric, baselines });
    const oneShotMs = Number(process.hrtime.bigint() - start) / 1e6;
    times.sort((a, b) => a - b);
    latency[metric] = {
      p50Ms: round(quantile(times, 0.5)),
      maxMs: round(times[times.length - 1]),
      meanMs: round(times.reduce((s, x) => s + x, 0) / times.length),
      mostRatedMs: round(mostRatedMs),
      mostRatedOneShotMs: round(oneShotMs),
      mostRatedRepeated: repeated,
    };
    log(`mostSimilar ${metric}: ${JSON.stringify(latency[metric])}`);
  }

  const pool: Record<string, unknown> = {};
  if (args.pool) {
    for (const threads of args.threads) for (const movieIndices of args.movieIndices) {
      const loadBefore = loadavg().map(round);
      let t0 = process.hrtime.bigint();
      const p = await SimilarityPool.start(matrix, {
        baselines,
        threads,
        narrowMovieIndices: movieIndices !== 'shared',
        segmentMovieIndices: movieIndices !== 'u16plain',
      });
      const startSeconds = seconds(t0);
      // The ALS fit on a pool worker (what the API does for a model without biases): the same
      // values as the baselines given at start, so the queries below are unchanged.
      t0 = process.hrtime.bigint();
      await p.fitBaselines();
      const fitBaselinesSeconds = seconds(t0);
      const perMetric: Record<string, unknown> = {};
      try {
        for (const metric of SIMILARITY_METRICS) {
          // The first query of the metric on the most-rated movie, straight after the pool started.
          t0 = process.hrtime.bigint();
          await p.mostSimilar(mostRated, args.k, { metric });
          const firstQueryMs = Number(process.hrtime.bigint() - t0) / 1e6;
          for (let w = 0; w < 3; w++) await p.mostSimilar(mostRated, args.k, { metric });
          const times: number[] = [];
          let mostRatedMs = 0;
          for (const m of queries) {
            const start = process.hrtime.bigint();
            await p.mostSimilar(m, args.k, { metric });
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            if (m === mostRated) mostRatedMs = ms;
            times.push(ms);
          }
          const repeated = await repeatQuery(args.repeats, () => p.mostSimilar(mostRated, args.k, { metric }));
          // Many at once, as the API would fire them: total wall time of the burst.
          t0 = process.hrtime.bigint();
          await Promise.all(queries.map((m) => p.mostSimilar(m, args.k, { metric })));
          const burstMs = Number(process.hrtime.bigint() - t0) / 1e6;
          times.sort((a, b) => a - b);
          perMetric[metric] = {
            firstQueryMs: round(firstQueryMs),
            mostRated: repeated,
            p50Ms: round(quantile(times, 0.5)),
            maxMs: round(times[times.length - 1]),
            meanMs: round(times.reduce((s, x) => s + x, 0) / times.length),
            mostRatedMs: round(mostRatedMs),
            concurrentBurstMs: round(burstMs),
          };
          log(`pool ${threads} thread(s) ${movieIndices} ${metric}: ${JSON.stringify(perMetric[metric])}`);
        }
      } finally {
        await p.close();
      }
      pool[movieIndices === 'shared' ? `threads${threads}` : `threads${threads}-${movieIndices}`] = {
        threads,
        movieIndices,
        segmented: p.segmented,
        sharesMatrix: p.sharesMatrix,
        maxInlineWork: p.maxInlineWork,
        startSeconds: round(startSeconds),
        fitBaselinesOnWorkerSeconds: round(fitBaselinesSeconds),
        queries: p.stats,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadavg().map(round),
        latency: perMetric,
      };
    }
  }

  const interleaved: Record<string, unknown> = {};
  if (args.interleave) {
    for (const threads of args.threads) interleaved[`threads${threads}`] = await interleave(matrix, baselines, threads, args.movieIndices, mostRated, args.k, args.repeats);
  }

  const builds: unknown[] = [];
  if (args.index) {
    for (const metric of args.indexMetrics) {
      for (const threads of args.threads) {
        log(`neighbour index ${metric}, K=${args.indexK}, ${threads} thread(s)…`);
        let lastReport = 0;
        const start = process.hrtime.bigint();
        const index = await buildNeighbourIndex(matrix, {
          metric,
          baselines,
          k: args.indexK,
          threads,
          onProgress: (done, total) => {
            const now = Date.now();
            if (now - lastReport > 5000 || done === total) {
              lastReport = now;
              log(`  ${done}/${total} movies, ${seconds(start).toFixed(1)} s`);
            }
          },
        });
        const s = seconds(start);
        builds.push({ metric, k: args.indexK, threads, seconds: round(s), entries: index.neighbours.length, bytes: index.byteLength });
        log(`  done in ${s.toFixed(1)} s`);
      }
    }
  }

  const totalWork = (() => {
    let w = 0;
    for (let u = 0; u < matrix.nUsers; u++) w += matrix.userCount(u) ** 2;
    return w;
  })();
  const result = {
    benchmark: 'similarity',
    machine: { cpus: cpus().length, availableParallelism: availableParallelism(), cpuModel: cpus()[0]?.model, totalMemGB: round(totalmem() / 2 ** 30), node: process.version },
    data: {
      generator: args.snapshot !== undefined ? `snapshot ${args.snapshot}` : 'generateSynthetic',
      seed: args.seed,
      ratings: matrix.nRatings,
      users: matrix.nUsers,
      movies: matrix.nMovies,
      generateSeconds: round(generateSeconds),
      buildMatrixSeconds: round(matrixSeconds),
    },
    mostSimilar: {
      k: args.k,
      queries: queries.length,
      mostRatedMovie: { index: mostRated, id: matrix.movies.ids[mostRated], raters: matrix.movieCount(mostRated), work: queryWork(matrix, mostRated) },
      baselineAlsSeconds: round(baselineSeconds),
      latency,
    },
    similarityPool: pool,
    interleaved,
    neighbourIndex: { sumOfSquaredUserCounts: totalWork, builds },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/**
 * One pool per layout (the same matrix, `threads` workers each), then per metric: 3 warm-up
 * queries on each, and `repeats` rounds of one query of the most-rated movie on each pool in turn
 * (the order reversed every other round), so that every layout sees the same load. Per layout:
 * the median CPU time per query (user + system of the process, every thread: only one query runs
 * at a time) and p50 / p99 / best wall time; per pair with the first layout, the median of the
 * per-round CPU ratios.
 */
async function interleave(
  matrix: RatingMatrix,
  baselines: ReturnType<typeof fitBaselinesAls>,
  threads: number,
  layouts: MovieIndices[],
  movie: number,
  k: number,
  repeats: number,
): Promise<Record<string, unknown>> {
  const loadBefore = loadavg().map(round);
  const pools: SimilarityPool[] = [];
  try {
    for (const layout of layouts) {
      pools.push(await SimilarityPool.start(matrix, { baselines, threads, narrowMovieIndices: layout !== 'shared', segmentMovieIndices: layout !== 'u16plain' }));
    }
    const perMetric: Record<string, unknown> = {};
    for (const metric of SIMILARITY_METRICS) {
      for (const p of pools) for (let w = 0; w < 3; w++) await p.mostSimilar(movie, k, { metric });
      const cpu = layouts.map(() => [] as number[]);
      const wall = layouts.map(() => [] as number[]);
      for (let r = 0; r < repeats; r++) {
        const order = layouts.map((_, i) => (r % 2 === 0 ? i : layouts.length - 1 - i));
        for (const i of order) {
          const cpuBefore = process.cpuUsage();
          const start = process.hrtime.bigint();
          await pools[i].mostSimilar(movie, k, { metric });
          wall[i].push(Number(process.hrtime.bigint() - start) / 1e6);
          const used = process.cpuUsage(cpuBefore);
          cpu[i].push((used.user + used.system) / 1000);
        }
      }
      const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);
      const entry: Record<string, unknown> = {};
      layouts.forEach((layout, i) => {
        const sorted = [...wall[i]].sort((a, b) => a - b);
        entry[layout] = {
          cpuMsPerQueryMedian: round(median(cpu[i])),
          p50Ms: round(quantile(sorted, 0.5)),
          p99Ms: round(quantile(sorted, 0.99)),
          bestMs: round(sorted[0]),
          ...(i === 0 ? {} : { cpuRatioToFirstMedian: round(median(cpu[i].map((c, r) => c / cpu[0][r]))) }),
        };
      });
      perMetric[metric] = entry;
      log(`interleaved ${threads} thread(s) ${metric}: ${JSON.stringify(entry)}`);
    }
    return { threads, layouts, repeats, loadAverageBefore: loadBefore, loadAverageAfter: loadavg().map(round), latency: perMetric };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/**
 * Runs one query `repeats` times: the best and median wall time, and the process CPU time (user +
 * system, every thread) per query, which the load of other processes does not inflate.
 */
async function repeatQuery(
  repeats: number,
  query: () => Neighbour[] | Promise<Neighbour[]>,
): Promise<{ repeats: number; bestMs: number; medianMs: number; p99Ms: number; maxMs: number; cpuMsPerQuery: number }> {
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    await query();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  return {
    repeats,
    bestMs: round(times[0] ?? NaN),
    medianMs: round(times.length > 0 ? quantile(times, 0.5) : NaN),
    p99Ms: round(times.length > 0 ? quantile(times, 0.99) : NaN),
    maxMs: round(times.length > 0 ? times[times.length - 1] : NaN),
    cpuMsPerQuery: round((cpu.user + cpu.system) / 1000 / Math.max(1, repeats)),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`[similarity-bench] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
