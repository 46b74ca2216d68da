import { RatingMatrix } from '@recsys/data';
import type { FactorState, FactorTrainer } from '../factor-trainer';
import { keptCounts } from '../kept-counts';
import { alsChunks } from './passes';

/**
 * The baseline's ALS (k = 0, movies first: exactly the {@link AlsTrainer} that `baseline`'s `als`
 * solver builds, with the same sums in the same order) over a matrix with some ratings left out
 * (`exclude`, 1 byte per by-user position, 1 = left out), read in place: no copy of the ratings
 * at all. Each step sets b_i = Σ (r − μ − b_u) / (λ_movie + n_i) for every movie, then
 * b_u = Σ (r − μ − b_i) / (λ_user + n_u) for every user (0 for a row with no rating kept), μ the
 * mean of the ratings kept. A movie's sum runs over its ratings in ascending user order, as the
 * by-movie arrays hold them, so one pass over the by-user arrays makes it.
 */
export class ExcludingBiasAlsTrainer implements FactorTrainer {
  readonly converged = false;
  private readonly mu: number;
  private readonly userBias: Float64Array;
  private readonly movieBias: Float64Array;
  private readonly userCount: Uint32Array;
  private readonly movieCount: Uint32Array;
  private readonly nKept: number;
  /** The user chunks the ALS trainer sums its SSE by (alsChunks with its defaults), over the kept ratings. */
  private readonly userChunks: Uint32Array;

  constructor(
    private readonly train: RatingMatrix,
    private readonly exclude: Uint8Array,
    private readonly reg: { regUser: number; regMovie: number },
  ) {
    if (exclude.length !== train.nRatings) throw new RangeError(`ExcludingBiasAlsTrainer: exclude has ${exclude.length} entries, expected one per rating (${train.nRatings})`);
    if (!(reg.regUser >= 0 && reg.regMovie >= 0)) throw new RangeError(`ExcludingBiasAlsTrainer: regUser and regMovie must be ≥ 0, got ${reg.regUser} and ${reg.regMovie}`);
    const { users, movies } = keptCounts(train, exclude);
    this.userCount = users;
    this.movieCount = movies;
    const keptPtr = new Uint32Array(users.length + 1);
    for (let u = 0; u < users.length; u++) keptPtr[u + 1] = keptPtr[u] + users[u];
    const n = keptPtr[users.length];
    if (n === 0) throw new RangeError('ExcludingBiasAlsTrainer: exclude leaves out every rating of the training matrix');
    this.nKept = n;
    this.userChunks = alsChunks(keptPtr, users.length);
    this.mu = train.globalMean(exclude);
    this.userBias = new Float64Array(train.nUsers);
    this.movieBias = new Float64Array(train.nMovies);
  }

  async step(): Promise<number> {
    const { userPtr, userMovies, userRatings } = this.train;
    const exclude = this.exclude;
    const mu = this.mu;
    const bu = this.userBias;
    const bi = this.movieBias;
    const nUsers = this.train.nUsers;
    // Movies: Σ over each column in ascending user order.
    const sums = new Float64Array(bi.length);
    for (let u = 0; u < nUsers; u++) {
      const b = bu[u];
      for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
        if (exclude[k] === 0) sums[userMovies[k]] += userRatings[k] * 0.5 - mu - b;
      }
    }
    for (let m = 0; m < bi.length; m++) {
      const n = this.movieCount[m];
      bi[m] = n === 0 ? 0 : sums[m] / (this.reg.regMovie + n);
    }
    // Users, with the training SSE after the new b_u, summed as the ALS trainer sums it: per row,
    // rows into its chunks, chunks in order.
    const chunks = this.userChunks;
    let total = 0;
    for (let c = 0; c + 1 < chunks.length; c++) {
      let chunkSse = 0;
      for (let u = chunks[c]; u < chunks[c + 1]; u++) {
        const n = this.userCount[u];
        if (n === 0) {
          bu[u] = 0;
          continue;
        }
        let sum = 0;
        for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
          if (exclude[k] === 0) sum += userRatings[k] * 0.5 - mu - bi[userMovies[k]];
        }
        const b = sum / (this.reg.regUser + n);
        bu[u] = b;
        let rowSse = 0;
        for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
          if (exclude[k] !== 0) continue;
          const e = userRatings[k] * 0.5 - mu - b - bi[userMovies[k]];
          rowSse += e * e;
        }
        chunkSse += rowSse;
      }
      total += chunkSse;
    }
    return Math.sqrt(total / this.nKept);
  }

  state(): FactorState {
    return { globalMean: this.mu, userBias: this.userBias.slice(), movieBias: this.movieBias.slice(), userFactors: new Float32Array(0), movieFactors: new Float32Array(0), k: 0 };
  }

  async dispose(): Promise<void> {}
}
