// What LatentModel hands to serving (the API): read-only views of the fitted state, folded-in
// users, detailed predictions and the explanation of a prediction by the rated movies.
import type { Prediction } from '../predictor';
import { BiasedRidge, FoldInRatings } from './fold-in';

/**
 * A typed array to read, not to write: the model's own storage, handed out without a copy
 * (writing through a cast changes the model).
 */
export type ReadonlyTypedArray<T extends Float32Array | Float64Array> = Readonly<Omit<T, 'set' | 'fill' | 'copyWithin' | 'reverse' | 'sort'>>;

/**
 * The fitted state of a latent model as it is stored, indexed by internal user and movie indices
 * (see {@link LatentModel.fitted}): μ, k, b_u, b_i, P (nUsers×k, row-major) and Q (nMovies×k).
 */
export interface FittedLatentState {
  readonly globalMean: number;
  readonly k: number;
  readonly userBias: ReadonlyTypedArray<Float64Array>;
  readonly movieBias: ReadonlyTypedArray<Float64Array>;
  readonly userFactors: ReadonlyTypedArray<Float32Array>;
  readonly movieFactors: ReadonlyTypedArray<Float32Array>;
}

/** A user folded in from ratings by {@link LatentModel.foldIn}. */
export interface FoldedUser {
  /** [p_u (k values), b_u], as {@link LatentModel.foldInUser} returns it. */
  readonly vector: Float32Array;
  /** How many of the ratings were of movies the model knows (0: the model still knows nothing of the user). */
  readonly knownRatings: number;
}

/** A {@link Prediction} with what serving shows beside it ({@link LatentModel.predictFolded}). */
export interface PredictionDetail extends Prediction {
  /** μ + b_u + b_i: the parts of the prediction that are known (b_u of the folded-in vector when one was used). */
  readonly baseline: number;
  /** Whether a folded-in [p_u, b_u] replaced the user's trained factors. */
  readonly foldedIn: boolean;
}

/** One rated movie's additive share of a prediction ({@link LatentModel.explain}). */
export interface Contribution {
  readonly movieId: number;
  /** The user's rating of that movie. */
  readonly rating: number;
  /** c_j: the contributions of all rated movies sum to b_u + p_u·q_i of the fold-in of those ratings. */
  readonly contribution: number;
  /** Cosine of the two movies' factor vectors (0 when one is all zeros); null for a model without factors. */
  readonly factorSimilarity: number | null;
}

/**
 * The additive split of a fold-in's personal part over the ratings. With the movie factors Q and
 * biases fixed, the fold-in ({@link foldInFactors}, no offsets) solves [p_u; b_u] = W Σ_j x_j y_j
 * with x_j = [q_j; 1], y_j = r_j − μ − b_j and W = (Σ_j x_j x_jᵀ + diag(λ, …, λ, λ_b))⁻¹, so for
 * movie i
 *
 *   b_u + p_u·q_i = Σ_j c_j,   c_j = ([q_i; 1]ᵀ W x_j) · y_j
 *
 * (one (k+1)×(k+1) solve, W[q_i; 1], then a dot product per rating). Returns c_j in the order of
 * `ratings`, or null when the system is not positive definite.
 */
export function foldInContributions(
  movieFactors: Float32Array,
  movieBias: Float64Array,
  globalMean: number,
  factors: number,
  ratings: FoldInRatings,
  movie: number,
  reg: number,
  regBias: number,
  ridge: BiasedRidge = new BiasedRidge(factors),
): Float64Array | null {
  const k = factors;
  const Q = movieFactors;
  const residual = new Float64Array(ratings.length);
  ridge.reset();
  for (let j = 0; j < ratings.length; j++) {
    residual[j] = ratings.ratings[j] - globalMean - movieBias[ratings.movies[j]];
    ridge.add(Q, ratings.movies[j] * k, residual[j]);
  }
  for (let f = 0; f < k; f++) ridge.b[f] = Q[movie * k + f];
  ridge.b[k] = 1;
  if (!ridge.solve(reg, regBias)) return null;
  const z = ridge.b;
  const out = new Float64Array(ratings.length);
  for (let j = 0; j < ratings.length; j++) {
    const qj = ratings.movies[j] * k;
    let w = z[k];
    for (let f = 0; f < k; f++) w += z[f] * Q[qj + f];
    out[j] = w * residual[j];
  }
  return out;
}

/** Cosine of movies a and b's factor vectors (rows of Q, k wide); 0 when one is all zeros. */
export function factorCosine(movieFactors: Float32Array, k: number, a: number, b: number): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let f = 0; f < k; f++) {
    const qa = movieFactors[a * k + f];
    const qb = movieFactors[b * k + f];
    dot += qa * qb;
    normA += qa * qa;
    normB += qb * qb;
  }
  const denom = Math.sqrt(normA * normB);
  return denom > 0 ? dot / denom : 0;
}
