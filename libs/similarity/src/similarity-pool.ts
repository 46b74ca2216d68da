import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MatrixArrays, whenWorkerReady, workerScript } from '@recsys/core';
import type { Baselines } from './baselines';
import {
  checkMovieIndex,
  Neighbour,
  resolveSimilarityOptions,
  ResolvedSimilarityOptions,
  SimilarityMetric,
  SIMILARITY_METRICS,
  SimilarityOptions,
} from './similarity';
import {
  accumulateQuery,
  checkK,
  collectTouched,
  MAX_STRIDE,
  NeighbourSelector,
  neighboursOf,
  raterWork,
  strideOf,
} from './similarity-kernels';
import {
  COMMAND_ACCUMULATE,
  COMMAND_FIT_BASELINES,
  COMMAND_STOP,
  CONTROL,
  CONTROL_SLOTS,
  SimilarityPoolWorkerInput,
} from './similarity-pool-protocol';
import { placeMatrix } from './similarity-placement';
import { codeWindows, momentsChunk, similarityWasmModule } from './similarity-wasm';

export interface SimilarityPoolOptions extends SimilarityOptions {
  /** Worker threads. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Queries of at most this many accumulations (Σ_{u∈U_m} |I_u|) run on the calling thread,
   * where they take a few milliseconds at most, cheaper than the round trip to the workers and
   * the merge of their accumulators. Default 1,000,000.
   */
  maxInlineWork?: number;
  /**
   * When the matrix lies in a shared WebAssembly memory (zero copy, see the class comment): also
   * keep a u16 copy of the CSR's movie indices (2 bytes per rating, up to 65,536 movies) for
   * kernels that stream 3 bytes per co-rating instead of 5. With at most 10 rating codes and 65,535
   * movies (the Netflix Prize: 5 codes, 17,770 movies) the copy is segmented: each user's row
   * ordered by rating code, with the end of each code's run (2 B per user and code more), so that
   * the kernels stream 2 bytes per co-rating and add one constant per run (measured at 100M on the
   * most-rated movie, 2 threads, CPU per query: cosine 95 → 60 ms, pearson-baseline 171 → 88; see
   * the README). Default false: no copy at all.
   */
  narrowMovieIndices?: boolean;
  /** With `narrowMovieIndices`: false keeps the plain u16 copy (rows in the matrix's order) even where a segmented one fits, for comparisons. Default true. */
  segmentMovieIndices?: boolean;
}

/** Per-query overrides of the pool's defaults (those given to `SimilarityPool.start`). */
export interface SimilarityQueryOptions {
  metric?: SimilarityMetric;
  minSupport?: number;
  shrinkage?: number;
}

/** Counts of the queries answered so far, by where they ran. */
export interface SimilarityPoolStats {
  /** On the calling thread (light queries). */
  inline: number;
  /** Split over the worker threads. */
  workers: number;
}

/**
 * How far the pool's pearson-baseline similarities may lie from `mostSimilar`'s (f64) ones: the
 * f32 sums' rounding (see the class comment). Similarities lie in [−1, 1].
 */
export const POOL_PEARSON_BASELINE_TOLERANCE = 1e-6;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** `Atomics.waitAsync` (Node ≥ 16; not in the ES2022 lib typings). */
function waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult {
  return (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync(array, index, value);
}

/**
 * `mostSimilar` split over worker threads, for one query on a heavy movie in well under the
 * single-threaded time. The kernels (WebAssembly) see one linear memory, which must hold the
 * matrix, the baselines and one accumulator region per worker:
 *
 * - zero copy: when the matrix's arrays lie in one shared WebAssembly memory (a snapshot read by
 *   `readSnapshot`, which reads into one: `sharedBuffer` of @recsys/core), the workers read the
 *   matrix's own arrays there (movie indices as i32; `narrowMovieIndices` adds a u16 copy of
 *   them, 2 bytes per rating) and the memory grows by the pool's working space only (baselines and
 *   accumulators, about 6 MB at the Netflix Prize's size), given back when the pool closes;
 * - otherwise the arrays are copied once into a memory of the pool's own (chunk by chunk, one per
 *   turn of the event loop; the movie indices as u16 up to 65,536 movies: about 8 bytes per
 *   rating in all). `sharesMatrix` says which.
 *
 * A query on m splits m's raters
 * into `threads` contiguous CSC ranges of equal work (Σ |I_u|); each worker runs the metric's
 * WebAssembly kernel (assembly/similarity.ts) over its range into its region; the calling thread
 * then adds the regions into the first (zeroing the others), and scores and selects the top k with
 * SimilarityScorer's own selection code. The kernels:
 *
 * - jaccard: one i32 increment per rating of a rater (as the TypeScript kernel);
 * - cosine and pearson: packed accumulators per rating code x of m, and one u64 add per rating
 *   packing (1, y, y²) into x's, flushed into the f64 sums at the end: one 8-byte touch instead of
 *   four or six f64 ones, in one pass, with exactly the same (integer) sums;
 * - pearson-baseline: one f32x4 (SIMD) add per rating into f32 partial sums, flushed into f64 ones.
 *
 * Queries are posted through a shared control array (Atomics.notify to the workers,
 * Atomics.waitAsync on the calling thread, so its event loop stays free): measured here, a round
 * trip of an empty query to 2 workers takes about 40 µs at the median against 42–49 µs by
 * postMessage, with a tighter tail.
 *
 * Light queries (≤ `maxInlineWork` accumulations) run directly on the calling thread, with the
 * plain TypeScript kernels of SimilarityScorer over the same views. Heavy queries are serialised
 * (a FIFO queue), so callers may fire many at once.
 *
 * Results equal `mostSimilar(matrix, m, k, options)`: identical for jaccard, cosine and pearson
 * (their sums are sums of small integers, exact in float64 whatever the order). For
 * pearson-baseline the workers' kernel sums in f32 (one f32x4 add per rating, flushed into f64
 * sums every PEARSON_BASELINE_FLUSH_RATERS raters; measured 1.3–1.5× less CPU per query than
 * the exact f64 kernel at 10M), so similarities differ from the f64 reference by f32 rounding:
 * within {@link POOL_PEARSON_BASELINE_TOLERANCE} on the specs' data (observed ≤ 1e-7), the
 * supports exactly; the split is deterministic, so the pool itself always gives the same answer.
 *
 * pearson-baseline needs baselines: pass `baselines` to `start` or to `setBaselines` (the API
 * passes the model's biases), or have a worker fit them with `fitBaselines()`; otherwise the first
 * pearson-baseline query fits them with `fitBaselinesAls`'s defaults on the calling thread.
 *
 * Measured: see tools/bench/similarity-bench.ts (`npm run bench:similarity`) and the README.
 *
 * Call `close()` when done: the workers keep the process alive until then.
 */
/** Each matrix's per-movie query work (keyed by its CSC user indices: the same arrays, the same work). */
const movieWorkTables = new WeakMap<Int32Array, Promise<Float64Array>>();
/** Raters visited per slice of {@link movieWorkOf} before it yields to the event loop (~2–4 ms). */
const MOVIE_WORK_SLICE = 1 << 20;

/**
 * Σ_{u∈U_m} |I_u| for every movie m (what a query on m costs, which decides inline or workers):
 * one pass over every rating, about 0.3 s at 100M, so it is computed once per matrix (every pool
 * over the same arrays, e.g. each retrain's model over the API's matrix, reuses it) and in
 * slices of ~1M raters between turns of the event loop, so that starting a pool never stalls
 * the queries being served meanwhile.
 */
export function movieWorkOf(matrix: MatrixArrays): Promise<Float64Array> {
  let table = movieWorkTables.get(matrix.movieUsers);
  if (table === undefined) {
    table = (async () => {
      const nM = matrix.nMovies;
      const work = new Float64Array(nM);
      let sinceYield = 0;
      for (let m = 0; m < nM; m++) {
        const from = matrix.moviePtr[m];
        const to = matrix.moviePtr[m + 1];
        work[m] = raterWork(matrix, from, to);
        sinceYield += to - from;
        if (sinceYield >= MOVIE_WORK_SLICE) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      return work;
    })();
    movieWorkTables.set(matrix.movieUsers, table);
  }
  return table;
}

export class SimilarityPool {
  readonly threads: number;
  readonly maxInlineWork: number;
  /**
   * Whether the workers read the matrix's own arrays in its shared WebAssembly memory (no copy), or
   * a copy of the pool's own (a matrix outside such a memory).
   */
  readonly sharesMatrix: boolean;
  /** Bytes per movie index the kernels stream: 2 (a u16 copy, see `narrowMovieIndices`) or 4 (the matrix's own i32). */
  readonly movieIndexBytes: 2 | 4;
  /** Whether the u16 copy is segmented by rating code (see `narrowMovieIndices`). */
  readonly segmented: boolean;
  /** Defaults of every query. */
  readonly defaults: Readonly<Required<SimilarityQueryOptions>>;

  /** The caller's matrix: light queries run on it (the workers read the copy in the shared memory). */
  private readonly matrix: MatrixArrays;
  /** Σ_{u∈U_m} |I_u| per movie: the cost of a query, and what the split balances. */
  private readonly movieWork: Float64Array;
  private readonly control: Int32Array;
  private readonly ranges: Uint32Array;
  /** Baselines over the shared buffer the workers read (null until known). */
  private baselines: Baselines | null = null;
  private readonly baselineValues: Float64Array;
  /** Selection over the first worker's region, where the regions are merged. */
  private readonly mergedSelector: NeighbourSelector;
  /** Views of the other workers' regions. */
  private readonly otherCounts: Int32Array[];
  private readonly otherSums: Float64Array[];
  /** Own accumulators for inline queries. */
  private readonly inlineSelector: NeighbourSelector;
  private readonly workers: Worker[];
  private readonly exited: Promise<void>[];
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private readonly counters: SimilarityPoolStats = { inline: 0, workers: 0 };

  private constructor(
    matrix: MatrixArrays,
    defaults: ResolvedSimilarityOptions,
    baselines: Baselines | null,
    threads: number,
    maxInlineWork: number,
    input: Omit<SimilarityPoolWorkerInput, 'worker'>,
    workers: Worker[],
    exited: Promise<void>[],
    shared: boolean,
    movieWork: Float64Array,
  ) {
    this.matrix = matrix;
    this.sharesMatrix = shared;
    this.movieIndexBytes = input.layout.movieIndexBytes;
    this.segmented = input.layout.segmented;
    this.defaults = { metric: defaults.metric, minSupport: defaults.minSupport, shrinkage: defaults.shrinkage };
    this.threads = threads;
    this.maxInlineWork = maxInlineWork;
    this.workers = workers;
    this.exited = exited;
    const nM = matrix.nMovies;
    const l = input.layout;
    const buffer = input.memory.buffer;
    this.control = new Int32Array(input.control);
    this.ranges = new Uint32Array(input.ranges);
    this.baselineValues = new Float64Array(buffer, l.baselines, 1 + l.nUsers + l.nMovies);
    if (baselines !== null) this.setBaselines(baselines);

    this.movieWork = movieWork;

    const region = (w: number) => ({
      counts: new Int32Array(buffer, l.accumulators + w * l.regionBytes, nM),
      sums: new Float64Array(buffer, l.accumulators + w * l.regionBytes, l.regionBytes / 8),
    });
    const first = region(0);
    this.mergedSelector = new NeighbourSelector(matrix.moviePtr, nM, first.counts, first.sums, new Int32Array(nM));
    const others = Array.from({ length: threads - 1 }, (_, i) => region(i + 1));
    this.otherCounts = others.map((r) => r.counts);
    this.otherSums = others.map((r) => r.sums);
    this.inlineSelector = new NeighbourSelector(
      matrix.moviePtr,
      nM,
      new Int32Array(nM),
      new Float64Array(nM * MAX_STRIDE),
      new Int32Array(nM),
    );

    for (const worker of workers) {
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (this.closing === null) this.fail(new Error(`similarity pool worker stopped unexpectedly with exit code ${code}`));
      });
    }
  }

  /**
   * Starts `threads` workers (default `os.availableParallelism()`) over the matrix in shared
   * memory and resolves once they wait for queries. `options` are the defaults of every query
   * (metric `'jaccard'`, minSupport 0, shrinkage 100, as `mostSimilar`'s).
   */
  static async start(matrix: MatrixArrays, options: SimilarityPoolOptions = {}): Promise<SimilarityPool> {
    const defaults = resolveSimilarityOptions(matrix, options);
    // Given baselines are kept (and checked) whatever the default metric, for later queries.
    const baselines =
      defaults.baselines ?? (options.baselines ? resolveSimilarityOptions(matrix, { metric: 'pearson-baseline', baselines: options.baselines }).baselines : null);
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const maxInlineWork = options.maxInlineWork ?? 1_000_000;
    if (!(maxInlineWork >= 0)) throw new RangeError(`maxInlineWork must be a number ≥ 0, got ${maxInlineWork}`);

    const movieWork = await movieWorkOf(matrix);
    const module = similarityWasmModule();
    const { memory, layout, present, shared, release } = await placeMatrix(
      matrix,
      threads,
      MAX_STRIDE,
      options.narrowMovieIndices ?? false,
      options.segmentMovieIndices ?? true,
    );
    const input: Omit<SimilarityPoolWorkerInput, 'worker'> = {
      module,
      memory,
      layout,
      threads,
      control: new SharedArrayBuffer(4 * CONTROL_SLOTS),
      ranges: new SharedArrayBuffer(8 * threads),
      chunk: momentsChunk(present),
      windows: codeWindows(memory, layout, present),
    };

    const { filename, options: workerOptions } = workerScript(__dirname, 'similarity-pool-worker');
    const workers: Worker[] = [];
    const exited: Promise<void>[] = [];
    const ready: Promise<void>[] = [];
    for (let w = 0; w < threads; w++) {
      const worker = new Worker(filename, { ...workerOptions, workerData: { ...input, worker: w } satisfies SimilarityPoolWorkerInput });
      workers.push(worker);
      exited.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
      ready.push(whenWorkerReady(worker, `similarity pool worker ${w}`));
    }
    // The pool's part of a shared memory is given back once every worker has exited.
    void Promise.all(exited).then(release);
    try {
      await Promise.all(ready);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return new SimilarityPool(matrix, defaults, baselines, threads, maxInlineWork, input, workers, exited, shared, movieWork);
  }

  /**
   * The k movies most similar to internal movie m, sorted by (similarity desc, external id desc):
   * the same as `mostSimilar(matrix, m, k, options)` with `options` over the pool's defaults (see
   * the class comment for pearson-baseline's last bits). Rejects on an unknown movie, bad k or
   * options, or a closed pool; with `signal.reason` when `signal` aborts before the query ran.
   */
  async mostSimilar(m: number, k: number, options: SimilarityQueryOptions = {}, signal?: AbortSignal): Promise<Neighbour[]> {
    if (this.closing !== null) throw new Error('SimilarityPool is closed');
    signal?.throwIfAborted();
    if (this.failure !== null) throw this.failure;
    const matrix = this.matrix;
    checkMovieIndex(m, matrix.nMovies);
    checkK(k);
    const o = this.resolve(options);
    const cap = Math.min(k, matrix.nMovies);
    if (cap === 0) return [];
    if (this.movieWork[m] <= this.maxInlineWork) {
      this.counters.inline++;
      const s = this.inlineSelector;
      s.reserve(cap);
      const nTouched = accumulateQuery(o.metric, matrix, o.baselines, m, this.movieWork[m], s.counts, s.sums, s.touched);
      return neighboursOf(s, s.select(o, m, cap, nTouched));
    }
    // A query whose caller gave up while it waited in the queue is dropped, not run.
    const result = this.queue.then(() => {
      signal?.throwIfAborted();
      return this.runOnWorkers(o, m, cap);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Fits pearson-baseline's baselines (`fitBaselinesAls`'s defaults: ALS, 10 iterations) on a
   * worker thread over the shared copy, queued with the heavy queries (those asked after it wait
   * for it), and uses them from then on. The calling thread only waits (Atomics.waitAsync).
   */
  fitBaselines(): Promise<void> {
    if (this.closing !== null) return Promise.reject(new Error('SimilarityPool is closed'));
    const result = this.queue.then(async () => {
      await this.command(COMMAND_FIT_BASELINES);
      const { nUsers, nMovies } = this.matrix;
      const values = this.baselineValues;
      this.baselines = { globalMean: values[0], userBias: values.subarray(1, 1 + nUsers), movieBias: values.subarray(1 + nUsers, 1 + nUsers + nMovies) };
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Whether pearson-baseline's baselines are known (given, set or fitted). */
  get hasBaselines(): boolean {
    return this.baselines !== null;
  }

  /** Queries answered so far, by where they ran. */
  get stats(): SimilarityPoolStats {
    return { ...this.counters };
  }

  /**
   * Waits for the queued queries, then stops the workers and resolves once they have exited.
   * Later queries reject. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        await this.queue;
        if (this.failure === null) {
          Atomics.store(this.control, CONTROL.COMMAND, COMMAND_STOP);
          Atomics.add(this.control, CONTROL.SEQUENCE, 1);
          Atomics.notify(this.control, CONTROL.SEQUENCE);
        } else {
          await Promise.all(this.workers.map((worker) => worker.terminate()));
        }
        await Promise.all(this.exited);
      })();
    }
    return this.closing;
  }

  /**
   * Stops the workers at once, a running query or baselines fit included: what is queued or
   * running rejects, and so do later queries. For shutting down without waiting (see `close`).
   */
  terminate(): Promise<void> {
    this.fail(new Error('SimilarityPool was terminated'));
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((worker) => worker.terminate()));
      await Promise.all(this.exited);
    })();
    return this.closing;
  }

  /** The query's options over the defaults; fits and shares baselines on first need. */
  private resolve(options: SimilarityQueryOptions): ResolvedSimilarityOptions {
    const d = this.defaults;
    const o = resolveSimilarityOptions(this.matrix, {
      metric: options.metric ?? d.metric,
      minSupport: options.minSupport ?? d.minSupport,
      shrinkage: options.shrinkage ?? d.shrinkage,
      baselines: this.baselines ?? undefined,
    });
    if (o.baselines !== null && this.baselines === null) this.setBaselines(o.baselines);
    return o.baselines === null ? o : { ...o, baselines: this.baselines };
  }

  /**
   * The baselines of pearson-baseline from now on (checked against the matrix): copied into the
   * shared memory the workers read. Call it between queries (e.g. before the pool serves), not
   * while a pearson-baseline query may run.
   */
  setBaselines(b: Baselines): void {
    resolveSimilarityOptions(this.matrix, { metric: 'pearson-baseline', baselines: b });
    const { nUsers, nMovies } = this.matrix;
    const values = this.baselineValues;
    values[0] = b.globalMean;
    values.set(b.userBias, 1);
    values.set(b.movieBias, 1 + nUsers);
    this.baselines = { globalMean: values[0], userBias: values.subarray(1, 1 + nUsers), movieBias: values.subarray(1 + nUsers, 1 + nUsers + nMovies) };
  }

  private async runOnWorkers(o: ResolvedSimilarityOptions, m: number, cap: number): Promise<Neighbour[]> {
    if (this.failure !== null) throw this.failure;
    this.counters.workers++;
    this.split(m);
    const control = this.control;
    control[CONTROL.MOVIE] = m;
    control[CONTROL.METRIC] = SIMILARITY_METRICS.indexOf(o.metric);
    await this.command(COMMAND_ACCUMULATE);

    const s = this.mergedSelector;
    s.reserve(cap);
    const nM = this.matrix.nMovies;
    let nTouched: number;
    if (o.metric === 'jaccard') {
      mergeInto(s.counts, this.otherCounts, nM);
      nTouched = collectTouched(s.counts, 1, nM, s.touched);
    } else {
      const stride = strideOf(o.metric);
      mergeInto(s.sums, this.otherSums, nM * stride);
      nTouched = collectTouched(s.sums, stride, nM, s.touched);
    }
    return neighboursOf(s, s.select(o, m, cap, nTouched));
  }

  /** Posts a command to every worker and resolves when all of them are done (the calling thread waits asynchronously). */
  private async command(command: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const control = this.control;
    control[CONTROL.COMMAND] = command;
    Atomics.store(control, CONTROL.DONE, 0);
    // Seq-cst: a worker that sees the new sequence number sees the command, the query and the ranges.
    Atomics.add(control, CONTROL.SEQUENCE, 1);
    Atomics.notify(control, CONTROL.SEQUENCE);
    for (;;) {
      const done = Atomics.load(control, CONTROL.DONE);
      if (done >= this.threads) break;
      if (this.failure !== null) throw this.failure;
      const wait = waitAsync(control, CONTROL.DONE, done);
      if (wait.async) await wait.value;
    }
    if (this.failure !== null) throw this.failure;
  }

  /** Cuts m's raters into `threads` contiguous CSC ranges of about equal work. */
  private split(m: number): void {
    const { moviePtr, movieUsers, userPtr } = this.matrix;
    const ranges = this.ranges;
    const threads = this.threads;
    const total = this.movieWork[m];
    const end = moviePtr[m + 1];
    let p = moviePtr[m];
    let work = 0;
    ranges[0] = p;
    for (let w = 1; w < threads; w++) {
      const target = (total * w) / threads;
      while (p < end && work < target) {
        const u = movieUsers[p++];
        work += userPtr[u + 1] - userPtr[u];
      }
      ranges[2 * w - 1] = p;
      ranges[2 * w] = p;
    }
    ranges[2 * threads - 1] = end;
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    // Wake a query waiting for the workers, so that it rejects instead of hanging.
    Atomics.notify(this.control, CONTROL.DONE);
  }
}

/** target[i] += each other[i] for i < length, zeroing the others: the regions in worker order. */
function mergeInto<A extends Int32Array | Float64Array>(target: A, others: A[], length: number): void {
  for (const other of others) {
    for (let i = 0; i < length; i++) {
      const v = other[i];
      if (v !== 0) {
        target[i] += v;
        other[i] = 0;
      }
    }
  }
}
