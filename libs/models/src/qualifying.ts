import * as fs from 'node:fs';
import type { IdPairs, Predictor } from './predictor';

/** Pairs predicted per batch (one `predictMany` call and one file write per batch). */
const BATCH_PAIRS = 1 << 16;
/** Longest line: a movie header `2147483647:\n` (12 bytes) then a rating `5.0000\n` (7 bytes). */
const MAX_BYTES_PER_PAIR = 19;
const NEWLINE = 10;
const COLON = 58;
const DOT = 46;
const ZERO = 48;

export interface QualifyingWriteResult {
  path: string;
  /** Predictions written (one per qualifying pair). */
  pairs: number;
  /** `MovieID:` header lines written. */
  movieBlocks: number;
  bytes: number;
  seconds: number;
}

/** Writes a non-negative integer's decimal digits at `at`; returns the position after them. */
function writeUint(buf: Buffer, at: number, value: number): number {
  if (value === 0) {
    buf[at] = ZERO;
    return at + 1;
  }
  let digits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
  for (let i = digits - 1, v = value; i >= 0; i--, v = Math.floor(v / 10)) buf[at + i] = ZERO + (v % 10);
  return at + digits;
}

/**
 * Writes a rating in [1, 5] with at most 4 decimals and no trailing zeros (`4`, `3.5`, `3.6123`).
 * The value is rounded to the nearest 0.0001 first.
 */
function writeRating(buf: Buffer, at: number, rating: number): number {
  const q = Math.round(rating * 10000);
  const whole = Math.floor(q / 10000);
  let frac = q - whole * 10000;
  at = writeUint(buf, at, whole);
  if (frac === 0) return at;
  buf[at++] = DOT;
  let places = 4;
  while (frac % 10 === 0) {
    frac /= 10;
    places--;
  }
  for (let i = places - 1, v = frac; i >= 0; i--, v = Math.floor(v / 10)) buf[at + i] = ZERO + (v % 10);
  return at + places;
}

/** The prize's rating range: predictions are clipped to it whatever the model's scale. */
const PRIZE_MIN = 1;
const PRIZE_MAX = 5;

/**
 * Writes predictions for the Netflix Prize qualifying pairs in the prize's submission layout: for
 * each run of consecutive pairs with the same movie (the blocks of `qualifying.txt`, in file
 * order) a line `MovieID:`, then one line per pair with the predicted rating, in the pairs' order.
 * Ratings are the model's `predictMany` predictions clipped to 1..5 and written with up to 4
 * decimals (rounded to the nearest 0.0001, trailing zeros dropped: `3.6123`, `3.5`, `4`).
 *
 * Streams: predicts and writes 65,536 pairs at a time into one reused buffer. Writes to
 * `<path>.partial` and renames it to `path` when complete, so a failed run leaves no truncated
 * submission behind.
 *
 * @throws Error naming the pair when the model returns a non-finite prediction.
 */
export async function writeQualifyingPredictions(
  path: string,
  model: Predictor,
  qualifying: IdPairs,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<QualifyingWriteResult> {
  const started = performance.now();
  const total = qualifying.length;
  const partial = `${path}.partial`;
  const handle = await fs.promises.open(partial, 'w');
  const predictions = new Float64Array(Math.min(BATCH_PAIRS, Math.max(1, total)));
  const buf = Buffer.allocUnsafe(predictions.length * MAX_BYTES_PER_PAIR);
  let movieBlocks = 0;
  let bytes = 0;
  let previousMovie = -1;
  try {
    for (let from = 0; from < total; from += BATCH_PAIRS) {
      const to = Math.min(total, from + BATCH_PAIRS);
      const batch: IdPairs = { length: to - from, users: qualifying.users.subarray(from, to), movies: qualifying.movies.subarray(from, to) };
      const out = model.predictMany(batch, predictions.subarray(0, to - from));
      let at = 0;
      for (let j = 0; j < batch.length; j++) {
        const movie = batch.movies[j];
        if (movie !== previousMovie || (from === 0 && j === 0)) {
          at = writeUint(buf, at, movie);
          buf[at++] = COLON;
          buf[at++] = NEWLINE;
          movieBlocks++;
          previousMovie = movie;
        }
        const value = out[j];
        if (!Number.isFinite(value)) {
          throw new Error(`writeQualifyingPredictions: ${model.kind} predicted ${value} for user ${batch.users[j]}, movie ${movie} (pair ${from + j + 1})`);
        }
        at = writeRating(buf, at, value < PRIZE_MIN ? PRIZE_MIN : value > PRIZE_MAX ? PRIZE_MAX : value);
        buf[at++] = NEWLINE;
      }
      await handle.write(buf, 0, at);
      bytes += at;
      options.onProgress?.(to, total);
    }
    await handle.close();
    await fs.promises.rename(partial, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
  return { path, pairs: total, movieBlocks, bytes, seconds: (performance.now() - started) / 1000 };
}
