// SIMD kernel of the SVD++ trainer, compiled to WebAssembly by tools/build-wasm.js (shared
// imported memory, stub runtime, no allocation). Everything lives at byte offsets the host lays out
// (libs/models/src/latent/svdpp/layout.ts). Factor rows hold `kp` floats (k rounded up to 4), the
// padding lanes zero and staying zero.
//
// The plain TypeScript reference (`svdppReferenceKernel` in src/latent/svdpp/kernel.ts) performs
// exactly these f32 operations in exactly this order; keep the two in step.

import { IMPLICIT_DOT, rowSum, SVDPP_STEP } from './dot';

/**
 * SVD++ SGD over the users `order[from .. to)` (see SvdppModel for the model). User u has the
 * packed ratings `ratings[userPtr[u] .. userPtr[u+1])`, each `(movie << 8) | (stars × 2)`, and
 * the host's per-user constants `norm[u]` = |N(u)|^-½ and `shrink[u]` = (1 − lr·reg)^|N(u)|.
 * `z` and `g` are this thread's scratch rows (kp floats each). `yScale` (0: none) is a float per
 * movie that each y_j update multiplies by the user's shrink: after a run of users, y_j is
 * yScale[j]·(y_j before) + (what the updates added), which {@link pushMovies} needs. For each user:
 *
 *   z = norm · Σ_{j∈N(u)} y_j   (summed in rating order);  g = 0
 *   for each rating (m, r):  e = r − (((μ + b_u) + b_m) + (p + z)·q)
 *     b_u += lrb·(e − regb·b_u);  b_m += lrb·(e − regb·b_m)
 *     g += e·q;  p ← c·p + s·q;  q ← c·q + s·(p_old + z)     (c = 1 − lr·reg, s = lr·e)
 *   for each j ∈ N(u):  y_j ← shrink·y_j + (lr·norm)·g
 *
 * (p + z)·q sums chunk c into accumulator c mod 4, then (a0 + a1) + (a2 + a3), then the lanes
 * (l0 + l1) + (l2 + l3), as dot.ts does.
 *
 * @returns Σ e² (f64) over the ratings visited, e before the update.
 */
export function svdppUsers(
  order: usize,
  from: u32,
  to: u32,
  userPtr: usize,
  ratings: usize,
  P: usize,
  Q: usize,
  Y: usize,
  userBias: usize,
  movieBias: usize,
  norm: usize,
  shrink: usize,
  z: usize,
  g: usize,
  yScale: usize,
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
  const zero = f32x4.splat(0);
  let sink = v128.splat<i32>(0);
  for (let j = from; j < to; j++) {
    const u = <usize>load<u32>(order + ((<usize>j) << 2));
    const start = load<u32>(userPtr + (u << 2));
    const end = load<u32>(userPtr + ((u + 1) << 2));
    if (start >= end) continue;
    const nrm = load<f32>(norm + (u << 2));
    // z = norm · Σ y_j;  g = 0
    for (let f: usize = 0; f < rowBytes; f += 16) v128.store(z + f, zero);
    // The same pass touches each rated movie's Q row (one load per 64-byte line): these loads
    // are independent, so the CPU fetches the user's Q and Y rows from L3 or memory in parallel
    // here, and the rating loop below finds them in cache (WebAssembly has no prefetch).
    for (let k = start; k < end; k++) {
      const row = (<usize>(load<u32>(ratings + ((<usize>k) << 2)) >>> 8)) * rowBytes;
      const yj = Y + row;
      const qj = Q + row;
      for (let f: usize = 0; f < rowBytes; f += 16) v128.store(z + f, f32x4.add(v128.load(z + f), v128.load(yj + f)));
      for (let f: usize = 0; f < rowBytes; f += 64) sink = v128.or(sink, v128.load(qj + f));
    }
    const vnorm = f32x4.splat(nrm);
    for (let f: usize = 0; f < rowBytes; f += 16) {
      v128.store(z + f, f32x4.mul(v128.load(z + f), vnorm));
      v128.store(g + f, zero);
    }

    const pu = P + u * rowBytes;
    const buAt = userBias + (u << 2);
    let bu = load<f32>(buAt);
    let packed = load<u32>(ratings + ((<usize>start) << 2));
    let qi = Q + (<usize>(packed >>> 8)) * rowBytes;
    let dot = rowSum(IMPLICIT_DOT, pu, qi, 0, z, 0, rowBytes, vkeep, vkeep, vkeep);
    for (let k = start; k < end; k++) {
      const m = <usize>(packed >>> 8);
      const r = <f32>(packed & 255) * <f32>0.5;
      const bmAt = movieBias + (m << 2);
      const bm = load<f32>(bmAt);
      const e: f32 = r - (mu + bu + bm + dot);
      sse += <f64>e * <f64>e;
      bu = bu + lrBias * (e - regBias * bu);
      store<f32>(bmAt, bm + lrBias * (e - regBias * bm));
      const ve = f32x4.splat(e);
      const vstep = f32x4.splat(lr * e);
      if (k + 1 < end) {
        // The update fused with the next rating's (p + z)·q (as in sgd.ts): bit-identical to a
        // separate dot after it, one pass over the rows instead of two.
        packed = load<u32>(ratings + ((<usize>(k + 1)) << 2));
        const qn = Q + (<usize>(packed >>> 8)) * rowBytes;
        dot = rowSum(SVDPP_STEP, pu, qi, qn, z, g, rowBytes, vkeep, vstep, ve);
        qi = qn;
      } else {
        rowSum(SVDPP_STEP, pu, qi, qi, z, g, rowBytes, vkeep, vstep, ve);
      }
    }
    store<f32>(buAt, bu);

    // y_j ← shrink·y_j + (lr·norm)·g for every movie the user rated (and yScale[j] ← yScale[j]·shrink).
    const sh = load<f32>(shrink + (u << 2));
    const vshrink = f32x4.splat(sh);
    const vgain = f32x4.splat(lr * nrm);
    for (let k = start; k < end; k++) {
      const m = <usize>(load<u32>(ratings + ((<usize>k) << 2)) >>> 8);
      const yj = Y + m * rowBytes;
      for (let c: usize = 0; c < rowBytes; c += 16) {
        v128.store(yj + c, f32x4.add(f32x4.mul(vshrink, v128.load(yj + c)), f32x4.mul(vgain, v128.load(g + c))));
      }
      if (yScale != 0) store<f32>(yScale + (m << 2), load<f32>(yScale + (m << 2)) * sh);
    }
  }
  // Keeps the touching loads alive; bytes 0 … 15 of the memory are this scratch word.
  v128.store(0, sink);
  return sse;
}

/**
 * The end of a worker thread's run of users when several threads train, each on working copies
 * of the movie parameters taken at the start of the run (`wQ`, `wY`, `wBias`) together with base
 * copies (`bQ`, `bY`, `bBias`): what the run did is applied to the shared arrays, which the other
 * threads may have changed meanwhile. For every movie m < nMovies, per float:
 *
 *   Q ← Q + (wQ − bQ);   b ← b + (wBias − bBias);   Y ← s·Y + (wY − s·bY),  s = yScale[m]
 *
 * The run's updates of q and b are sums of small steps, so its changes add. Those of y_j are
 * affine, y ← shrink·y + step, and the shrink of a popular movie over a run can be near 0 (each
 * rater u multiplies it by (1 − lr·reg)^|N(u)|): so the run's map y ↦ s·y + (wY − s·bY) is applied
 * to the shared row, which keeps the other threads' changes scaled as they would have been had
 * they come first (adding the difference would count the shrunk base twice).
 */
export function pushMovies(
  nMovies: u32,
  Q: usize,
  Y: usize,
  movieBias: usize,
  wQ: usize,
  wY: usize,
  wBias: usize,
  bQ: usize,
  bY: usize,
  bBias: usize,
  yScale: usize,
  kp: u32,
): void {
  const rowBytes: usize = (<usize>kp) << 2;
  for (let m: usize = 0; m < <usize>nMovies; m++) {
    const row = m * rowBytes;
    const s = load<f32>(yScale + (m << 2));
    const vs = f32x4.splat(s);
    for (let f: usize = 0; f < rowBytes; f += 16) {
      const at = row + f;
      v128.store(Q + at, f32x4.add(v128.load(Q + at), f32x4.sub(v128.load(wQ + at), v128.load(bQ + at))));
      v128.store(Y + at, f32x4.add(f32x4.mul(vs, v128.load(Y + at)), f32x4.sub(v128.load(wY + at), f32x4.mul(vs, v128.load(bY + at)))));
    }
    const b = m << 2;
    store<f32>(movieBias + b, load<f32>(movieBias + b) + (load<f32>(wBias + b) - load<f32>(bBias + b)));
  }
}
