import { clipToScale, RatingList, RatingMatrix } from '@recsys/data';
import { ArtifactContent, fingerprintMatrix, ModelArtifact, requireMetaNumber, requireSection, SectionArray } from '../artifact';
import { BiasedRidge, foldInFactors } from './fold-in';
import { BasePredictor, Recommendation, TrainingProgress } from '../predictor';
import { topN } from '../top-n';
import { MovieScorer, referenceScores } from '../score-kernel';
import { Contribution, factorCosine, FittedLatentState, foldInContributions, FoldedUser, PredictionDetail } from './latent-serving';
import type { FactorState, FactorTrainer } from './factor-trainer';
import { LatentFitOptions, runEpochs } from './run-epochs';
import { keptCounts } from './kept-counts';

export type { LatentFitOptions } from './run-epochs';

/** Options of {@link LatentModel.foldInUser}. */
export interface FoldInOptions {
  /** Ridge λ on the user factors. Default the model's `foldInReg` (see each model). */
  reg?: number;
  /** Ridge λ on the user bias. Default `reg`. */
  regBias?: number;
}

/**
 * The shared part of the biased latent-factor models (`baseline`, `svd`, `svdpp`):
 *
 *   r̂_ui = μ + b_u + b_i + p_u·q_i
 *
 * with k factors (k = 0 for `baseline`). Unknown movie: μ + b_u; unknown user: μ + b_i; both: μ.
 * Subclasses fit by handing a {@link FactorTrainer} to {@link trainWith}, which adopts the
 * trainer's {@link FactorState}: `userBias`, `movieBias`, `userFactors` (nUsers×k row-major) and
 * `movieFactors` (nMovies×k). SVD++ stores in `userFactors` the effective vector
 * p_u + |N(u)|^-½ Σ y_j, so prediction, scoring and recommend are the same for all three.
 */
export abstract class LatentModel extends BasePredictor {
  protected userBias: Float64Array = new Float64Array(0);
  protected movieBias: Float64Array = new Float64Array(0);
  protected userFactors: Float32Array = new Float32Array(0);
  protected movieFactors: Float32Array = new Float32Array(0);
  /** Number of factors k of the fitted state. */
  protected k = 0;
  /** Progress of the last fit (or of the loaded artifact). */
  history: TrainingProgress[] = [];
  private ridge: BiasedRidge | null = null;

  /** Default ridge λ of {@link foldInUser}, {@link foldIn} and {@link explain} (see each model). */
  abstract get foldInReg(): number;

  /** μ of the training ratings. */
  get mean(): number {
    return this.globalMean;
  }

  /** Number of latent factors (0 for the baseline model). */
  get factorCount(): number {
    return this.k;
  }

  /**
   * μ and copies of the biases b_u, b_i (by internal user and movie index), without the factors:
   * the baselines b_ui = μ + b_u + b_i of pearson-baseline similarities over the training matrix.
   */
  biases(): { globalMean: number; userBias: Float64Array; movieBias: Float64Array } {
    return { globalMean: this.globalMean, userBias: this.userBias.slice(), movieBias: this.movieBias.slice() };
  }

  /** Copies of the fitted state, indexed by internal user and movie indices. */
  state(): FactorState {
    return {
      globalMean: this.globalMean,
      userBias: this.userBias.slice(),
      movieBias: this.movieBias.slice(),
      userFactors: this.userFactors.slice(),
      movieFactors: this.movieFactors.slice(),
      k: this.k,
    };
  }

  /**
   * Takes a trainer's state over (its arrays become the model's). A user or movie with no training
   * ratings (an empty row of a training matrix that keeps every index, such as the guard's
   * held-out slice) gets b = 0 and a zero factor row: whatever the trainer's initial draw left
   * there was never fitted, and with zeros its prediction is μ + b_i (μ + b_u), exactly that of a
   * user (movie) the model does not know.
   */
  protected adopt(state: FactorState): void {
    this.globalMean = state.globalMean;
    this.userBias = state.userBias;
    this.movieBias = state.movieBias;
    this.userFactors = state.userFactors;
    this.movieFactors = state.movieFactors;
    this.k = state.k;
    const train = this.train;
    const exclude = this.fitExclude;
    if (exclude) {
      // Rows whose every rating the fit left out are empty rows of the matrix it stands for.
      const { users, movies } = keptCounts(train, exclude);
      clearEmptyCounts(users, state.userBias, state.userFactors, state.k);
      clearEmptyCounts(movies, state.movieBias, state.movieFactors, state.k);
      return;
    }
    clearEmptyRows(train.userPtr, state.userBias, state.userFactors, state.k);
    clearEmptyRows(train.moviePtr, state.movieBias, state.movieFactors, state.k);
  }

  /** The ratings the current fit leaves out (options.exclude), while {@link trainWith} runs. */
  private fitExclude: Uint8Array | null = null;

  /**
   * Fits by {@link runEpochs}: `epochs` steps of `trainer` with progress, validation and early
   * stopping as `options` ask; the model ends with the trainer's final (or best) state and its
   * history, and the trainer is disposed.
   */
  protected async trainWith<S extends FactorState>(trainer: FactorTrainer<S>, epochs: number, options: LatentFitOptions): Promise<void> {
    this.fitExclude = options.exclude ?? null;
    try {
      const run = await runEpochs({ kind: this.kind, adopt: (state: S) => this.adopt(state), validationRmse: (list) => this.listRmse(list) }, trainer, epochs, options);
      this.history = run.history;
    } finally {
      this.fitExclude = null;
    }
  }

  protected estimate(u: number, m: number): number {
    const k = this.k;
    const P = this.userFactors;
    const Q = this.movieFactors;
    let dot = 0;
    const pu = u * k;
    const qi = m * k;
    for (let f = 0; f < k; f++) dot += P[pu + f] * Q[qi + f];
    return this.globalMean + this.userBias[u] + this.movieBias[m] + dot;
  }

  protected override fallbackEstimate(u: number, m: number): number {
    if (u >= 0) return this.globalMean + this.userBias[u];
    if (m >= 0) return this.globalMean + this.movieBias[m];
    return this.globalMean;
  }

  /** One pass over Q: out[m] = μ + b_u + b_m + p_u·q_m (μ + b_m for an unknown user). */
  protected override scoreAll(u: number, out: Float64Array): void {
    if (u < 0) {
      for (let m = 0; m < out.length; m++) out[m] = this.globalMean + this.movieBias[m];
      return;
    }
    this.scoreVector(this.userFactors, u * this.k, this.globalMean + this.userBias[u], out);
  }

  /** The scorer of the current Q and b_i (built at the first list after they were adopted), null before or without the kernel. */
  private scorer: { scorer: MovieScorer | null; factors: Float32Array; bias: Float64Array; k: number } | null = null;

  /**
   * out[m] = base + b_m + p·q_m for every movie, p the k values of `p` from `offset`: the
   * WebAssembly kernel ({@link MovieScorer}, four sums by f mod 4 in f64: 17,770 movies × 100
   * factors in about 0.4 ms of CPU instead of 1.5 ms) or, when it is not built, the same sums in
   * TypeScript ({@link referenceScores}); both give the same bits.
   */
  protected scoreVector(p: Float32Array, offset: number, base: number, out: Float64Array): void {
    const Q = this.movieFactors;
    const mb = this.movieBias;
    let cached = this.scorer;
    if (cached === null || cached.factors !== Q || cached.bias !== mb || cached.k !== this.k) {
      cached = this.scorer = { scorer: MovieScorer.create(4, Q, this.k, this.train.nMovies, mb), factors: Q, bias: mb, k: this.k };
    }
    if (cached.scorer !== null && out.length === this.train.nMovies) cached.scorer.score(p, offset, base, out);
    else referenceScores(4, Q, this.k, mb, p, offset, base, out);
  }

  /**
   * Term added to each rating's target during fold-in (SVD++'s implicit part); 0 for plain models.
   * `implicit` receives the k-vector the user's ratings add to p_u.
   */
  protected foldInImplicit(_movies: Int32Array, implicit: Float32Array): void {
    implicit.fill(0);
  }

  /**
   * Factors for a user unseen in training, from their ratings (external movie ids; movies unknown
   * to the model are ignored): solves the ridge problem of {@link foldInFactors} for [p_u, b_u]
   * with the movie factors and biases fixed. Returns a Float32Array of k + 1 values
   * [p_u, b_u] to pass to {@link predictForFactors} and {@link recommendForFactors}.
   */
  foldInUser(ratings: ReadonlyArray<{ movieId: number; rating: number }>, options: FoldInOptions = {}): Float32Array {
    const reg = options.reg ?? this.foldInReg;
    const regBias = options.regBias ?? reg;
    const { movies, values, n } = this.indexRatings(ratings);
    const k = this.k;
    const implicit = new Float32Array(k);
    this.foldInImplicit(movies.subarray(0, n), implicit);
    const offsets = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += implicit[f] * this.movieFactors[movies[j] * k + f];
      offsets[j] = dot;
    }
    if (this.ridge === null || this.ridge.factors !== k) this.ridge = new BiasedRidge(k);
    const vector = foldInFactors(this.movieFactors, this.movieBias, this.globalMean, k, { length: n, movies, ratings: values }, reg, regBias, offsets, this.ridge);
    for (let f = 0; f < k; f++) vector[f] += implicit[f];
    return vector;
  }

  /**
   * A user's ratings by internal movie index (the first n of `movies` and `values`), leaving out
   * movies the model does not know and, with `keep`, those whose keep[m] is not 1.
   * @throws RangeError for a rating that is not a finite number
   */
  protected indexRatings(ratings: ReadonlyArray<{ movieId: number; rating: number }>, keep?: Uint8Array): { movies: Int32Array; values: Float64Array; n: number } {
    const ids = this.train.movies;
    const movies = new Int32Array(ratings.length);
    const values = new Float64Array(ratings.length);
    let n = 0;
    for (const r of ratings) {
      if (!Number.isFinite(r.rating)) throw new RangeError(`foldInUser: rating of movie ${r.movieId} is not a number (${r.rating})`);
      const m = ids.indexOf(r.movieId);
      if (m < 0 || (keep !== undefined && keep[m] !== 1)) continue;
      movies[n] = m;
      values[n++] = r.rating;
    }
    return { movies, values, n };
  }

  protected checkVector(vector: Float32Array): void {
    if (vector.length !== this.k + 1) throw new RangeError(`expected a folded-in vector of ${this.k + 1} values (k factors and the bias), got ${vector.length}`);
  }

  /** Clipped prediction for a folded-in user ([p_u, b_u] from {@link foldInUser}); μ + b_u for an unknown movie. */
  predictForFactors(vector: Float32Array, movieId: number): number {
    this.checkVector(vector);
    const k = this.k;
    const m = this.train.movies.indexOf(movieId);
    let value = this.globalMean + vector[k];
    if (m >= 0) {
      value += this.movieBias[m];
      for (let f = 0; f < k; f++) value += vector[f] * this.movieFactors[m * k + f];
    }
    return clipToScale(this.scale, value);
  }

  /** The n best movies for a folded-in user, skipping `excludeMovieIds` (e.g. the movies they rated). */
  recommendForFactors(vector: Float32Array, n: number, excludeMovieIds: Iterable<number> = []): Recommendation[] {
    this.checkVector(vector);
    const train = this.train;
    const scores = this.scoreScratch();
    this.scoreVector(vector, 0, this.globalMean + vector[this.k], scores);
    for (const id of excludeMovieIds) {
      const m = train.movies.indexOf(id);
      if (m >= 0) scores[m] = NaN;
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], score: clipToScale(train.scale, scores[m]) }));
  }

  /**
   * Artifact content: params, μ, k, biases, factors and extra sections; the training ratings are
   * referred to by fingerprint, not stored.
   */
  toArtifact(): ArtifactContent {
    const train = this.train;
    return {
      kind: this.kind,
      params: { ...this.params },
      history: this.history,
      fingerprint: fingerprintMatrix(train),
      scale: train.scale,
      meta: { globalMean: this.globalMean, factors: this.k },
      sections: {
        userBias: this.userBias,
        movieBias: this.movieBias,
        userFactors: this.userFactors,
        movieFactors: this.movieFactors,
        ...this.extraSections(),
      },
    };
  }

  /** Model-specific sections (SVD++'s raw p_u and y_j). */
  protected extraSections(): Record<string, SectionArray> {
    return {};
  }

  /** Restores the fitted state from an artifact written by {@link toArtifact}, over its training matrix. */
  protected restoreFromArtifact(artifact: ModelArtifact, train: RatingMatrix): this {
    // μ as used in predictions: the training mean, or the α that L-BFGS fitted.
    this.restore(train, requireMetaNumber(artifact, 'globalMean'));
    const k = requireMetaNumber(artifact, 'factors');
    this.k = k;
    this.userBias = requireSection(artifact, 'userBias', Float64Array, train.nUsers);
    this.movieBias = requireSection(artifact, 'movieBias', Float64Array, train.nMovies);
    this.userFactors = requireSection(artifact, 'userFactors', Float32Array, train.nUsers * k);
    this.movieFactors = requireSection(artifact, 'movieFactors', Float32Array, train.nMovies * k);
    this.history = artifact.history;
    this.restoreExtra(artifact);
    return this;
  }

  protected restoreExtra(_artifact: ModelArtifact): void {}

  /** RMSE of the current state on a list of ratings (fallbacks included, predictions clipped). */
  protected listRmse(list: RatingList): number {
    if (list.length === 0) return NaN;
    const predictions = this.predictMany(list);
    let sum = 0;
    for (let j = 0; j < list.length; j++) {
      const e = predictions[j] - list.ratings[j] * 0.5;
      sum += e * e;
    }
    return Math.sqrt(sum / list.length);
  }

  // ---- serving: fitted state, fold-in, predictions and explanations for the API ---------------

  /**
   * The fitted state itself, without a copy ({@link state} copies): read-only views of b_u, b_i,
   * P and Q by internal index, for callers that read the factors (serving holds no second copy).
   */
  get fitted(): FittedLatentState {
    return { globalMean: this.globalMean, k: this.k, userBias: this.userBias, movieBias: this.movieBias, userFactors: this.userFactors, movieFactors: this.movieFactors };
  }

  /**
   * {@link foldInUser} with the number of ratings of movies the model knows, which
   * {@link predictFolded} needs to tell a folded-in user from an unknown one.
   */
  foldIn(ratings: ReadonlyArray<{ movieId: number; rating: number }>, options: FoldInOptions = {}): FoldedUser {
    const vector = this.foldInUser(ratings, options);
    const movies = this.train.movies;
    let knownRatings = 0;
    for (const r of ratings) if (movies.has(r.movieId)) knownRatings++;
    return { vector, knownRatings };
  }

  /**
   * A prediction with its baseline μ + b_u + b_i, for a user known to the model (`folded` null:
   * exactly {@link predict}) or folded in from ratings the model was not trained on (`folded` from
   * {@link foldIn}, replacing the trained p_u and b_u): r̂ = μ + b_u + b_i + p_u·q_i, clipped to the
   * scale; μ + b_u for a movie the model does not know. A folded-in user counts as unknown only
   * when none of their ratings was of a movie the model knows.
   */
  predictFolded(folded: FoldedUser | null, userId: number, movieId: number): PredictionDetail {
    const train = this.train;
    const m = train.movies.indexOf(movieId);
    if (folded === null) {
      const p = this.predict(userId, movieId);
      const u = train.users.indexOf(userId);
      const baseline = this.globalMean + (u >= 0 ? this.userBias[u] : 0) + (m >= 0 ? this.movieBias[m] : 0);
      return { ...p, baseline, foldedIn: false };
    }
    const vector = folded.vector;
    this.checkVector(vector);
    const k = this.k;
    let value = this.globalMean + vector[k];
    let baseline = value;
    if (m >= 0) {
      baseline += this.movieBias[m];
      let dot = 0;
      for (let f = 0; f < k; f++) dot += vector[f] * this.movieFactors[m * k + f];
      value = baseline + dot;
    }
    const known = folded.knownRatings > 0 || train.users.has(userId);
    const fallback = !known ? (m < 0 ? 'unknown-user-and-movie' : 'unknown-user') : m < 0 ? 'unknown-movie' : null;
    return { userId, movieId, rating: clipToScale(train.scale, value), unclipped: value, fallback, baseline, foldedIn: true };
  }

  /**
   * The rated movies that weigh most in a prediction of `movieId` from a user's `ratings`: the
   * additive split b_u + p_u·q_i = Σ_j c_j of their fold-in ({@link foldInContributions}; λ and
   * λ_b as in {@link foldInUser}; SVD++'s implicit term is left out). For a folded-in user the c_j
   * sum to the prediction minus μ + b_i; for a user trained with the model they explain the
   * fold-in of the same ratings, which approximates the trained p_u. Returns the n largest |c_j|
   * (ties by movie id) with the cosine of q_i and q_j; none for a movie the model does not know,
   * no rated movie it knows, or a singular system.
   */
  explain(ratings: ReadonlyArray<{ movieId: number; rating: number }>, movieId: number, n = Infinity, options: FoldInOptions = {}): Contribution[] {
    const ids = this.train.movies;
    const m = ids.indexOf(movieId);
    const known = ratings.filter((r) => ids.has(r.movieId));
    if (m < 0 || known.length === 0) return [];
    const k = this.k;
    const reg = options.reg ?? this.foldInReg;
    if (this.ridge === null || this.ridge.factors !== k) this.ridge = new BiasedRidge(k);
    const movies = Int32Array.from(known, (r) => ids.indexOf(r.movieId));
    const given = { length: known.length, movies, ratings: known.map((r) => r.rating) };
    const c = foldInContributions(this.movieFactors, this.movieBias, this.globalMean, k, given, m, reg, options.regBias ?? reg, this.ridge);
    if (c === null) return [];
    const items: Contribution[] = known.map((r, j) => ({
      movieId: r.movieId,
      rating: r.rating,
      contribution: c[j],
      factorSimilarity: k === 0 ? null : factorCosine(this.movieFactors, k, m, movies[j]),
    }));
    items.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.movieId - b.movieId);
    return items.slice(0, n);
  }
}

/** Zeroes bias[i] and factor row i (k floats) of every i whose row ptr[i] .. ptr[i+1] is empty. */
function clearEmptyCounts(counts: Uint32Array, bias: Float64Array, factors: Float32Array, k: number): void {
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] !== 0) continue;
    bias[i] = 0;
    factors.fill(0, i * k, (i + 1) * k);
  }
}

function clearEmptyRows(ptr: Uint32Array, bias: Float64Array, factors: Float32Array, k: number): void {
  for (let i = 0; i + 1 < ptr.length; i++) {
    if (ptr[i + 1] !== ptr[i]) continue;
    bias[i] = 0;
    factors.fill(0, i * k, (i + 1) * k);
  }
}
