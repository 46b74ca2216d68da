import type { MatrixArrays } from '@recsys/core';

/** Baseline estimates b_ui = μ + b_u + b_i (Koren), indexed by internal user and movie indices. */
export interface Baselines {
  /** μ: mean of all ratings, in stars. */
  readonly globalMean: number;
  /** b_u for every internal user index. */
  readonly userBias: Float64Array;
  /** b_i for every internal movie index. */
  readonly movieBias: Float64Array;
}

/**
 * What fitBaselinesAls reads: the matrix arrays, with movie indices of any integer array type (the
 * similarity pool's shared copy holds them as u16).
 */
export type BaselineMatrix = Pick<MatrixArrays, 'nUsers' | 'nMovies' | 'userPtr' | 'userRatings' | 'moviePtr' | 'movieUsers' | 'movieRatings'> & {
  readonly userMovies: Int32Array | Uint16Array;
};

export interface BaselineAlsOptions {
  /** Number of alternating passes (Surprise `n_epochs`). Default 10. */
  iterations?: number;
  /** λ for user biases (Surprise `reg_u`). Default 15. */
  regUser?: number;
  /** λ for movie biases (Surprise `reg_i`). Default 10. */
  regMovie?: number;
}

/**
 * Baselines by alternating least squares, exactly as Surprise's `BaselineOnly` with
 * `bsl_options = {'method': 'als'}` (`optimize_baselines.baseline_als`).
 *
 * Starting from b_u = b_i = 0, each iteration does, in Surprise's order, movies first:
 *
 *   for every movie i:  b_i = Σ_{u∈U_i} (r_ui − μ − b_u) / (regMovie + |U_i|)
 *   for every user u:   b_u = Σ_{i∈I_u} (r_ui − μ − b_i) / (regUser + |I_u|)
 *
 * (each update uses the newest values of the other side). Defaults: 10 iterations,
 * regUser 15, regMovie 10. μ is the mean of all ratings. Cost O(iterations × ratings).
 * An empty matrix gives μ = NaN and empty bias arrays; with a regulariser of 0, a user or movie
 * without ratings keeps bias 0 (instead of 0/0).
 */
export function fitBaselinesAls(matrix: BaselineMatrix, options: BaselineAlsOptions = {}): Baselines {
  const iterations = options.iterations ?? 10;
  const regUser = options.regUser ?? 15;
  const regMovie = options.regMovie ?? 10;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new RangeError(`fitBaselinesAls: iterations must be a non-negative integer, got ${iterations}`);
  }
  if (!(regUser >= 0) || !(regMovie >= 0) || !Number.isFinite(regUser) || !Number.isFinite(regMovie)) {
    throw new RangeError(`fitBaselinesAls: regUser and regMovie must be finite and ≥ 0, got ${regUser} and ${regMovie}`);
  }
  const nU = matrix.nUsers;
  const nM = matrix.nMovies;
  const { userPtr, userMovies, userRatings, moviePtr, movieUsers, movieRatings } = matrix;
  let codeSum = 0;
  for (let p = 0; p < userRatings.length; p++) codeSum += userRatings[p];
  const mu = userRatings.length === 0 ? NaN : (codeSum * 0.5) / userRatings.length;
  const userBias = new Float64Array(nU);
  const movieBias = new Float64Array(nM);

  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < nM; i++) {
      const start = moviePtr[i];
      const end = moviePtr[i + 1];
      let dev = 0;
      for (let p = start; p < end; p++) dev += movieRatings[p] * 0.5 - mu - userBias[movieUsers[p]];
      const denominator = regMovie + (end - start);
      movieBias[i] = denominator > 0 ? dev / denominator : 0;
    }
    for (let u = 0; u < nU; u++) {
      const start = userPtr[u];
      const end = userPtr[u + 1];
      let dev = 0;
      for (let p = start; p < end; p++) dev += userRatings[p] * 0.5 - mu - movieBias[userMovies[p]];
      const denominator = regUser + (end - start);
      userBias[u] = denominator > 0 ? dev / denominator : 0;
    }
  }
  return { globalMean: mu, userBias, movieBias };
}
