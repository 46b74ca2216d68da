// Similar movies at scale: a server over a few million ratings, with the inline threshold lowered
// so that heavy queries run on the similarity pool's worker threads. While a burst of heavy
// similar-movie queries (every metric; pearson-baseline's baselines are the model's biases, there
// before the pool serves) is in flight, `{ ping }` must still be answered, none of the burst may run on
// the event loop, and the answers must equal SimilarityScorer's on the event loop (the code path
// the API used before the pool); the pool must be closed after a retrain swap and at shutdown.
// How quickly ping answers during the burst is measured, with its bound, by
// `node tools/dist/bench/api-bench.js --scenario similar-burst` (not here: a time bound in a test
// fails on a busy machine).
import { buildRatingMatrix, builtDatasetReport, generateSynthetic, LoadedDataset, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { fitBaselinesAls, POOL_PEARSON_BASELINE_TOLERANCE, SIMILARITY_METRICS, SimilarityMetric, SimilarityScorer } from '@recsys/similarity';
import { resolveConfig } from './config';
import { createLogger } from './logger';
import type { ApiServices } from './schema/context';
import type { ServingModel } from './services/model-registry';
import { SimilarityClosedWhileStarting, SimilarMovies } from './services/similar-movies';
import { startTestApi, TestApi } from './testing/harness';

const RATINGS = 2_000_000;
const TOP_MOVIES = 10;
/** Below the work of the 10 most-rated movies (1.1M–1.3M accumulations here), above the least-rated ones' (≥ 471k). */
const MAX_INLINE_WORK = 600_000;
const GRAPHQL_METRIC: Record<SimilarityMetric, string> = { jaccard: 'JACCARD', cosine: 'COSINE', pearson: 'PEARSON', 'pearson-baseline': 'PEARSON_BASELINE' };

type Similar = Array<{ movieId: number; similarity: number; support: number }>;

/** Polls until `condition` holds (closing a pool ends when its worker threads have exited). */
async function eventually(condition: () => boolean, ms = 2000): Promise<void> {
  for (const end = performance.now() + ms; !condition() && performance.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
}

function largeDataset(): LoadedDataset {
  const data = generateSynthetic({ ratings: RATINGS, seed: 11 });
  const dataset = { matrix: buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog };
  return { ...dataset, report: builtDatasetReport(dataset, 'synthetic') };
}

/** External ids of the `count` most-rated movies. */
function mostRated(train: RatingMatrix, count: number): number[] {
  const order = Array.from({ length: train.nMovies }, (_, m) => m).sort((a, b) => train.movieCount(b) - train.movieCount(a) || a - b);
  return order.slice(0, count).map((m) => train.movies.ids[m]);
}

/** Accumulations of a query on internal movie m: Σ |I_u| over its raters u. */
function workOf(train: RatingMatrix, m: number): number {
  let work = 0;
  for (let p = train.moviePtr[m]; p < train.moviePtr[m + 1]; p++) work += train.userCount(train.movieUsers[p]);
  return work;
}

/** SimilarityScorer on the calling thread: what the API answered before it used the pool. */
function expected(serving: ServingModel, scorers: Map<string, SimilarityScorer>, movieId: number, n: number, metric: SimilarityMetric, minSupport: number): Similar {
  const train = serving.train;
  const key = `${metric}:${minSupport}`;
  let scorer = scorers.get(key);
  // pearson-baseline's baselines: the model's own biases.
  if (!scorer) scorers.set(key, (scorer = new SimilarityScorer(train, { metric, minSupport, baselines: serving.model.biases() })));
  return scorer.mostSimilar(train.movies.indexOf(movieId), n).map((nb) => ({ movieId: train.movies.ids[nb.movie], similarity: nb.similarity, support: nb.support }));
}

function expectSameNeighbours(got: Similar, want: Similar, metric: SimilarityMetric): void {
  expect(got.map((s) => [s.movieId, s.support])).toEqual(want.map((s) => [s.movieId, s.support]));
  if (metric === 'pearson-baseline') {
    // The workers sum pearson-baseline in f32: within the pool's documented tolerance.
    got.forEach((s, i) => expect(Math.abs(s.similarity - want[i].similarity)).toBeLessThanOrEqual(POOL_PEARSON_BASELINE_TOLERANCE));
  } else {
    expect(got.map((s) => s.similarity)).toEqual(want.map((s) => s.similarity));
  }
}

describe('similar movies at scale (similarity pool)', () => {
  let t: TestApi;
  let services: ApiServices;
  let train: RatingMatrix;
  const scorers = new Map<string, SimilarityScorer>();

  beforeAll(async () => {
    t = await startTestApi({
      dataset: largeDataset(),
      config: { defaultModel: { kind: 'baseline', params: {} }, similarity: { threads: 2, maxInlineWork: MAX_INLINE_WORK } },
    });
    services = t.api.services()!;
    train = services.catalog.active.train;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('starts one pool for the active model at startup, with the model\'s biases as pearson-baseline\'s baselines', () => {
    const pools = services.catalog.similar.pools();
    expect(pools).toHaveLength(1);
    // The default u16 copy of the movie indices (RECSYS_SIMILARITY_NARROW_INDICES).
    expect(pools[0]).toMatchObject({ modelId: services.catalog.active.id, baselines: 'model', threads: 2, movieIndexBytes: 2, closed: false });
    expect(services.catalog.similar.stats()).toMatchObject({ mode: 'pool', baselines: 'ready' });
  });

  it('answers ping while a burst of heavy queries of every metric runs on the workers, with the answers of SimilarityScorer', async () => {
    const movies = mostRated(train, TOP_MOVIES);
    for (const movieId of movies) expect(workOf(train, train.movies.indexOf(movieId))).toBeGreaterThan(1_000_000);
    const { workerQueries: workersBefore, inlineQueries: inlineBefore } = services.catalog.similar.stats();
    const queries = SIMILARITY_METRICS.flatMap((metric) => movies.map((movieId, i) => ({ movieId, metric, minSupport: i % 3 === 0 ? 20 : 0 })));
    // Open the client's connections first (as on a server under steady load), so that the pings
    // wait on the event loop and not on 40 TCP handshakes in this one process.
    await Promise.all(queries.map(() => t.gql('query($id: Int!) { movie(id: $id) { id } }', { id: movies[0] })));

    let inFlight = true;
    const burst = Promise.all(
      queries.map((q) =>
        t.gql<{ similarMovies: Similar }>('query($id: Int!, $metric: SimilarityMetric!, $ms: Int!) { similarMovies(movieId: $id, n: 10, metric: $metric, minSupport: $ms) { movieId similarity support } }', {
          id: q.movieId,
          metric: GRAPHQL_METRIC[q.metric],
          ms: q.minSupport,
        }),
      ),
    ).finally(() => (inFlight = false));
    let pings = 0;
    while (inFlight) {
      const pong = await t.gql<{ ping: number }>('{ ping }');
      pings++;
      expect(pong.data).toEqual({ ping: 1 });
    }
    const answers = await burst;
    expect(pings).toBeGreaterThan(1);

    const stats = services.catalog.similar.stats();
    expect(stats.workerQueries - workersBefore).toBe(queries.length);
    // Not one query of the burst ran on the event loop: that is what keeps ping answering.
    expect(stats.inlineQueries - inlineBefore).toBe(0);
    expect(stats.baselines).toBe('ready');
    // Still the one pool: pearson-baseline started nothing new.
    expect(services.catalog.similar.pools().map((p) => [p.baselines, p.closed])).toEqual([['model', false]]);

    queries.forEach((q, i) => {
      expect(answers[i].errors).toBeUndefined();
      expectSameNeighbours(answers[i].data!.similarMovies, expected(services.catalog.active, scorers, q.movieId, 10, q.metric, q.minSupport), q.metric);
    });
  }, 60_000);

  it('Movie.similar goes through the pool too: light movies inline, heavy ones on the workers', async () => {
    const order = Array.from({ length: train.nMovies }, (_, m) => m).sort((a, b) => workOf(train, a) - workOf(train, b));
    expect(workOf(train, order[0])).toBeLessThanOrEqual(MAX_INLINE_WORK);
    expect(workOf(train, order[order.length - 1])).toBeGreaterThan(MAX_INLINE_WORK);
    const before = services.catalog.similar.stats();
    for (const m of [order[0], order[order.length - 1]]) {
      const movieId = train.movies.ids[m];
      const { data, errors } = await t.gql<{ movie: { similar: Similar } }>('query($id: Int!) { movie(id: $id) { similar(n: 7, metric: PEARSON_BASELINE) { movieId similarity support } } }', { id: movieId });
      expect(errors).toBeUndefined();
      expectSameNeighbours(data!.movie.similar, expected(services.catalog.active, scorers, movieId, 7, 'pearson-baseline', 0), 'pearson-baseline');
    }
    const after = services.catalog.similar.stats();
    expect(after.inlineQueries - before.inlineQueries).toBe(1);
    expect(after.workerQueries - before.workerQueries).toBe(1);
  });

  it('after a retrain swap the old model\'s pools are closed and a new one serves the new matrix', async () => {
    const oldId = services.catalog.active.id;
    const started = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE, parameters: { epochs: 3 } }) { id } }');
    expect(started.errors).toBeUndefined();
    const runId = started.data!.retrain.id;
    for (;;) {
      const run = await t.gql<{ trainingRun: { status: string } }>('query($id: ID!) { trainingRun(id: $id) { status } }', { id: runId });
      const status = run.data!.trainingRun.status;
      if (status === 'SUCCEEDED' || status === 'FAILED') {
        expect(status).toBe('SUCCEEDED');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const newId = services.catalog.active.id;
    expect(newId).not.toBe(oldId);
    const movieId = mostRated(train, 1)[0];
    const { data, errors } = await t.gql<{ similarMovies: Similar }>('query($id: Int!) { similarMovies(movieId: $id, n: 10, metric: PEARSON) { movieId similarity support } }', { id: movieId });
    expect(errors).toBeUndefined();
    expectSameNeighbours(data!.similarMovies, expected(services.catalog.active, new Map(), movieId, 10, 'pearson', 0), 'pearson');
    await eventually(() => services.catalog.similar.pools().every((p) => p.modelId !== oldId || p.closed));
    const pools = services.catalog.similar.pools();
    expect(pools.filter((p) => p.modelId === oldId).every((p) => p.closed)).toBe(true);
    expect(pools.filter((p) => p.modelId === newId).map((p) => [p.baselines, p.closed])).toEqual([['model', false]]);
    expect(services.catalog.similar.stats()).toMatchObject({ modelId: newId, mode: 'pool', baselines: 'ready' });
  }, 60_000);

  it('closes every pool at shutdown, and refuses queries after', async () => {
    await t.close();
    const pools = services.catalog.similar.pools();
    // One pool per model, each with its model's biases.
    expect(pools.map((p) => p.baselines)).toEqual(['model', 'model']);
    expect(pools.every((p) => p.closed)).toBe(true);
    await expect(services.catalog.similar.mostSimilar(services.catalog.active, 0, 5, 'jaccard', 0)).rejects.toThrow(/shutting down/);
  });
});

describe('similar movies of a model without usable biases', () => {
  it('fits the ALS baselines on a pool worker before the pool serves, and answers pearson-baseline with them', async () => {
    const data = generateSynthetic({ ratings: 20_000, seed: 5 });
    const train = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
    // A stand-in model whose biases do not fit its matrix (μ NaN): the service must fit its own.
    const serving = { id: 'no-biases', train, model: { biases: () => ({ globalMean: NaN, userBias: new Float64Array(0), movieBias: new Float64Array(0) }) } } as unknown as ServingModel;
    const similar = new SimilarMovies({ threads: 2, maxInlineWork: 0 }, createLogger('silent'));
    try {
      await similar.activate(serving);
      expect(similar.pools()).toMatchObject([{ modelId: 'no-biases', baselines: 'fitted', closed: false }]);
      // The pool served nothing but its warm-up (one query per metric on the most-rated movie) before it was ready.
      expect(similar.stats()).toMatchObject({ baselines: 'ready', workerQueries: SIMILARITY_METRICS.length });
      const m = mostRated(train, 1).map((id) => train.movies.indexOf(id))[0];
      const got = await similar.mostSimilar(serving, m, 10, 'pearson-baseline', 0);
      const want = new SimilarityScorer(train, { metric: 'pearson-baseline', baselines: fitBaselinesAls(train) }).mostSimilar(m, 10);
      expect(got.map((x) => [x.movie, x.support])).toEqual(want.map((x) => [x.movie, x.support]));
      got.forEach((x, i) => expect(Math.abs(x.similarity - want[i].similarity)).toBeLessThanOrEqual(POOL_PEARSON_BASELINE_TOLERANCE));
    } finally {
      await similar.close();
    }
    expect(similar.pools().every((p) => p.closed)).toBe(true);
  });
});

describe('a pool closed before it started', () => {
  it('rejects the activation with SimilarityClosedWhileStarting (the server logs it at info), and leaves no pool open', async () => {
    const data = generateSynthetic({ ratings: 20_000, seed: 6 });
    const train = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
    const serving = { id: 'closed-early', train, model: { biases: () => ({ globalMean: NaN, userBias: new Float64Array(0), movieBias: new Float64Array(0) }) } } as unknown as ServingModel;
    const similar = new SimilarMovies({ threads: 2, maxInlineWork: 0 }, createLogger('silent'));
    const activation = similar.activate(serving);
    const closed = similar.close();
    await expect(activation).rejects.toBeInstanceOf(SimilarityClosedWhileStarting);
    await expect(activation).rejects.toThrow('the similarity of model closed-early was closed while starting');
    await closed;
    expect(similar.pools().every((p) => p.closed)).toBe(true);
  });
});

describe('RECSYS_SIMILARITY_NARROW_INDICES', () => {
  it('defaults to a u16 copy of the movie indices; 0 turns it off; anything else is refused, naming the variable and value', () => {
    expect(resolveConfig([], {}).similarity.narrowMovieIndices).toBe(true);
    expect(resolveConfig([], { RECSYS_SIMILARITY_NARROW_INDICES: '1' }).similarity.narrowMovieIndices).toBe(true);
    expect(resolveConfig([], { RECSYS_SIMILARITY_NARROW_INDICES: '0' }).similarity.narrowMovieIndices).toBe(false);
    expect(() => resolveConfig([], { RECSYS_SIMILARITY_NARROW_INDICES: 'yes' })).toThrow('RECSYS_SIMILARITY_NARROW_INDICES must be an integer in 0..1, got "yes"');
    expect(() => resolveConfig([], { RECSYS_SIMILARITY_NARROW_INDICES: '2' })).toThrow('RECSYS_SIMILARITY_NARROW_INDICES must be an integer in 0..1, got "2"');
  });
});
