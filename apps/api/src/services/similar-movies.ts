import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MatrixArrays, workerScript } from '@recsys/core';
import { Baselines, Neighbour, SimilarityMetric, SimilarityPool } from '@recsys/similarity';
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
   * the event loop, where they take well under 0.1 ms; heavier ones run on the pool's worker
   * threads, whatever the size of the matrix. Default 20,000: a request may ask for up to 30
   * aliases or a page of 100 movies' similar movies, and all of it together must stay far below
   * the 50 ms an event-loop turn may take (950 inline PEARSON queries on the default data held
   * the loop 1.95 s when every matrix up to 1M ratings was served inline).
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
  /** `pool`: a SimilarityPool (every matrix gets one; null before the first model). */
  mode: 'pool' | null;
  /** pearson-baseline's baselines: not asked for yet, being fitted, or ready. */
  baselines: 'none' | 'fitting' | 'ready';
  /** Queries answered on the event loop and on the worker threads, over the pools of that model. */
  inlineQueries: number;
  workerQueries: number;
}

const DEFAULT_MAX_INLINE_WORK = 20_000;
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
 * blocking the event loop at any size:
 *
 * - each model's matrix gets a {@link SimilarityPool} when the model becomes active: the matrix
 *   goes to shared memory once, the lightest queries (≤ `maxInlineWork`) run inline, all others on
 *   worker threads (results identical to `SimilarityScorer`'s for jaccard, cosine and pearson, and
 *   within 1e-12 for pearson-baseline);
 * - pearson-baseline's ALS baselines are fitted in a worker thread on the first pearson-baseline
 *   query (that query and those after it wait), then a second pool is started over the same shared
 *   memory with them and replaces the first, which is closed;
 * - a query whose caller gave up (its `signal` aborted, e.g. the operation's time budget) before
 *   it ran is dropped from the queue.
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

/** One training matrix's similarity: its pools. */
class ModelSimilarity {
  readonly modelId: string;
  /** Resolves when queries can be answered (the first pool started). */
  readonly ready: Promise<void>;
  private readonly train: ServingModel['train'];
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

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
    this.ready = this.startPlain();
    // Queries report failures; this only keeps an unobserved rejection from crashing the process.
    this.ready.catch(() => undefined);
  }

  async mostSimilar(m: number, k: number, metric: SimilarityMetric, minSupport: number, signal?: AbortSignal): Promise<Neighbour[]> {
    if (this.closing) throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    this.inFlight++;
    try {
      if (metric === 'pearson-baseline') await this.baselinesReady();
      else if (!this.withBaselines) await this.ready;
      // Picked and asked in one synchronous step: a pool is closed only after it was replaced
      // here, and close() answers the queries already queued in it.
      const pool = this.withBaselines ?? this.plain!;
      return await pool.mostSimilar(m, k, { metric, minSupport }, signal);
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
    const baselines = this.withBaselines ? 'ready' : this.withBaselinesReady ? 'fitting' : 'none';
    return { modelId: this.modelId, mode: 'pool', baselines, inlineQueries, workerQueries };
  }

  private async startPlain(): Promise<void> {
    const started = performance.now();
    this.shared = await shareArrays(this.train);
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

/** Elements copied per turn of the event loop when sharing a matrix (1M: ~1 ms). */
const COPY_CHUNK = 1 << 20;

/**
 * The matrix arrays copied once into SharedArrayBuffers of their exact size, which
 * SimilarityPool and worker threads then use without copying again. The copy runs in chunks, one
 * per turn of the event loop (a 100M-rating matrix is ~1 GB to copy), so a model swap does not
 * hold the loop.
 */
async function shareArrays(matrix: MatrixArrays): Promise<MatrixArrays> {
  const share = async <A extends Uint32Array | Int32Array | Uint8Array>(a: A, make: (b: SharedArrayBuffer) => A): Promise<A> => {
    const copy = make(new SharedArrayBuffer(a.byteLength));
    for (let from = 0; from < a.length; from += COPY_CHUNK) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      copy.set(a.subarray(from, from + COPY_CHUNK), from);
    }
    return copy;
  };
  return {
    nUsers: matrix.nUsers,
    nMovies: matrix.nMovies,
    userPtr: await share(matrix.userPtr, (b) => new Uint32Array(b)),
    userMovies: await share(matrix.userMovies, (b) => new Int32Array(b)),
    userRatings: await share(matrix.userRatings, (b) => new Uint8Array(b)),
    moviePtr: await share(matrix.moviePtr, (b) => new Uint32Array(b)),
    movieUsers: await share(matrix.movieUsers, (b) => new Int32Array(b)),
    movieRatings: await share(matrix.movieRatings, (b) => new Uint8Array(b)),
  };
}
