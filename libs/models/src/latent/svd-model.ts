import * as fs from 'node:fs';
import { RatingMatrix } from '@recsys/data';
import { minimizeLbfgs, LbfgsStopReason } from '@recsys/optimization';
import { createAlsTrainer } from './als/trainer';
import { ModelArtifact } from '../artifact';
import { BiasedRidge } from './fold-in';
import { createSgdTrainer, SGD_WASM_PATH } from './sgd';
import { LatentFitOptions, LatentModel, runEpochs } from './latent-model';
import type { TrainingProgress } from '../predictor';
import { svdLayout, svdObjective } from './objectives';
import { initialFactors, PlainSgdTrainer, SgdEpochTrainer } from './sgd/plain-trainer';
import { checkParamBounds, SVD_PARAM_BOUNDS } from '../param-bounds';

export type SvdSolver = 'sgd' | 'als' | 'lbfgs';

/** Parameters of {@link SvdModel}; see {@link SVD_DEFAULTS} for each solver's defaults. */
export interface SvdParams {
  solver: SvdSolver;
  /** k, the number of latent factors. */
  factors: number;
  /** SGD epochs, ALS iterations (one users pass + one movies pass), or most L-BFGS iterations. */
  epochs: number;
  /** SGD learning rate for the factors (unused by als and lbfgs). */
  lr: number;
  /** SGD learning rate for the biases. */
  lrBias: number;
  /** Regularisation λ of the factors (its scale depends on the solver's objective, see SvdModel). */
  reg: number;
  /** Regularisation λ_b of the biases. */
  regBias: number;
  /** Initial factors ~ N(0, initStd²). */
  initStd: number;
  seed: number;
  /** Worker threads for SGD (the plain TypeScript trainer uses one). */
  threads: number;
}

/**
 * Defaults per solver, chosen by measurement on the MovieLens 100k canonical folds u1..u5 (mean
 * test RMSE; see ml100k-accuracy.spec.ts): sgd 0.9126 (WASM kernel; 0.9135 with the plain
 * trainer), als 0.9113, lbfgs 0.9123, where Surprise's SVD
 * defaults (100 factors, 20 epochs, lr 0.005, reg 0.02) give 0.938 (0.9398 with the kernel).
 * Larger reg with a larger lr and few factors did best among the settings tried.
 */
export const SVD_DEFAULTS: Readonly<Record<SvdSolver, Readonly<SvdParams>>> = Object.freeze({
  sgd: Object.freeze({ solver: 'sgd', factors: 16, epochs: 20, lr: 0.02, lrBias: 0.005, reg: 0.09, regBias: 0.02, initStd: 0.1, seed: 42, threads: 1 }),
  als: Object.freeze({ solver: 'als', factors: 10, epochs: 15, lr: 0, lrBias: 0, reg: 12, regBias: 5, initStd: 0.1, seed: 42, threads: 1 }),
  lbfgs: Object.freeze({ solver: 'lbfgs', factors: 10, epochs: 100, lr: 0, lrBias: 0, reg: 0.00015, regBias: 0.00006, initStd: 0.1, seed: 42, threads: 1 }),
} as Record<SvdSolver, SvdParams>);

const PARAM_NAMES = Object.keys(SVD_DEFAULTS.sgd) as Array<keyof SvdParams>;

/** Full parameters from partial ones: the chosen solver's defaults fill the gaps; unknown names and bad values are refused. */
export function svdParams(partial: Partial<SvdParams> | Record<string, unknown> = {}, kind = 'svd'): SvdParams {
  for (const key of Object.keys(partial)) {
    if (!PARAM_NAMES.includes(key as keyof SvdParams)) throw new RangeError(`${kind}: unknown parameter "${key}" (known: ${PARAM_NAMES.join(', ')})`);
  }
  const solver = ((partial as Partial<SvdParams>).solver ?? 'sgd') as SvdSolver;
  if (!(solver in SVD_DEFAULTS)) throw new RangeError(`${kind}: solver must be one of sgd, als, lbfgs, got ${JSON.stringify(solver)}`);
  const params = { ...SVD_DEFAULTS[solver] };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined || key === 'solver') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${kind}: parameter ${key} must be a finite number, got ${JSON.stringify(value)}`);
    (params as Record<string, unknown>)[key] = value;
  }
  checkCommon(kind, params);
  return params;
}

function checkCommon(kind: string, p: SvdParams): void {
  // Every parameter within its bound (param-bounds.ts), then what a solver needs besides.
  checkParamBounds(kind, p as unknown as Record<string, unknown>, SVD_PARAM_BOUNDS);
  if (p.solver === 'sgd' && !(p.lr > 0 && p.lrBias > 0)) throw new RangeError(`${kind}: the sgd solver needs lr > 0 and lrBias > 0, got ${p.lr} and ${p.lrBias}`);
  if (p.solver === 'als' && !(p.reg > 0 && p.regBias > 0)) throw new RangeError(`${kind}: the als solver needs reg > 0 and regBias > 0, got ${p.reg} and ${p.regBias}`);
}

/** A factory for the SGD trainer (the WebAssembly kernel's `createSgdTrainer`, or the plain one). */
export type SgdTrainerFactory = (train: RatingMatrix, params: SvdParams) => Promise<SgdEpochTrainer>;

/**
 * The default: the AssemblyScript SIMD kernel (`createSgdTrainer`, threads over shared memory),
 * or its TypeScript reference with identical arithmetic when the project's build has not produced
 * the .wasm file; with 0 factors (biases only) the plain trainer here.
 */
const defaultSgdTrainerFactory: SgdTrainerFactory = async (train, p) => {
  if (p.factors === 0) return new PlainSgdTrainer(train, { factors: 0, seed: p.seed, initStd: p.initStd });
  return createSgdTrainer(train, { factors: p.factors, seed: p.seed, initStd: p.initStd, threads: p.threads, useWasm: fs.existsSync(SGD_WASM_PATH) });
};

let sgdTrainerFactory: SgdTrainerFactory = defaultSgdTrainerFactory;

/** Replaces the trainer SvdModel's sgd solver uses (null restores the default: the WASM kernel). */
export function setSvdSgdTrainerFactory(factory: SgdTrainerFactory | null): void {
  sgdTrainerFactory = factory ?? defaultSgdTrainerFactory;
}

/** Biases and factors as a trainer hands them over (copies). */
interface FactorState {
  userBias: ArrayLike<number>;
  movieBias: ArrayLike<number>;
  userFactors: Float32Array;
  movieFactors: Float32Array;
}

/** One step (epoch or iteration) at a time, returning the training RMSE. */
interface IterativeTrainer {
  step(): Promise<number>;
  state(): FactorState;
  dispose(): Promise<void>;
}

/**
 * `svd`: biased matrix factorisation (Funk SVD, Koren's "SVD" in Surprise),
 *
 *   r̂_ui = μ + b_u + b_i + p_u·q_i
 *
 * μ the mean training rating, p_u, q_i ∈ ℝᵏ. Three solvers:
 *
 * - `sgd` (default): Surprise's per-rating updates (see {@link PlainSgdTrainer}), users in a
 *   seeded shuffled order each epoch, each user's ratings together; factors start N(0, initStd²),
 *   biases 0. Minimises Σ e² + reg(‖p_u‖² + ‖q_i‖²) + regBias(b_u² + b_i²) per rating.
 *   Defaults (measured on ML-100k u1..u5): 16 factors, 20 epochs, lr 0.02, lrBias 0.005,
 *   reg 0.09, regBias 0.02, initStd 0.1, seed 42 (lrBias does not follow lr: set both).
 * - `als`: alternating ridge regressions with the biases included, μ fixed, minimising
 *   Σ (r − μ − b_u − b_i − p_u·q_i)² + reg(‖P‖² + ‖Q‖²) + regBias(‖b_u‖² + ‖b_i‖²) (sum form).
 *   Each iteration solves, for every user, the (k+1)×(k+1) system in [p_u; b_u] with
 *   x_i = [q_i; 1] and target r − μ − b_i, then the same for every movie with [q_i; b_i] and
 *   x_u = [p_u; 1] ({@link createAlsTrainer}) by 3 warm-started conjugate-gradient steps per row
 *   that never form the matrix (ALS-CG, O(n·k) per step, in the WebAssembly SIMD kernel; without
 *   the built kernel, Cholesky up to 16 factors and CG in TypeScript above); `threads` splits the
 *   rows of each half step over worker threads (same result for any thread count).
 *   Defaults: 10 factors, 15 iterations, reg 12, regBias 5.
 * - `lbfgs`: full batch over all parameters of the notebook's objective in mean form
 *   ({@link svdObjective}): (1/N) Σ e² + regBias(‖b‖²) + reg(‖P‖² + ‖Q‖²), α free and started at
 *   μ (the fitted α replaces μ in predictions). Defaults: 10 factors, at most 100 iterations,
 *   reg 0.00015, regBias 0.00006 (≈ ALS's sum-form 12 and 5 divided by N = 80,000).
 *
 * Deterministic for a given seed (and thread count).
 */
export class SvdModel extends LatentModel {
  readonly kind: string = 'svd';
  readonly params: Readonly<SvdParams>;
  /** How the last L-BFGS fit stopped (lbfgs solver only). */
  lbfgsResult: { reason: LbfgsStopReason; iterations: number; evaluations: number; objective: number } | null = null;

  constructor(params: Partial<SvdParams> = {}) {
    super();
    this.params = Object.freeze(svdParams(params, 'svd'));
  }

  get foldInReg(): number {
    return this.params.solver === 'als' ? this.params.reg : 1;
  }

  protected async fitModel(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    this.k = p.factors;
    if (p.solver === 'sgd') await this.fitSgd(train, options);
    else if (p.solver === 'als') await this.fitAls(train, options);
    else await this.fitLbfgs(train, options);
  }

  private adopt(state: FactorState): void {
    this.userBias = Float64Array.from(state.userBias);
    this.movieBias = Float64Array.from(state.movieBias);
    this.userFactors = state.userFactors;
    this.movieFactors = state.movieFactors;
  }

  private async fitSgd(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    const trainer = await sgdTrainerFactory(train, p);
    const hyper = { lr: p.lr, reg: p.reg, lrBias: p.lrBias, regBias: p.regBias };
    await this.fitIteratively(
      { step: async () => (await trainer.epoch(hyper)).trainRmse, state: () => trainer.state(), dispose: () => trainer.dispose() },
      options,
    );
  }

  private async fitAls(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    // The initial factors (initialFactors' values) are drawn in the trainer's memory: a separate
    // copy would stay resident until a collection, which the fit itself rarely triggers.
    const randomFactors = { seed: p.seed, std: p.initStd, mean: 0 };
    const trainer = await createAlsTrainer(train, { factors: p.factors, reg: p.reg, regBias: p.regBias, threads: p.threads, randomFactors });
    await this.fitIteratively({ step: () => trainer.iteration(), state: () => trainer.state(), dispose: () => trainer.dispose() }, options);
  }

  /**
   * The epochs of an iterative trainer (SGD or ALS) with progress, validation and early stopping.
   * The model's arrays are filled only when needed (after each epoch with a validation set, else
   * once at the end): a copy of the factors taken before training would sit beside the trainer's
   * own for the whole fit (4·k bytes per user and movie of peak memory).
   */
  private async fitIteratively(trainer: IterativeTrainer, options: LatentFitOptions): Promise<void> {
    let best: FactorState | null = null;
    try {
      const run = await runEpochs(
        this,
        this.params.epochs,
        options,
        async () => {
          const rmse = await trainer.step();
          if (options.validation) this.adopt(trainer.state());
          return rmse;
        },
        () => this.listRmse(options.validation!),
        () => (best = trainer.state()),
        () => this.adopt(best!),
      );
      this.history = run.history;
      if (!run.restoredBest) this.adopt(trainer.state());
    } finally {
      await trainer.dispose();
    }
  }

  private async fitLbfgs(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    const k = p.factors;
    const layout = svdLayout(train.nUsers, train.nMovies, k);
    const { P, Q } = initialFactors(train.nUsers, train.nMovies, k, p.seed, p.initStd, 0);
    const x0 = new Float64Array(layout.length);
    x0[0] = this.globalMean;
    x0.set(P, layout.userFactors);
    x0.set(Q, layout.movieFactors);
    const stats = { mse: NaN };
    const objective = svdObjective(train, k, p.reg, p.regBias, stats);
    // The strong-Wolfe line search ends on its last evaluation, so the last evaluated point is
    // the accepted one: its MSE is the iteration's training error, and (with a validation set)
    // a copy of it serves validation and early stopping.
    const validation = options.validation;
    const last = validation ? new Float64Array(layout.length) : null;
    const recorded = (x: Float64Array, grad: Float64Array) => {
      const f = objective(x, grad);
      if (last) last.set(x);
      return f;
    };
    const patience = options.earlyStopping?.patience;
    if (patience !== undefined && !validation) throw new RangeError('svd: earlyStopping needs a validation set');
    const history: typeof this.history = [];
    let bestValidation = Infinity;
    let bestIteration = 0;
    let bestX: Float64Array | null = null;
    let started = performance.now();
    const result = minimizeLbfgs(recorded, x0, {
      maxIterations: p.epochs,
      onIteration: (it) => {
        const progress: TrainingProgress = { epoch: it.iteration, epochs: p.epochs, trainRmse: Math.sqrt(stats.mse), seconds: 0 };
        if (validation && last) {
          this.unpack(last, layout, train, k);
          progress.validationRmse = this.listRmse(validation);
        }
        progress.seconds = (performance.now() - started) / 1000;
        history.push(progress);
        options.onProgress?.(progress);
        started = performance.now();
        if (patience !== undefined && last) {
          if (progress.validationRmse! < bestValidation) {
            bestValidation = progress.validationRmse!;
            bestIteration = it.iteration;
            bestX = Float64Array.from(last);
          } else if (it.iteration - bestIteration >= patience) {
            return false;
          }
        }
        return true;
      },
    });
    this.history = history;
    this.lbfgsResult = { reason: result.reason, iterations: result.iterations, evaluations: result.evaluations, objective: result.f };
    this.unpack(bestX ?? result.x, layout, train, k);
  }

  /** Copies an L-BFGS parameter vector into the model (α becomes the model's μ). */
  private unpack(x: Float64Array, layout: ReturnType<typeof svdLayout>, train: RatingMatrix, k: number): void {
    this.globalMean = x[0];
    this.userBias = x.slice(layout.userBias, layout.userBias + train.nUsers);
    this.movieBias = x.slice(layout.movieBias, layout.movieBias + train.nMovies);
    this.userFactors = Float32Array.from(x.subarray(layout.userFactors, layout.userFactors + train.nUsers * k));
    this.movieFactors = Float32Array.from(x.subarray(layout.movieFactors, layout.movieFactors + train.nMovies * k));
  }

  /** The fitted model stored in an `svd` artifact. */
  static fromArtifact(artifact: ModelArtifact): SvdModel {
    return new SvdModel(artifact.params as Partial<SvdParams>).restoreFromArtifact(artifact);
  }
}

/**
 * One ALS half step. With `byUser`, for every user u solves
 *   (Σ_{i∈I_u} x_i x_iᵀ + diag(reg…reg, regBias)) [p_u; b_u] = Σ_{i∈I_u} (r_ui − μ − b_i) x_i,  x_i = [q_i; 1]
 * and writes p_u into `solved` and b_u into `solvedBias`; otherwise the same for every movie
 * with the roles swapped (`fixed` = P, `fixedBias` = b_u).
 */
export function alsHalfStep(
  train: RatingMatrix,
  byUser: boolean,
  mu: number,
  ridge: BiasedRidge,
  fixed: Float32Array,
  fixedBias: Float64Array,
  solved: Float32Array,
  solvedBias: Float64Array,
  k: number,
  reg: number,
  regBias: number,
): void {
  const ptr = byUser ? train.userPtr : train.moviePtr;
  const other = byUser ? train.userMovies : train.movieUsers;
  const ratings = byUser ? train.userRatings : train.movieRatings;
  const n = byUser ? train.nUsers : train.nMovies;
  const x = ridge.b;
  for (let a = 0; a < n; a++) {
    ridge.reset();
    for (let p = ptr[a]; p < ptr[a + 1]; p++) {
      const o = other[p];
      ridge.add(fixed, o * k, ratings[p] * 0.5 - mu - fixedBias[o]);
    }
    if (!ridge.solve(reg, regBias)) throw new Error(`svd als: the ridge system of ${byUser ? 'user' : 'movie'} index ${a} is not positive definite`);
    for (let f = 0; f < k; f++) solved[a * k + f] = x[f];
    solvedBias[a] = x[k];
  }
}
