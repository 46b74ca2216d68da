import { clipToScale, RatingList } from '@recsys/data';
import { ArtifactContent, fingerprintMatrix, matrixFromSections, matrixSections, ModelArtifact, requireMetaNumber, requireSection, SectionArray } from '../artifact';
import { BiasedRidge, foldInFactors } from './fold-in';
import { BasePredictor, Recommendation, TrainingProgress } from '../predictor';
import { topN } from '../top-n';
import type { FactorState, FactorTrainer } from './factor-trainer';
import { LatentFitOptions, runEpochs } from './run-epochs';

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

  /** Default ridge λ of {@link foldInUser}. */
  protected abstract get foldInReg(): number;

  /** μ of the training ratings. */
  get mean(): number {
    return this.globalMean;
  }

  /** Number of latent factors (0 for the baseline model). */
  get factorCount(): number {
    return this.k;
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

  /** Takes a trainer's state over (its arrays become the model's). */
  protected adopt(state: FactorState): void {
    this.globalMean = state.globalMean;
    this.userBias = state.userBias;
    this.movieBias = state.movieBias;
    this.userFactors = state.userFactors;
    this.movieFactors = state.movieFactors;
    this.k = state.k;
  }

  /**
   * Fits by {@link runEpochs}: `epochs` steps of `trainer` with progress, validation and early
   * stopping as `options` ask; the model ends with the trainer's final (or best) state and its
   * history, and the trainer is disposed.
   */
  protected async trainWith<S extends FactorState>(trainer: FactorTrainer<S>, epochs: number, options: LatentFitOptions): Promise<void> {
    const run = await runEpochs({ kind: this.kind, adopt: (state: S) => this.adopt(state), validationRmse: (list) => this.listRmse(list) }, trainer, epochs, options);
    this.history = run.history;
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
    this.scoreVector(this.userFactors, u * this.k, this.userBias[u], out);
  }

  private scoreVector(p: Float32Array, offset: number, userBias: number, out: Float64Array): void {
    const k = this.k;
    const Q = this.movieFactors;
    const mb = this.movieBias;
    const base = this.globalMean + userBias;
    for (let m = 0, q = 0; m < out.length; m++, q += k) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += p[offset + f] * Q[q + f];
      out[m] = base + mb[m] + dot;
    }
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
    const train = this.train;
    const reg = options.reg ?? this.foldInReg;
    const regBias = options.regBias ?? reg;
    const movies = new Int32Array(ratings.length);
    const values = new Float64Array(ratings.length);
    let n = 0;
    for (const r of ratings) {
      if (!Number.isFinite(r.rating)) throw new RangeError(`foldInUser: rating of movie ${r.movieId} is not a number (${r.rating})`);
      const m = train.movies.indexOf(r.movieId);
      if (m < 0) continue;
      movies[n] = m;
      values[n++] = r.rating;
    }
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

  private checkVector(vector: Float32Array): void {
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
    const scores = new Float64Array(train.nMovies);
    this.scoreVector(vector, 0, vector[this.k], scores);
    for (const id of excludeMovieIds) {
      const m = train.movies.indexOf(id);
      if (m >= 0) scores[m] = NaN;
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], score: clipToScale(train.scale, scores[m]) }));
  }

  /** Artifact content: params, μ, k, biases, factors, the training matrix and extra sections. */
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
        ...matrixSections(train),
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

  /** Restores the fitted state from an artifact written by {@link toArtifact}. */
  protected restoreFromArtifact(artifact: ModelArtifact): this {
    const train = matrixFromSections(artifact);
    this.restore(train);
    // μ as used in predictions: the training mean, or the α that L-BFGS fitted.
    this.globalMean = requireMetaNumber(artifact, 'globalMean');
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
}
