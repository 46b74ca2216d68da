import { clipToScale, RatingMatrix } from '@recsys/data';
import { RidgeSolver } from '@recsys/optimization';
import { ArtifactContent, ArtifactError, fittedArtifact, ModelArtifact, requireMetaNumber, requireSection } from '../artifact';
import { checkParamBounds, SPARK_ALS_PARAM_BOUNDS } from '../param-bounds';
import type { Prediction, Recommendation } from '../predictor';
import { topN } from '../top-n';
import { FoldInOptions, LatentModel } from './latent-model';
import type { Contribution, FoldedUser, PredictionDetail } from './latent-serving';
import { factorCosine } from './latent-serving';

/** Parameters of {@link SparkAlsModel}. */
export interface SparkAlsParams {
  /**
   * Spark's `regParam` λ, used here by fold-in only (the factors come from Spark): a user's
   * factors solve (YᵀY + λ·n_u·I) x_u = Yᵀ r_u. Default 0.1, Spark's default.
   */
  regParam: number;
}

/** Defaults of {@link SparkAlsParams}: Spark ML ALS's own regParam default. */
export const SPARK_ALS_DEFAULTS: Readonly<SparkAlsParams> = Object.freeze({ regParam: 0.1 });

/** Largest rank an import accepts (Spark has no limit; 1,000 factors of 480k users are 1.9 GB). */
export const SPARK_ALS_MAX_RANK = 1000;

/** Full parameters from partial ones: unknown names and values outside their bounds are refused. */
export function sparkAlsParams(partial: Record<string, unknown> = {}): SparkAlsParams {
  for (const key of Object.keys(partial)) {
    if (!(key in SPARK_ALS_DEFAULTS)) throw new RangeError(`spark-als: unknown parameter "${key}" (known: ${Object.keys(SPARK_ALS_DEFAULTS).join(', ')})`);
  }
  const params = { ...SPARK_ALS_DEFAULTS, ...(partial as Partial<SparkAlsParams>) };
  checkParamBounds('spark-als', params as unknown as Record<string, unknown>, SPARK_ALS_PARAM_BOUNDS);
  return params;
}

/** The factors of a Spark ALSModel by raw id, as read from its folders (see readSparkAlsModel). */
export interface SparkAlsFactors {
  rank: number;
  /** Raw user ids, one per row of `userFactors` (rank floats each). */
  userIds: Int32Array;
  userFactors: Float32Array;
  /** Raw item (movie) ids, one per row of `itemFactors`. */
  itemIds: Int32Array;
  itemFactors: Float32Array;
}

/** How the ids of the Spark model met those of the data (see {@link SparkAlsModel.fromFactors}). */
export interface SparkAlsMatch {
  /** Users (items) of the model that are in the data: their factors are used. */
  usersMatched: number;
  moviesMatched: number;
  /** Users (items) of the model absent from the data: skipped (no prediction ever asks for them). */
  usersSkipped: number;
  moviesSkipped: number;
  /** Users (movies) of the data the model has no factors for: their predictions fall back to μ. */
  dataUsersWithoutFactors: number;
  dataMoviesWithoutFactors: number;
}

/**
 * `spark-als`: a model trained by Spark ML's `ALS` (explicit feedback, `implicitPrefs=false`) on a
 * cluster and imported from its `ALSModel.save(DIR)` folders (`recsys import-model --format
 * spark-als DIR`); it is served here, never trained here (fit refuses).
 *
 *   r̂_ui = x_u·y_i
 *
 * with x_u, y_i ∈ ℝ^rank Spark's user and item factors (Spark's ALS has no biases and no global
 * mean). Served predictions are clamped to the rating scale (as every kind's); `unclipped` and
 * {@link estimateRaw} give the plain dot product. A user or movie the model has no factors for
 * (absent from the data Spark trained on) falls back to μ, the mean rating of the data, with
 * reason `unknown-user`, `unknown-movie` or `unknown-user-and-movie` (Spark's coldStartStrategy
 * would give NaN or drop the row).
 *
 * Fold-in (a user's ratings newer than the model, or a new user) is one ALS-WR half step with the
 * item factors Y fixed, exactly Spark's user update:
 *
 *   x_u = (Y_uᵀY_u + λ·n_u·I)⁻¹ Y_uᵀ r_u
 *
 * over the n_u rated movies that have factors (Y_u their factor rows, r_u the ratings), λ =
 * `regParam` (default 0.1, Spark's; the import reads it from the metadata's paramMap when the
 * saved model carries it, else takes `--reg-param`). Defaults: {@link SPARK_ALS_DEFAULTS}.
 *
 * Storage follows the other latent kinds (factors by internal index of the data's matrix, zero
 * biases, so similarity baselines and the API's views work unchanged) plus two masks saying which
 * rows have factors.
 */
export class SparkAlsModel extends LatentModel {
  readonly kind = 'spark-als';
  readonly params: Readonly<SparkAlsParams>;
  /** 1 for users (movies) of the training matrix that have Spark factors. */
  private userHas: Uint8Array = new Uint8Array(0);
  private movieHas: Uint8Array = new Uint8Array(0);
  private solver: RidgeSolver | null = null;

  /**
   * @param trainableKinds the kinds trained here, named when fit refuses (the registry passes its
   *   list: this module cannot import the registry, which imports it).
   */
  constructor(
    params: Record<string, unknown> = {},
    private readonly trainableKinds: () => string[] = () => [],
  ) {
    super();
    this.params = Object.freeze(sparkAlsParams(params));
  }

  get foldInReg(): number {
    return this.params.regParam;
  }

  /** Refused before anything is touched: the factors come from Spark (see the class). */
  override async fit(): Promise<this> {
    throw this.notTrainedHere();
  }

  protected fitModel(): void {
    throw this.notTrainedHere();
  }

  private notTrainedHere(): Error {
    return new Error(
      `spark-als: models of this kind are trained by Spark (tools/spark/train_als.py) and imported with \`recsys import-model --format spark-als DIR\`; they cannot be trained here (kinds trained here: ${this.trainableKinds().join(', ')})`,
    );
  }

  /**
   * The model over `data` from Spark's factors: rows are matched to the data's users and movies by
   * raw id; ids absent from the data are skipped (counted in the returned match), data ids without
   * factors fall back (see the class). Factors are copied, in the data's index order.
   */
  static fromFactors(factors: SparkAlsFactors, data: RatingMatrix, params: Record<string, unknown> = {}, trainableKinds?: () => string[]): { model: SparkAlsModel; match: SparkAlsMatch } {
    const model = new SparkAlsModel(params, trainableKinds);
    const k = factors.rank;
    const users = placeRows(factors.userIds, factors.userFactors, k, data.users.indexOf.bind(data.users), data.nUsers);
    const movies = placeRows(factors.itemIds, factors.itemFactors, k, data.movies.indexOf.bind(data.movies), data.nMovies);
    model.adoptFactors(data, k, users.rows, users.has, movies.rows, movies.has);
    const match: SparkAlsMatch = {
      usersMatched: users.matched,
      moviesMatched: movies.matched,
      usersSkipped: factors.userIds.length - users.matched,
      moviesSkipped: factors.itemIds.length - movies.matched,
      dataUsersWithoutFactors: data.nUsers - users.matched,
      dataMoviesWithoutFactors: data.nMovies - movies.matched,
    };
    return { model, match };
  }

  private adoptFactors(train: RatingMatrix, k: number, userFactors: Float32Array, userHas: Uint8Array, movieFactors: Float32Array, movieHas: Uint8Array, globalMean?: number): void {
    this.restore(train, globalMean);
    this.k = k;
    this.userFactors = userFactors;
    this.movieFactors = movieFactors;
    this.userHas = userHas;
    this.movieHas = movieHas;
    this.userBias = new Float64Array(train.nUsers);
    this.movieBias = new Float64Array(train.nMovies);
  }

  /** x_u·y_i of internal indices, both with factors (no clamping). */
  estimateRaw(u: number, m: number): number {
    const k = this.k;
    const P = this.userFactors;
    const Q = this.movieFactors;
    let dot = 0;
    for (let f = 0, pu = u * k, qi = m * k; f < k; f++) dot += P[pu + f] * Q[qi + f];
    return dot;
  }

  /** The dot product, or NaN when the user or the movie has no factors (the caller falls back to μ). */
  protected override estimate(u: number, m: number): number {
    return this.userHas[u] === 1 && this.movieHas[m] === 1 ? this.estimateRaw(u, m) : NaN;
  }

  protected override fallbackEstimate(): number {
    return this.globalMean;
  }

  /** As every kind's predict, but a user or movie without factors counts as unknown to the model. */
  override predict(userId: number, movieId: number): Prediction {
    const train = this.train;
    const u = train.users.indexOf(userId);
    const m = train.movies.indexOf(movieId);
    const knowsUser = u >= 0 && this.userHas[u] === 1;
    const knowsMovie = m >= 0 && this.movieHas[m] === 1;
    const value = knowsUser && knowsMovie ? this.estimateRaw(u, m) : this.globalMean;
    const fallback = knowsUser && knowsMovie ? null : !knowsUser && !knowsMovie ? 'unknown-user-and-movie' : knowsUser ? 'unknown-movie' : 'unknown-user';
    return { userId, movieId, rating: clipToScale(train.scale, value), unclipped: value, fallback };
  }

  /** Every movie's score for internal user u: x_u·y_m, μ for a movie without factors (all μ for a user without). */
  protected override scoreAll(u: number, out: Float64Array): void {
    if (u < 0 || this.userHas[u] !== 1) {
      out.fill(this.globalMean);
      return;
    }
    this.scoreVector(this.userFactors, u * this.k, 0, out);
    this.fallBackMovies(out);
  }

  private fallBackMovies(out: Float64Array): void {
    const has = this.movieHas;
    for (let m = 0; m < out.length; m++) if (has[m] !== 1) out[m] = this.globalMean;
  }

  /**
   * ALS-WR fold-in (see the class): [x_u (rank values), 0] from the user's ratings (external movie
   * ids; movies without factors are ignored); all zeros when none has factors. `options.reg` is
   * the λ multiplied by n_u (default regParam); the bias slot (kept for the shared vector layout)
   * is always 0.
   */
  override foldInUser(ratings: ReadonlyArray<{ movieId: number; rating: number }>, options: FoldInOptions = {}): Float32Array {
    const k = this.k;
    const lambda = options.reg ?? this.params.regParam;
    if (!(lambda > 0)) throw new RangeError(`spark-als foldIn: reg must be > 0, got ${lambda}`);
    const { movies, values, n } = this.ratedWithFactors(ratings);
    const out = new Float32Array(k + 1);
    if (n === 0) return out;
    const system = this.normalEquations(movies, values, n);
    if (!this.ridgeSolver().solve(system.A, system.b, lambda * n)) throw new Error('spark-als foldIn: the normal equations are not positive definite');
    for (let f = 0; f < k; f++) out[f] = system.b[f];
    return out;
  }

  /** Internal indices and ratings of the rated movies that have factors. */
  private ratedWithFactors(ratings: ReadonlyArray<{ movieId: number; rating: number }>): { movies: Int32Array; values: Float64Array; n: number } {
    return this.indexRatings(ratings, this.movieHas);
  }

  /** A = Σ y_j y_jᵀ (lower triangle), b = Σ r_j y_j over the first n of `movies`. */
  private normalEquations(movies: Int32Array, values: Float64Array, n: number): { A: Float64Array; b: Float64Array } {
    const k = this.k;
    const Q = this.movieFactors;
    const A = new Float64Array(k * k);
    const b = new Float64Array(k);
    for (let j = 0; j < n; j++) {
      const q = movies[j] * k;
      const r = values[j];
      for (let i = 0; i < k; i++) {
        const qi = Q[q + i];
        for (let l = 0; l <= i; l++) A[i * k + l] += qi * Q[q + l];
        b[i] += r * qi;
      }
    }
    return { A, b };
  }

  private ridgeSolver(): RidgeSolver {
    if (this.solver === null || this.solver.k !== this.k) this.solver = new RidgeSolver(this.k);
    return this.solver;
  }

  override foldIn(ratings: ReadonlyArray<{ movieId: number; rating: number }>, options: FoldInOptions = {}): FoldedUser {
    const vector = this.foldInUser(ratings, options);
    return { vector, knownRatings: this.ratedWithFactors(ratings).n };
  }

  /** Clamped x·y_i for a folded-in vector; μ for a movie without factors. */
  override predictForFactors(vector: Float32Array, movieId: number): number {
    this.checkVector(vector);
    const m = this.train.movies.indexOf(movieId);
    return clipToScale(this.scale, m >= 0 && this.movieHas[m] === 1 ? this.dotWith(vector, m) : this.globalMean);
  }

  private dotWith(vector: Float32Array, m: number): number {
    const k = this.k;
    const Q = this.movieFactors;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += vector[f] * Q[m * k + f];
    return dot;
  }

  override recommendForFactors(vector: Float32Array, n: number, excludeMovieIds: Iterable<number> = []): Recommendation[] {
    this.checkVector(vector);
    const train = this.train;
    const scores = this.scoreScratch();
    this.scoreVector(vector, 0, 0, scores);
    this.fallBackMovies(scores);
    for (const id of excludeMovieIds) {
      const m = train.movies.indexOf(id);
      if (m >= 0) scores[m] = NaN;
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], score: clipToScale(train.scale, scores[m]) }));
  }

  /**
   * The prediction with its baseline: x_u·y_i (trained x_u, or the folded-in one), clamped; the
   * baseline is 0 (the model has no biases) when the model predicts, μ when it falls back.
   */
  override predictFolded(folded: FoldedUser | null, userId: number, movieId: number): PredictionDetail {
    if (folded === null) {
      const p = this.predict(userId, movieId);
      return { ...p, baseline: p.fallback === null ? 0 : this.globalMean, foldedIn: false };
    }
    this.checkVector(folded.vector);
    const train = this.train;
    const m = train.movies.indexOf(movieId);
    const knowsMovie = m >= 0 && this.movieHas[m] === 1;
    const u = train.users.indexOf(userId);
    const knowsUser = folded.knownRatings > 0 || (u >= 0 && this.userHas[u] === 1);
    const predicts = knowsUser && knowsMovie;
    const value = predicts ? this.dotWith(folded.vector, m) : this.globalMean;
    const fallback = predicts ? null : !knowsUser && !knowsMovie ? 'unknown-user-and-movie' : knowsUser ? 'unknown-movie' : 'unknown-user';
    return { userId, movieId, rating: clipToScale(train.scale, value), unclipped: value, fallback, baseline: predicts ? 0 : this.globalMean, foldedIn: true };
  }

  /**
   * The rated movies that weigh most in the prediction of `movieId` from the fold-in of `ratings`:
   * with W = (Y_uᵀY_u + λ·n_u·I)⁻¹, x_u·y_i = Σ_j c_j with c_j = (y_iᵀ W y_j)·r_j (one solve of
   * W y_i, then a dot product per rating). The n largest |c_j| with the cosine of y_i and y_j;
   * none for a movie without factors or no rated movie with factors.
   */
  override explain(ratings: ReadonlyArray<{ movieId: number; rating: number }>, movieId: number, n = Infinity, options: FoldInOptions = {}): Contribution[] {
    const train = this.train;
    const target = train.movies.indexOf(movieId);
    const k = this.k;
    const { movies, values, n: count } = this.ratedWithFactors(ratings);
    if (target < 0 || this.movieHas[target] !== 1 || count === 0) return [];
    const lambda = options.reg ?? this.params.regParam;
    const { A } = this.normalEquations(movies, values, count);
    const w = Float64Array.from(this.movieFactors.subarray(target * k, target * k + k));
    if (!this.ridgeSolver().solve(A, w, lambda * count)) return [];
    const items: Contribution[] = [];
    const Q = this.movieFactors;
    for (let j = 0; j < count; j++) {
      let weight = 0;
      for (let f = 0, q = movies[j] * k; f < k; f++) weight += w[f] * Q[q + f];
      items.push({ movieId: train.movies.ids[movies[j]], rating: values[j], contribution: weight * values[j], factorSimilarity: factorCosine(this.movieFactors, k, target, movies[j]) });
    }
    items.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.movieId - b.movieId);
    return items.slice(0, n);
  }

  /** Artifact: params, μ and rank in meta; factors and the two masks as sections (no biases). */
  override toArtifact(): ArtifactContent {
    const sections = { userFactors: this.userFactors, movieFactors: this.movieFactors, userHasFactors: this.userHas, movieHasFactors: this.movieHas };
    return fittedArtifact(this, { globalMean: this.globalMean, factors: this.k, ...this.importMeta }, sections);
  }

  /** What the import recorded about the Spark model (sparkVersion, uid, …), kept in the artifact's meta. */
  importMeta: Record<string, unknown> = {};

  /** The model stored in a `spark-als` artifact, over its data. */
  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix, trainableKinds?: () => string[]): SparkAlsModel {
    const model = new SparkAlsModel(artifact.params, trainableKinds);
    const k = requireMetaNumber(artifact, 'factors');
    if (!(Number.isInteger(k) && k >= 1 && k <= SPARK_ALS_MAX_RANK)) throw new ArtifactError(artifact.file, `meta field "factors" must be an integer in 1..${SPARK_ALS_MAX_RANK}, got ${k}`);
    model.adoptFactors(
      train,
      k,
      requireSection(artifact, 'userFactors', Float32Array, train.nUsers * k),
      requireSection(artifact, 'userHasFactors', Uint8Array, train.nUsers),
      requireSection(artifact, 'movieFactors', Float32Array, train.nMovies * k),
      requireSection(artifact, 'movieHasFactors', Uint8Array, train.nMovies),
      requireMetaNumber(artifact, 'globalMean'),
    );
    const { globalMean: _mean, factors: _factors, ...rest } = artifact.meta;
    model.importMeta = rest;
    return model;
  }
}

/** Factor rows by raw id → rows by the data's index (zeros and has = 0 where the data id has none). */
function placeRows(ids: Int32Array, factors: Float32Array, k: number, indexOf: (id: number) => number, n: number): { rows: Float32Array; has: Uint8Array; matched: number } {
  const rows = new Float32Array(n * k);
  const has = new Uint8Array(n);
  let matched = 0;
  for (let r = 0; r < ids.length; r++) {
    const i = indexOf(ids[r]);
    if (i < 0) continue;
    rows.set(factors.subarray(r * k, r * k + k), i * k);
    has[i] = 1;
    matched++;
  }
  return { rows, has, matched };
}
