// What the factor ranking models (`ials`, `bpr`) share once trained: scoring by p_u·q_i (+ b_i),
// fold-in of a user by the implicit-feedback least squares of Hu, Koren and Volinsky (2008), its
// additive explanation, item–item cosine, and the artifact. Training is each kind's own.
import type { RatingMatrix } from '@recsys/data';
import { choleskyFactor, choleskySolve } from '@recsys/optimization';
import { ArtifactContent, fingerprintMatrix, ModelArtifact, requireMetaNumber, requireSection } from '../artifact';
import type { TrainingProgress } from '../predictor';
import { topN } from '../top-n';
import { MovieScorer, referenceScores } from '../score-kernel';
import { Interaction, knownInteractions, ModelNeighbour, RankingContribution, RankingModel, RankingUser } from './ranking-model';

/** The fitted factors of a factor ranking model, by internal index (row-major, k per row). */
export interface RankingFactors {
  readonly k: number;
  /** P: nUsers × k. */
  readonly userFactors: Float32Array;
  /** Q: nMovies × k. */
  readonly itemFactors: Float32Array;
  /** b_i per movie, or null for a model without item biases (`ials`). */
  readonly itemBias: Float32Array | null;
}

/**
 * A ranking model scoring s(u, i) = p_u·q_i + b_i (b_i = 0 without item biases).
 *
 * **Fold-in** of a user from interactions S with weights w_j (the implicit least squares of Hu,
 * Koren and Volinsky 2008, eq. 4, with Q fixed; preference 1 on S, 0 elsewhere; confidence
 * c_j = {@link foldInConfidence}(w_j), 1 off S):
 *
 *   p = W Σ_{j∈S} c_j q_j,   W = (QᵀQ + Σ_{j∈S} (c_j − 1) q_j q_jᵀ + λ I)⁻¹,  λ = {@link foldInReg}
 *
 * QᵀQ (k×k) is computed once per fitted model, so a fold-in costs O(|S| k² + k³). For `ials` it
 * is exactly its own user update; for `bpr` it places a new user in the learned item space by the
 * same least squares (BPR's own update would need sampled negatives and many passes).
 *
 * **Explanation** (Hu et al. 2008, section 5): with p as above, s(u, i) − b_i = q_iᵀ p =
 * Σ_j c_j (q_iᵀ W q_j), so c_j (Wq_i)·q_j is movie j's exact additive share.
 *
 * **Similar movies**: cosine of q_i and q_j (0 when either is all zeros).
 */
export abstract class FactorRankingModel extends RankingModel {
  protected k = 0;
  protected userFactors: Float32Array<ArrayBufferLike> = new Float32Array(0);
  protected itemFactors: Float32Array<ArrayBufferLike> = new Float32Array(0);
  protected itemBias: Float32Array<ArrayBufferLike> | null = null;
  protected history: TrainingProgress[] = [];
  /** QᵀQ in f64, row-major k×k, computed at the first fold-in after a fit or load. */
  private gram: Float64Array | null = null;
  private itemNorms: Float64Array | null = null;
  /** The scoring kernel over the current factors: undefined until the first list after a fit or load, null without the kernel. */
  private scorer: MovieScorer | null | undefined = undefined;

  /** λ of the fold-in least squares. */
  protected abstract get foldInReg(): number;

  /** λ of the fold-in of a user with `count` positive interactions; {@link foldInReg} unless a kind scales it by frequency (`ials`). */
  protected foldInRegFor(_count: number): number {
    return this.foldInReg;
  }

  /** c(w): the confidence of an interaction of weight w in the fold-in (≥ 1 keeps W positive definite). */
  protected abstract foldInConfidence(weight: number): number;

  /** The minimum weight of a positive interaction (InteractionViewParams.minWeight). */
  protected abstract get minWeight(): number;

  /** The fitted factors, without a copy. */
  get factors(): RankingFactors {
    return { k: this.k, userFactors: this.userFactors, itemFactors: this.itemFactors, itemBias: this.itemBias };
  }

  /** The per-epoch history of the last fit. */
  get trainingHistory(): readonly TrainingProgress[] {
    return this.history;
  }

  /** Adopts fitted factors (a trainer's result or an artifact's sections) and drops cached derived state. */
  protected adoptFactors(factors: RankingFactors): void {
    const train = this.train;
    const { k } = factors;
    if (factors.userFactors.length !== train.nUsers * k) throw new RangeError(`${this.kind}: ${factors.userFactors.length} user factors, expected ${train.nUsers} × ${k}`);
    if (factors.itemFactors.length !== train.nMovies * k) throw new RangeError(`${this.kind}: ${factors.itemFactors.length} item factors, expected ${train.nMovies} × ${k}`);
    if (factors.itemBias !== null && factors.itemBias.length !== train.nMovies) throw new RangeError(`${this.kind}: ${factors.itemBias.length} item biases, expected ${train.nMovies}`);
    this.k = k;
    this.userFactors = factors.userFactors;
    this.itemFactors = factors.itemFactors;
    this.itemBias = factors.itemBias;
    this.gram = null;
    this.itemNorms = null;
    this.scorer = undefined;
  }

  protected estimate(u: number, m: number): number {
    const k = this.k;
    const P = this.userFactors;
    const Q = this.itemFactors;
    let s = this.itemBias === null ? 0 : this.itemBias[m];
    for (let f = 0, a = u * k, b = m * k; f < k; f++) s += P[a + f] * Q[b + f];
    return s;
  }

  /** An unknown user scores b_i (0 without biases): no personal signal. */
  protected override fallbackEstimate(_u: number, m: number): number {
    return m >= 0 && this.itemBias !== null ? this.itemBias[m] : 0;
  }

  protected override scoreAll(u: number, out: Float64Array): void {
    if (u < 0) {
      for (let m = 0; m < out.length; m++) out[m] = this.fallbackEstimate(-1, m);
      return;
    }
    this.scoreVector(this.userFactors, u * this.k, out);
  }

  /**
   * out[m] = b_m + p·q_m (one running sum from b_m) for every movie: the WebAssembly kernel
   * ({@link MovieScorer}) or, when it is not built, the same loop in TypeScript
   * ({@link referenceScores}); both give the same bits. The scorer copies Q at the first list
   * after a fit or load ({@link adoptFactors} drops it).
   */
  private scoreVector(p: Float32Array, offset: number, out: Float64Array): void {
    if (this.scorer === undefined) this.scorer = MovieScorer.create(1, this.itemFactors, this.k, this.train.nMovies, this.itemBias);
    if (this.scorer !== null && out.length === this.train.nMovies) this.scorer.score(p, offset, 0, out);
    else referenceScores(1, this.itemFactors, this.k, this.itemBias, p, offset, 0, out);
  }

  /** QᵀQ, computed once per fitted state. */
  private itemGram(): Float64Array {
    if (this.gram !== null) return this.gram;
    const k = this.k;
    const Q = this.itemFactors;
    const G = new Float64Array(k * k);
    for (let row = 0; row < Q.length; row += k) {
      for (let a = 0; a < k; a++) {
        const qa = Q[row + a];
        if (qa === 0) continue;
        for (let b = 0; b <= a; b++) G[a * k + b] += qa * Q[row + b];
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) G[b * k + a] = G[a * k + b];
    this.gram = G;
    return G;
  }

  /**
   * The Cholesky factor of W⁻¹ = QᵀQ + Σ (c_j − 1) q_j q_jᵀ + λI and the right-hand side
   * Σ c_j q_j for the known movies, or null when the system is not positive definite.
   */
  private foldInSystem(movies: Int32Array, weights: Float32Array): { L: Float64Array; rhs: Float64Array; confidence: Float64Array } | null {
    const k = this.k;
    const Q = this.itemFactors;
    const A = Float64Array.from(this.itemGram());
    const rhs = new Float64Array(k);
    const confidence = new Float64Array(movies.length);
    for (let j = 0; j < movies.length; j++) {
      const c = this.foldInConfidence(weights[j]);
      if (!(c >= 1 && Number.isFinite(c))) throw new RangeError(`${this.kind}: fold-in confidence of weight ${weights[j]} is ${c}, expected a finite number ≥ 1`);
      confidence[j] = c;
      const row = movies[j] * k;
      for (let a = 0; a < k; a++) {
        const qa = Q[row + a];
        rhs[a] += c * qa;
        const scaled = (c - 1) * qa;
        for (let b = 0; b <= a; b++) A[a * k + b] += scaled * Q[row + b];
      }
    }
    const reg = this.foldInRegFor(movies.length);
    for (let a = 0; a < k; a++) A[a * k + a] += reg;
    return choleskyFactor(A, k) ? { L: A, rhs, confidence } : null;
  }

  foldIn(interactions: ReadonlyArray<Interaction>): RankingUser {
    const { movies, weights, known } = knownInteractions(this.train, interactions, this.minWeight);
    const k = this.k;
    const vector = new Float32Array(k);
    if (movies.length > 0 && k > 0) {
      const system = this.foldInSystem(movies, weights);
      if (system !== null) {
        choleskySolve(system.L, system.rhs, k);
        for (let f = 0; f < k; f++) vector[f] = system.rhs[f];
      }
    }
    return { movies, weights, vector, knownInteractions: known };
  }

  scoreFolded(user: RankingUser, out: Float64Array): void {
    if (user.vector === null || user.vector.length !== this.k) throw new RangeError(`${this.kind}: the folded-in user has no ${this.k}-factor vector (folded by another model?)`);
    this.scoreVector(user.vector, 0, out);
  }

  explain(interactions: ReadonlyArray<Interaction>, movieId: number, n = Infinity): RankingContribution[] {
    const train = this.train;
    const i = train.movies.indexOf(movieId);
    const { movies, weights } = knownInteractions(train, interactions, this.minWeight);
    if (i < 0 || movies.length === 0 || this.k === 0) return [];
    const system = this.foldInSystem(movies, weights);
    if (system === null) return [];
    const k = this.k;
    const Q = this.itemFactors;
    // W q_i by one solve with the factor of W⁻¹.
    const wq = new Float64Array(k);
    for (let f = 0; f < k; f++) wq[f] = Q[i * k + f];
    choleskySolve(system.L, wq, k);
    const items: RankingContribution[] = [];
    for (let j = 0; j < movies.length; j++) {
      let dot = 0;
      for (let f = 0, row = movies[j] * k; f < k; f++) dot += wq[f] * Q[row + f];
      items.push({ movieId: train.movies.ids[movies[j]], weight: weights[j], contribution: system.confidence[j] * dot });
    }
    items.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.movieId - b.movieId);
    return items.slice(0, n);
  }

  similar(movieId: number, n: number): ModelNeighbour[] {
    const train = this.train;
    const i = train.movies.indexOf(movieId);
    if (i < 0 || n <= 0) return [];
    const k = this.k;
    const Q = this.itemFactors;
    const norms = this.norms();
    const scores = this.scoreScratch();
    for (let m = 0; m < scores.length; m++) {
      if (m === i || norms[m] === 0 || norms[i] === 0) {
        scores[m] = m === i ? NaN : 0;
        continue;
      }
      let dot = 0;
      for (let f = 0, a = i * k, b = m * k; f < k; f++) dot += Q[a + f] * Q[b + f];
      scores[m] = dot / (norms[i] * norms[m]);
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], similarity: scores[m] }));
  }

  private norms(): Float64Array {
    if (this.itemNorms !== null) return this.itemNorms;
    const k = this.k;
    const Q = this.itemFactors;
    const norms = new Float64Array(this.train.nMovies);
    for (let m = 0; m < norms.length; m++) {
      let s = 0;
      for (let f = 0, row = m * k; f < k; f++) s += Q[row + f] * Q[row + f];
      norms[m] = Math.sqrt(s);
    }
    this.itemNorms = norms;
    return norms;
  }

  /** Artifact: params, k, P, Q and b_i (when the model has item biases); ratings by fingerprint only. */
  toArtifact(): ArtifactContent {
    const train = this.train;
    const sections: ArtifactContent['sections'] = { userFactors: this.userFactors, itemFactors: this.itemFactors };
    if (this.itemBias !== null) sections.itemBias = this.itemBias;
    return {
      kind: this.kind,
      params: { ...this.params },
      history: this.history,
      fingerprint: fingerprintMatrix(train),
      scale: train.scale,
      meta: { factors: this.k, itemBias: this.itemBias !== null },
      sections,
    };
  }

  /** Restores the state written by {@link toArtifact} over its training matrix. */
  protected restoreFactors(artifact: ModelArtifact, train: RatingMatrix): this {
    this.restore(train);
    const k = requireMetaNumber(artifact, 'factors');
    this.history = artifact.history;
    this.adoptFactors({
      k,
      userFactors: requireSection(artifact, 'userFactors', Float32Array, train.nUsers * k),
      itemFactors: requireSection(artifact, 'itemFactors', Float32Array, train.nMovies * k),
      itemBias: artifact.meta.itemBias === true ? requireSection(artifact, 'itemBias', Float32Array, train.nMovies) : null,
    });
    return this;
  }
}
