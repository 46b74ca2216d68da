import { RatingMatrix } from '@recsys/data';
import { ModelArtifact } from '../artifact';
import { Backend, backendParam } from '../backend';
import { ExcludingBiasAlsTrainer } from './als/bias-trainer';
import { createAlsTrainer } from './als/trainer';
import type { FactorTrainer } from './factor-trainer';
import { LbfgsOutcome, LbfgsTrainer } from './lbfgs-trainer';
import { LatentFitOptions, LatentModel } from './latent-model';
import { PlainSgdTrainer } from './sgd/plain-trainer';
import { BASELINE_PARAM_BOUNDS, checkParamBounds } from '../param-bounds';

export type BaselineSolver = 'als' | 'sgd' | 'lbfgs';

/** Parameters of {@link BaselineModel}; see {@link BASELINE_DEFAULTS}. */
export interface BaselineParams {
  solver: BaselineSolver;
  /** ALS iterations, SGD epochs, or most L-BFGS iterations. */
  epochs: number;
  /** ALS λ of the user biases (Surprise `reg_u`); also the default fold-in λ. */
  regUser: number;
  /** ALS λ of the movie biases (Surprise `reg_i`). */
  regMovie: number;
  /** SGD learning rate. */
  lr: number;
  /** SGD regularisation (Surprise `reg`), or the L-BFGS objective's λ. */
  reg: number;
  /**
   * `auto` (default) or `js`: every solver of the biases alone runs in TypeScript (there is no
   * WebAssembly kernel for k = 0), so `wasm` is refused.
   */
  backend: Backend;
}

/**
 * Defaults per solver. `als`: 10 iterations, regUser 5, regMovie 3, chosen by the defaults sweep
 * (docs/defaults-sweep.md; `npm run bench:defaults -- --model baseline`) on five sets at once:
 * MovieLens 100k u1..u5 0.9413 mean test RMSE, the Netflix Kaggle sample 0.9843, generated heavy
 * users 0.8553, the same with half stars 0.8166, generated 10M 0.8518 (held out; see the doc for
 * the splits), better on every one than Surprise's BaselineOnly defaults (regUser 15, regMovie
 * 10: 0.9457, 0.9873, 0.8575, 0.8190, 0.8536), which the old defaults were. regUser is also the
 * fold-in λ. `sgd` is Surprise's BaselineOnly SGD, `lbfgs` the notebook's objective (λ = 0.001);
 * neither was swept.
 */
export const BASELINE_DEFAULTS: Readonly<Record<BaselineSolver, Readonly<BaselineParams>>> = Object.freeze({
  als: Object.freeze({ solver: 'als', epochs: 10, regUser: 5, regMovie: 3, lr: 0.005, reg: 0.02, backend: 'auto' }),
  sgd: Object.freeze({ solver: 'sgd', epochs: 20, regUser: 15, regMovie: 10, lr: 0.005, reg: 0.02, backend: 'auto' }),
  lbfgs: Object.freeze({ solver: 'lbfgs', epochs: 100, regUser: 15, regMovie: 10, lr: 0.005, reg: 0.001, backend: 'auto' }),
} as Record<BaselineSolver, BaselineParams>);

const PARAM_NAMES = Object.keys(BASELINE_DEFAULTS.als);

function baselineParams(partial: Record<string, unknown>): BaselineParams {
  for (const key of Object.keys(partial)) {
    if (!PARAM_NAMES.includes(key)) throw new RangeError(`baseline: unknown parameter "${key}" (known: ${PARAM_NAMES.join(', ')})`);
  }
  const solver = (partial.solver ?? 'als') as BaselineSolver;
  if (!(solver in BASELINE_DEFAULTS)) throw new RangeError(`baseline: solver must be one of als, sgd, lbfgs, got ${JSON.stringify(solver)}`);
  const p = { ...BASELINE_DEFAULTS[solver] };
  p.backend = backendParam('baseline', partial.backend);
  if (p.backend === 'wasm') throw new RangeError("baseline: backend 'wasm': the biases have no WebAssembly kernel (every solver runs in TypeScript); use 'auto' or 'js'");
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined || key === 'solver' || key === 'backend') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`baseline: parameter ${key} must be a finite number, got ${JSON.stringify(value)}`);
    (p as Record<string, unknown>)[key] = value;
  }
  // Every parameter within its bound (param-bounds.ts; regUser > 0: it is the fold-in λ).
  checkParamBounds('baseline', p as unknown as Record<string, unknown>, BASELINE_PARAM_BOUNDS);
  return p;
}

/**
 * `baseline`: user and movie biases with L2 regularisation,
 *
 *   r̂_ui = μ + b_u + b_i
 *
 * the latent-factor model with k = 0: each solver is svd's trainer with no factors, and every fit
 * goes through the same epoch loop (progress, `validation`, `earlyStopping`). Solvers:
 * - `als` (default), exactly Surprise's BaselineOnly ALS (= `fitBaselinesAls` of
 *   @recsys/similarity): 10 iterations of b_i = Σ(r − μ − b_u)/(regMovie + |U_i|) then
 *   b_u = Σ(r − μ − b_i)/(regUser + |I_u|), regMovie 3, regUser 5 (Surprise's defaults are 10
 *   and 15; see {@link BASELINE_DEFAULTS}); the ALS trainer with k = 0, movies first.
 * - `sgd`, Surprise's BaselineOnly SGD: 20 epochs over the ratings in stored order (users
 *   ascending) of e = r − (μ + b_u + b_i); b_u += lr(e − reg·b_u); b_i += lr(e − reg·b_i), with
 *   lr 0.005, reg 0.02 (the plain SGD trainer with k = 0).
 * - `lbfgs`, the notebook's objective ({@link baselineObjective}, which is {@link svdObjective}
 *   with k = 0 and λ_b = λ): (1/N) Σ (α + b_u + b_i − r)² + λ(‖b_u‖² + ‖b_i‖²), λ = `reg` = 0.001,
 *   minimised by L-BFGS over [α, b_u…, b_i…] from α = μ, b = 0, one iteration per epoch (at most
 *   `epochs` = 100; it ends earlier when L-BFGS converges). The fitted α is used as μ.
 *
 * Unknown movie: μ + b_u; unknown user: μ + b_i.
 */
export class BaselineModel extends LatentModel {
  readonly kind = 'baseline';
  readonly params: Readonly<BaselineParams>;
  /** How the last L-BFGS fit stopped (lbfgs solver only). */
  lbfgsResult: LbfgsOutcome | null = null;

  constructor(params: Partial<BaselineParams> = {}) {
    super();
    this.params = Object.freeze(baselineParams(params as Record<string, unknown>));
  }

  get foldInReg(): number {
    return this.params.regUser;
  }

  /** User biases b_u by internal index (a copy). */
  get userBiases(): Float64Array {
    return this.userBias.slice();
  }

  /** Movie biases b_i by internal index (a copy). */
  get movieBiases(): Float64Array {
    return this.movieBias.slice();
  }

  /** The `als` solver fits with ratings left out, reading the matrix in place ({@link ExcludingBiasAlsTrainer}). */
  override canExclude(): boolean {
    return this.params.solver === 'als';
  }

  protected async fitModel(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    const trainer = options.exclude ? new ExcludingBiasAlsTrainer(train, options.exclude, { regUser: p.regUser, regMovie: p.regMovie }) : await baselineTrainer(train, p);
    await this.trainWith(trainer, p.epochs, options);
    this.lbfgsResult = trainer instanceof LbfgsTrainer ? trainer.outcome() : null;
  }

  /** The fitted model stored in a `baseline` artifact. */
  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): BaselineModel {
    return new BaselineModel(artifact.params as Partial<BaselineParams>).restoreFromArtifact(artifact, train);
  }
}

/** The zero-factor trainer of each solver (see {@link BaselineModel}). */
async function baselineTrainer(train: RatingMatrix, p: BaselineParams): Promise<FactorTrainer> {
  const none = new Float32Array(0);
  if (p.solver === 'als') {
    return createAlsTrainer(train, { factors: 0, reg: 0, regBias: p.regUser, regMovieBias: p.regMovie, order: 'movies-first', userFactors: none, movieFactors: none });
  }
  if (p.solver === 'sgd') return new PlainSgdTrainer(train, { factors: 0, lr: p.lr, reg: p.reg, order: 'stored' });
  return new LbfgsTrainer(train, { factors: 0, reg: 0, regBias: p.reg, seed: 0, initStd: 0, maxIterations: p.epochs });
}
