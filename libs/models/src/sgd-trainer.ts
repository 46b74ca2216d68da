import { Random } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { Shuffler } from '@recsys/optimization';

// One definition of the epoch's hyper-parameters and the trainer options, shared with the
// WebAssembly trainer (the plain trainer ignores its kernel-only fields: useWasm, blocks).
export type { SgdHyper, SgdTrainerOptions } from './kernels/sgd-trainer';
import type { SgdHyper, SgdTrainerOptions } from './kernels/sgd-trainer';

/** The fitted state an SGD trainer holds (copies). */
export interface SgdState {
  globalMean: number;
  userBias: Float32Array;
  movieBias: Float32Array;
  /** nUsers×k row-major. */
  userFactors: Float32Array;
  /** nMovies×k row-major. */
  movieFactors: Float32Array;
}

/** What the SVD model needs of an SGD trainer: epochs, the state, disposal. */
export interface SgdEpochTrainer {
  readonly factors: number;
  epoch(hyper: SgdHyper): Promise<{ trainRmse: number; seconds: number }>;
  state(): SgdState;
  dispose(): Promise<void>;
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
 * Plain TypeScript SGD for biased MF on one thread: the reference the WebAssembly kernel is
 * compared with, and the trainer used when WebAssembly is not wanted. Each epoch visits the users
 * in a fresh seeded shuffled order ({@link Shuffler}, same seed as the initialisation) and each
 * user's ratings in stored order (ascending movie), applying Surprise's update per rating:
 *
 *   e = r − (μ + b_u + b_i + q_i·p_u)
 *   b_u += lr_b (e − reg_b b_u);  b_i += lr_b (e − reg_b b_i)
 *   p_u += lr (e q_i − reg p_u);  q_i += lr (e p_u_old − reg q_i)
 *
 * The reported training RMSE is that of the errors e seen during the epoch (as LibMF reports it).
 */
export class PlainSgdTrainer implements SgdEpochTrainer {
  readonly factors: number;
  private readonly globalMean: number;
  private readonly userBias: Float32Array;
  private readonly movieBias: Float32Array;
  private readonly P: Float32Array;
  private readonly Q: Float32Array;
  private readonly shuffler: Shuffler;

  constructor(
    private readonly train: RatingMatrix,
    options: SgdTrainerOptions,
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
    this.shuffler = new Shuffler(train.nUsers, seed);
  }

  async epoch(hyper: SgdHyper): Promise<{ trainRmse: number; seconds: number }> {
    const started = performance.now();
    const sse = sgdEpoch(
      this.train,
      this.shuffler.shuffle(),
      this.globalMean,
      this.userBias,
      this.movieBias,
      this.P,
      this.Q,
      this.factors,
      hyper.lr,
      hyper.reg,
      hyper.lrBias ?? hyper.lr,
      hyper.regBias ?? hyper.reg,
    );
    return { trainRmse: Math.sqrt(sse / this.train.nRatings), seconds: (performance.now() - started) / 1000 };
  }

  state(): SgdState {
    return {
      globalMean: this.globalMean,
      userBias: this.userBias.slice(),
      movieBias: this.movieBias.slice(),
      userFactors: this.P.slice(),
      movieFactors: this.Q.slice(),
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
