// Accumulation kernels of SimilarityPool, compiled to WebAssembly by tools/build-wasm.js
// (`asc --enable simd --enable threads --importMemory --sharedMemory -O3 --runtime stub`).
//
// Everything lives in the imported (shared) linear memory at byte offsets the host lays out
// (libs/similarity/src/similarity-wasm.ts): the rating matrix (CSR by user, CSC by movie) and one
// accumulator region per worker. These functions allocate nothing and keep no state, so each
// worker thread runs them on its own region of the same memory at once.
//
// A query on movie m adds, for each rater u of m in CSC positions [pFrom, pTo) (x = u's rating of
// m) and each movie n in u's CSR row (y = u's rating of n), u's contribution into n's
// accumulators. The plain TypeScript kernels of src/similarity-kernels.ts are the reference: these
// give the same sums (bit for bit; see each function).
//
// Each kernel is generic over M, the type of the CSR's movie indices (`userMovies`): u16 when the
// matrix has at most 65,536 movies (the Netflix Prize's 17,770), which streams 3 bytes per rating
// instead of 5 (measured: about a third less time per query), else u32. The exports are the two
// instances, suffixed 16 and 32.

// @ts-ignore: decorator
@inline
function movieAt<M>(userMovies: usize, q: usize): usize {
  return <usize>load<M>(userMovies + q * sizeof<M>());
}

// Every kernel takes `matrix`, the offset of nine u32 in memory: the offsets of movieUsers (u32),
// movieRatings (u8), userPtr (u32), userMovies (M) and userRatings (u8), then those of the
// segmented copy (see accumulateMomentsSegmented; 0 when the layout has none): its movie indices
// (u16), its segment ends (u16 × codes per user) and its codes (u32 × codes, ascending), and the
// number of codes.
// @ts-ignore: decorator
@inline
function arrayAt(matrix: usize, field: usize): usize {
  return <usize>load<u32>(matrix + (field << 2));
}

/**
 * jaccard: counts[n] (i32) += 1 per common rater. Four independent increments per step.
 */
// @ts-ignore: decorator
@inline
function jaccard<M>(matrix: usize, pFrom: u32, pTo: u32, counts: usize, moviesField: usize): void {
  const movieUsers = arrayAt(matrix, 0);
  const userPtr = arrayAt(matrix, 2);
  const userMovies = arrayAt(matrix, moviesField);
  for (let p = pFrom; p < pTo; p++) {
    const u = <usize>load<u32>(movieUsers + ((<usize>p) << 2));
    const rowAt = userPtr + (u << 2);
    let q = <usize>load<u32>(rowAt);
    const end = <usize>load<u32>(rowAt, 4);
    for (; q + 4 <= end; q += 4) {
      const a = counts + (movieAt<M>(userMovies, q) << 2);
      const b = counts + (movieAt<M>(userMovies, q + 1) << 2);
      const c = counts + (movieAt<M>(userMovies, q + 2) << 2);
      const d = counts + (movieAt<M>(userMovies, q + 3) << 2);
      store<u32>(a, load<u32>(a) + 1);
      store<u32>(b, load<u32>(b) + 1);
      store<u32>(c, load<u32>(c) + 1);
      store<u32>(d, load<u32>(d) + 1);
    }
    for (; q < end; q++) {
      const a = counts + (movieAt<M>(userMovies, q) << 2);
      store<u32>(a, load<u32>(a) + 1);
    }
  }
}

export function accumulateJaccard16(matrix: usize, pFrom: u32, pTo: u32, counts: usize): void {
  jaccard<u16>(matrix, pFrom, pTo, counts, 3);
}

export function accumulateJaccard32(matrix: usize, pFrom: u32, pTo: u32, counts: usize): void {
  jaccard<u32>(matrix, pFrom, pTo, counts, 3);
}

/** jaccard over the segmented copy's u16 movie indices (a row's order does not change its counts). */
export function accumulateJaccardSegmented(matrix: usize, pFrom: u32, pTo: u32, counts: usize): void {
  jaccard<u16>(matrix, pFrom, pTo, counts, 5);
}

/** Bit positions of the three fields packed in one u64 per movie by accumulateMoments. */
const SUM_Y_SHIFT: u64 = 21;
const SUM_YY_SHIFT: u64 = 42;
const FIELD_MASK: u64 = (1 << 21) - 1;

/**
 * cosine (stride 4: [common, Σxy, Σx², Σy²]) and pearson (stride 6: [common, Σx, Σy, Σxy, Σx²,
 * Σy²]) into the f64 `sums`, as the reference kernels lay them out.
 *
 * Every sum is a sum of small integers (rating codes, stars × 2), so it is split by x, the rater's
 * code for m: each code of the window `codeSlots` (256 u32: slot + 1 of each code, 0 for codes
 * outside the window, whose raters this call skips) has its own packed accumulators, nMovies u64
 * at `packed + slot·packedBytes`. For each rating (n, y) of a rater with code x, one u64 add puts
 * 1 | y << 21 | y² << 42 into slot(x)'s entry for n: the common raters, Σy and Σy² of the raters
 * with that x at once (one 8-byte touch per rating instead of four or six f64 ones, in one pass
 * over the raters in CSC order). After `chunk` raters of one code (chosen by the host so that no
 * field overflows its bits: chunk·maxY² < 2²² and so on) and at the end, `flush` turns a slot's
 * packed fields into the sums: with c, Y, YY a movie's fields, common += c, Σx += x·c, Σy += Y,
 * Σxy += x·Y, Σx² += x²·c, Σy² += YY. All are integers below 2⁵³, so the f64 sums are exact and
 * equal the reference's bit for bit, whatever the order.
 *
 * `inChunk` is scratch for 256 u32; the packed slots are zero on entry and on return.
 */
// @ts-ignore: decorator
@inline
function moments<M>(
  matrix: usize,
  pFrom: u32,
  pTo: u32,
  packed: usize,
  packedBytes: usize,
  sums: usize,
  stride: u32,
  nMovies: u32,
  chunk: u32,
  codeSlots: usize,
  inChunk: usize,
  segmented: bool,
): void {
  const movieUsers = arrayAt(matrix, 0);
  const movieRatings = arrayAt(matrix, 1);
  const userPtr = arrayAt(matrix, 2);
  memory.fill(inChunk, 0, 256 << 2);
  for (let p = pFrom; p < pTo; p++) {
    const x = <usize>load<u8>(movieRatings + <usize>p);
    const slot = load<u32>(codeSlots + (x << 2));
    if (slot === 0) continue;
    const base = packed + (<usize>(slot - 1)) * packedBytes;
    const u = <usize>load<u32>(movieUsers + ((<usize>p) << 2));
    if (segmented) addRuns(matrix, userPtr, u, base);
    else addRow<M>(matrix, userPtr, u, base);
    countRater(inChunk, x, chunk, base, sums, stride, nMovies);
  }
  flushRest(codeSlots, inChunk, packed, packedBytes, sums, stride, nMovies);
}

/** accumulateMoments' work for rater u's row (movie indices of type M, each rating's code read from userRatings) into the packed slot at `base`. */
// @ts-ignore: decorator
@inline
function addRow<M>(matrix: usize, userPtr: usize, u: usize, base: usize): void {
  const userMovies = arrayAt(matrix, 3);
  const userRatings = arrayAt(matrix, 4);
  const rowAt = userPtr + (u << 2);
  let q = <usize>load<u32>(rowAt);
  const end = <usize>load<u32>(rowAt, 4);
  for (; q + 2 <= end; q += 2) {
    const y0 = <u64>load<u8>(userRatings + q);
    const y1 = <u64>load<u8>(userRatings + q, 1);
    const a = base + (movieAt<M>(userMovies, q) << 3);
    const b = base + (movieAt<M>(userMovies, q + 1) << 3);
    store<u64>(a, load<u64>(a) + (1 | (y0 << SUM_Y_SHIFT) | ((y0 * y0) << SUM_YY_SHIFT)));
    store<u64>(b, load<u64>(b) + (1 | (y1 << SUM_Y_SHIFT) | ((y1 * y1) << SUM_YY_SHIFT)));
  }
  if (q < end) {
    const y = <u64>load<u8>(userRatings + q);
    const a = base + (movieAt<M>(userMovies, q) << 3);
    store<u64>(a, load<u64>(a) + (1 | (y << SUM_Y_SHIFT) | ((y * y) << SUM_YY_SHIFT)));
  }
}

export function accumulateMoments16(
  matrix: usize, pFrom: u32, pTo: u32, packed: usize, packedBytes: usize, sums: usize, stride: u32, nMovies: u32, chunk: u32, codeSlots: usize, inChunk: usize,
): void {
  moments<u16>(matrix, pFrom, pTo, packed, packedBytes, sums, stride, nMovies, chunk, codeSlots, inChunk, false);
}

export function accumulateMoments32(
  matrix: usize, pFrom: u32, pTo: u32, packed: usize, packedBytes: usize, sums: usize, stride: u32, nMovies: u32, chunk: u32, codeSlots: usize, inChunk: usize,
): void {
  moments<u32>(matrix, pFrom, pTo, packed, packedBytes, sums, stride, nMovies, chunk, codeSlots, inChunk, false);
}

/** Counts one more rater of code x in its chunk; flushes x's packed slot (at `base`) when the chunk is full. */
// @ts-ignore: decorator
@inline
function countRater(inChunk: usize, x: usize, chunk: u32, base: usize, sums: usize, stride: u32, nMovies: u32): void {
  const counter = inChunk + (x << 2);
  const n = load<u32>(counter) + 1;
  if (n === chunk) {
    flush(base, sums, stride, nMovies, <f64>x);
    store<u32>(counter, 0);
  } else {
    store<u32>(counter, n);
  }
}

/** At the end of accumulateMoments: flushes every code's packed slot that holds raters of a chunk not yet flushed. */
function flushRest(codeSlots: usize, inChunk: usize, packed: usize, packedBytes: usize, sums: usize, stride: u32, nMovies: u32): void {
  for (let x: usize = 0; x < 256; x++) {
    const slot = load<u32>(codeSlots + (x << 2));
    if (slot !== 0 && load<u32>(inChunk + (x << 2)) !== 0) flush(packed + (<usize>(slot - 1)) * packedBytes, sums, stride, nMovies, <f64>x);
  }
}

/** Adds the packed group fields of every movie into its sums (see accumulateMoments) and zeroes them. */
function flush(packed: usize, sums: usize, stride: u32, nMovies: u32, x: f64): void {
  const rowBytes = (<usize>stride) << 3;
  const pearson = stride === 6;
  let at = sums;
  for (let n: usize = 0; n < <usize>nMovies; n++, at += rowBytes) {
    const slot = packed + (n << 3);
    const v = load<u64>(slot);
    if (v === 0) continue;
    store<u64>(slot, 0);
    const c = <f64>(v & FIELD_MASK);
    const y = <f64>((v >> SUM_Y_SHIFT) & FIELD_MASK);
    const yy = <f64>(v >> SUM_YY_SHIFT);
    store<f64>(at, load<f64>(at) + c);
    if (pearson) {
      store<f64>(at, load<f64>(at, 8) + x * c, 8);
      store<f64>(at, load<f64>(at, 16) + y, 16);
      store<f64>(at, load<f64>(at, 24) + x * y, 24);
      store<f64>(at, load<f64>(at, 32) + x * x * c, 32);
      store<f64>(at, load<f64>(at, 40) + yy, 40);
    } else {
      store<f64>(at, load<f64>(at, 8) + x * y, 8);
      store<f64>(at, load<f64>(at, 16) + x * x * c, 16);
      store<f64>(at, load<f64>(at, 24) + yy, 24);
    }
  }
}

/**
 * pearson-baseline (stride 4: [common, Σ dx·dy, Σ dx², Σ dy²]) with b_ui = μ + b_u + b_i and
 * dx = x/2 − ((μ + b_u) + b_m), dy = y/2 − ((μ + b_u) + b_n) (the reference's association, in f64,
 * then rounded to f32), summed in f32: one f32x4 add per rating on 16 bytes per movie (an exact
 * f64 kernel needed two f64x2 adds on 32 bytes: measured at 10M, 1.3–1.5× the CPU per query of
 * this one). `userBias` / `movieBias` are f64 arrays. Each rating adds (1, dx, dx, dy) ⊙ (1, dy, dx, dy) = (1, dx·dy, dx², dy²)
 * into `partial` (f32x4 per movie). The f32 sums only ever hold the contributions of at most
 * `flushEvery` raters: then, and at the end, every movie's partial sums are added into its f64
 * `sums` (stride 4: [common, Σ dx·dy, Σ dx², Σ dy²]) and zeroed, so the rounding of f32 applies to
 * sums of at most `flushEvery` terms (relative error ≤ flushEvery·2⁻²⁴ of their magnitudes; the
 * common counts stay exact integers). `partial` is zero on entry and on return.
 */
// @ts-ignore: decorator
@inline
function pearsonBaselineF32<M>(
  matrix: usize, pFrom: u32, pTo: u32, m: u32, globalMean: f64, userBias: usize, movieBias: usize, sums: usize, partial: usize, nMovies: u32, flushEvery: u32,
): void {
  const movieUsers = arrayAt(matrix, 0);
  const movieRatings = arrayAt(matrix, 1);
  const userPtr = arrayAt(matrix, 2);
  const userMovies = arrayAt(matrix, 3);
  const userRatings = arrayAt(matrix, 4);
  const biasM = load<f64>(movieBias + ((<usize>m) << 3));
  const last = f32x4(0, 0, 0, 1);
  const second = f32x4(0, 1, 0, 1);
  let raters: u32 = 0;
  for (let p = pFrom; p < pTo; p++) {
    const u = <usize>load<u32>(movieUsers + ((<usize>p) << 2));
    const base = globalMean + load<f64>(userBias + (u << 3));
    const dx = <f32>(<f64>load<u8>(movieRatings + <usize>p) * 0.5 - (base + biasM));
    // (1, dx, dx, 0) + dy·(0, 0, 0, 1) and (1, 0, dx, 0) + dy·(0, 1, 0, 1).
    const b = f32x4.replace_lane(f32x4(1, 0, 0, 0), 2, dx);
    const a = f32x4.replace_lane(b, 1, dx);
    const rowAt = userPtr + (u << 2);
    const end = <usize>load<u32>(rowAt, 4);
    for (let q = <usize>load<u32>(rowAt); q < end; q++) {
      const n = movieAt<M>(userMovies, q);
      const dy = f32x4.splat(<f32>(<f64>load<u8>(userRatings + q) * 0.5 - (base + load<f64>(movieBias + (n << 3)))));
      const at = partial + (n << 4);
      const terms = f32x4.mul(f32x4.add(a, f32x4.mul(dy, last)), f32x4.add(b, f32x4.mul(dy, second)));
      v128.store(at, f32x4.add(v128.load(at), terms));
    }
    if (++raters === flushEvery) {
      flushF32(partial, sums, nMovies);
      raters = 0;
    }
  }
  if (raters !== 0) flushF32(partial, sums, nMovies);
}

/** sums (f64 × 4 per movie) += partial (f32 × 4 per movie), partial zeroed. */
function flushF32(partial: usize, sums: usize, nMovies: u32): void {
  const zero = f32x4.splat(0);
  for (let n: usize = 0; n < <usize>nMovies; n++) {
    const from = partial + (n << 4);
    const v = v128.load(from);
    if (!v128.any_true(v)) continue;
    v128.store(from, zero);
    const to = sums + (n << 5);
    v128.store(to, f64x2.add(v128.load(to), f64x2.promote_low_f32x4(v)));
    v128.store(to, f64x2.add(v128.load(to, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
  }
}

/** pearsonBaselineF32 over u16 (`movieIndexBytes` 2) or u32 movie indices: one export, both instances. */
export function accumulatePearsonBaselineF32(
  movieIndexBytes: u32, matrix: usize, pFrom: u32, pTo: u32, m: u32, globalMean: f64, userBias: usize, movieBias: usize, sums: usize, partial: usize, nMovies: u32, flushEvery: u32,
): void {
  if (movieIndexBytes === 2) pearsonBaselineF32<u16>(matrix, pFrom, pTo, m, globalMean, userBias, movieBias, sums, partial, nMovies, flushEvery);
  else pearsonBaselineF32<u32>(matrix, pFrom, pTo, m, globalMean, userBias, movieBias, sums, partial, nMovies, flushEvery);
}

// The segmented copy (SimilarityLayout.segmented): each user's row of u16 movie indices ordered by
// rating code (the codes in ascending order, movies ascending within a code), with the end of each
// code's run (u16, relative to the row's start) per user, so that a rating's code is known from
// where it lies: the kernels below stream 2 bytes per co-rating instead of 3, and what they add
// for a rating depends on the run, not on the rating, so it is computed once per run.

// @ts-ignore: decorator
@inline
function codeAt(matrix: usize, k: usize): u64 {
  return <u64>load<u32>(arrayAt(matrix, 7) + (k << 2));
}

/**
 * accumulateMoments over the segmented copy: the same packed slots, chunks, flushes and sums (so
 * the same sums bit for bit), but one constant 1 | y << 21 | y² << 42 per run of code y, added by
 * one u64 add per rating.
 */
export function accumulateMomentsSegmented(
  matrix: usize, pFrom: u32, pTo: u32, packed: usize, packedBytes: usize, sums: usize, stride: u32, nMovies: u32, chunk: u32, codeSlots: usize, inChunk: usize,
): void {
  moments<u16>(matrix, pFrom, pTo, packed, packedBytes, sums, stride, nMovies, chunk, codeSlots, inChunk, true);
}

/** accumulateMomentsSegmented's work for rater u's runs into the packed slot at `base`: one constant per run. */
// @ts-ignore: decorator
@inline
function addRuns(matrix: usize, userPtr: usize, u: usize, base: usize): void {
  const movies = arrayAt(matrix, 5);
  const nCodes = arrayAt(matrix, 8);
  const row = <usize>load<u32>(userPtr + (u << 2));
  const runs = arrayAt(matrix, 6) + ((u * nCodes) << 1);
  let q = row;
  for (let k: usize = 0; k < nCodes; k++) {
    const end = row + <usize>load<u16>(runs + (k << 1));
    const y = codeAt(matrix, k);
    const add: u64 = 1 | (y << SUM_Y_SHIFT) | ((y * y) << SUM_YY_SHIFT);
    for (; q + 4 <= end; q += 4) {
      const a = base + (<usize>load<u16>(movies + (q << 1)) << 3);
      const b = base + (<usize>load<u16>(movies + (q << 1), 2) << 3);
      const c = base + (<usize>load<u16>(movies + (q << 1), 4) << 3);
      const d = base + (<usize>load<u16>(movies + (q << 1), 6) << 3);
      store<u64>(a, load<u64>(a) + add);
      store<u64>(b, load<u64>(b) + add);
      store<u64>(c, load<u64>(c) + add);
      store<u64>(d, load<u64>(d) + add);
    }
    for (; q < end; q++) {
      const a = base + (<usize>load<u16>(movies + (q << 1)) << 3);
      store<u64>(a, load<u64>(a) + add);
    }
  }
}

/**
 * pearson-baseline over the segmented copy, into the same f64 `sums` (stride 4: [common,
 * Σ dx·dy, Σ dx², Σ dy²]) as accumulatePearsonBaselineF32. With a_u = μ + b_u, dx = x/2 − (a_u +
 * b_m) and Y = y/2 − a_u (both per rater and run, not per rating), dy = Y − b_n, so
 *   Σ dx·dy = Σ dx·Y − b_n·Σ dx,   Σ dy² = Σ Y² − 2·b_n·Σ Y + b_n²·common:
 * each rating adds one rater-and-run constant into its movie's 32-byte partial entry (f32 × 4
 * [1, dx, dx², dx·Y] and f64 × 2 [Y, Y²]: two SIMD adds, no per-rating arithmetic and no read of
 * b_n). Every `flushEvery` raters and at the
 * end, each touched movie's partial entry is expanded with its b_n into the f64 sums and zeroed.
 * Σ Y and Σ Y² are summed in f64, so the expansion of Σ dy² (whose terms may be a few times the
 * result) loses nothing; the f32 sums hold at most `flushEvery` raters' terms, as in
 * accumulatePearsonBaselineF32. `partial` (32 bytes per movie) is zero on entry and on return.
 */
export function accumulatePearsonBaselineSegmented(
  matrix: usize, pFrom: u32, pTo: u32, m: u32, globalMean: f64, userBias: usize, movieBias: usize, sums: usize, partial: usize, nMovies: u32, flushEvery: u32,
): void {
  const movieUsers = arrayAt(matrix, 0);
  const movieRatings = arrayAt(matrix, 1);
  const userPtr = arrayAt(matrix, 2);
  const movies = arrayAt(matrix, 5);
  const ends = arrayAt(matrix, 6);
  const nCodes = arrayAt(matrix, 8);
  const biasM = load<f64>(movieBias + ((<usize>m) << 3));
  let raters: u32 = 0;
  for (let p = pFrom; p < pTo; p++) {
    const u = <usize>load<u32>(movieUsers + ((<usize>p) << 2));
    const base = globalMean + load<f64>(userBias + (u << 3));
    const dx = <f64>load<u8>(movieRatings + <usize>p) * 0.5 - (base + biasM);
    const dx32 = <f32>dx;
    const dxx32 = <f32>(dx * dx);
    const row = <usize>load<u32>(userPtr + (u << 2));
    const runs = ends + ((u * nCodes) << 1);
    let q = row;
    for (let k: usize = 0; k < nCodes; k++) {
      const end = row + <usize>load<u16>(runs + (k << 1));
      const y = <f64>codeAt(matrix, k) * 0.5 - base;
      const low = f32x4.replace_lane(f32x4(1, dx32, dxx32, 0), 3, <f32>(dx * y));
      const high = f64x2.replace_lane(f64x2.splat(y), 1, y * y);
      // Four ratings a step (the same adds into each movie, so the same sums bit for bit). Measured
      // at 100M, one thread, the most-rated movie, alternating with one a step in one process:
      // 15–22 % less CPU; eight a step was slower.
      for (; q + 4 <= end; q += 4) {
        addPartial(partial + (<usize>load<u16>(movies + (q << 1)) << 5), low, high);
        addPartial(partial + (<usize>load<u16>(movies + (q << 1), 2) << 5), low, high);
        addPartial(partial + (<usize>load<u16>(movies + (q << 1), 4) << 5), low, high);
        addPartial(partial + (<usize>load<u16>(movies + (q << 1), 6) << 5), low, high);
      }
      for (; q < end; q++) addPartial(partial + (<usize>load<u16>(movies + (q << 1)) << 5), low, high);
    }
    if (++raters === flushEvery) {
      flushSegmented(partial, sums, movieBias, nMovies);
      raters = 0;
    }
  }
  if (raters !== 0) flushSegmented(partial, sums, movieBias, nMovies);
}

/** One rating's run constant into its movie's 32-byte partial entry (see accumulatePearsonBaselineSegmented). */
// @ts-ignore: decorator
@inline
function addPartial(at: usize, low: v128, high: v128): void {
  v128.store(at, f32x4.add(v128.load(at), low));
  v128.store(at, f64x2.add(v128.load(at, 16), high), 16);
}

/** sums (f64 × 4 per movie) += the expansion of each touched movie's partial entry (see accumulatePearsonBaselineSegmented), partial zeroed. */
function flushSegmented(partial: usize, sums: usize, movieBias: usize, nMovies: u32): void {
  const zero = f32x4.splat(0);
  for (let n: usize = 0; n < <usize>nMovies; n++) {
    const from = partial + (n << 5);
    const low = v128.load(from);
    // Lane 0 counts the raters: zero exactly when no rater touched the movie since the last flush.
    if (f32x4.extract_lane(low, 0) === 0) continue;
    const high = v128.load(from, 16);
    v128.store(from, zero);
    v128.store(from, zero, 16);
    const bn = load<f64>(movieBias + (n << 3));
    const c = <f64>f32x4.extract_lane(low, 0);
    const sdx = <f64>f32x4.extract_lane(low, 1);
    const sdxdx = <f64>f32x4.extract_lane(low, 2);
    const sdxy = <f64>f32x4.extract_lane(low, 3);
    const sy = f64x2.extract_lane(high, 0);
    const syy = f64x2.extract_lane(high, 1);
    const to = sums + (n << 5);
    store<f64>(to, load<f64>(to) + c);
    store<f64>(to, load<f64>(to, 8) + (sdxy - bn * sdx), 8);
    store<f64>(to, load<f64>(to, 16) + sdxdx, 16);
    store<f64>(to, load<f64>(to, 24) + (syy - 2 * bn * sy + bn * bn * c), 24);
  }
}
