import { availableParallelism } from 'node:os';
import { Random } from '@recsys/core';
import type { RatingMatrix } from '@recsys/data';
import { Backend, logBackend, resolveBackend } from '../../backend';
import { runChunks } from '../../latent/als/chunks';
import { alsChunks } from '../../latent/als/passes';
import { ChunkWorkerPool } from '../../latent/als/pool';
import { ALS_CONTROL } from '../../latent/als/protocol';
import { chunkExtent, drawRows, padRows, ratingArrays, unpadRows } from '../../latent/als/trainer';
import { memoryPlan } from '../../latent/sgd/layout';
import { wasmApi } from '../../wasm';
import { IALS_GATHER_BYTES, IALS_GRAM_GROUPS, IALS_WASM_PATH, IalsRowKernel, ialsScratchBytes, ialsWasmModule } from './kernel';
import { IalsLayout, IalsShared, ialsSharedViews, IalsWorkerInput, IalsWorkerRequest, runGramGroups } from './protocol';

export interface IalsTrainerOptions {
  /** k ≥ 1. */
  factors: number;
  /** CG steps per row and half step (≥ 1). */
  cgSteps: number;
  /** λ and ν of the per-row ridge weight λ_a = λ·(1 + ν·n_a), n_a the row's positive entries. */
  reg: number;
  regFrequency: number;
  /** c(w) ≥ 1, the confidence of an entry of weight w ≥ minWeight. */
  confidence: (weight: number) => number;
  /** Entries of weight < minWeight are not positives: p = 0, c = 1 (as if absent). */
  minWeight: number;
  /** Initial factors: drawn N(0, std²) from Random(seed), X row by row then Y; or given (nUsers × k, nItems × k, copied). */
  init: { seed: number; std: number } | { userFactors: Float32Array; itemFactors: Float32Array };
  /** Threads: the calling thread plus threads − 1 workers; default `os.availableParallelism()`. */
  threads?: number;
  /** `wasm` the SIMD kernel, `js` the plain TypeScript one, `auto` (default) wasm when built. */
  backend?: Backend;
  /** Entries per chunk of rows that a thread takes at a time; default 16384. */
  chunkRatings?: number;
}

const PAGE = 65536;

function longestRow(ptr: Uint32Array, n: number): number {
  let most = 0;
  for (let a = 0; a < n; a++) most = Math.max(most, ptr[a + 1] - ptr[a]);
  return most;
}

/** Offsets of every array for `train`, k factors, `threads` scratch areas and the given chunks. */
export function ialsLayout(train: RatingMatrix, factors: number, threads: number, userChunks: Uint32Array, itemChunks: Uint32Array, wasm: boolean): IalsLayout {
  const kp = Math.max(4, Math.ceil(factors / 4) * 4);
  const plan = memoryPlan();
  const take = plan.take;
  const users = chunkExtent(train.userPtr, userChunks);
  const items = chunkExtent(train.moviePtr, itemChunks);
  const maxChunkRatings = Math.max(users.ratings, items.ratings);
  const maxChunkRows = Math.max(users.rows, items.rows);
  const longest = Math.max(longestRow(train.userPtr, train.nUsers), longestRow(train.moviePtr, train.nMovies));
  const gatherBytes = Math.min(IALS_GATHER_BYTES, longest * kp * 4);
  const scratchBytes = wasm ? ialsScratchBytes(kp, maxChunkRatings, maxChunkRows, gatherBytes) : 0;
  const cells = kp * kp;
  const nUserChunks = userChunks.length - 1;
  const nItemChunks = itemChunks.length - 1;
  return {
    nUsers: train.nUsers,
    nItems: train.nMovies,
    factors,
    kp,
    threads,
    nUserChunks,
    nItemChunks,
    maxChunkRatings,
    maxChunkRows,
    gatherBytes,
    X: take(train.nUsers * kp * 4),
    Y: take(train.nMovies * kp * 4),
    userReg: take(train.nUsers * 4),
    itemReg: take(train.nMovies * 4),
    cm1: take(256 * 4),
    cp: take(256 * 4),
    gram: take(cells * 8),
    gram32: take(cells * 4),
    gramParts: take(IALS_GRAM_GROUPS * cells * 8),
    groupReg: take(IALS_GRAM_GROUPS * 8),
    userChunks: take((nUserChunks + 1) * 4),
    itemChunks: take((nItemChunks + 1) * 4),
    chunkLoss: take(Math.max(nUserChunks, nItemChunks) * 8),
    control: take(ALS_CONTROL.length * 4),
    scratch: take(threads * scratchBytes),
    scratchBytes,
    bytes: plan.end(),
  };
}

/** λ_a = reg·(1 + ν·n_a) for each row of a side, n_a its entries of weight ≥ minWeight. */
function rowRegs(ptr: Uint32Array, codes: Uint8Array, out: Float32Array, reg: number, nu: number, minWeight: number): void {
  for (let a = 0; a < out.length; a++) {
    let n = 0;
    for (let j = ptr[a]; j < ptr[a + 1]; j++) if (codes[j] * 0.5 >= minWeight) n++;
    out[a] = reg * (1 + nu * n);
  }
}

/**
 * Sets up iALS on `train` (see {@link IalsRowKernel} for the row update): X, Y, λ per row, the
 * confidence tables by value code and the Grams in one buffer (the shared WebAssembly memory
 * when the SIMD kernel runs), rows cut into chunks of about 16k entries that the threads take
 * from a shared counter. Each row's update depends only on the other side and its own previous
 * value, and the Grams and objective shares are summed in a fixed order, so the result is
 * bit-identical for any thread count.
 */
export async function createIalsTrainer(train: RatingMatrix, options: IalsTrainerOptions): Promise<IalsTrainer> {
  const k = options.factors;
  const threads = options.threads ?? availableParallelism();
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`createIalsTrainer: factors must be an integer ≥ 1, got ${k}`);
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`createIalsTrainer: threads must be an integer ≥ 1, got ${threads}`);
  if (!(Number.isInteger(options.cgSteps) && options.cgSteps >= 1)) throw new RangeError(`createIalsTrainer: cgSteps must be an integer ≥ 1, got ${options.cgSteps}`);
  if (!(options.reg > 0)) throw new RangeError(`createIalsTrainer: reg must be > 0, got ${options.reg}`);
  if (!(options.regFrequency >= 0)) throw new RangeError(`createIalsTrainer: regFrequency must be ≥ 0, got ${options.regFrequency}`);
  const init = options.init;
  if ('userFactors' in init && (init.userFactors.length !== train.nUsers * k || init.itemFactors.length !== train.nMovies * k)) {
    throw new RangeError(`createIalsTrainer: initial factors have ${init.userFactors.length} and ${init.itemFactors.length} values, expected ${train.nUsers} × ${k} and ${train.nMovies} × ${k}`);
  }
  const backend = resolveBackend('iALS', options.backend ?? 'auto', IALS_WASM_PATH);
  logBackend(`models: iALS passes in ${backend.wasm ? 'WebAssembly' : 'TypeScript'} (${backend.reason})`);
  const chunkRatings = options.chunkRatings ?? 1 << 14;
  if (!(Number.isInteger(chunkRatings) && chunkRatings >= 1)) throw new RangeError(`createIalsTrainer: chunkRatings must be an integer ≥ 1, got ${chunkRatings}`);
  const userChunks = alsChunks(train.userPtr, train.nUsers, chunkRatings);
  const itemChunks = alsChunks(train.moviePtr, train.nMovies, chunkRatings);
  const layout = ialsLayout(train, k, threads, userChunks, itemChunks, backend.wasm);
  const pages = Math.ceil(layout.bytes / PAGE);
  if (backend.wasm && pages > 65536) throw new RangeError(`createIalsTrainer: ${layout.bytes} bytes of factors and scratch exceed WebAssembly's 4 GiB`);
  const memory = backend.wasm ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : null;
  const buffer = memory ? memory.buffer : threads > 1 ? new SharedArrayBuffer(layout.bytes) : new ArrayBuffer(layout.bytes);
  const ratings = ratingArrays(train, threads);
  const shared = ialsSharedViews(buffer, layout, ratings);
  const { users, items, cm1, cp } = shared.views;
  if ('userFactors' in init) {
    padRows(init.userFactors, users.factors, train.nUsers, k, layout.kp);
    padRows(init.itemFactors, items.factors, train.nMovies, k, layout.kp);
  } else {
    const random = new Random(init.seed);
    drawRows(random, users.factors, train.nUsers, k, layout.kp, 0, init.std);
    drawRows(random, items.factors, train.nMovies, k, layout.kp, 0, init.std);
  }
  for (let code = 0; code < 256; code++) {
    const w = code * 0.5;
    if (w < options.minWeight) continue;
    const c = options.confidence(w);
    if (!(Number.isFinite(c) && c >= 1)) throw new RangeError(`createIalsTrainer: the confidence of weight ${w} is ${c}, expected a finite number ≥ 1`);
    cm1[code] = c - 1;
    cp[code] = c;
  }
  rowRegs(train.userPtr, train.userRatings, users.reg, options.reg, options.regFrequency, options.minWeight);
  rowRegs(train.moviePtr, train.movieRatings, items.reg, options.reg, options.regFrequency, options.minWeight);
  shared.userChunks.set(userChunks);
  shared.movieChunks.set(itemChunks);
  const module = memory ? ialsWasmModule() : null;
  const target = (thread: number) =>
    memory ? { memory, module: module!, scratch: layout.scratch + thread * layout.scratchBytes, maxChunkRatings: layout.maxChunkRatings, maxChunkRows: layout.maxChunkRows, gatherBytes: layout.gatherBytes } : null;
  const kernel = new IalsRowKernel(k, options.cgSteps, shared.views, target(0));
  const trainer = new IalsTrainer(layout, shared, kernel, memory !== null);
  if (threads > 1) {
    const base = { layout, ratings, cgSteps: options.cgSteps, memory, module, buffer: memory ? null : (buffer as SharedArrayBuffer) };
    await trainer.startWorkers(threads - 1, (thread) => ({ ...base, thread }));
  }
  return trainer;
}

/** The factors of an iALS fit (unpadded, k per row). */
export interface IalsState {
  readonly k: number;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
}

/**
 * Implicit ALS, one epoch per {@link step}: G = YᵀY, every user's CG update; G = XᵀX, every
 * item's. Built by {@link createIalsTrainer}.
 */
export class IalsTrainer {
  private readonly pool: ChunkWorkerPool<IalsWorkerRequest>;
  private disposed = false;
  private epochs = 0;

  constructor(
    private readonly layout: IalsLayout,
    private readonly shared: IalsShared,
    private readonly kernel: IalsRowKernel,
    /** Whether the WebAssembly SIMD kernel runs. */
    readonly wasm: boolean,
  ) {
    this.pool = new ChunkWorkerPool('IalsTrainer', shared.control);
  }

  /** Bytes of the buffer holding factors, Grams and the threads' scratch areas. */
  get memoryBytes(): number {
    return this.layout.bytes;
  }

  /** Worker threads started (threads − 1). */
  get workers(): number {
    return this.pool.size;
  }

  async startWorkers(count: number, input: (thread: number) => IalsWorkerInput): Promise<void> {
    await this.pool.start(__dirname, 'worker', count, input);
  }

  /** Σ λ‖row‖² of `byUser`'s side; leaves its Gram in views.gram (f64, symmetric) and views.gram32. */
  private async gram(byUser: boolean): Promise<number> {
    const { views, control } = this.shared;
    Atomics.store(control, ALS_CONTROL.cursor, 0);
    await this.pool.run({ type: 'gram', byUser }, () => runGramGroups(this.kernel, this.shared, byUser));
    const kp = this.layout.kp;
    const cells = kp * kp;
    const G = views.gram;
    G.fill(0);
    let regSum = 0;
    for (let g = 0; g < IALS_GRAM_GROUPS; g++) {
      const part = views.gramParts.subarray(g * cells, (g + 1) * cells);
      for (let c = 0; c < cells; c++) G[c] += part[c];
      regSum += views.groupReg[g];
    }
    // The groups sum the upper triangle (and a few cells below it): mirror it.
    for (let a = 0; a < kp; a++) for (let b = a + 1; b < kp; b++) G[b * kp + a] = G[a * kp + b];
    for (let c = 0; c < cells; c++) views.gram32[c] = G[c];
    return regSum;
  }

  private async half(byUser: boolean, withLoss: boolean): Promise<number> {
    Atomics.store(this.shared.control, ALS_CONTROL.cursor, 0);
    await this.pool.run({ type: 'half', byUser, withLoss }, () => runChunks(this.kernel, this.shared, byUser, withLoss));
    if (!withLoss) return 0;
    const chunks = byUser ? this.layout.nUserChunks : this.layout.nItemChunks;
    let sum = 0;
    for (let c = 0; c < chunks; c++) sum += this.shared.chunkSse[c];
    return sum;
  }

  /**
   * One epoch; resolves to the objective Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + Σ λ_u‖x_u‖² + Σ λ_i‖y_i‖²
   * after its users' half step (X new, Y of the epoch's start): Σ_all d² = tr(XᵀX·YᵀY) from the two
   * Grams the epoch computes anyway, the observed entries' corrections from the items' residual
   * pass, which reads exactly those values: no extra pass. Throws when the objective or a factor
   * is not finite (the fit diverged).
   */
  async step(): Promise<number> {
    if (this.disposed) throw new Error('IalsTrainer: step() after dispose()');
    this.epochs++;
    const { views } = this.shared;
    const kp = this.layout.kp;
    const regY = await this.gram(false);
    const gramY = Float64Array.from(views.gram);
    await this.half(true, false);
    const regX = await this.gram(true);
    const observed = await this.half(false, true);
    let trace = 0;
    for (let c = 0; c < kp * kp; c++) trace += views.gram[c] * gramY[c];
    const objective = observed + trace + regX + regY;
    const Y = views.items.factors;
    let finite = Number.isFinite(objective);
    for (let i = 0; finite && i < Y.length; i++) finite = Number.isFinite(Y[i]);
    if (!finite) {
      throw new Error(
        `ials: training diverged in epoch ${this.epochs}: the objective is ${objective} and the factors are not all finite (confidences too large for the regularisation: lower alpha or raise reg)`,
      );
    }
    return objective;
  }

  /** Copies of the factors (unpadded); readable after dispose too. */
  state(): IalsState {
    const { nUsers, nItems, factors: k, kp } = this.layout;
    const { users, items } = this.shared.views;
    return { k, userFactors: unpadRows(users.factors, nUsers, k, kp), itemFactors: unpadRows(items.factors, nItems, k, kp) };
  }

  /** Terminates the workers; the state stays readable. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool.dispose();
  }
}
