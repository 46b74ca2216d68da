import { RatingMatrix } from '@recsys/data';
import type { FactorState, FactorTrainer } from '../factor-trainer';
import { keptCounts } from '../kept-counts';

/** The ALS trainer's default user chunks (createAlsTrainer's chunkRatings, alsChunks' maxRows): its SSE is summed by them. */
const ALS_CHUNK_RATINGS = 1 << 14;
const ALS_CHUNK_ROWS = 2048;

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
    let n = 0;
    for (let u = 0; u < users.length; u++) n += users[u];
    if (n === 0) throw new RangeError('ExcludingBiasAlsTrainer: exclude leaves out every rating of the training matrix');
    this.nKept = n;
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
    // rows into chunks (alsChunks' bounds over the kept counts), chunks in order.
    let total = 0;
    let chunkSse = 0;
    let chunkStart = 0;
    let keptBefore = 0;
    let keptAtStart = 0;
    for (let u = 0; u < nUsers; u++) {
      const n = this.userCount[u];
      if (n === 0) bu[u] = 0;
      else {
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
      keptBefore += n;
      if (keptBefore - keptAtStart >= ALS_CHUNK_RATINGS || u + 1 - chunkStart >= ALS_CHUNK_ROWS) {
        total += chunkSse;
        chunkSse = 0;
        chunkStart = u + 1;
        keptAtStart = keptBefore;
      }
    }
    if (chunkStart < nUsers) total += chunkSse;
    return Math.sqrt(total / this.nKept);
  }

  state(): FactorState {
    return { globalMean: this.mu, userBias: this.userBias.slice(), movieBias: this.movieBias.slice(), userFactors: new Float32Array(0), movieFactors: new Float32Array(0), k: 0 };
  }

  async dispose(): Promise<void> {}
}
