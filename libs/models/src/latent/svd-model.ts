import { availableParallelism } from 'node:os';
import { RatingMatrix } from '@recsys/data';
import { createAlsTrainer } from './als/trainer';
import { ModelArtifact } from '../artifact';
import { Backend, backendParam } from '../backend';
import { createSgdTrainer } from './sgd/trainer';
import type { FactorTrainer } from './factor-trainer';
import { LbfgsOutcome, LbfgsTrainer } from './lbfgs-trainer';
import { LatentFitOptions, LatentModel } from './latent-model';
import { PlainSgdTrainer } from './sgd/plain-trainer';
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
  /** Threads for SGD (the plain TypeScript trainer uses one) and ALS (default for als: `os.availableParallelism()`). */
  threads: number;
  /**
   * Where the sgd and als kernels run ({@link Backend}): `auto` (default) the WebAssembly SIMD
   * kernel when `npm run build` has compiled it, else TypeScript; `wasm` or `js` to choose. The
   * lbfgs solver and 0 factors run in TypeScript only, so they refuse `wasm`.
   */
  backend: Backend;
}

/**
 * Defaults per solver. `sgd` and `als` were chosen by the defaults sweep (docs/defaults-sweep.md;
 * `npm run bench:defaults -- --model svd`) on five sets at once, test RMSE on MovieLens 100k
 * u1..u5 (mean) / the Netflix Kaggle sample / generated heavy users / the same with half stars /
 * generated 10M (held out; see the doc for the splits):
 * - sgd: 16 factors, 30 epochs, lr 0.01, lrBias 0.005, reg 0.05, regBias 0.02, initStd 0.03:
 *   0.9114 / 0.9850 / 0.8214 / 0.7797 / 0.8106; the old defaults (20 epochs, lr 0.02, reg 0.09,
 *   initStd 0.1, chosen on ML-100k alone) gave 0.9126 / 0.9874 / 0.8258 / 0.7853 / 0.8195.
 * - als: 8 factors, 15 iterations, reg 12, regBias 5: 0.9109 / 0.9862 / 0.8424 / 0.7997 / 0.8446;
 *   the old 10 factors gave 0.9113 / 0.9864 / 0.8456 / 0.8023 / 0.8521, no better than `baseline`
 *   (0.8518) on the 10M set.
 * `baseline` (its defaults) gives 0.9413 / 0.9843 / 0.8553 / 0.8166 / 0.8518: both beat it
 * everywhere but on the Kaggle sample (8 movies, ~1.3 ratings per user), where no factor model
 * swept did. `lbfgs` (not swept): 0.9123 on ML-100k. Surprise's SVD defaults (100 factors, 20
 * epochs, lr 0.005, reg 0.02) give 0.938 on ML-100k (0.9398 with the kernel).
 */
export const SVD_DEFAULTS: Readonly<Record<SvdSolver, Readonly<SvdParams>>> = Object.freeze({
  sgd: Object.freeze({ solver: 'sgd', factors: 16, epochs: 30, lr: 0.01, lrBias: 0.005, reg: 0.05, regBias: 0.02, initStd: 0.03, seed: 42, threads: 1, backend: 'auto' }),
  als: Object.freeze({ solver: 'als', factors: 8, epochs: 15, lr: 0, lrBias: 0, reg: 12, regBias: 5, initStd: 0.1, seed: 42, threads: availableParallelism(), backend: 'auto' }),
  lbfgs: Object.freeze({ solver: 'lbfgs', factors: 10, epochs: 100, lr: 0, lrBias: 0, reg: 0.00015, regBias: 0.00006, initStd: 0.1, seed: 42, threads: 1, backend: 'auto' }),
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
  params.backend = backendParam(kind, (partial as Partial<SvdParams>).backend);
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined || key === 'solver' || key === 'backend') continue;
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
  if (p.backend === 'wasm' && (p.solver === 'lbfgs' || p.factors === 0)) {
    const what = p.solver === 'lbfgs' ? 'the lbfgs solver' : `the ${p.solver} solver with 0 factors`;
    throw new RangeError(`${kind}: backend 'wasm': ${what} has no WebAssembly kernel (it runs in TypeScript); use 'auto' or 'js'`);
  }
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
 *   Defaults (the defaults sweep, {@link SVD_DEFAULTS}): 16 factors, 30 epochs, lr 0.01, lrBias 0.005,
 *   reg 0.05, regBias 0.02, initStd 0.03, seed 42 (lrBias does not follow lr: set both).
 * - `als`: alternating ridge regressions with the biases included, μ fixed, minimising
 *   Σ (r − μ − b_u − b_i − p_u·q_i)² + reg(‖P‖² + ‖Q‖²) + regBias(‖b_u‖² + ‖b_i‖²) (sum form).
 *   Each iteration solves, for every user, the (k+1)×(k+1) system in [p_u; b_u] with
 *   x_i = [q_i; 1] and target r − μ − b_i, then the same for every movie with [q_i; b_i] and
 *   x_u = [p_u; 1] ({@link createAlsTrainer}) by 2 warm-started conjugate-gradient
 *   steps per row (ALS_CG_STEPS, ALS_CG_PRECONDITIONER) that never form
 *   the matrix (ALS-CG, O(n·k) per step, in the WebAssembly SIMD kernel; with backend
 *   `js`, or `auto` without the built kernel, Cholesky up to 16 factors and CG in TypeScript
 *   above); `threads` splits the rows of each half step over worker threads (same result for
 *   any thread count).
 *   Defaults: 8 factors, 15 iterations, reg 12, regBias 5.
 * - `lbfgs`: full batch over all parameters of the notebook's objective in mean form
 *   ({@link svdObjective}): (1/N) Σ e² + regBias(‖b‖²) + reg(‖P‖² + ‖Q‖²), α free and started at
 *   μ (the fitted α replaces μ in predictions). Defaults: 10 factors, at most 100 iterations,
 *   reg 0.00015, regBias 0.00006 (≈ ALS's sum-form 12 and 5 divided by N = 80,000).
 *
 * `backend` chooses where the sgd and als kernels run (see {@link SvdParams.backend}); the sgd
 * kernel gives bit-identical results either way, the als one agrees to f32 rounding.
 * Deterministic for a given seed (and thread count).
 */
export class SvdModel extends LatentModel {
  readonly kind: string = 'svd';
  readonly params: Readonly<SvdParams>;
  /** How the last L-BFGS fit stopped (lbfgs solver only). */
  lbfgsResult: LbfgsOutcome | null = null;

  constructor(params: Partial<SvdParams> = {}) {
    super();
    this.params = Object.freeze(svdParams(params, 'svd'));
  }

  get foldInReg(): number {
    return this.params.solver === 'als' ? this.params.reg : 1;
  }

  /** Only the blocked SGD trainer (solver `sgd`, factors ≥ 1) builds its layout straight from a matrix with ratings left out. */
  override canExclude(): boolean {
    return this.params.solver === 'sgd' && this.params.factors > 0;
  }

  protected async fitModel(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    const trainer = await svdTrainer(train, p, options.exclude);
    await this.trainWith(trainer, p.epochs, options);
    this.lbfgsResult = trainer instanceof LbfgsTrainer ? trainer.outcome() : null;
  }

  /** The fitted model stored in an `svd` artifact. */
  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): SvdModel {
    return new SvdModel(artifact.params as Partial<SvdParams>).restoreFromArtifact(artifact, train);
  }
}

/**
 * The trainer of each solver: `sgd` the blocked SGD trainer (the AssemblyScript SIMD kernel,
 * threads over shared memory, or its TypeScript reference with identical arithmetic, as
 * `backend` says; with 0 factors the plain trainer), `als` the ALS trainer, `lbfgs` the L-BFGS
 * trainer.
 */
async function svdTrainer(train: RatingMatrix, p: SvdParams, exclude?: Uint8Array): Promise<FactorTrainer> {
  const k = p.factors;
  if (p.solver === 'sgd') {
    const sgd = { factors: k, seed: p.seed, initStd: p.initStd, lr: p.lr, reg: p.reg, lrBias: p.lrBias, regBias: p.regBias };
    if (k === 0) return new PlainSgdTrainer(train, sgd);
    return createSgdTrainer(train, { ...sgd, threads: p.threads, backend: p.backend, exclude });
  }
  if (p.solver === 'als') {
    // The initial factors (initialFactors' values) are drawn in the trainer's memory: a separate
    // copy would stay resident until a collection, which the fit itself rarely triggers.
    const randomFactors = { seed: p.seed, std: p.initStd, mean: 0 };
    return createAlsTrainer(train, { factors: k, reg: p.reg, regBias: p.regBias, threads: p.threads, randomFactors, backend: p.backend });
  }
  return new LbfgsTrainer(train, { factors: k, reg: p.reg, regBias: p.regBias, seed: p.seed, initStd: p.initStd, maxIterations: p.epochs });
}
