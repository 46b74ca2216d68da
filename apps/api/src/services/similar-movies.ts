import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MatrixArrays, shareMatrixArrays, workerScript } from '@recsys/core';
import { Baselines, fitBaselinesAls, Neighbour, SimilarityMetric, SimilarityPool, SimilarityScorer } from '@recsys/similarity';
import { apiError } from '../errors';
import type { Logger } from '../logger';
import type { ServingModel } from './model-registry';
import type { BaselinesJob, BaselinesMessage } from './similar-movies-protocol';

/** How similar movies are computed; every field has a default. */
export interface SimilarMoviesOptions {
  /** Worker threads of each similarity pool. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Queries of at most this many accumulations (Σ_{u∈U_m} |I_u| over the movie's raters) run on
   * the event loop, where they take a few milliseconds at most; heavier ones run on the pool's
   * worker threads. A training matrix of at most this many ratings gets no pool at all (no query
   * can cost more than the matrix has ratings) and fits pearson-baseline's baselines on the event
   * loop (≈ 54 ms at 1M ratings). Default 1,000,000.
   */
  maxInlineWork?: number;
}

/** The life of one similarity pool, for monitoring and tests (no reference to the pool itself, so that a closed pool's shared memory can be freed). */
export interface SimilarityPoolRecord {
  modelId: string;
  /** Whether it holds pearson-baseline's baselines (the second pool of a model). */
  withBaselines: boolean;
  threads: number;
  /** Seconds to start it (copying the matrix into shared memory, starting the workers). */
  startSeconds: number;
  /** True once `close()` resolved: its queued queries were answered and its workers exited. */
  closed: boolean;
}

/** What the similarity of the active model is doing. */
export interface SimilarMoviesStats {
  modelId: string | null;
  /** `inline`: a small matrix, every query on the event loop; `pool`: a SimilarityPool. */
  mode: 'inline' | 'pool' | null;
  /** pearson-baseline's baselines: not asked for yet, being fitted, or ready. */
  baselines: 'none' | 'fitting' | 'ready';
  /** Queries answered on the event loop and on the worker threads, over the pools of that model. */
  inlineQueries: number;
  workerQueries: number;
}

const DEFAULT_MAX_INLINE_WORK = 1_000_000;
/** Scorers kept per model in inline mode (one per metric and minSupport). */
const SCORER_CACHE = 8;
/** Pool records kept. */
const KEEP_RECORDS = 32;

interface Settings {
  threads: number;
  maxInlineWork: number;
  logger: Logger;
  record(r: SimilarityPoolRecord): void;
}

/**
 * The similar-movie queries of the API, over the active model's training matrix, without
 * blocking the event loop at Netflix scale:
 *
 * - a matrix of more than `maxInlineWork` ratings gets a {@link SimilarityPool} when its model
 *   becomes active: the matrix goes to shared memory once, light queries run inline, heavy ones on
 *   worker threads (results identical to `SimilarityScorer`'s for jaccard, cosine and pearson, and
 *   within 1e-12 for pearson-baseline);
 * - pearson-baseline's ALS baselines are fitted in a worker thread on the first pearson-baseline
 *   query (that query and those after it wait), then a second pool is started over the same shared
 *   memory with them and replaces the first, which is closed;
 * - a smaller matrix is served by cached `SimilarityScorer`s on the event loop, as before.
 *
 * When another model becomes active, the previous model's pools are closed once its in-flight
 * queries are answered; `close()` closes everything (at server shutdown).
 */
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
   * `mostSimilar` of @recsys/similarity for the definitions): by the pool on worker threads when
   * the query is heavy, on the event loop when it is light or the matrix is small.
   */
  mostSimilar(serving: ServingModel, m: number, k: number, metric: SimilarityMetric, minSupport: number): Promise<Neighbour[]> {
    if (this.closed) return Promise.reject(apiError('SERVICE_UNAVAILABLE', 'the server is shutting down'));
    // The registry reports every swap; this catches a model made active without one (restored at startup).
    if (this.current?.modelId !== serving.id) void this.activate(serving).catch(() => undefined);
    return this.current!.mostSimilar(m, k, metric, minSupport);
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

/** One training matrix's similarity: cached scorers (small matrix) or pools (large). */
class ModelSimilarity {
  readonly modelId: string;
  readonly mode: 'inline' | 'pool';
  /** Resolves when queries can be answered (the first pool started). */
  readonly ready: Promise<void>;
  private readonly train: ServingModel['train'];
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  // inline mode
  private readonly scorers = new Map<string, SimilarityScorer>();
  private inlineBaselines: Baselines | null = null;

  // pool mode
  /** The matrix arrays in SharedArrayBuffers: shared by both pools and the baselines worker. */
  private shared: MatrixArrays | null = null;
  /** The pool without baselines (null once replaced by the one with them). */
  private plain: SimilarityPool | null = null;
  private withBaselines: SimilarityPool | null = null;
  private withBaselinesReady: Promise<void> | null = null;
  private baselinesWorker: Worker | null = null;
  /** Query counts of pools already closed. */
  private closedCounts = { inline: 0, workers: 0 };
  /** Pools replaced or shut, still closing: their counts stay in stats() until they move to closedCounts. */
  private closingPools = new Set<SimilarityPool>();

  constructor(
    serving: ServingModel,
    private readonly settings: Settings,
  ) {
    this.modelId = serving.id;
    this.train = serving.train;
    this.mode = this.train.nRatings > settings.maxInlineWork ? 'pool' : 'inline';
    this.ready = this.mode === 'pool' ? this.startPlain() : Promise.resolve();
    // Queries report failures; this only keeps an unobserved rejection from crashing the process.
    this.ready.catch(() => undefined);
  }

  async mostSimilar(m: number, k: number, metric: SimilarityMetric, minSupport: number): Promise<Neighbour[]> {
    if (this.closing) throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    if (this.mode === 'inline') return this.scorer(metric, minSupport).mostSimilar(m, k);
    this.inFlight++;
    try {
      if (metric === 'pearson-baseline') await this.baselinesReady();
      else if (!this.withBaselines) await this.ready;
      // Picked and asked in one synchronous step: a pool is closed only after it was replaced
      // here, and close() answers the queries already queued in it.
      const pool = this.withBaselines ?? this.plain!;
      return await pool.mostSimilar(m, k, { metric, minSupport });
    } finally {
      if (--this.inFlight === 0 && this.drained) this.drained();
    }
  }

  stats(): SimilarMoviesStats {
    let inlineQueries = this.closedCounts.inline;
    let workerQueries = this.closedCounts.workers;
    for (const pool of [this.plain, this.withBaselines, ...this.closingPools]) {
      if (!pool) continue;
      inlineQueries += pool.stats.inline;
      workerQueries += pool.stats.workers;
    }
    const baselines =
      this.withBaselines || this.inlineBaselines ? 'ready' : this.withBaselinesReady ? 'fitting' : 'none';
    return { modelId: this.modelId, mode: this.mode, baselines, inlineQueries, workerQueries };
  }

  /** Inline mode: a cached scorer per (metric, minSupport), sharing one baselines fit. */
  private scorer(metric: SimilarityMetric, minSupport: number): SimilarityScorer {
    const key = `${metric}:${minSupport}`;
    let scorer = this.scorers.get(key);
    if (scorer) {
      // Most recently used last.
      this.scorers.delete(key);
    } else {
      if (metric === 'pearson-baseline') this.inlineBaselines ??= fitBaselinesAls(this.train);
      scorer = new SimilarityScorer(this.train, { metric, minSupport, baselines: this.inlineBaselines ?? undefined });
      while (this.scorers.size >= SCORER_CACHE) this.scorers.delete(this.scorers.keys().next().value as string);
    }
    this.scorers.set(key, scorer);
    return scorer;
  }

  private async startPlain(): Promise<void> {
    const started = performance.now();
    this.shared = shareMatrixArrays(this.train);
    this.plain = await this.startPool(undefined, started);
  }

  private async startPool(baselines: Baselines | undefined, started: number): Promise<SimilarityPool> {
    const { threads, maxInlineWork, logger } = this.settings;
    const pool = await SimilarityPool.start(this.shared!, { threads, maxInlineWork, baselines });
    const record: SimilarityPoolRecord = { modelId: this.modelId, withBaselines: baselines !== undefined, threads, startSeconds: (performance.now() - started) / 1000, closed: false };
    this.settings.record(record);
    logger.info({ model: this.modelId, ratings: this.train.nRatings, threads, withBaselines: record.withBaselines, seconds: record.startSeconds }, 'similarity pool started');
    poolRecords.set(pool, record);
    return pool;
  }

  /** Fits the baselines in a worker on first need, then swaps in a pool that holds them. */
  private baselinesReady(): Promise<void> {
    if (!this.withBaselinesReady) {
      const attempt = (async () => {
        await this.ready;
        const started = performance.now();
        const baselines = await this.fitBaselines();
        const fitSeconds = (performance.now() - started) / 1000;
        this.settings.logger.info({ model: this.modelId, seconds: fitSeconds }, 'pearson-baseline baselines fitted in a worker thread');
        const pool = await this.startPool(baselines, performance.now());
        // The new pool answers every metric from now on; the first one is no longer needed.
        const plain = this.plain;
        this.withBaselines = pool;
        this.plain = null;
        if (plain) void this.closePool(plain);
      })();
      this.withBaselinesReady = attempt;
      attempt.catch((error: unknown) => {
        // The next pearson-baseline query tries again (unless shutting down).
        if (this.withBaselinesReady === attempt) this.withBaselinesReady = null;
        if (!this.closing) this.settings.logger.error({ err: error, model: this.modelId }, 'fitting the pearson-baseline baselines failed');
      });
    }
    return this.withBaselinesReady;
  }

  private fitBaselines(): Promise<Baselines> {
    const script = workerScript(__dirname, 'baselines-worker');
    const worker = new Worker(script.filename, { ...script.options, workerData: { matrix: this.shared! } satisfies BaselinesJob });
    this.baselinesWorker = worker;
    return new Promise<Baselines>((resolve, reject) => {
      worker.once('message', (message: BaselinesMessage) => {
        if (message.type === 'done') resolve({ globalMean: message.globalMean, userBias: message.userBias, movieBias: message.movieBias });
        else reject(new Error(`fitting the baselines of model ${this.modelId}: ${message.message}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the baselines worker of model ${this.modelId} stopped with exit code ${code}`)));
    }).finally(() => {
      if (this.baselinesWorker === worker) this.baselinesWorker = null;
      void worker.terminate();
    });
  }

  private async closePool(pool: SimilarityPool): Promise<void> {
    this.closingPools.add(pool);
    try {
      await pool.close();
    } finally {
      this.closingPools.delete(pool);
      this.closedCounts.inline += pool.stats.inline;
      this.closedCounts.workers += pool.stats.workers;
    }
    const record = poolRecords.get(pool);
    if (record) record.closed = true;
    this.settings.logger.info({ model: this.modelId, withBaselines: record?.withBaselines }, 'similarity pool closed');
  }

  /**
   * Refuses new queries, waits for those in flight (first stopping a baselines fit when
   * `abortFit`, so that the queries waiting for it fail at once), then closes the pools.
   */
  close(abortFit: boolean): Promise<void> {
    this.closing ??= (async () => {
      if (abortFit) await this.baselinesWorker?.terminate();
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      // Nobody waits for a fit still running: stop it.
      await this.baselinesWorker?.terminate();
      await Promise.all([this.ready.catch(() => undefined), this.withBaselinesReady?.catch(() => undefined)]);
      const pools = [this.plain, this.withBaselines].filter((p): p is SimilarityPool => p !== null);
      this.plain = null;
      this.withBaselines = null;
      await Promise.all(pools.map((p) => this.closePool(p)));
    })();
    return this.closing;
  }
}

/** The record of each live pool (weak: a closed pool is freed with its shared memory). */
const poolRecords = new WeakMap<SimilarityPool, SimilarityPoolRecord>();
