import { derive, deriveSeed, WASM_MAX_PAGES, WASM_PAGE_BYTES } from '@recsys/core';
import type { RatingMatrix } from '@recsys/data';
import { Backend, logBackend, resolveBackend } from '../../backend';
import { ChunkWorkerPool } from '../../latent/als/pool';
import { memoryPlan } from '../../latent/sgd/layout';
import { wasmApi, WasmMemory } from '../../wasm';
import type { RankingFactors } from '../factor-ranking-model';
import { BPR_STATE, BPR_WASM_PATH, BprKernel, bprWasmModule, referenceBprKernel, wasmBprKernel } from './kernel';
import { BPR_CONTROL, BprLayout, BprStepParams, BprWorkerInput, BprWorkerRequest, runThreadEpoch } from './protocol';

/** How {@link createBprTrainer} lays out and samples. */
export interface BprTrainerOptions {
  /** k ≥ 1. */
  factors: number;
  /** A stored value v is a positive when v ≥ minWeight (0 keeps every entry). */
  minWeight: number;
  /** β: negatives drawn with probability ∝ (positives of the movie)^β; 0 is uniform over all movies. */
  negativeSampling: number;
  seed: number;
  /** Ranges of users, one per thread: the calling thread and threads − 1 workers (wasm only). */
  threads: number;
  /** P and Q start N(0, initStd²); b starts 0. */
  initStd: number;
  backend: Backend;
  /** Bytes left free at the end of the memory (`layout.bytes` − extraBytes is their offset): scratch for tests. */
  extraBytes?: number;
}

/** Entries of the popularity table (each movie about its share of them). */
export const BPR_TABLE_ENTRIES = 1 << 20;

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/** The positives by user: row u holds the movies of u's entries with value ≥ minWeight, ascending. */
function positives(train: RatingMatrix, minWeight: number): { ptr: Uint32Array; count: number } {
  const ptr = new Uint32Array(train.nUsers + 1);
  const minCode = minWeight * 2;
  let count = 0;
  for (let u = 0; u < train.nUsers; u++) {
    for (let e = train.userPtr[u]; e < train.userPtr[u + 1]; e++) if (train.userRatings[e] >= minCode) count++;
    ptr[u + 1] = count;
  }
  return { ptr, count };
}

/** threads + 1 user boundaries cutting the positives into ranges of about equal counts. */
function userRanges(ptr: Uint32Array, nUsers: number, threads: number): number[] {
  const from = [0];
  const total = ptr[nUsers];
  let u = 0;
  for (let t = 1; t < threads; t++) {
    const target = (total * t) / threads;
    while (u < nUsers && ptr[u] < target) u++;
    from.push(u);
  }
  from.push(nUsers);
  return from;
}

/** Plans the buffer for `train` (see {@link BprLayout}). */
export function planBprLayout(train: RatingMatrix, options: BprTrainerOptions, ptr: Uint32Array): BprLayout {
  const kp = Math.ceil(options.factors / 4) * 4;
  const nPositives = ptr[train.nUsers];
  const tableLen = options.negativeSampling > 0 ? BPR_TABLE_ENTRIES : 0;
  const plan = memoryPlan();
  const take = plan.take;
  const userFrom = userRanges(ptr, train.nUsers, options.threads);
  const samples = userFrom.slice(1).map((to, t) => ptr[to] - ptr[userFrom[t]]);
  const layout = {
    nUsers: train.nUsers,
    nMovies: train.nMovies,
    nPositives,
    factors: options.factors,
    kp,
    P: take(train.nUsers * kp * 4),
    Q: take(train.nMovies * kp * 4),
    bias: take(train.nMovies * 4),
    ptr: take((train.nUsers + 1) * 4),
    movies: take(nPositives * 4),
    owners: take(nPositives * 4),
    table: take(tableLen * 4),
    tableLen,
    states: take(options.threads * BPR_STATE.bytes),
    control: take(BPR_CONTROL.length * 4),
    userFrom,
    samples,
    bytes: 0,
  };
  layout.bytes = plan.end() + align16(options.extraBytes ?? 0);
  return layout;
}

/** Writes the positives' movies, the popularity table, the thread states and the initial factors. */
function fillMemory(buffer: ArrayBuffer | SharedArrayBuffer, layout: BprLayout, train: RatingMatrix, ptr: Uint32Array, options: BprTrainerOptions): void {
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32.set(ptr, layout.ptr >>> 2);
  const minCode = options.minWeight * 2;
  const counts = new Float64Array(train.nMovies);
  for (let u = 0, at = 0; u < train.nUsers; u++) {
    for (let e = train.userPtr[u]; e < train.userPtr[u + 1]; e++) {
      if (train.userRatings[e] < minCode) continue;
      const m = train.userMovies[e];
      u32[(layout.movies >>> 2) + at] = m;
      u32[(layout.owners >>> 2) + at++] = u;
      counts[m]++;
    }
  }
  if (layout.tableLen > 0) {
    // Movie m takes the entries from ⌊C_{m−1}·L/C⌋ to ⌊C_m·L/C⌋, C_m the running sum of count^β.
    let total = 0;
    for (let m = 0; m < counts.length; m++) total += counts[m] > 0 ? Math.pow(counts[m], options.negativeSampling) : 0;
    let cumulative = 0;
    let entry = 0;
    const table = layout.table >>> 2;
    for (let m = 0; m < counts.length; m++) {
      if (counts[m] > 0) cumulative += Math.pow(counts[m], options.negativeSampling);
      const end = m === counts.length - 1 ? layout.tableLen : Math.floor((cumulative / total) * layout.tableLen);
      for (; entry < end; entry++) u32[table + entry] = m;
    }
  }
  for (let t = 0; t < layout.samples.length; t++) {
    u32[(layout.states + t * BPR_STATE.bytes + BPR_STATE.rng) >>> 2] = deriveSeed(options.seed, `bpr-sampler-${t}`) || 1;
  }
  const random = derive(options.seed, 'bpr-init');
  const { factors: k, kp } = layout;
  const initStd = options.initStd;
  for (const [offset, rows] of [
    [layout.P, layout.nUsers],
    [layout.Q, layout.nMovies],
  ] as const) {
    for (let r = 0, row = offset >>> 2; r < rows; r++, row += kp) for (let f = 0; f < k; f++) f32[row + f] = initStd * random.normal();
  }
}

/** One epoch's sampled figures: mean −ln σ(x̂_uij), the share of samples with x̂_uij > 0 (the AUC estimate), samples skipped. */
export interface BprEpochStats {
  loss: number;
  auc: number;
  skipped: number;
}

/**
 * Sets up BPR on `train`: the positives (entries ≥ minWeight) by user, the factors and biases,
 * the popularity table for β > 0, in one buffer: a shared WebAssembly memory for the SIMD
 * kernel, else an ArrayBuffer for the TypeScript reference (one thread: its ranges run one after
 * another in the calling thread). Users are cut into `threads` contiguous ranges of about equal
 * positive counts; thread t draws its samples from its own range only, so each row of P is
 * written by one thread alone, and Q and b are shared without locks (Hogwild!, as LightFM and
 * implicit do): with tens of thousands of movies two threads rarely touch the same row at once,
 * and a lost update is one SGD step of noise. Sampling positives uniformly in each range, each
 * range as many as it holds, keeps the epoch's positives uniform over all interactions.
 */
export async function createBprTrainer(train: RatingMatrix, options: BprTrainerOptions): Promise<BprTrainer> {
  const backend = resolveBackend('BPR', options.backend, BPR_WASM_PATH);
  logBackend(`models: BPR kernel in ${backend.wasm ? 'WebAssembly' : 'TypeScript'} (${backend.reason})`);
  const { ptr, count } = positives(train, options.minWeight);
  if (count === 0) throw new RangeError(`bpr: no positive interactions: minWeight ${options.minWeight} keeps none of the ${train.nRatings} entries`);
  if (train.nMovies >= 2 ** 31) throw new RangeError(`bpr: ${train.nMovies} movies exceed the kernel's limit`);
  const layout = planBprLayout(train, options, ptr);
  const pages = Math.ceil(layout.bytes / WASM_PAGE_BYTES);
  if (backend.wasm && pages > WASM_MAX_PAGES) throw new RangeError(`bpr: ${layout.bytes} bytes of factors and positives exceed WebAssembly's 4 GiB`);
  const memory = backend.wasm ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : null;
  const buffer = memory ? memory.buffer : new ArrayBuffer(layout.bytes);
  fillMemory(buffer, layout, train, ptr, options);
  const kernel = memory ? wasmBprKernel(memory) : referenceBprKernel(buffer);
  const trainer = new BprTrainer(layout, buffer, kernel);
  if (memory && options.threads > 1) await trainer.startWorkers(memory);
  return trainer;
}

/** BPR epochs over one buffer; built by {@link createBprTrainer}. */
export class BprTrainer {
  private pool: ChunkWorkerPool<BprWorkerRequest> | null = null;
  private readonly control: Int32Array;
  private readonly f64: Float64Array;
  private disposed = false;

  constructor(
    readonly layout: BprLayout,
    readonly buffer: ArrayBuffer | SharedArrayBuffer,
    readonly kernel: BprKernel,
  ) {
    this.control = new Int32Array(buffer, layout.control, BPR_CONTROL.length);
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >>> 3);
  }

  /** Worker threads started (threads − 1 with the SIMD kernel, else 0). */
  get workers(): number {
    return this.pool?.size ?? 0;
  }

  /** Starts a worker per user range but the first (which the calling thread runs), on the ALS trainers' pool. */
  async startWorkers(memory: WasmMemory): Promise<void> {
    const module = bprWasmModule();
    const pool = new ChunkWorkerPool<BprWorkerRequest>('BprTrainer', this.control);
    this.pool = pool;
    await pool.start(__dirname, 'worker', this.layout.samples.length - 1, (thread): BprWorkerInput => ({ memory, module, layout: this.layout, thread }));
  }

  /** One epoch: as many samples as positives, each thread its range's share. */
  async step(params: BprStepParams): Promise<BprEpochStats> {
    if (this.disposed) throw new Error('BprTrainer: step() after dispose()');
    const { layout, f64 } = this;
    const p: BprStepParams = { lr: Math.fround(params.lr), regUser: Math.fround(params.regUser), regItem: Math.fround(params.regItem), regBias: Math.fround(params.regBias) };
    const threads = layout.samples.length;
    for (let t = 0; t < threads; t++) {
      const at = (layout.states + t * BPR_STATE.bytes) >>> 3;
      f64[at + 1] = f64[at + 2] = f64[at + 3] = 0; // correct, skipped, loss
    }
    const pool = this.pool;
    // The calling thread runs range 0 beside the workers, or, without workers, every range in turn.
    if (pool !== null) await pool.run({ type: 'epoch', params: p }, () => runThreadEpoch(this.kernel, layout, 0, p, this.control, f64));
    else for (let t = 0; t < threads; t++) runThreadEpoch(this.kernel, layout, t, p, this.control, f64);
    let loss = 0;
    let correct = 0;
    let skipped = 0;
    for (let t = 0; t < threads; t++) {
      const at = (layout.states + t * BPR_STATE.bytes) >>> 3;
      correct += f64[at + 1];
      skipped += f64[at + 2];
      loss += f64[at + 3];
    }
    const taken = layout.nPositives - skipped;
    return { loss: taken > 0 ? loss / taken : NaN, auc: taken > 0 ? correct / taken : NaN, skipped };
  }

  /** Whether every value of P, Q and b is finite. */
  finite(): boolean {
    const { layout } = this;
    const f32 = new Float32Array(this.buffer);
    const end = (layout.bias >>> 2) + layout.nMovies;
    for (let i = layout.P >>> 2; i < end; i++) if (!Number.isFinite(f32[i])) return false;
    return true;
  }

  /** Copies of the factors (unpadded, k per row) and biases by internal index. */
  factors(): RankingFactors {
    const { nUsers, nMovies, factors: k, kp } = this.layout;
    const f32 = new Float32Array(this.buffer);
    const rows = (offset: number, n: number): Float32Array => {
      const out = new Float32Array(n * k);
      for (let r = 0, at = offset >>> 2; r < n; r++, at += kp) out.set(f32.subarray(at, at + k), r * k);
      return out;
    };
    return { k, userFactors: rows(this.layout.P, nUsers), itemFactors: rows(this.layout.Q, nMovies), itemBias: f32.slice(this.layout.bias >>> 2, (this.layout.bias >>> 2) + nMovies) };
  }

  /** Terminates the workers; the factors stay readable. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, BPR_CONTROL.abort, 1);
    await this.pool?.dispose();
  }
}
