// The generator's distributions (movie popularity, user activity) and their sampling helpers, and
// the user ids. Internal to the lib (not exported from index.ts).
import { Random } from '@recsys/core';
import { NETFLIX_MAX_USER_ID, SYNTHETIC_MODEL } from './synthetic-options';

/** Index of the first entry of an ascending cumulative array greater than x (the last when none). */
export function pickCumulative(cum: Float64Array, x: number): number {
  const last = cum.length - 1;
  for (let g = 0; g < last; g++) if (x < cum[g]) return g;
  return last;
}

/** User index owning list position k (userStart ascending, length U + 1). */
export function userAt(userStart: Float64Array, k: number): number {
  let lo = 0;
  let hi = userStart.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (userStart[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Offset c of Zipf–Mandelbrot weights 1/(rank + c), rank 0 … n−1, such that the top share
 * (1/c) / Σ 1/(r + c) is at most `topShare` (c ≥ 1; c grows up to 1e9, i.e. nearly uniform).
 */
export function zipfOffset(n: number, topShare: number): number {
  const share = (c: number): number => 1 / c / (Math.log((n - 0.5 + c) / (c - 0.5 + 1e-9)) || 1e-300);
  if (share(1) <= topShare) return 1;
  let lo = 1;
  let hi = 2;
  while (share(hi) > topShare && hi < 1e9) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (share(mid) > topShare) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Vose alias table over `items[lo..hi)` weighted by `weight[item]`; aliases are absolute positions. */
export function buildAlias(
  items: Int32Array,
  weight: Float64Array,
  lo: number,
  hi: number,
  prob: Float64Array,
  alias: Int32Array,
): void {
  const n = hi - lo;
  if (n === 0) return;
  let sum = 0;
  for (let j = lo; j < hi; j++) sum += weight[items[j]];
  const small: number[] = [];
  const large: number[] = [];
  for (let j = lo; j < hi; j++) {
    prob[j] = (weight[items[j]] * n) / sum;
    alias[j] = j;
    (prob[j] < 1 ? small : large).push(j);
  }
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    alias[s] = l;
    prob[l] -= 1 - prob[s];
    if (prob[l] < 1) {
      large.pop();
      small.push(l);
    }
  }
  for (const j of small) prob[j] = 1;
  for (const j of large) prob[j] = 1;
}

/** Value of rank k (0-based) among a's values; reorders a (Hoare quickselect). */
export function nthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Sorted distinct user ids: dense from `start`, or sparse like Netflix with random gaps averaging
 * max(2,649,429, 6·n)/n, kept below 2^31.
 */
export function makeUserIds(rng: Random, n: number, start: number, sparse: boolean): Int32Array {
  const ids = new Int32Array(n);
  if (!sparse) {
    if (start + n - 1 > 2 ** 31 - 1) throw new RangeError('generateSynthetic: user ids would exceed 2^31 - 1');
    for (let u = 0; u < n; u++) ids[u] = start + u;
    return ids;
  }
  const span = Math.min(Math.max(NETFLIX_MAX_USER_ID, 6 * n), 2 ** 31 - 1 - start);
  const meanGap = span / n;
  if (meanGap < 1) throw new RangeError('generateSynthetic: too many users for sparse ids below 2^31');
  // Gaps uniform on 1 … 2·meanGap − 1 (mean ≈ meanGap); rescaled if the sum overshoots the span.
  const gaps = new Float64Array(n);
  let sum = 0;
  for (let u = 0; u < n; u++) sum += gaps[u] = 1 + Math.floor(rng.next() * Math.max(1, 2 * meanGap - 1));
  const shrink = sum > span ? (span - n) / (sum - n) : 1;
  let id = start - 1;
  for (let u = 0; u < n; u++) {
    id += 1 + Math.floor((gaps[u] - 1) * shrink);
    ids[u] = id;
  }
  return ids;
}

/**
 * Ratings per user: Lomax quantiles x = (1 − p)^(−1/α) − 1 at stratified p, assigned to users in
 * random order, n_u = clamp(1 + floor(λ x), 1, movies) with λ by bisection so Σ n_u ≤ R, then the
 * remainder spread one by one so Σ n_u = R exactly.
 */
export function userActivity(rng: Random, U: number, R: number, M: number): Int32Array {
  const alpha = SYNTHETIC_MODEL.activityShape;
  const x = new Float64Array(U);
  const order = rng.shuffle(Int32Array.from({ length: U }, (_, i) => i));
  for (let r = 0; r < U; r++) {
    const p = (r + rng.next()) / U;
    x[order[r]] = Math.pow(1 - p, -1 / alpha) - 1;
  }
  const total = (lambda: number): number => {
    let s = 0;
    for (let u = 0; u < U; u++) {
      const n = 1 + Math.floor(lambda * x[u]);
      s += n > M ? M : n;
    }
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (total(hi) < R && hi < 1e15) hi *= 2;
  for (let i = 0; i < 80 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (total(mid) <= R) lo = mid;
    else hi = mid;
  }
  const counts = new Int32Array(U);
  let sum = 0;
  for (let u = 0; u < U; u++) {
    const n = 1 + Math.floor(lo * x[u]);
    counts[u] = n > M ? M : n;
    sum += counts[u];
  }
  // Spread the remainder over users below the cap, in random order (R ≤ U·M guarantees room).
  while (sum < R) {
    for (let r = 0; r < U && sum < R; r++) {
      const u = order[r];
      if (counts[u] < M) {
        counts[u]++;
        sum++;
      }
    }
  }
  return counts;
}
