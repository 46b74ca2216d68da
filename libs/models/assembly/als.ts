// SIMD passes of ALS-CG (libs/models/src/latent/als/), compiled to WebAssembly by tools/build-wasm.js
// (`asc --enable simd --enable threads --importMemory --sharedMemory -O3 --runtime stub`).
//
// Everything lives in the imported (shared) linear memory at byte offsets the host lays out
// (libs/models/src/latent/als/trainer.ts); the functions keep no state, so worker instances run
// them on disjoint rows of the same memory at once, each with its own scratch area.
//
// Factor rows hold `kp` floats, the factor count rounded up to a multiple of 4, padding zero.
// The plain TypeScript reference is `plainAlsPasses` in src/latent/als/passes.ts (same formulas,
// f64 accumulation): results agree to f32 rounding, not bit for bit. Dot products: dot.ts.

import { dot } from './dot';

/** Ratings accumulated in f32 before they are added into the f64 sums. */
const FLUSH_EVERY: u32 = 64;

/**
 * One pass over the ratings `begin .. end−1` of a row: with x_j = [q_{o_j}; 1] (o_j =
 * `other[j]`, q rows of `kp` f32 at `fixed`) and v = [`v` (kp f64); `vb`],
 *
 *   w_j = x_j·v                                   (residual = 0: the product Σ x_j x_jᵀ v)
 *   w_j = (codes[j]/2 − μ − fixedBias[o_j]) − x_j·v   (residual = 1: the residual Σ (y_j − x_j·v) x_j)
 *
 * writes out[f] = Σ_j w_j q_{o_j, f} (kp f64) and returns Σ_j w_j. `scratch` holds 2·kp f32
 * (v in f32, and the f32 sums flushed into `out` every 64 ratings).
 *
 * `gather` 1 also copies each q_{o_j} to `rowsCopy` (row j − begin), 2 reads them from there
 * instead of from `fixed`: the later passes over a row stream one contiguous block (cache and
 * prefetch friendly) instead of scattered rows of a large factor matrix; 0 neither.
 */
export function alsPass(
  residual: u32,
  other: usize,
  codes: usize,
  begin: u32,
  end: u32,
  fixed: usize,
  fixedBias: usize,
  kp: u32,
  mu: f64,
  v: usize,
  vb: f64,
  scratch: usize,
  out: usize,
  gather: u32,
  rowsCopy: usize,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const vf = scratch;
  const acc = scratch + rowBytes;
  for (let f: usize = 0; f < <usize>kp; f++) {
    store<f32>(vf + (f << 2), <f32>load<f64>(v + (f << 3)));
    store<f32>(acc + (f << 2), 0);
    store<f64>(out + (f << 3), 0);
  }
  let wsum: f64 = 0;
  let pending: u32 = 0;
  for (let j = begin; j < end; j++) {
    const o = <usize>load<i32>(other + ((<usize>j) << 2));
    const copy = rowsCopy + (<usize>(j - begin)) * rowBytes;
    let q = fixed + o * rowBytes;
    if (gather === 2) q = copy;
    else if (gather === 1) {
      for (let g: usize = 0; g < rowBytes; g += 16) v128.store(copy + g, v128.load(q + g));
    }
    const t: f64 = vb + <f64>dot(vf, q, rowBytes);
    const w: f64 = residual ? <f64>load<u8>(codes + <usize>j) * 0.5 - mu - load<f64>(fixedBias + (o << 3)) - t : t;
    wsum += w;
    const wv = f32x4.splat(<f32>w);
    for (let g: usize = 0; g < rowBytes; g += 16) v128.store(acc + g, f32x4.add(v128.load(acc + g), f32x4.mul(wv, v128.load(q + g))));
    if (++pending === FLUSH_EVERY) {
      flush(acc, out, kp);
      pending = 0;
    }
  }
  if (pending > 0) flush(acc, out, kp);
  return wsum;
}

// @ts-ignore: decorator
@inline
function flush(acc: usize, out: usize, kp: u32): void {
  for (let f: usize = 0; f < <usize>kp; f++) {
    const at = acc + (f << 2);
    store<f64>(out + (f << 3), load<f64>(out + (f << 3)) + <f64>load<f32>(at));
    store<f32>(at, 0);
  }
}

/**
 * Σ_j (codes[j]/2 − μ − bias − fixedBias[o_j] − p·q_{o_j})² over the ratings `begin .. end−1`
 * of a row whose factors are the kp f32 at `p`; with `gathered`, q_{o_j} is read from row
 * j − begin of `rowsCopy` (see {@link alsPass}).
 */
export function alsSse(
  other: usize,
  codes: usize,
  begin: u32,
  end: u32,
  fixed: usize,
  fixedBias: usize,
  kp: u32,
  mu: f64,
  p: usize,
  bias: f64,
  gathered: u32,
  rowsCopy: usize,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  let sse: f64 = 0;
  for (let j = begin; j < end; j++) {
    const o = <usize>load<i32>(other + ((<usize>j) << 2));
    const q = gathered ? rowsCopy + (<usize>(j - begin)) * rowBytes : fixed + o * rowBytes;
    const e: f64 = <f64>load<u8>(codes + <usize>j) * 0.5 - mu - bias - load<f64>(fixedBias + (o << 3)) - <f64>dot(p, q, rowBytes);
    sse += e * e;
  }
  return sse;
}
