import type { RatingMatrix } from '@recsys/data';
import type { Objective } from '@recsys/optimization';

/**
 * The notebook's bias-model objective over x = [α, b_u (nUsers), b_i (nMovies)]:
 *
 *   f(x) = (1/N) Σ_(u,i) (α + b_u + b_i − r_ui)² + λ (Σ_u b_u² + Σ_i b_i²)
 *
 * (α is not regularised), with the gradient
 *
 *   ∂f/∂α   = (2/N) Σ e_ui,   ∂f/∂b_u = (2/N) Σ_{i∈I_u} e_ui + 2λ b_u,   ∂f/∂b_i = (2/N) Σ_{u∈U_i} e_ui + 2λ b_i
 *
 * where e_ui = α + b_u + b_i − r_ui. One pass over the by-user arrays per evaluation, no allocation.
 */
export function baselineObjective(train: RatingMatrix, lambda: number): Objective {
  const nU = train.nUsers;
  const nM = train.nMovies;
  const N = train.nRatings;
  const { userPtr, userMovies, userRatings } = train;
  const expected = 1 + nU + nM;
  return (x, grad) => {
    if (x.length !== expected) throw new RangeError(`baselineObjective: x has length ${x.length}, expected ${expected}`);
    grad.fill(0);
    const alpha = x[0];
    const scale = 2 / N;
    let sse = 0;
    let gAlpha = 0;
    for (let u = 0; u < nU; u++) {
      const bu = x[1 + u];
      let gu = 0;
      for (let p = userPtr[u]; p < userPtr[u + 1]; p++) {
        const m = userMovies[p];
        const e = alpha + bu + x[1 + nU + m] - userRatings[p] * 0.5;
        sse += e * e;
        gu += e;
        grad[1 + nU + m] += scale * e;
      }
      gAlpha += gu;
      grad[1 + u] = scale * gu;
    }
    grad[0] = scale * gAlpha;
    let penalty = 0;
    for (let j = 1; j < expected; j++) {
      penalty += x[j] * x[j];
      grad[j] += 2 * lambda * x[j];
    }
    return sse / N + lambda * penalty;
  };
}

/** Offsets of the blocks of the {@link svdObjective} parameter vector. */
export function svdLayout(nUsers: number, nMovies: number, k: number): { userBias: number; movieBias: number; userFactors: number; movieFactors: number; length: number } {
  const userBias = 1;
  const movieBias = userBias + nUsers;
  const userFactors = movieBias + nMovies;
  const movieFactors = userFactors + nUsers * k;
  return { userBias, movieBias, userFactors, movieFactors, length: movieFactors + nMovies * k };
}

/**
 * The notebook's latent-factor objective (its K = 2 model), in mean form, over
 * x = [α, b_u (nUsers), b_i (nMovies), P (nUsers×k row-major), Q (nMovies×k)]:
 *
 *   f(x) = (1/N) Σ_(u,i) (α + b_u + b_i + p_u·q_i − r_ui)² + λ_b (‖b_u‖² + ‖b_i‖²) + λ (‖P‖² + ‖Q‖²)
 *
 * with e_ui = α + b_u + b_i + p_u·q_i − r_ui and gradient
 *   ∂f/∂α = (2/N) Σ e,  ∂f/∂b_u = (2/N) Σ_{i∈I_u} e + 2λ_b b_u  (b_i alike),
 *   ∂f/∂p_u = (2/N) Σ_{i∈I_u} e·q_i + 2λ p_u,  ∂f/∂q_i = (2/N) Σ_{u∈U_i} e·p_u + 2λ q_i.
 * (The notebook's gradient had these terms wrong, which is why its fit ended worse than the mean.)
 * `lambdaBias` defaults to `lambda`. When `stats` is given, each evaluation writes its data term
 * (1/N) Σ e² into `stats.mse` (the training MSE at the evaluated point).
 */
export function svdObjective(train: RatingMatrix, k: number, lambda: number, lambdaBias = lambda, stats?: { mse: number }): Objective {
  const nU = train.nUsers;
  const nM = train.nMovies;
  const N = train.nRatings;
  const { userPtr, userMovies, userRatings } = train;
  const layout = svdLayout(nU, nM, k);
  // Block offsets as locals: the hot loop should not reload them from an object.
  const userBiasAt = layout.userBias;
  const movieBiasAt = layout.movieBias;
  const userFactorsAt = layout.userFactors;
  const movieFactorsAt = layout.movieFactors;
  const length = layout.length;
  const gu = new Float64Array(k);
  return (x, grad) => {
    if (x.length !== length) throw new RangeError(`svdObjective: x has length ${x.length}, expected ${length}`);
    grad.fill(0);
    const alpha = x[0];
    const scale = 2 / N;
    let sse = 0;
    let gAlpha = 0;
    for (let u = 0; u < nU; u++) {
      const bu = x[userBiasAt + u];
      const pu = userFactorsAt + u * k;
      gu.fill(0);
      let gBias = 0;
      for (let p = userPtr[u]; p < userPtr[u + 1]; p++) {
        const m = userMovies[p];
        const qi = movieFactorsAt + m * k;
        let dot = 0;
        for (let f = 0; f < k; f++) dot += x[pu + f] * x[qi + f];
        const e = alpha + bu + x[movieBiasAt + m] + dot - userRatings[p] * 0.5;
        sse += e * e;
        gBias += e;
        const se = scale * e;
        grad[movieBiasAt + m] += se;
        for (let f = 0; f < k; f++) {
          gu[f] += se * x[qi + f];
          grad[qi + f] += se * x[pu + f];
        }
      }
      gAlpha += gBias;
      grad[userBiasAt + u] = scale * gBias;
      for (let f = 0; f < k; f++) grad[pu + f] = gu[f];
    }
    grad[0] = scale * gAlpha;
    let biasPenalty = 0;
    for (let j = userBiasAt; j < userFactorsAt; j++) {
      biasPenalty += x[j] * x[j];
      grad[j] += 2 * lambdaBias * x[j];
    }
    let factorPenalty = 0;
    for (let j = userFactorsAt; j < length; j++) {
      factorPenalty += x[j] * x[j];
      grad[j] += 2 * lambda * x[j];
    }
    if (stats) stats.mse = sse / N;
    return sse / N + lambdaBias * biasPenalty + lambda * factorPenalty;
  };
}
