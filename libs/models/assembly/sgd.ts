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

import { dot as dotRows, rowSum, SGD_STEP } from './dot';

/**
 * One pass of Surprise's SVD updates over the user segments `from .. to−1`, in that order.
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
 * own: every later one is fused into the previous rating's update (`rowSum(SGD_STEP)`, dot.ts), which
 * has the new p chunk in a register when it loads the next movie's q chunk, so a rating costs one
 * pass over the rows instead of two, and the next Q row is read (from L3 or memory) while this
 * rating's arithmetic runs. The result is bit-identical to a separate dot after the update.
 *
 * @returns Σ e² (in f64) over the ratings visited, e taken before the update.
 */
export function sgdSegments(
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
  for (let s = from; s < to; s++) {
    const u = load<u32>(segUser + ((<usize>s) << 2));
    const start = load<u32>(segOff + ((<usize>s) << 2));
    const end = load<u32>(segOff + ((<usize>s + 1) << 2));
    if (start >= end) continue;
    const pu = P + (<usize>u) * rowBytes;
    const buAt = userBias + ((<usize>u) << 2);
    let bu = load<f32>(buAt);
    // Touch every Q row of the segment first (one load per 64-byte line): the loads are
    // independent, so the CPU fetches the rows from L3 or memory in parallel, and the rating loop
    // below, which needs each row only after the previous rating's update, finds them in L2.
    for (let k = start; k < end; k++) {
      const qk = Q + (<usize>(load<u32>(ratings + ((<usize>k) << 2)) >>> 8)) * rowBytes;
      for (let g: usize = 0; g < rowBytes; g += 64) sink = v128.or(sink, v128.load(qk + g));
    }
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
        dot = rowSum(SGD_STEP, pu, qi, qn, 0, 0, rowBytes, vkeep, vstep, vstep);
        qi = qn;
      } else {
        rowSum(SGD_STEP, pu, qi, qi, 0, 0, rowBytes, vkeep, vstep, vstep);
        // Touch the next segment's user row: independent loads the CPU overlaps with the stores
        // above (WebAssembly has no prefetch instruction); its first dot then finds it in cache.
        if (s + 1 < to) {
          const pn = P + (<usize>load<u32>(segUser + ((<usize>s + 1) << 2))) * rowBytes;
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
