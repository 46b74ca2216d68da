import type { RatingMatrix } from '@recsys/data';
import { Lbfgs, LbfgsStopReason } from '@recsys/optimization';
import type { FactorState, FactorTrainer } from './factor-trainer';
import { svdLayout, svdObjective } from './objectives';
import { initialFactors } from './sgd/plain-trainer';

/** Options of {@link LbfgsTrainer}. */
export interface LbfgsTrainerOptions {
  /** k ≥ 0 (0: the baseline model's biases alone). */
  factors: number;
  /** λ of the factors (mean form, see {@link svdObjective}). */
  reg: number;
  /** λ_b of the biases. */
  regBias: number;
  /** Seed and standard deviation of the initial factors ({@link initialFactors}, mean 0). */
  seed: number;
  initStd: number;
  /** Most iterations (the epoch loop's epochs). */
  maxIterations: number;
}

/** How an L-BFGS fit ended. */
export interface LbfgsOutcome {
  reason: LbfgsStopReason;
  iterations: number;
  evaluations: number;
  /** The objective at the last accepted point. */
  objective: number;
  /** True when it stopped on its gradient or relative-decrease test. */
  converged: boolean;
}

/**
 * Full-batch L-BFGS ({@link Lbfgs}) on the notebook's objective in mean form ({@link svdObjective})
 * over x = [α, b_u, b_i, P, Q], from α = μ, b = 0 and factors N(0, initStd²); one accepted
 * L-BFGS iteration per {@link step}. The state's μ is the fitted α. The training RMSE of a step is
 * that of the accepted point, the line search's last evaluation. {@link converged} turns true when
 * L-BFGS stops on its own (gradient or relative-decrease test, or no acceptable step: a step that
 * finds none leaves the point as it was).
 */
export class LbfgsTrainer implements FactorTrainer {
  private readonly run: Lbfgs;
  private readonly layout: ReturnType<typeof svdLayout>;
  private readonly stats = { mse: NaN };
  private readonly k: number;
  private mse: number;

  constructor(
    private readonly train: RatingMatrix,
    private readonly options: LbfgsTrainerOptions,
  ) {
    const k = (this.k = options.factors);
    const layout = (this.layout = svdLayout(train.nUsers, train.nMovies, k));
    const x0 = new Float64Array(layout.length);
    x0[0] = train.globalMean();
    if (k > 0) {
      const { P, Q } = initialFactors(train.nUsers, train.nMovies, k, options.seed, options.initStd, 0);
      x0.set(P, layout.userFactors);
      x0.set(Q, layout.movieFactors);
    }
    this.run = new Lbfgs(svdObjective(train, k, options.reg, options.regBias, this.stats), x0, { maxIterations: options.maxIterations });
    this.mse = this.stats.mse;
  }

  get converged(): boolean {
    return this.run.reason !== null;
  }

  async step(): Promise<number> {
    // After a failed line search the last evaluation was a rejected trial: keep the point's own MSE.
    if (this.run.step() !== null) this.mse = this.stats.mse;
    return Math.sqrt(this.mse);
  }

  state(): FactorState {
    const x = this.run.point;
    const { nUsers, nMovies } = this.train;
    const l = this.layout;
    const k = this.k;
    return {
      globalMean: x[0],
      userBias: x.slice(l.userBias, l.userBias + nUsers),
      movieBias: x.slice(l.movieBias, l.movieBias + nMovies),
      userFactors: Float32Array.from(x.subarray(l.userFactors, l.userFactors + nUsers * k)),
      movieFactors: Float32Array.from(x.subarray(l.movieFactors, l.movieFactors + nMovies * k)),
      k,
    };
  }

  /** How the run ended: its own reason, else `max-iterations` after the most iterations, else `stopped` (early stopping). */
  outcome(): LbfgsOutcome {
    const r = this.run.result();
    const reason = this.run.reason ?? (r.iterations >= this.options.maxIterations ? 'max-iterations' : 'stopped');
    return { reason, iterations: r.iterations, evaluations: r.evaluations, objective: r.f, converged: reason === 'gradient' || reason === 'relative-decrease' };
  }

  async dispose(): Promise<void> {}
}
