import { RatingMatrix } from '@recsys/data';
import { LbfgsStopReason, minimizeLbfgs } from '@recsys/optimization';
import { fitBaselinesAls } from '@recsys/similarity';
import { ModelArtifact } from '../artifact';
import { LatentFitOptions, LatentModel, runEpochs, trainingRmse } from './latent-model';
import { baselineObjective } from './objectives';
import { sgdEpoch } from './sgd/plain-trainer';
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
}

/**
 * Defaults per solver: `als` and `sgd` are Surprise's BaselineOnly defaults, `lbfgs` is the
 * notebook's (λ = 0.001).
 */
export const BASELINE_DEFAULTS: Readonly<Record<BaselineSolver, Readonly<BaselineParams>>> = Object.freeze({
  als: Object.freeze({ solver: 'als', epochs: 10, regUser: 15, regMovie: 10, lr: 0.005, reg: 0.02 }),
  sgd: Object.freeze({ solver: 'sgd', epochs: 20, regUser: 15, regMovie: 10, lr: 0.005, reg: 0.02 }),
  lbfgs: Object.freeze({ solver: 'lbfgs', epochs: 100, regUser: 15, regMovie: 10, lr: 0.005, reg: 0.001 }),
} as Record<BaselineSolver, BaselineParams>);

const PARAM_NAMES = Object.keys(BASELINE_DEFAULTS.als);

function baselineParams(partial: Record<string, unknown>): BaselineParams {
  for (const key of Object.keys(partial)) {
    if (!PARAM_NAMES.includes(key)) throw new RangeError(`baseline: unknown parameter "${key}" (known: ${PARAM_NAMES.join(', ')})`);
  }
  const solver = (partial.solver ?? 'als') as BaselineSolver;
  if (!(solver in BASELINE_DEFAULTS)) throw new RangeError(`baseline: solver must be one of als, sgd, lbfgs, got ${JSON.stringify(solver)}`);
  const p = { ...BASELINE_DEFAULTS[solver] };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined || key === 'solver') continue;
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
 * Solvers:
 * - `als` (default), exactly Surprise's BaselineOnly ALS ({@link fitBaselinesAls}): 10 iterations
 *   of b_i = Σ(r − μ − b_u)/(regMovie + |U_i|) then b_u = Σ(r − μ − b_i)/(regUser + |I_u|),
 *   regMovie 10, regUser 15.
 * - `sgd`, Surprise's BaselineOnly SGD: 20 epochs over the ratings in stored order (users
 *   ascending) of e = r − (μ + b_u + b_i); b_u += lr(e − reg·b_u); b_i += lr(e − reg·b_i), with
 *   lr 0.005, reg 0.02.
 * - `lbfgs`, the notebook's objective ({@link baselineObjective}):
 *   (1/N) Σ (α + b_u + b_i − r)² + λ(‖b_u‖² + ‖b_i‖²), λ = `reg` = 0.001, minimised by L-BFGS over
 *   [α, b_u…, b_i…] from α = μ, b = 0 (at most `epochs` = 100 iterations). The fitted α is used as μ.
 *
 * Unknown movie: μ + b_u; unknown user: μ + b_i.
 */
export class BaselineModel extends LatentModel {
  readonly kind = 'baseline';
  readonly params: Readonly<BaselineParams>;
  /** How the last L-BFGS fit stopped (lbfgs solver only). */
  lbfgsResult: { reason: LbfgsStopReason; iterations: number; evaluations: number; objective: number; converged: boolean } | null = null;

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

  protected async fitModel(train: RatingMatrix, options: LatentFitOptions): Promise<void> {
    const p = this.params;
    this.k = 0;
    this.userFactors = new Float32Array(0);
    this.movieFactors = new Float32Array(0);
    const empty = new Float32Array(0);
    if (p.solver === 'als') {
      const started = performance.now();
      const b = fitBaselinesAls(train, { iterations: p.epochs, regUser: p.regUser, regMovie: p.regMovie });
      this.userBias = b.userBias;
      this.movieBias = b.movieBias;
      const progress = { epoch: p.epochs, epochs: p.epochs, trainRmse: trainingRmse(train, this.globalMean, b.userBias, b.movieBias, empty, empty, 0), seconds: (performance.now() - started) / 1000 };
      this.history = [progress];
      options.onProgress?.(progress);
    } else if (p.solver === 'sgd') {
      const userBias = new Float32Array(train.nUsers);
      const movieBias = new Float32Array(train.nMovies);
      const order = new Uint32Array(train.nUsers);
      for (let u = 0; u < order.length; u++) order[u] = u;
      const sync = () => {
        this.userBias = Float64Array.from(userBias);
        this.movieBias = Float64Array.from(movieBias);
      };
      sync();
      let best: { u: Float64Array; m: Float64Array } | null = null;
      const run = await runEpochs(
        this,
        p.epochs,
        options,
        () => {
          const sse = sgdEpoch(train, order, this.globalMean, userBias, movieBias, empty, empty, 0, p.lr, p.reg, p.lr, p.reg);
          if (options.validation) sync();
          return Math.sqrt(sse / train.nRatings);
        },
        () => this.listRmse(options.validation!),
        () => (best = { u: this.userBias.slice(), m: this.movieBias.slice() }),
        () => {
          this.userBias = best!.u;
          this.movieBias = best!.m;
        },
      );
      if (!run.restoredBest) sync();
      this.history = run.history;
    } else {
      const nU = train.nUsers;
      const x0 = new Float64Array(1 + nU + train.nMovies);
      x0[0] = this.globalMean;
      const history: typeof this.history = [];
      let started = performance.now();
      const result = minimizeLbfgs(baselineObjective(train, p.reg), x0, {
        maxIterations: p.epochs,
        onIteration: (it) => {
          const progress = { epoch: it.iteration, epochs: p.epochs, seconds: (performance.now() - started) / 1000 };
          history.push(progress);
          options.onProgress?.(progress);
          started = performance.now();
        },
      });
      this.lbfgsResult = { reason: result.reason, iterations: result.iterations, evaluations: result.evaluations, objective: result.f, converged: result.converged };
      this.globalMean = result.x[0];
      this.userBias = result.x.slice(1, 1 + nU);
      this.movieBias = result.x.slice(1 + nU);
      this.history = history;
    }
  }

  /** The fitted model stored in a `baseline` artifact. */
  static fromArtifact(artifact: ModelArtifact): BaselineModel {
    return new BaselineModel(artifact.params as Partial<BaselineParams>).restoreFromArtifact(artifact);
  }
}
