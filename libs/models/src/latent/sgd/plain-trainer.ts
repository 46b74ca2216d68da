import { Random } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { Shuffler } from '@recsys/optimization';
import type { FactorState, FactorTrainer } from '../factor-trainer';

/**
 * Options of both SGD trainers: the factors, their initialisation and the step sizes and L2
 * weights of every epoch (Surprise's SVD defaults: lr 0.005, reg 0.02).
 */
export interface SgdOptions {
  /** Latent factors k. */
  factors: number;
  /** Seed of the initial factors and of every epoch's order; default 42. */
  seed?: number;
  /** Standard deviation of the initial factors; default 0.1. */
  initStd?: number;
  /** Mean of the initial factors; default 0. */
  initMean?: number;
  /** Learning rate of the factors. */
  lr: number;
  /** L2 weight of the factors. */
  reg: number;
  /** Learning rate of the biases; default `lr`. */
  lrBias?: number;
  /** L2 weight of the biases; default `reg`. */
  regBias?: number;
}

/** Options of {@link PlainSgdTrainer}. */
export interface PlainSgdOptions extends SgdOptions {
  /**
   * Order of the users in each epoch: `shuffled` (default; a fresh seeded order per epoch) or
   * `stored` (ascending internal index, as Surprise's BaselineOnly SGD visits them).
   */
  order?: 'shuffled' | 'stored';
}

/**
 * Initial factors N(initMean, initStd²) drawn from `Random(seed)`: all of P (user by user), then
 * all of Q. Biases start at 0.
 */
export function initialFactors(nUsers: number, nMovies: number, k: number, seed: number, initStd: number, initMean: number): { P: Float32Array; Q: Float32Array } {
  const random = new Random(seed);
  const P = new Float32Array(nUsers * k);
  const Q = new Float32Array(nMovies * k);
  for (let j = 0; j < P.length; j++) P[j] = initMean + initStd * random.normal();
  for (let j = 0; j < Q.length; j++) Q[j] = initMean + initStd * random.normal();
  return { P, Q };
}

/**
 * Plain TypeScript SGD for biased MF on one thread: the trainer of the zero-factor models
 * (baseline, svd with k = 0) and the reference of the update rules. Each epoch visits the users
 * in a fresh seeded shuffled order ({@link Shuffler}, same seed as the initialisation; or in
 * stored order) and each user's ratings in stored order (ascending movie), applying Surprise's
 * update per rating:
 *
 *   e = r − (μ + b_u + b_i + q_i·p_u)
 *   b_u += lr_b (e − reg_b b_u);  b_i += lr_b (e − reg_b b_i)
 *   p_u += lr (e q_i − reg p_u);  q_i += lr (e p_u_old − reg q_i)
 *
 * The reported training RMSE is that of the errors e seen during the epoch (as LibMF reports it).
 */
export class PlainSgdTrainer implements FactorTrainer {
  readonly factors: number;
  readonly converged = false;
  private readonly globalMean: number;
  private readonly userBias: Float32Array;
  private readonly movieBias: Float32Array;
  private readonly P: Float32Array;
  private readonly Q: Float32Array;
  private readonly shuffler: Shuffler | null;
  private readonly storedOrder: Uint32Array | null;
  private readonly lr: number;
  private readonly reg: number;
  private readonly lrBias: number;
  private readonly regBias: number;

  constructor(
    private readonly train: RatingMatrix,
    options: PlainSgdOptions,
  ) {
    const k = options.factors;
    if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`SGD: factors must be an integer ≥ 0, got ${k}`);
    const seed = options.seed ?? 42;
    this.factors = k;
    this.globalMean = train.globalMean();
    this.userBias = new Float32Array(train.nUsers);
    this.movieBias = new Float32Array(train.nMovies);
    const { P, Q } = initialFactors(train.nUsers, train.nMovies, k, seed, options.initStd ?? 0.1, options.initMean ?? 0);
    this.P = P;
    this.Q = Q;
    if (options.order === 'stored') {
      this.shuffler = null;
      this.storedOrder = new Uint32Array(train.nUsers);
      for (let u = 0; u < train.nUsers; u++) this.storedOrder[u] = u;
    } else {
      this.shuffler = new Shuffler(train.nUsers, seed);
      this.storedOrder = null;
    }
    this.lr = options.lr;
    this.reg = options.reg;
    this.lrBias = options.lrBias ?? options.lr;
    this.regBias = options.regBias ?? options.reg;
  }

  async step(): Promise<number> {
    const order = this.shuffler ? this.shuffler.shuffle() : this.storedOrder!;
    const sse = sgdEpoch(this.train, order, this.globalMean, this.userBias, this.movieBias, this.P, this.Q, this.factors, this.lr, this.reg, this.lrBias, this.regBias);
    return Math.sqrt(sse / this.train.nRatings);
  }

  state(): FactorState {
    return {
      globalMean: this.globalMean,
      userBias: Float64Array.from(this.userBias),
      movieBias: Float64Array.from(this.movieBias),
      userFactors: this.P.slice(),
      movieFactors: this.Q.slice(),
      k: this.factors,
    };
  }

  async dispose(): Promise<void> {}
}

/**
 * One SGD epoch over the users in `order` (each user's ratings together); returns the sum of
 * squared errors seen. Monomorphic typed-array arguments, no allocation.
 */
export function sgdEpoch(
  train: RatingMatrix,
  order: Uint32Array,
  mu: number,
  userBias: Float32Array,
  movieBias: Float32Array,
  P: Float32Array,
  Q: Float32Array,
  k: number,
  lr: number,
  reg: number,
  lrBias: number,
  regBias: number,
): number {
  const { userPtr, userMovies, userRatings } = train;
  let sse = 0;
  for (let t = 0; t < order.length; t++) {
    const u = order[t];
    const pu = u * k;
    let bu = userBias[u];
    const end = userPtr[u + 1];
    for (let p = userPtr[u]; p < end; p++) {
      const m = userMovies[p];
      const qi = m * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += P[pu + f] * Q[qi + f];
      const bi = movieBias[m];
      const e = userRatings[p] * 0.5 - (mu + bu + bi + dot);
      sse += e * e;
      bu += lrBias * (e - regBias * bu);
      movieBias[m] = bi + lrBias * (e - regBias * bi);
      for (let f = 0; f < k; f++) {
        const pf = P[pu + f];
        const qf = Q[qi + f];
        P[pu + f] = pf + lr * (e * qf - reg * pf);
        Q[qi + f] = qf + lr * (e * pf - reg * qf);
      }
    }
    userBias[u] = bu;
  }
  return sse;
}
