// SIMD kernel of the BPR trainer (libs/models/src/ranking/bpr/), compiled to WebAssembly by
// tools/build-wasm.js (`asc --enable simd --enable threads --importMemory --sharedMemory -O3
// --runtime stub`).
//
// Everything lives in the imported shared linear memory at byte offsets the host lays out
// (src/ranking/bpr/layout.ts): P (nUsers × kp f32), Q (nMovies × kp f32), b (nMovies f32), the
// positive interactions as a CSR by user (ptr u32, movies u32 ascending per row) with the user of
// each (owners u32), the optional
// negative-sampling table (u32 movie indices), and one 32-byte state block per thread (its
// xorshift32 state and counters). Several worker instances run these functions at once: each on
// its own range of users (so P rows are never shared), all of them on Q and b (Hogwild!).
//
// The plain TypeScript reference (src/ranking/bpr/reference.ts) draws exactly the same samples
// (integer arithmetic) and applies the same update rule in f64.

/** Uniform negatives: draws rejected before the negative is drawn from the user's complement directly. */
export const UNIFORM_TRIES: u32 = 4;
/** Popularity negatives: draws rejected before the sample is skipped (a user who has nearly every movie). */
export const TABLE_TRIES: u32 = 64;

// The last sample drawn by `draw` (per instance; every thread has its own instance).
let sampledUser: u32 = 0;
let sampledPositive: u32 = 0;
let sampledNegative: u32 = 0;

/** xorshift32 (Marsaglia 2003): the thread's next state, kept at `rngAt`. */
// @ts-ignore: decorator
@inline
function nextRandom(rngAt: usize): u32 {
  let x = load<u32>(rngAt);
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  store<u32>(rngAt, x);
  return x;
}

/** An integer in [0, n): ⌊x · n / 2³²⌋ of the next state x (Lemire's multiply-shift, no division). */
// @ts-ignore: decorator
@inline
function below(rngAt: usize, n: u32): u32 {
  return <u32>((<u64>nextRandom(rngAt) * <u64>n) >>> 32);
}

/** Whether the ascending u32 array at `movies[start .. end)` holds `m` (binary search). */
// @ts-ignore: decorator
@inline
function holds(movies: usize, start: u32, end: u32, m: u32): bool {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = load<u32>(movies + ((<usize>mid) << 2));
    if (v == m) return true;
    if (v < m) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/**
 * The r-th (from 0) movie index not in the ascending row movies[start .. end): r + k, k the number
 * of positions t with row[t] − t ≤ r (row[t] − t never decreases, so k is found by binary search).
 */
// @ts-ignore: decorator
@inline
function nthAbsent(movies: usize, start: u32, end: u32, r: u32): u32 {
  let lo: u32 = 0;
  let hi: u32 = end - start;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<u32>(movies + ((<usize>(start + mid)) << 2)) - mid <= r) lo = mid + 1;
    else hi = mid;
  }
  return r + lo;
}

/**
 * Draws one triple for the users `uFrom .. uTo−1` into the globals: a positive interaction
 * uniformly among theirs (index in ptr[uFrom] .. ptr[uTo]; its user is owners[index], so no
 * search), then a negative not in the user's row. Uniform (tableLen = 0): up to UNIFORM_TRIES
 * draws over all movies, each rejected when in the row (binary search), then one draw among the
 * nMovies − |row| others directly ({@link nthAbsent}); either way uniform over the movies the user
 * lacks, and a user with many movies costs no long rejection loop. By popularity: table[uniform]
 * up to TABLE_TRIES times. Returns false (the sample is skipped) for a user with every movie, or
 * when the table draws all fail.
 */
// @ts-ignore: decorator
@inline
function draw(ptr: usize, movies: usize, owners: usize, nMovies: u32, uFrom: u32, uTo: u32, table: usize, tableLen: u32, rngAt: usize): bool {
  const first = load<u32>(ptr + ((<usize>uFrom) << 2));
  const last = load<u32>(ptr + ((<usize>uTo) << 2));
  const at = first + below(rngAt, last - first);
  const u = load<u32>(owners + ((<usize>at) << 2));
  sampledUser = u;
  sampledPositive = load<u32>(movies + ((<usize>at) << 2));
  const start = load<u32>(ptr + ((<usize>u) << 2));
  const end = load<u32>(ptr + ((<usize>u + 1) << 2));
  if (tableLen > 0) {
    for (let t: u32 = 0; t < TABLE_TRIES; t++) {
      const j = load<u32>(table + ((<usize>below(rngAt, tableLen)) << 2));
      if (!holds(movies, start, end, j)) {
        sampledNegative = j;
        return true;
      }
    }
    return false;
  }
  if (end - start >= nMovies) return false;
  for (let t: u32 = 0; t < UNIFORM_TRIES; t++) {
    const j = below(rngAt, nMovies);
    if (!holds(movies, start, end, j)) {
      sampledNegative = j;
      return true;
    }
  }
  sampledNegative = nthAbsent(movies, start, end, below(rngAt, nMovies - (end - start)));
  return true;
}

/**
 * eˣ in f64 without the standard library's lookup tables (the kernels have no data segments):
 * x clamped to ±80 (NaN passes through), x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor
 * series to r¹², then scaled by 2ⁿ through the exponent bits. Relative error below 1e-14.
 */
// @ts-ignore: decorator
@inline
function expf64(x: f64): f64 {
  const c = min(max(x, -80.0), 80.0);
  const n = nearest(c * 1.4426950408889634);
  const r = c - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
  // 1 + r(1 + r/2(1 + r/3(… (1 + r/12)))): Horner's form of the series to r¹².
  let p = 1.0;
  for (let d = 12; d >= 1; d--) p = 1.0 + (p * r) / <f64>d;
  return p * reinterpret<f64>((<i64>n + 1023) << 52);
}

/**
 * −ln σ(x) = ln(1 + e^(−x)) = max(−x, 0) + ln(1 + y), y = e^(−|x|) ∈ (0, 1], with
 * ln(1 + y) = 2·atanh(s), s = y / (2 + y) ≤ 1/3, by its series to s²³ (error below 1e-12).
 */
// @ts-ignore: decorator
@inline
function softplusNeg(x: f64): f64 {
  const y = expf64(-abs(x));
  const s = y / (2.0 + y);
  const s2 = s * s;
  // Σ s^(2n) / (2n + 1) for n = 0 … 11, by Horner's rule in s².
  let t = 0.0;
  for (let d = 23; d >= 1; d -= 2) t = t * s2 + 1.0 / <f64>d;
  return max(-x, 0.0) + 2.0 * s * t;
}

/**
 * `count` SGD steps of BPR (Rendle et al. 2009) on triples drawn by {@link draw}. For each, with
 * p = P[u], q_i = Q[i], q_j = Q[j]:
 *   x = (b_i − b_j) + p·(q_i − q_j),  g = 1 / (1 + eˣ) = σ(−x)   (g in f64, then f32)
 *   p   ← (1 − lr·regUser)·p   + (lr·g)·(q_i − q_j)
 *   q_i ← (1 − lr·regItem)·q_i + (lr·g)·p_old
 *   q_j ← (1 − lr·regItem)·q_j − (lr·g)·p_old
 *   b_i += lr·(g − regBias·b_i);  b_j += lr·(−g − regBias·b_j)
 * in f32, the dot in two f32x4 accumulators. Adds to the thread's state block at `stateAt`
 * (after its u32 rng word): f64 at +8 the samples with x > 0 (before the step: the sampled AUC),
 * f64 at +16 the samples skipped for want of a negative.
 *
 * @returns Σ −ln σ(x) over the steps taken (f64), x before each step.
 */
export function bprSteps(
  ptr: usize,
  movies: usize,
  owners: usize,
  nMovies: u32,
  uFrom: u32,
  uTo: u32,
  table: usize,
  tableLen: u32,
  stateAt: usize,
  count: u32,
  P: usize,
  Q: usize,
  bias: usize,
  kp: u32,
  lr: f32,
  regUser: f32,
  regItem: f32,
  regBias: f32,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const keepUser = f32x4.splat(<f32>1 - lr * regUser);
  const keepItem = f32x4.splat(<f32>1 - lr * regItem);
  const zero = f32x4.splat(0);
  let loss: f64 = 0;
  let correct: f64 = 0;
  let skipped: f64 = 0;
  let sink = v128.splat<i32>(0);
  // Sample s + 1 is drawn before sample s is trained on (the same triples in the same order: the
  // draws read no factors), and its three rows are touched (one load per 64-byte line): the CPU
  // fetches them from memory while sample s's arithmetic runs, instead of stalling on each in turn.
  let ok = count > 0 ? draw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt) : false;
  let user = sampledUser;
  let positive = sampledPositive;
  let negative = sampledNegative;
  for (let s: u32 = 0; s < count; s++) {
    let nextOk = false;
    let nextUser: u32 = 0;
    let nextPositive: u32 = 0;
    let nextNegative: u32 = 0;
    if (s + 1 < count) {
      nextOk = draw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt);
      nextUser = sampledUser;
      nextPositive = sampledPositive;
      nextNegative = sampledNegative;
      if (nextOk) {
        const np = P + (<usize>nextUser) * rowBytes;
        const ni = Q + (<usize>nextPositive) * rowBytes;
        const nj = Q + (<usize>nextNegative) * rowBytes;
        for (let g: usize = 0; g < rowBytes; g += 64) sink = v128.or(sink, v128.or(v128.load(np + g), v128.or(v128.load(ni + g), v128.load(nj + g))));
      }
    }
    const thisOk = ok;
    const u = user;
    const i = positive;
    const j = negative;
    ok = nextOk;
    user = nextUser;
    positive = nextPositive;
    negative = nextNegative;
    if (!thisOk) {
      skipped += 1;
      continue;
    }
    const pu = P + (<usize>u) * rowBytes;
    const qi = Q + (<usize>i) * rowBytes;
    const qj = Q + (<usize>j) * rowBytes;
    const biAt = bias + ((<usize>i) << 2);
    const bjAt = bias + ((<usize>j) << 2);
    let a0 = zero;
    let a1 = zero;
    let f: usize = 0;
    for (; f + 32 <= rowBytes; f += 32) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load(pu + f), f32x4.sub(v128.load(qi + f), v128.load(qj + f))));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(pu + f + 16), f32x4.sub(v128.load(qi + f + 16), v128.load(qj + f + 16))));
    }
    if (f < rowBytes) a0 = f32x4.add(a0, f32x4.mul(v128.load(pu + f), f32x4.sub(v128.load(qi + f), v128.load(qj + f))));
    const acc = f32x4.add(a0, a1);
    const dot = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    const bi = load<f32>(biAt);
    const bj = load<f32>(bjAt);
    const x: f32 = bi - bj + dot;
    const xd = <f64>x;
    const g = <f32>(1.0 / (1.0 + expf64(xd)));
    loss += softplusNeg(xd);
    if (x > 0) correct += 1;
    const step = lr * g;
    const vstep = f32x4.splat(step);
    for (let c: usize = 0; c < rowBytes; c += 16) {
      const vp = v128.load(pu + c);
      const vi = v128.load(qi + c);
      const vj = v128.load(qj + c);
      const sp = f32x4.mul(vstep, vp);
      v128.store(pu + c, f32x4.add(f32x4.mul(keepUser, vp), f32x4.mul(vstep, f32x4.sub(vi, vj))));
      v128.store(qi + c, f32x4.add(f32x4.mul(keepItem, vi), sp));
      v128.store(qj + c, f32x4.sub(f32x4.mul(keepItem, vj), sp));
    }
    store<f32>(biAt, bi + lr * (g - regBias * bi));
    store<f32>(bjAt, bj + lr * (-g - regBias * bj));
  }
  // Keeps the touching loads alive; bytes 0 … 15 of the memory are this scratch word.
  v128.store(0, sink);
  store<f64>(stateAt + 8, load<f64>(stateAt + 8) + correct);
  store<f64>(stateAt + 16, load<f64>(stateAt + 16) + skipped);
  return loss;
}

/**
 * Draws `count` triples as {@link bprSteps} would, without training: (u, i, j) as three u32 at
 * `out` + 12·s, j = 0xffffffff for a skipped sample. For tests and for checking the sampler.
 */
export function bprDraw(ptr: usize, movies: usize, owners: usize, nMovies: u32, uFrom: u32, uTo: u32, table: usize, tableLen: u32, stateAt: usize, count: u32, out: usize): void {
  for (let s: u32 = 0; s < count; s++) {
    const ok = draw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt);
    const at = out + (<usize>s) * 12;
    store<u32>(at, sampledUser);
    store<u32>(at + 4, sampledPositive);
    store<u32>(at + 8, ok ? sampledNegative : 0xffffffff);
  }
}
