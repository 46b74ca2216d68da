/**
 * The fitted state of a biased latent-factor model r̂_ui = μ + b_u + b_i + p_u·q_i, as every
 * trainer hands it over (copies, indexed by internal user and movie indices). k = 0 is the
 * baseline model (empty factor arrays).
 */
export interface FactorState {
  /** μ used in predictions: the training mean, or the α that L-BFGS fits. */
  globalMean: number;
  /** b_u, nUsers values. */
  userBias: Float64Array;
  /** b_i, nMovies values. */
  movieBias: Float64Array;
  /** p_u, nUsers × k row-major. */
  userFactors: Float32Array;
  /** q_i, nMovies × k row-major. */
  movieFactors: Float32Array;
  /** k, the number of factors. */
  k: number;
}

/**
 * A trainer of a latent-factor model, one epoch (SGD) or iteration (ALS, L-BFGS) per
 * {@link step}; {@link runEpochs} drives every one of them. Implemented by the plain SGD trainer,
 * the blocked WebAssembly SGD trainer, the ALS trainer, the L-BFGS trainer and SVD++'s trainer
 * (whose state adds its raw user factors and implicit factors, hence `S`).
 */
export interface FactorTrainer<S extends FactorState = FactorState> {
  /** Trains one epoch or iteration; resolves to the training RMSE (unclipped). */
  step(): Promise<number>;
  /**
   * True when another step cannot improve the fit (L-BFGS met its convergence test or could not
   * find a step); the epoch loop then ends early. Always false for SGD and ALS.
   */
  readonly converged: boolean;
  /** A copy of the current state. */
  state(): S;
  /**
   * The last state, handed over without copying what can be shared (e.g. factor rows that need no
   * unpadding, as views of the trainer's memory, which they then keep alive): the end of a fit
   * does not hold the factors twice. Called once, right before {@link dispose}; optional (the
   * epoch loop falls back to {@link state}).
   */
  finalState?(): S;
  /** Releases worker threads and memory; no step after it. */
  dispose(): Promise<void>;
}
