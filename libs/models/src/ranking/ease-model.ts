import { availableParallelism } from 'node:os';
import { RatingMatrix } from '@recsys/data';
import { ArtifactContent, fittedArtifact, ModelArtifact, requireSection } from '../artifact';
import { checkParamBounds, EASE_PARAM_BOUNDS } from '../param-bounds';
import type { FitOptions } from '../predictor';
import { topN } from '../top-n';
import { Interaction, knownInteractions, ModelNeighbour, RankingContribution, RankingModel, RankingUser } from './ranking-model';
import { countInteractions, EaseSolver } from './ease/solver';
import { easeLayout } from './ease/tasks';

/** How an interaction's stored value becomes x_ui: 1 (`binary`) or the value itself (`value`: stars or a count). */
export type EaseWeighting = 'binary' | 'value';

export interface EaseParams {
  /** λ, the L2 penalty added to the Gram matrix's diagonal (G = XᵀX + λI). */
  lambda: number;
  /** A stored value v is an interaction when v ≥ minWeight (see InteractionViewParams); 0 keeps every entry. */
  minWeight: number;
  weighting: EaseWeighting;
  /** Most items the model accepts: its dense items × items f32 matrix takes items² × 4 bytes. */
  maxItems: number;
  /** Threads of the Gram build and the inverse (default os.availableParallelism()). */
  threads: number;
}

/**
 * Defaults of `ease` (see {@link EaseModel} for the measurements): λ = 400, minWeight 3 (ratings
 * ≥ 3 stars are the interactions; on implicit data, a scale marked `implicit`, the default is 0:
 * every stored interaction), binary X, maxItems 20,000, threads = os.availableParallelism().
 */
export const EASE_DEFAULTS: Readonly<EaseParams> = Object.freeze({
  lambda: 400,
  minWeight: 3,
  weighting: 'binary',
  maxItems: 20_000,
  threads: availableParallelism(),
});

/** What the last fit took: phase wall seconds and the bytes it held at its peak. */
export interface EaseFitTimings {
  gramSeconds: number;
  inverseSeconds: number;
  totalSeconds: number;
  /**
   * CPU seconds of the process (every thread: the calling one and the workers) during the Gram build
   * and the inverse: on a shared machine wall seconds grow with the load, these much less.
   */
  gramCpuSeconds: number;
  inverseCpuSeconds: number;
  /** The kernel's memory (matrix, interaction copy, scratch) plus the copy of B when one was made. */
  peakBytes: number;
}

/** Bytes of the items² × 4 B matrix for `items` items. */
export function easeMatrixBytes(items: number): number {
  return items * items * 4;
}

const fmtBytes = (bytes: number): string => `${bytes.toLocaleString('en-US')} B (${(bytes / 1e9).toFixed(2)} GB)`;

/**
 * `ease`: Embarrassingly Shallow Autoencoder (Steck, WWW 2019), the closed-form item–item model.
 * With X the users × items interaction matrix (x_ui = 1 for every stored value ≥ `minWeight`, or
 * the value itself with `weighting: 'value'`):
 *
 *   G = XᵀX + λI,  P = G⁻¹,  B = I − P · diag(1 / diag(P)),  i.e. B_ii = 0, B_ij = −P_ij / P_jj
 *   score(u, j) = Σ_i x_ui B_ij
 *
 * No iterations: the fit is the Gram build and one inverse, both in f32 in the WebAssembly SIMD
 * kernel (libs/models/assembly/ease.ts) on one shared memory, `threads` threads: G by row tiles
 * from the sparse rows (Σ_u n_u²/2 additions), the inverse by the blocked symmetric sweep
 * (in-place Gauss–Jordan, n³/2 multiply-adds, as many as Cholesky + L⁻¹ + L⁻ᵀL⁻¹), B in place.
 *
 * Memory: items² × 4 B for the matrix (17,770 items: 1.26 GB; padded to a multiple of the block
 * size, 128) plus, while fitting, 9 B per interaction (the copy of X by user and by item the Gram
 * build reads), 4 B per user per thread and a few MB of scratch; B (items² × 4 B) stays with the
 * model. Above `maxItems` (default 20,000: 1.6 GB) fit refuses with a RangeError stating the bytes.
 *
 * Defaults ({@link EASE_DEFAULTS}): λ = 400, minWeight 3 stars on rating data (0 on implicit
 * data: a scale marked `implicit`), binary X, maxItems 20,000, threads = cores. Chosen by
 * tools/bench/ease-sweep.ts with the protocol (relevant: held-out ratings ≥ 4;
 * candidates: movies the user did not rate in training; k = 10), NDCG@10:
 *   - MovieLens 100k u1–u5 (mean): minWeight 0 (every rating): λ 300 0.383, λ 500 0.385 (u1 P@10
 *     0.377 / NDCG@10 0.448: numpy's figures exactly); minWeight 4: λ 300 0.400; minWeight 3:
 *     λ 250 0.404, 300 0.406, **400 0.4064 (P@10 0.305, coverage 0.18)**, 500 0.405, 700 0.403.
 *     Taking 1- and 2-star ratings as positives is what held numpy below 0.40: a low rating says
 *     the user saw the movie but is poor evidence of what they will rate ≥ 4;
 *   - generated (generateSynthetic 2M ratings, 50,000 users, 3,000 movies, seed 42; 0.2 holdout):
 *     minWeight 0: λ 100 0.162, 200 0.167, 400 0.172, 700 0.175; minWeight 3: λ 100 0.167,
 *     200 0.174, 400 0.179 (ratings ≥ 3 better at every λ);
 *   - the Netflix Kaggle sample (8 movies; 0.2 holdout): 0.544 (minWeight 0) and 0.528
 *     (minWeight 3) for every λ in 100..1000: 8 candidates hardly rank, so it did not decide.
 *
 * Verbs: `foldIn` keeps the user's known interactions (B needs no solve); `similar(m)` is row m of
 * B (B_mk: what having m adds to k's score, i.e. the list of a user who has only m);
 * `explain` splits a score into c_i = x_ui B_ij, which sum to it exactly; `predict` answers the
 * score (clipped to the scale like every prediction: rank by `recommend`, not by RMSE).
 */
export class EaseModel extends RankingModel {
  readonly kind = 'ease';
  private p: Readonly<EaseParams>;
  /** Whether minWeight was given (else it follows the data: 3 on rating scales, 0 on implicit ones). */
  private readonly minWeightGiven: boolean;
  /** B, items × items row-major (row i: what item i adds to every item's score). */
  private b: Float32Array | null = null;
  /** Timings of the last fit (null before one, and for a loaded model). */
  lastFitTimings: EaseFitTimings | null = null;

  constructor(params: Partial<EaseParams> = {}) {
    super();
    const p: EaseParams = { ...EASE_DEFAULTS };
    for (const [key, value] of Object.entries(params)) {
      if (!(key in EASE_DEFAULTS)) throw new RangeError(`ease: unknown parameter ${key} (known: ${Object.keys(EASE_DEFAULTS).join(', ')})`);
      if (value !== undefined) (p as unknown as Record<string, unknown>)[key] = value;
    }
    checkParamBounds('ease', p as unknown as Record<string, unknown>, EASE_PARAM_BOUNDS);
    if (p.weighting !== 'binary' && p.weighting !== 'value') throw new RangeError(`ease: weighting must be 'binary' or 'value', got ${JSON.stringify(p.weighting)}`);
    this.p = Object.freeze(p);
    this.minWeightGiven = params.minWeight !== undefined;
  }

  /** The parameters, defaults filled in (minWeight as the last fit resolved it, see {@link EASE_DEFAULTS}). */
  get params(): Readonly<EaseParams> {
    return this.p;
  }

  /** The item–item weights B (items × items, row-major); throws before fit. */
  get weights(): Float32Array {
    if (this.b === null) throw new Error('ease: the model is not fitted yet');
    return this.b;
  }

  protected async fitModel(train: RatingMatrix, options: FitOptions): Promise<void> {
    if (!this.minWeightGiven) this.p = Object.freeze({ ...this.p, minWeight: (train.scale as { implicit?: boolean }).implicit === true ? 0 : EASE_DEFAULTS.minWeight });
    const p = this.params;
    const n = train.nMovies;
    const matrixBytes = easeMatrixBytes(n);
    if (n > p.maxItems) {
      throw new RangeError(
        `ease: ${n.toLocaleString('en-US')} items need a dense items² × 4 B matrix of ${fmtBytes(matrixBytes)} (plus 9 B per interaction while fitting); maxItems is ${p.maxItems.toLocaleString('en-US')} (${fmtBytes(easeMatrixBytes(p.maxItems))}): raise maxItems or keep fewer items`,
      );
    }
    const started = performance.now();
    const nnz = countInteractions(train, p.minWeight);
    if (nnz === 0) {
      throw new RangeError(`ease: none of the ${train.nRatings} stored values is ≥ minWeight ${p.minWeight} (the scale is ${train.scale.min}..${train.scale.max}): give a smaller minWeight`);
    }
    const solver = await EaseSolver.create(n, { nUsers: train.nUsers, nnz, threads: p.threads });
    const memoryBytes = solver.memoryBytes;
    const progress = (epoch: number, phase: string): void =>
      options.onProgress?.({ epoch, epochs: 3, seconds: (performance.now() - started) / 1000, phase, memoryBytes });
    const cpuSeconds = (from: NodeJS.CpuUsage): number => {
      const used = process.cpuUsage(from);
      return (used.user + used.system) / 1e6;
    };
    try {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await solver.gram(train, p.lambda, { minWeight: p.minWeight, binary: p.weighting === 'binary' });
      const t1 = performance.now();
      const gramCpuSeconds = cpuSeconds(c0);
      const c1 = process.cpuUsage();
      progress(1, `gram: ${nnz} interactions, ${n} items, matrix ${fmtBytes(matrixBytes)}, kernel memory ${fmtBytes(memoryBytes)}`);
      await solver.invert();
      const t2 = performance.now();
      const inverseCpuSeconds = cpuSeconds(c1);
      progress(2, 'inverse');
      const inPlace = await solver.weights();
      // Keep B apart from the kernel's memory when that holds much more (the copy of X).
      const copy = memoryBytes > 1.25 * matrixBytes;
      this.b = copy ? inPlace.slice() : inPlace;
      progress(3, 'weights');
      this.lastFitTimings = {
        gramSeconds: (t1 - t0) / 1000,
        inverseSeconds: (t2 - t1) / 1000,
        totalSeconds: (performance.now() - started) / 1000,
        gramCpuSeconds,
        inverseCpuSeconds,
        peakBytes: memoryBytes + (copy ? matrixBytes : 0),
      };
    } finally {
      await solver.dispose();
    }
  }

  /** The model's state: B as one f32 section; params (λ, view) in the artifact's params. */
  toArtifact(): ArtifactContent {
    return fittedArtifact(this, { globalMean: this.globalMean, items: this.train.nMovies }, { weights: this.weights });
  }

  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): EaseModel {
    // minWeight as the fit resolved it is in the params; threads are the fitting machine's (a loaded model fits nothing).
    const { threads: _threads, ...params } = artifact.params as Partial<EaseParams>;
    const model = new EaseModel(params);
    model.b = requireSection(artifact, 'weights', Float32Array, train.nMovies * train.nMovies);
    const mean = artifact.meta.globalMean;
    model.restore(train, typeof mean === 'number' && Number.isFinite(mean) ? mean : undefined);
    return model;
  }

  /** x_ui of a stored value v (after the minWeight filter). */
  private x(value: number): number {
    return this.params.weighting === 'binary' ? 1 : value;
  }

  /** score(u, m) = Σ_i x_ui B_im over the user's training interactions. */
  protected estimate(u: number, m: number): number {
    const train = this.train;
    const b = this.weights;
    const n = train.nMovies;
    const minCode = this.params.minWeight * 2;
    let score = 0;
    for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) {
      const code = train.userRatings[k];
      if (code < minCode) continue;
      score += this.x(code * 0.5) * b[train.userMovies[k] * n + m];
    }
    return score;
  }

  /** Scores of every movie for trained user u from their CSR row (Σ of B's rows); 0 for an unknown user. */
  protected override scoreAll(u: number, out: Float64Array): void {
    out.fill(0);
    if (u < 0) return;
    const train = this.train;
    const minCode = this.params.minWeight * 2;
    for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) {
      const code = train.userRatings[k];
      if (code >= minCode) this.addRow(train.userMovies[k], this.x(code * 0.5), out);
    }
  }

  /** out += x · B[i, ·]. */
  private addRow(i: number, x: number, out: Float64Array): void {
    const n = out.length;
    const b = this.weights;
    const at = i * n;
    for (let j = 0; j < n; j++) out[j] += x * b[at + j];
  }

  /** The user's known interactions with value ≥ minWeight; no vector (B needs no solve). */
  foldIn(interactions: ReadonlyArray<Interaction>): RankingUser {
    const { movies, weights, known } = knownInteractions(this.train, interactions, this.params.minWeight);
    return { movies, weights, vector: null, knownInteractions: known };
  }

  scoreFolded(user: RankingUser, out: Float64Array): void {
    out.fill(0);
    for (let k = 0; k < user.movies.length; k++) this.addRow(user.movies[k], this.x(user.weights[k]), out);
  }

  /**
   * The n movies with the largest B_mk in row m of B (m itself excluded): B_mk is what having m
   * adds to k's score, so these are the list of a user who has only m ("because you watched m").
   * The row rather than the column: the column B_·m ranks the movies that predict m, scaled by
   * 1/P_mm alone, which says which movies lead to m, not where m leads.
   */
  similar(movieId: number, n: number): ModelNeighbour[] {
    const train = this.train;
    const m = train.movies.indexOf(movieId);
    if (m < 0 || n <= 0) return [];
    const nM = train.nMovies;
    const row = this.scoreScratch();
    const b = this.weights;
    for (let k = 0; k < nM; k++) row[k] = b[m * nM + k];
    row[m] = NaN;
    return topN(row, n).map((k) => ({ movieId: train.movies.ids[k], similarity: row[k] }));
  }

  /** c_i = x_ui B_i,movie for each known interacted movie i: they sum to the folded-in score exactly (largest |c| first, ties by movie id). */
  explain(interactions: ReadonlyArray<Interaction>, movieId: number, n = 10): RankingContribution[] {
    const train = this.train;
    const j = train.movies.indexOf(movieId);
    if (j < 0) return [];
    const user = this.foldIn(interactions);
    const b = this.weights;
    const nM = train.nMovies;
    const out: RankingContribution[] = [];
    for (let k = 0; k < user.movies.length; k++) {
      const i = user.movies[k];
      out.push({ movieId: train.movies.ids[i], weight: user.weights[k], contribution: this.x(user.weights[k]) * b[i * nM + j] });
    }
    out.sort((a, c) => Math.abs(c.contribution) - Math.abs(a.contribution) || a.movieId - c.movieId);
    return out.slice(0, Math.max(0, n));
  }
}

/** A new, unfitted {@link EaseModel}. */
export function easeModel(params: Partial<EaseParams> = {}): EaseModel {
  return new EaseModel(params);
}

/** Kernel memory of an `ease` fit on `train` (the matrix, the interaction copy and scratch), bytes. */
export function easeFitBytes(train: RatingMatrix, params: Partial<EaseParams> = {}, threads = 2): number {
  return easeLayout(train.nMovies, train.nUsers, countInteractions(train, params.minWeight ?? EASE_DEFAULTS.minWeight), threads).bytes;
}
