// SIMD kernel of the SGD trainer, compiled to WebAssembly by tools/build-wasm.js
// (`asc --enable simd --enable threads --importMemory --sharedMemory -O3 --runtime stub`).
//
// Everything lives in the imported (shared) linear memory at byte offsets the host lays out
// (libs/models/src/latent/sgd/layout.ts); these functions allocate nothing and keep no state, so
// several worker instances can run them on disjoint blocks of the same memory at once.
//
// Factor rows hold `kp` floats, the factor count rounded up to a multiple of 4; the padding
// lanes are zero and stay zero (their updates are lr·(e·0 − reg·0) = 0).
//
// The plain TypeScript reference (`referenceKernel` in src/latent/sgd/kernel.ts) performs exactly
// these f32 operations in exactly this order; keep the two in step.

import { dot as dotRows } from './dot';

/**
 * One pass of Surprise's SVD updates over the user segments `order[from .. to)`.
 *
 * Segment s is user `segUser[s]` with the packed ratings `ratings[segOff[s] .. segOff[s+1])`,
 * each `(movie << 8) | (stars × 2)`, movies distinct. For each rating, with p = P[u], q = Q[m]:
 *   e   = r − (((μ + b_u) + b_m) + p·q)
 *   b_u += lrb·(e − regb·b_u);   b_m += lrb·(e − regb·b_m)
 *   p   ← c·p + s·q;             q   ← c·q + s·p_old      (c = 1 − lr·reg, s = lr·e)
 * the last line being p += lr·(e·q − reg·p), q += lr·(e·p_old − reg·q) with the constants folded:
 * three f32x4 operations per row chunk instead of five.
 *
 * p·q is the four-accumulator dot of dot.ts (chunk c into accumulator c mod 4, then
 * (a0 + a1) + (a2 + a3), then lanes (l0 + l1) + (l2 + l3)). Only a segment's first dot runs on its
 * own: every later one is fused into the previous rating's update ({@link updateAndDot}), which
 * has the new p chunk in a register when it loads the next movie's q chunk, so a rating costs one
 * pass over the rows instead of two, and the next Q row is read (from L3 or memory) while this
 * rating's arithmetic runs. The result is bit-identical to a separate dot after the update.
 *
 * @returns Σ e² (in f64) over the ratings visited, e taken before the update.
 */
export function sgdSegments(
  order: usize,
  segUser: usize,
  segOff: usize,
  from: u32,
  to: u32,
  ratings: usize,
  P: usize,
  Q: usize,
  userBias: usize,
  movieBias: usize,
  kp: u32,
  mu: f32,
  lr: f32,
  reg: f32,
  lrBias: f32,
  regBias: f32,
): f64 {
  let sse: f64 = 0;
  const rowBytes: usize = (<usize>kp) << 2;
  const vkeep = f32x4.splat(<f32>1 - lr * reg);
  let sink = v128.splat<i32>(0);
  for (let j = from; j < to; j++) {
    const s = load<u32>(order + ((<usize>j) << 2));
    const u = load<u32>(segUser + ((<usize>s) << 2));
    const start = load<u32>(segOff + ((<usize>s) << 2));
    const end = load<u32>(segOff + ((<usize>s + 1) << 2));
    if (start >= end) continue;
    const pu = P + (<usize>u) * rowBytes;
    const buAt = userBias + ((<usize>u) << 2);
    let bu = load<f32>(buAt);
    let packed = load<u32>(ratings + ((<usize>start) << 2));
    let qi = Q + (<usize>(packed >>> 8)) * rowBytes;
    let dot = dotRows(pu, qi, rowBytes);
    for (let k = start; k < end; k++) {
      const m = <usize>(packed >>> 8);
      const r = <f32>(packed & 255) * <f32>0.5;
      const bmAt = movieBias + (m << 2);
      const bm = load<f32>(bmAt);
      const e: f32 = r - (mu + bu + bm + dot);
      sse += <f64>e * <f64>e;
      bu = bu + lrBias * (e - regBias * bu);
      store<f32>(bmAt, bm + lrBias * (e - regBias * bm));
      const vstep = f32x4.splat(lr * e);
      if (k + 1 < end) {
        packed = load<u32>(ratings + ((<usize>(k + 1)) << 2));
        const qn = Q + (<usize>(packed >>> 8)) * rowBytes;
        dot = updateAndDot(pu, qi, qn, rowBytes, vkeep, vstep);
        qi = qn;
      } else {
        for (let g: usize = 0; g < rowBytes; g += 16) {
          const p = v128.load(pu + g);
          const q = v128.load(qi + g);
          v128.store(pu + g, f32x4.add(f32x4.mul(vkeep, p), f32x4.mul(vstep, q)));
          v128.store(qi + g, f32x4.add(f32x4.mul(vkeep, q), f32x4.mul(vstep, p)));
        }
        // Touch the next segment's user row: independent loads the CPU overlaps with the stores
        // above (WebAssembly has no prefetch instruction); its first dot then finds it in cache.
        if (j + 1 < to) {
          const sn = load<u32>(order + ((<usize>(j + 1)) << 2));
          const pn = P + (<usize>load<u32>(segUser + ((<usize>sn) << 2))) * rowBytes;
          for (let g: usize = 0; g < rowBytes; g += 64) sink = v128.or(sink, v128.load(pn + g));
        }
      }
    }
    store<f32>(buAt, bu);
  }
  // Keeps the touching loads alive; bytes 0 … 15 of the memory are this scratch word.
  v128.store(0, sink);
  return sse;
}

/**
 * The update of one rating fused with the next rating's dot: for each 4-lane chunk c of the rows,
 * p' = c·p + s·q and q' = c·q + s·p are stored, and p'·qn (qn: the next movie's row, never q's)
 * is accumulated into accumulator c mod 4, summed as in dot.ts. Returns p'·qn.
 */
// @ts-ignore: decorator
@inline
function updateAndDot(pu: usize, qi: usize, qn: usize, rowBytes: usize, vkeep: v128, vstep: v128): f32 {
  const quadEnd: usize = rowBytes & ~(<usize>63);
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  let f: usize = 0;
  for (; f < quadEnd; f += 64) {
    a0 = f32x4.add(a0, step(pu + f, qi + f, qn + f, vkeep, vstep));
    a1 = f32x4.add(a1, step(pu + f + 16, qi + f + 16, qn + f + 16, vkeep, vstep));
    a2 = f32x4.add(a2, step(pu + f + 32, qi + f + 32, qn + f + 32, vkeep, vstep));
    a3 = f32x4.add(a3, step(pu + f + 48, qi + f + 48, qn + f + 48, vkeep, vstep));
  }
  if (f < rowBytes) {
    a0 = f32x4.add(a0, step(pu + f, qi + f, qn + f, vkeep, vstep));
    f += 16;
    if (f < rowBytes) {
      a1 = f32x4.add(a1, step(pu + f, qi + f, qn + f, vkeep, vstep));
      f += 16;
      if (f < rowBytes) a2 = f32x4.add(a2, step(pu + f, qi + f, qn + f, vkeep, vstep));
    }
  }
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** One chunk of {@link updateAndDot}: stores p' and q', returns p'·qn lane by lane. */
// @ts-ignore: decorator
@inline
function step(p: usize, q: usize, qn: usize, vkeep: v128, vstep: v128): v128 {
  const vp = v128.load(p);
  const vq = v128.load(q);
  const np = f32x4.add(f32x4.mul(vkeep, vp), f32x4.mul(vstep, vq));
  v128.store(p, np);
  v128.store(q, f32x4.add(f32x4.mul(vkeep, vq), f32x4.mul(vstep, vp)));
  return f32x4.mul(np, v128.load(qn));
}

/**
 * Fisher–Yates shuffle of the u32 array `order[from .. to)` in place, drawing from a mulberry32
 * stream started at `seed`: step i (from the end) swaps position i with from + (x mod (i − from + 1)).
 * The modulo bias is below n / 2³², negligible for the segment counts shuffled here.
 */
export function shuffleSegments(order: usize, from: u32, to: u32, seed: u32): void {
  if (to <= from + 1) return;
  let state = seed;
  for (let i = to - 1; i > from; i--) {
    state += 0x6d2b79f5;
    let t = state;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    t ^= t >>> 14;
    const j = from + t % (i - from + 1);
    const a = order + ((<usize>i) << 2);
    const b = order + ((<usize>j) << 2);
    const tmp = load<u32>(a);
    store<u32>(a, load<u32>(b));
    store<u32>(b, tmp);
  }
}
