import type { Prediction } from '../predictor';

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
