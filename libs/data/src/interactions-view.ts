import { RatingMatrix } from './rating-matrix';
import { encodeRating, RatingScale } from './rating-scale';

/** How `interactionsView` turns ratings into interactions. */
export interface InteractionsViewOptions {
  /** Keep the entries whose value is at least this (default: every entry). */
  minRating?: number;
  /**
   * `binary` (default): every kept entry weighs 1 (scale 1..1, implicit); `value`: it keeps its
   * value (the matrix's scale, marked implicit).
   */
  weight?: 'binary' | 'value';
}

/** The scale of a binary interactions view: every value is 1. */
const BINARY_WEIGHTS: RatingScale = Object.freeze({ min: 1, max: 1, step: 1, implicit: true });

/**
 * Ratings as implicit feedback: a RatingMatrix over the SAME user and movie indices (the same
 * IdIndex objects, so ids, fold-in and evaluation line up, and users or movies left without
 * entries keep their index with an empty row or column) holding the entries with value ≥
 * `minRating`, each valued 1 (`binary`) or its own value (`value`), with the scale marked
 * `implicit`. Days are kept. The usual "relevant = rating ≥ 4" of ranking evaluation is
 * `interactionsView(m, { minRating: 4 })`. (A confidence such as 1 + α·r is a model's parameter:
 * the `value` view gives it r.)
 *
 * O(ratings): one pass over each layout, which keeps users ascending within each movie.
 * A RangeError for a `minRating` that is not a finite number.
 */
export function interactionsView(matrix: RatingMatrix, options: InteractionsViewOptions = {}): RatingMatrix {
  const minRating = options.minRating ?? -Infinity;
  const binary = (options.weight ?? 'binary') === 'binary';
  if (options.minRating !== undefined && !Number.isFinite(minRating)) throw new RangeError(`interactionsView: minRating must be a finite number, got ${options.minRating}`);
  if (options.weight !== undefined && options.weight !== 'binary' && options.weight !== 'value') {
    throw new RangeError(`interactionsView: weight must be 'binary' or 'value', got "${String(options.weight)}"`);
  }
  // Codes are value × 2: keep code ≥ ⌈2·minRating⌉ (a minRating between grid points rounds up).
  const minCode = minRating === -Infinity ? 0 : Math.max(0, Math.ceil(minRating * 2 - 1e-9));
  const one = encodeRating(1);
  const rows = filterLayout(matrix.userPtr, matrix.userMovies, matrix.userRatings, matrix.userDays, minCode, binary ? one : -1);
  const cols = filterLayout(matrix.moviePtr, matrix.movieUsers, matrix.movieRatings, null, minCode, binary ? one : -1);
  const scale: RatingScale = binary ? BINARY_WEIGHTS : Object.freeze({ min: matrix.scale.min, max: matrix.scale.max, step: matrix.scale.step, implicit: true });
  return new RatingMatrix(matrix.users, matrix.movies, scale, rows.ptr, rows.index, rows.codes, rows.days, cols.ptr, cols.index, cols.codes);
}

/** The entries of one sparse layout with code ≥ minCode; their code replaced by `setCode` unless it is -1. */
function filterLayout(
  ptr: Uint32Array,
  index: Int32Array,
  codes: Uint8Array,
  days: Uint16Array | null,
  minCode: number,
  setCode: number,
): { ptr: Uint32Array; index: Int32Array; codes: Uint8Array; days: Uint16Array | null } {
  let kept = 0;
  for (let k = 0; k < codes.length; k++) if (codes[k] >= minCode) kept++;
  const outPtr = new Uint32Array(ptr.length);
  const outIndex = new Int32Array(kept);
  const outCodes = new Uint8Array(kept);
  const outDays = days === null ? null : new Uint16Array(kept);
  let w = 0;
  for (let r = 0; r + 1 < ptr.length; r++) {
    for (let k = ptr[r]; k < ptr[r + 1]; k++) {
      if (codes[k] < minCode) continue;
      outIndex[w] = index[k];
      outCodes[w] = setCode < 0 ? codes[k] : setCode;
      if (outDays !== null) outDays[w] = days![k];
      w++;
    }
    outPtr[r + 1] = w;
  }
  return { ptr: outPtr, index: outIndex, codes: outCodes, days: outDays };
}
