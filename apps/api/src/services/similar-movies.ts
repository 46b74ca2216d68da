import { availableParallelism } from 'node:os';
import type { RatingMatrix } from '@recsys/data';
import { Baselines, Neighbour, SIMILARITY_METRICS, SimilarityMetric, SimilarityPool } from '@recsys/similarity';
import { apiError } from '../errors';
import type { Logger } from '../logger';
import type { ServingModel } from './model-registry';

/** How similar movies are computed; every field has a default. */
export interface SimilarMoviesOptions {
  /** Worker threads of each similarity pool. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Queries of at most this many accumulations (Σ_{u∈U_m} |I_u| over the movie's raters) run on
   * the event loop, where they take well under 0.1 ms; heavier ones run on the pool's worker
   * threads, whatever the size of the matrix. Default 20,000: a request may ask for up to 30
   * aliases or a page of 100 movies' similar movies, and all of it together must stay far below
   * the 50 ms an event-loop turn may take (950 inline PEARSON queries on the default data held
   * the loop 1.95 s when every matrix up to 1M ratings was served inline).
   */
  maxInlineWork?: number;
  /**
   * A u16 copy of the matrix's movie indices for the pool's kernels (2 B/rating, only when the
   * matrix has at most 65,536 movies; see SimilarityPoolOptions.narrowMovieIndices): less memory
   * traffic per query (100M Netflix Prize, 2 threads: about a third less CPU per similar-movie
   * query), segmented by rating code where it fits (at most 10 codes, as the Prize's 5: +2 B per
   * user and code; cosine, pearson and pearson-baseline another 24–29 % less CPU per query).
   * Default true; false: the pool reads the matrix's own arrays, no copy.
   */
  narrowMovieIndices?: boolean;
}

/** The life of one similarity pool, for monitoring and tests (no reference to the pool itself, so that a closed pool's shared memory can be freed). */
export interface SimilarityPoolRecord {
  modelId: string;
  /**
   * Where pearson-baseline's baselines came from: the model's own biases (μ, b_u, b_i of every
   * biased model), or an ALS fit (`fitBaselinesAls`) on a pool worker before the pool served.
   */
  baselines: 'model' | 'fitted';
  threads: number;
  /** Whether its workers read the matrix's own arrays in place (SimilarityPool.sharesMatrix), or a copy. */
  sharesMatrix: boolean;
  /** Bytes per movie index its kernels stream (SimilarityPool.movieIndexBytes): 2 with `narrowMovieIndices` up to 65,536 movies, else 4. */
  movieIndexBytes: 2 | 4;
  /** Seconds to start it (placing the matrix: in place or a copy, see SimilarityPool.sharesMatrix; starting the workers, the baselines). */
  startSeconds: number;
  /** Seconds of those spent on the baselines (copying the model's, or the fit). */
  baselinesSeconds: number;
  /** True once `close()` resolved: its queued queries were answered and its workers exited. */
  closed: boolean;
}

/** What the similarity of the active model is doing. */
export interface SimilarMoviesStats {
  modelId: string | null;
  /** `pool`: a SimilarityPool (every matrix gets one; null before the first model). */
  mode: 'pool' | null;
  /** pearson-baseline's baselines: being fitted (the pool does not serve yet), or ready. */
  baselines: 'none' | 'fitting' | 'ready';
  /** Queries answered on the event loop and on the worker threads. */
  inlineQueries: number;
  workerQueries: number;
}

const DEFAULT_MAX_INLINE_WORK = 20_000;
/** Pool records kept. */
const KEEP_RECORDS = 32;

interface Settings {
  threads: number;
  maxInlineWork: number;
  narrowMovieIndices: boolean;
  logger: Logger;
  record(r: SimilarityPoolRecord): void;
}

/**
 * The similar-movie queries of the API, over the active model's training matrix, without
 * blocking the event loop at any size:
 *
 * - each model's matrix gets a {@link SimilarityPool} when the model becomes active: its workers
 *   read the matrix's own arrays in place when they lie in one shared WebAssembly memory (a
 *   snapshot's, read by readContainer: no copy, the pool adds about 6 MB of working space at
 *   100M), else the pool copies the matrix into a memory of its own (chunk by chunk, between
 *   turns of the event loop; about 8 B/rating); the lightest queries (≤ `maxInlineWork`) run inline, all others on worker threads
 *   (results identical to `SimilarityScorer`'s for jaccard, cosine and pearson, and within POOL_PEARSON_BASELINE_TOLERANCE
 *   for pearson-baseline);
 * - pearson-baseline's baselines b_ui = μ + b_u + b_i come with the model: its own biases (every
 *   served model is biased), else an ALS fit (`SimilarityPool.fitBaselines`) on a pool worker;
 *   either way before the pool serves, never on a query;
 * - a query whose caller gave up (its `signal` aborted, e.g. the operation's time budget) before
 *   it ran is dropped from the queue.
 *
 * When another model becomes active, the previous model's pools are closed once its in-flight
 * queries are answered; `close()` closes everything (at server shutdown).
 */
/**
 * A model's similarity pool was closed before it had started: the server is stopping, or another
 * model was activated meanwhile. Not a failure; the server logs it at info level.
 */
export class SimilarityClosedWhileStarting extends Error {
  constructor(readonly modelId: string) {
    super(`the similarity of model ${modelId} was closed while starting`);
    this.name = 'SimilarityClosedWhileStarting';
  }
}

export class SimilarMovies {
  private current: ModelSimilarity | null = null;
  private readonly retiring = new Set<Promise<void>>();
  private closed = false;
  private readonly poolRecords: SimilarityPoolRecord[] = [];
  private readonly settings: Settings;

  constructor(options: SimilarMoviesOptions, logger: Logger) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`similarity threads must be a positive integer, got ${threads}`);
    const maxInlineWork = options.maxInlineWork ?? DEFAULT_MAX_INLINE_WORK;
    if (!(maxInlineWork >= 0)) throw new RangeError(`similarity maxInlineWork must be a number ≥ 0, got ${maxInlineWork}`);
    this.settings = {
      threads,
      maxInlineWork,
      narrowMovieIndices: options.narrowMovieIndices ?? true,
      logger,
      record: (r) => {
        this.poolRecords.push(r);
        if (this.poolRecords.length > KEEP_RECORDS) this.poolRecords.shift();
      },
    };
  }

  /**
   * Serves `serving`'s training matrix from now on (nothing to do when it already does) and retires
   * the previous model's pools once their queries are answered. Resolves when the new pool is
   * ready (queries meanwhile wait for it); rejects when it could not start.
   */
  activate(serving: ServingModel): Promise<void> {
    if (this.closed) return Promise.reject(new Error('SimilarMovies is closed'));
    if (this.current?.modelId !== serving.id) {
      const previous = this.current;
      this.current = new ModelSimilarity(serving, this.settings);
      if (previous) {
        const retired = previous.close(false).catch((error: unknown) => this.settings.logger.error({ err: error, model: previous.modelId }, 'closing a similarity pool failed'));
        this.retiring.add(retired);
        void retired.finally(() => this.retiring.delete(retired));
      }
    }
    return this.current.ready;
  }

  /**
   * The k movies most similar to internal movie m of `serving`'s training matrix (see
   * `mostSimilar` of @recsys/similarity for the definitions): by the pool on worker threads, or
   * on the event loop when the query is very light. Rejects with `signal.reason` as soon as
   * `signal` aborts (the query is then dropped if it has not run yet).
   */
  mostSimilar(serving: ServingModel, m: number, k: number, metric: SimilarityMetric, minSupport: number, signal?: AbortSignal): Promise<Neighbour[]> {
    if (this.closed) return Promise.reject(apiError('SERVICE_UNAVAILABLE', 'the server is shutting down'));
    // The registry reports every swap; this catches a model made active without one (restored at startup).
    if (this.current?.modelId !== serving.id) void this.activate(serving).catch(() => undefined);
    const answer = this.current!.mostSimilar(m, k, metric, minSupport, signal);
    if (!signal) return answer;
    return new Promise<Neighbour[]>((resolve, reject) => {
      const abort = () => reject(signal.reason);
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  /** Resolves once every pool retired so far has closed (its queries answered, its workers exited). */
  async retired(): Promise<void> {
    await Promise.all([...this.retiring]);
  }

  /** The active model's similarity state. */
  stats(): SimilarMoviesStats {
    return this.current?.stats() ?? { modelId: null, mode: null, baselines: 'none', inlineQueries: 0, workerQueries: 0 };
  }

  /** The pools started so far (the last 32), oldest first. */
  pools(): SimilarityPoolRecord[] {
    return this.poolRecords.map((r) => ({ ...r }));
  }

  /**
   * Stops a running baselines fit (queries waiting for it fail), waits for the other queries,
   * then closes every pool and resolves once their workers have exited. Later queries fail with
   * SERVICE_UNAVAILABLE. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    await Promise.all([current?.close(true), ...this.retiring]);
  }
}

/**
 * pearson-baseline's baselines from the model's own biases (μ, b_u, b_i by internal index of its
 * training matrix), or null when it has none that fit the matrix.
 */
function modelBaselines(serving: ServingModel): Baselines | null {
  const b = serving.model.biases();
  const train = serving.train;
  if (!Number.isFinite(b.globalMean) || b.userBias.length !== train.nUsers || b.movieBias.length !== train.nMovies) return null;
  return b;
}

/** One training matrix's similarity: its pool. */
class ModelSimilarity {
  readonly modelId: string;
  /** Resolves when queries can be answered (the pool started, with its baselines). */
  readonly ready: Promise<void>;
  private readonly serving: ServingModel;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  private pool: SimilarityPool | null = null;
  /** The pool while it starts (closed by close() to stop a baselines fit). */
  private starting: SimilarityPool | null = null;
  private fitting = false;
  private closed = false;

  constructor(
    serving: ServingModel,
    private readonly settings: Settings,
  ) {
    this.modelId = serving.id;
    this.serving = serving;
    this.ready = this.start();
    // Queries report failures; this only keeps an unobserved rejection from crashing the process.
    this.ready.catch(() => undefined);
  }

  async mostSimilar(m: number, k: number, metric: SimilarityMetric, minSupport: number, signal?: AbortSignal): Promise<Neighbour[]> {
    if (this.closing) throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    this.inFlight++;
    try {
      await this.ready;
      return await this.pool!.mostSimilar(m, k, { metric, minSupport }, signal);
    } finally {
      if (--this.inFlight === 0 && this.drained) this.drained();
    }
  }

  stats(): SimilarMoviesStats {
    const counts = this.pool?.stats ?? { inline: 0, workers: 0 };
    const baselines = this.pool && !this.fitting ? 'ready' : this.fitting ? 'fitting' : 'none';
    return { modelId: this.modelId, mode: 'pool', baselines, inlineQueries: counts.inline, workerQueries: counts.workers };
  }

  /** Starts the pool over the model's matrix with the model's biases, or fits baselines in a worker first. */
  private async start(): Promise<void> {
    const { threads, maxInlineWork, narrowMovieIndices, logger } = this.settings;
    const started = performance.now();
    const fromModel = modelBaselines(this.serving);
    const copied = performance.now();
    const pool = await SimilarityPool.start(this.serving.train, { threads, maxInlineWork, narrowMovieIndices, baselines: fromModel ?? undefined });
    let baselinesSeconds = (copied - started) / 1000;
    this.starting = pool;
    try {
      if (this.closed) throw new SimilarityClosedWhileStarting(this.modelId);
      if (!fromModel) {
        this.fitting = true;
        const fitStarted = performance.now();
        await pool.fitBaselines();
        baselinesSeconds = (performance.now() - fitStarted) / 1000;
        logger.info({ model: this.modelId, seconds: baselinesSeconds }, 'pearson-baseline baselines fitted on a similarity pool worker');
      }
      await warmUp(pool, this.serving.train);
    } catch (error) {
      await pool.close();
      throw error;
    } finally {
      this.fitting = false;
      this.starting = null;
    }
    this.pool = pool;
    const record: SimilarityPoolRecord = {
      modelId: this.modelId,
      baselines: fromModel ? 'model' : 'fitted',
      threads,
      sharesMatrix: pool.sharesMatrix,
      movieIndexBytes: pool.movieIndexBytes,
      startSeconds: (performance.now() - started) / 1000,
      baselinesSeconds,
      closed: false,
    };
    this.settings.record(record);
    poolRecords.set(pool, record);
    logger.info({ model: this.modelId, ratings: this.serving.train.nRatings, threads, baselines: record.baselines, sharesMatrix: record.sharesMatrix, movieIndexBytes: record.movieIndexBytes, seconds: record.startSeconds }, 'similarity pool started');
  }

  private async closePool(pool: SimilarityPool): Promise<void> {
    await pool.close();
    const record = poolRecords.get(pool);
    if (record) record.closed = true;
    this.settings.logger.info({ model: this.modelId }, 'similarity pool closed');
  }

  /**
   * Refuses new queries, waits for those in flight (first stopping a baselines fit when
   * `abortFit`, so that the queries waiting for it fail at once), then closes the pool.
   */
  close(abortFit: boolean): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (abortFit) await this.starting?.terminate();
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      // Nobody waits for a fit still running: stop it (the start then closes its pool).
      await this.starting?.terminate();
      await this.ready.catch(() => undefined);
      const pool = this.pool;
      this.pool = null;
      if (pool) await this.closePool(pool);
    })();
    return this.closing;
  }
}

/** The record of each live pool (weak: a closed pool is freed with its shared memory). */
const poolRecords = new WeakMap<SimilarityPool, SimilarityPoolRecord>();

/**
 * One query per metric on the most-rated movie before the pool serves: a WebAssembly kernel's
 * first call runs in V8's baseline tier (Liftoff) to its end, and only later calls get the
 * optimised code, so without this the first query of each metric after a model swap took 2–5×
 * its usual time (100M: pearson-baseline 327 ms against a p50 of 65 ms).
 */
async function warmUp(pool: SimilarityPool, train: RatingMatrix): Promise<void> {
  if (train.nMovies < 2) return;
  const most = train.mostRatedMovie();
  for (const metric of SIMILARITY_METRICS) await pool.mostSimilar(most, 10, { metric, minSupport: 0 });
}
