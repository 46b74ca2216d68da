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

import { axpy, axpy4, axpy4i, axpySq, axpySq4, axpySq4i, cgDirection, cgStep, copyRow, copyRows4i, dot, dot4, dot4i, flush } from './dot';

/** Ratings accumulated in f32 before they are added into the f64 sums. */
const FLUSH_EVERY: u32 = 64;

/** Σ w² of the four ratings of the last {@link step4}. */
let step4W2: f64 = 0;

/** Σ w² of the last {@link alsPass}. */
let passW2: f64 = 0;

/** What a pass computes (its `mode`): the product Σ x xᵀ v. */
const PRODUCT: u32 = 0;
/** The residual Σ (y − x·v) x. */
const RESIDUAL: u32 = 1;
/** Only the w = x·v (Σ w and Σ w²; nothing is added into `out`'s vector part): the last CG step needs pᵀXᵀXp = Σ w² alone. */
const DOTS: u32 = 2;
/** {@link RESIDUAL}, and also the diagonal of Σ q qᵀ (Σ q_f², for the Jacobi preconditioner) into `diag`. */
const RESIDUAL_DIAG: u32 = 3;

/**
 * Four ratings' share of a pass (rows q0..q3 of the fixed side, or with `interleaved` the same
 * rows as {@link copyRows4i} stores them at q0; o0..o3 their indices, `c` the address of the
 * first's rating code): w_i = vb + v·q_i, or with mode {@link RESIDUAL}
 * w_i = (code_i/2 − μ − fixedBias[o_i]) − (vb + v·q_i); acc += Σ w_i q_i unless the mode is
 * {@link DOTS}. Returns Σ w_i and leaves Σ w_i² in {@link step4W2}. Both layouts give the same
 * sums in the same order. With mode {@link RESIDUAL_DIAG} as {@link RESIDUAL}, and also
 * sq += Σ q_i ⊙ q_i.
 */
// @ts-ignore: decorator
@inline
function step4(mode: u32, interleaved: bool, vf: usize, vb: f64, q0: usize, q1: usize, q2: usize, q3: usize, o0: usize, o1: usize, o2: usize, o3: usize, c: usize, fixedBias: usize, mu: f64, acc: usize, sq: usize, rowBytes: usize): f64 {
  const d = interleaved ? dot4i(vf, q0, rowBytes) : dot4(vf, q0, q1, q2, q3, rowBytes);
  let w0: f64 = vb + <f64>f32x4.extract_lane(d, 0);
  let w1: f64 = vb + <f64>f32x4.extract_lane(d, 1);
  let w2: f64 = vb + <f64>f32x4.extract_lane(d, 2);
  let w3: f64 = vb + <f64>f32x4.extract_lane(d, 3);
  if (mode == RESIDUAL || mode == RESIDUAL_DIAG) {
    w0 = <f64>load<u8>(c) * 0.5 - mu - load<f64>(fixedBias + (o0 << 3)) - w0;
    w1 = <f64>load<u8>(c, 1) * 0.5 - mu - load<f64>(fixedBias + (o1 << 3)) - w1;
    w2 = <f64>load<u8>(c, 2) * 0.5 - mu - load<f64>(fixedBias + (o2 << 3)) - w2;
    w3 = <f64>load<u8>(c, 3) * 0.5 - mu - load<f64>(fixedBias + (o3 << 3)) - w3;
  }
  if (mode == RESIDUAL_DIAG) {
    if (interleaved) axpySq4i(acc, sq, q0, <f32>w0, <f32>w1, <f32>w2, <f32>w3, rowBytes);
    else axpySq4(acc, sq, q0, q1, q2, q3, <f32>w0, <f32>w1, <f32>w2, <f32>w3, rowBytes);
  } else if (mode != DOTS) {
    if (interleaved) axpy4i(acc, q0, <f32>w0, <f32>w1, <f32>w2, <f32>w3, rowBytes);
    else axpy4(acc, q0, q1, q2, q3, <f32>w0, <f32>w1, <f32>w2, <f32>w3, rowBytes);
  }
  step4W2 = w0 * w0 + w1 * w1 + (w2 * w2 + w3 * w3);
  return w0 + w1 + (w2 + w3);
}

/**
 * One pass over the ratings `begin .. end−1` of a row: with x_j = [q_{o_j}; 1] (o_j =
 * `other[j]`, q rows of `kp` f32 at `fixed`) and v = [`v` (kp f64); `vb`],
 *
 *   w_j = x_j·v                                   (mode 0: the product Σ x_j x_jᵀ v; mode 2: w_j alone)
 *   w_j = (codes[j]/2 − μ − fixedBias[o_j]) − x_j·v   (mode 1: the residual Σ (y_j − x_j·v) x_j)
 *
 * writes out[f] = Σ_j w_j q_{o_j, f} (kp f64; mode 2 leaves `out` alone), returns Σ_j w_j and
 * leaves Σ_j w_j² in {@link passW2}. Mode 3 ({@link RESIDUAL_DIAG}) is mode 1 that also writes
 * diag[f] = Σ_j q_{o_j, f}² (kp f64). `scratch` holds 3·kp f32 (v in f32, and the f32 sums
 * flushed into `out` and `diag` every 64 ratings).
 *
 * `gather` 1 also copies each q_{o_j} to `rowsCopy`, 2 reads them from there instead of from
 * `fixed`: the later passes over a row stream one contiguous block (cache and prefetch friendly)
 * instead of scattered rows of a large factor matrix; 0 neither. The copy holds each group of
 * four ratings' rows interleaved ({@link copyRows4i}; the last n mod 4 rows plain after them), so
 * that the four-rating steps load at fixed offsets from one address ({@link dot4i},
 * {@link axpy4i}); the pass that makes the copy reads it back at once (from L1).
 */
export function alsPass(
  mode: u32,
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
  diag: usize,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const vf = scratch;
  const acc = scratch + rowBytes;
  const sq = acc + rowBytes;
  const sums = mode != DOTS;
  const diagonal = mode == RESIDUAL_DIAG;
  for (let f: usize = 0; f < <usize>kp; f++) {
    store<f32>(vf + (f << 2), <f32>load<f64>(v + (f << 3)));
    if (sums) {
      store<f32>(acc + (f << 2), 0);
      store<f64>(out + (f << 3), 0);
    }
    if (diagonal) {
      store<f32>(sq + (f << 2), 0);
      store<f64>(diag + (f << 3), 0);
    }
  }
  let wsum: f64 = 0;
  let w2sum: f64 = 0;
  let pending: u32 = 0;
  let j = begin;
  // Four ratings at a time (dot4, axpy4), then the last few one by one.
  for (; j + 4 <= end; j += 4) {
    const at = other + ((<usize>j) << 2);
    const o0 = <usize>load<i32>(at);
    const o1 = <usize>load<i32>(at, 4);
    const o2 = <usize>load<i32>(at, 8);
    const o3 = <usize>load<i32>(at, 12);
    const copy = rowsCopy + (<usize>(j - begin)) * rowBytes;
    const q0 = fixed + o0 * rowBytes;
    const q1 = fixed + o1 * rowBytes;
    const q2 = fixed + o2 * rowBytes;
    const q3 = fixed + o3 * rowBytes;
    if (gather === 0) wsum += step4(mode, false, vf, vb, q0, q1, q2, q3, o0, o1, o2, o3, codes + <usize>j, fixedBias, mu, acc, sq, rowBytes);
    else {
      if (gather === 1) copyRows4i(copy, q0, q1, q2, q3, rowBytes);
      wsum += step4(mode, true, vf, vb, copy, 0, 0, 0, o0, o1, o2, o3, codes + <usize>j, fixedBias, mu, acc, sq, rowBytes);
    }
    w2sum += step4W2;
    pending += 4;
    if (sums && pending >= FLUSH_EVERY) {
      flush(acc, out, kp);
      if (diagonal) flush(sq, diag, kp);
      pending = 0;
    }
  }
  for (; j < end; j++) {
    const o = <usize>load<i32>(other + ((<usize>j) << 2));
    const copy = rowsCopy + (<usize>(j - begin)) * rowBytes;
    let q = fixed + o * rowBytes;
    if (gather === 2) q = copy;
    else if (gather === 1) copyRow(copy, q, rowBytes);
    const t: f64 = vb + <f64>dot(vf, q, rowBytes);
    const w: f64 = mode == RESIDUAL || diagonal ? <f64>load<u8>(codes + <usize>j) * 0.5 - mu - load<f64>(fixedBias + (o << 3)) - t : t;
    wsum += w;
    w2sum += w * w;
    if (diagonal) axpySq(acc, sq, q, <f32>w, rowBytes);
    else if (sums) axpy(acc, q, <f32>w, rowBytes);
    pending++;
  }
  if (sums && pending > 0) flush(acc, out, kp);
  if (diagonal && pending > 0) flush(sq, diag, kp);
  passW2 = w2sum;
  return wsum;
}

/**
 * Σ_j (codes[j]/2 − μ − bias − fixedBias[o_j] − p·q_{o_j})² over the ratings `begin .. end−1`
 * of a row whose factors are the kp f32 at `p`.
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
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  let sse: f64 = 0;
  for (let j = begin; j < end; j++) {
    const o = <usize>load<i32>(other + ((<usize>j) << 2));
    const q = fixed + o * rowBytes;
    const e: f64 = <f64>load<u8>(codes + <usize>j) * 0.5 - mu - bias - load<f64>(fixedBias + (o << 3)) - <f64>dot(p, q, rowBytes);
    sse += e * e;
  }
  return sse;
}

/**
 * One pass of the blocked (lockstep) half step over rows `from .. to−1` of a side (the movies),
 * the fixed rows (users) visited in blocks of `blockRows`: for each block [s, e) and each row a
 * (local index l = a − from), the ratings j = cursor[l] … while j < ptr[a+1] and other[j] < e
 * (the row's ratings by the block's rows: `other` is ascending within a row, so each block's
 * ratings are the next run), with x_j = [q_{o_j}; 1] and v = [v_l (kp f64); vb[l]]:
 *
 *   mode 0 and 2: w_j = x_j·v;   mode 1: w_j = (codes[j]/2 − μ − fixedBias[o_j]) − x_j·v
 *
 * adds Σ_j w_j q_{o_j} to out_l[0..kp) (not in mode 2), Σ_j w_j to out_l[kp] and Σ_j w_j² to
 * out_l[kp+1] (rows of kp + 2 f64), and moves cursor[l] past the run. Mode 3 is mode 1 that
 * also adds Σ_j q_{o_j, f}² to diag_l[f] (rows of kp f64; the Jacobi preconditioner's diagonal). Visiting the fixed rows
 * block by block keeps one block of them (a few MiB) in cache and in the TLB for all the rows
 * instead of reading each q once per rating from anywhere in a large matrix.
 *
 * `rowState` holds, per row, v in f32 and the f32 sums (2·kp f32, 3·kp in mode 3) and at `pending` the count of
 * ratings in those sums (u32): they persist across the blocks, and the sums are flushed into
 * out_l every 64 ratings and at the end, so a row's short run in a block costs no set-up.
 */
export function alsBlockRun(
  mode: u32,
  other: usize,
  codes: usize,
  ptr: usize,
  from: u32,
  to: u32,
  nFixed: i32,
  blockRows: i32,
  fixed: usize,
  fixedBias: usize,
  kp: u32,
  mu: f64,
  cursor: usize,
  v: usize,
  vb: usize,
  out: usize,
  rowState: usize,
  pending: usize,
  diag: usize,
): void {
  const rowBytes: usize = (<usize>kp) << 2;
  const outBytes: usize = (<usize>(kp + 2)) << 3;
  const diagBytes: usize = (<usize>kp) << 3;
  const n = <usize>(to - from);
  const sums = mode != DOTS;
  const diagonal = mode == RESIDUAL_DIAG;
  // Each call sets its rows' state up afresh: the third f32 row (Σ q²) only when this pass sums it (less to keep in cache).
  const stateBytes: usize = (diagonal ? 3 : 2) * rowBytes;
  for (let l: usize = 0; l < n; l++) {
    const vRow = v + l * ((<usize>kp) << 3);
    const vf = rowState + l * stateBytes;
    const acc = vf + rowBytes;
    for (let f: usize = 0; f < <usize>kp; f++) {
      store<f32>(vf + (f << 2), <f32>load<f64>(vRow + (f << 3)));
      store<f32>(acc + (f << 2), 0);
      if (diagonal) {
        store<f32>(acc + rowBytes + (f << 2), 0);
        store<f64>(diag + l * diagBytes + (f << 3), 0);
      }
    }
    store<u32>(pending + (l << 2), 0);
  }
  for (let blockStart: i32 = 0; blockStart < nFixed; blockStart += blockRows) {
    const blockEnd: i32 = min(nFixed, blockStart + blockRows);
    for (let l: usize = 0; l < n; l++) {
      const cursorAt = cursor + (l << 2);
      let j = load<u32>(cursorAt);
      const end = load<u32>(ptr + ((<usize>from + l + 1) << 2));
      if (j >= end || load<i32>(other + ((<usize>j) << 2)) >= blockEnd) continue;
      const vf = rowState + l * stateBytes;
      const acc = vf + rowBytes;
      const sq = acc + rowBytes;
      const d_l = diag + l * diagBytes;
      const b: f64 = load<f64>(vb + (l << 3));
      const o_l = out + l * outBytes;
      let wsum: f64 = 0;
      let w2sum: f64 = 0;
      let count = load<u32>(pending + (l << 2));
      // Four ratings at a time while all four are in the block, then one by one.
      for (; j + 4 <= end; j += 4) {
        const at = other + ((<usize>j) << 2);
        const o3 = <usize>load<i32>(at, 12);
        if (<i32>o3 >= blockEnd) break;
        const o0 = <usize>load<i32>(at);
        const o1 = <usize>load<i32>(at, 4);
        const o2 = <usize>load<i32>(at, 8);
        const q0 = fixed + o0 * rowBytes;
        const q1 = fixed + o1 * rowBytes;
        const q2 = fixed + o2 * rowBytes;
        const q3 = fixed + o3 * rowBytes;
        wsum += step4(mode, false, vf, b, q0, q1, q2, q3, o0, o1, o2, o3, codes + <usize>j, fixedBias, mu, acc, sq, rowBytes);
        w2sum += step4W2;
        count += 4;
        if (sums && count >= FLUSH_EVERY) {
          flush(acc, o_l, kp);
          if (diagonal) flush(sq, d_l, kp);
          count = 0;
        }
      }
      while (j < end) {
        const o = load<i32>(other + ((<usize>j) << 2));
        if (o >= blockEnd) break;
        const q = fixed + (<usize>o) * rowBytes;
        const t: f64 = b + <f64>dot(vf, q, rowBytes);
        const w: f64 = mode == RESIDUAL || diagonal ? <f64>load<u8>(codes + <usize>j) * 0.5 - mu - load<f64>(fixedBias + ((<usize>o) << 3)) - t : t;
        wsum += w;
        w2sum += w * w;
        if (diagonal) axpySq(acc, sq, q, <f32>w, rowBytes);
        else if (sums) axpy(acc, q, <f32>w, rowBytes);
        count++;
        j++;
      }
      store<u32>(pending + (l << 2), count);
      const kpAt = o_l + ((<usize>kp) << 3);
      store<f64>(kpAt, load<f64>(kpAt) + wsum);
      store<f64>(kpAt + 8, load<f64>(kpAt + 8) + w2sum);
      store<u32>(cursorAt, j);
    }
  }
  for (let l: usize = 0; l < n; l++) {
    if (!(sums && load<u32>(pending + (l << 2)) > 0)) continue;
    flush(rowState + l * stateBytes + rowBytes, out + l * outBytes, kp);
    if (diagonal) flush(rowState + l * stateBytes + 2 * rowBytes, diag + l * diagBytes, kp);
  }
}

/** z = M⁻¹r for the diagonal M (vectors of n + 1 f64); returns rᵀz. */
// @ts-ignore: decorator
@inline
function preconditioned(r: usize, m: usize, z: usize, n: u32): f64 {
  let rz: f64 = 0;
  for (let f: usize = 0; f <= <usize>n; f++) {
    const rf = load<f64>(r + (f << 3));
    const zf = rf / load<f64>(m + (f << 3));
    store<f64>(z + (f << 3), zf);
    rz += rf * zf;
  }
  return rz;
}

/**
 * ALS-CG for the rows `from .. to−1` of a side, row by row, entirely in the kernel (the same
 * steps as `AlsRowKernel.solveCg` with `ConjugateGradient`, tolerance 0): for row a with
 * ratings `ptr[a] .. ptr[a+1]−1`, z₀ = [p_a; b_a] (kp f32 at `factors` + a·4kp, f64 at
 * `bias` + 8a), r₀ = Σ_j (y_j − x_j·z₀) x_j − D z₀ ({@link alsPass} with residual, which also
 * copies the row's fixed rows when they fit: `gatherBytes`), then `steps` CG steps from δ = 0,
 * each product A p = Σ x_j x_jᵀ p + D p one {@link alsPass} over the copy (D = diag(reg …,
 * regBias)); stores z₀ + δ. A row without ratings gets 0. With `withSse` returns Σ e² over the
 * rows with their new values (as stored), else 0. With `precond` 1 the steps are Jacobi-
 * preconditioned CG with M = diag(A) = diag(Σ q_{o_j, f}² + reg …, n + regBias), the diagonal
 * summed by the residual pass itself ({@link RESIDUAL_DIAG}): z = M⁻¹r, p₀ = z₀, α = rᵀz / pᵀAp,
 * β = r₁ᵀz₁ / r₀ᵀz₀, p = z + βp. `cg` holds 6 vectors of kp + 1 f64 (r, p, δ, A p, M, z;
 * padding zero) and `scratch`/`out` are {@link alsPass}'s.
 */
export function alsCgRows(
  other: usize,
  codes: usize,
  ptr: usize,
  from: u32,
  to: u32,
  fixed: usize,
  fixedBias: usize,
  factors: usize,
  bias: usize,
  kp: u32,
  k: u32,
  mu: f64,
  reg: f64,
  regBias: f64,
  steps: u32,
  withSse: u32,
  cg: usize,
  scratch: usize,
  out: usize,
  rowsCopy: usize,
  gatherBytes: u32,
  precond: u32,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const vecBytes: usize = (<usize>(kp + 1)) << 3;
  const r = cg;
  const p = cg + vecBytes;
  const x = p + vecBytes;
  const ap = x + vecBytes;
  const m = ap + vecBytes;
  const zv = m + vecBytes;
  const kb: usize = (<usize>kp) << 3; // the bias component of each vector
  let sse: f64 = 0;
  for (let a = from; a < to; a++) {
    const begin = load<u32>(ptr + ((<usize>a) << 2));
    const end = load<u32>(ptr + ((<usize>a + 1) << 2));
    const z = factors + (<usize>a) * rowBytes;
    const zb = bias + ((<usize>a) << 3);
    if (begin === end) {
      for (let f: usize = 0; f < <usize>kp; f++) store<f32>(z + (f << 2), 0);
      store<f64>(zb, 0);
      continue;
    }
    const gather: u32 = (<usize>(end - begin)) * rowBytes <= <usize>gatherBytes ? 1 : 0;
    // p ← z₀ (the vector the residual pass multiplies by), x ← 0.
    for (let f: usize = 0; f < <usize>kp; f++) {
      store<f64>(p + (f << 3), <f64>load<f32>(z + (f << 2)));
      store<f64>(x + (f << 3), 0);
    }
    store<f64>(x + kb, 0);
    const z0b = load<f64>(zb);
    let gsum = alsPass(precond ? RESIDUAL_DIAG : RESIDUAL, other, codes, begin, end, fixed, fixedBias, kp, mu, p, z0b, scratch, out, gather, rowsCopy, m);
    let rr: f64 = 0;
    for (let f: usize = 0; f < <usize>k; f++) {
      const rf = load<f64>(out + (f << 3)) - reg * load<f64>(p + (f << 3));
      store<f64>(r + (f << 3), rf);
      rr += rf * rf;
    }
    for (let f: usize = <usize>k; f < <usize>kp; f++) store<f64>(r + (f << 3), 0);
    const rb = gsum - regBias * z0b;
    store<f64>(r + kb, rb);
    rr += rb * rb;
    if (precond) {
      // M = diag(A); padding 1 (its r is 0). rr becomes rᵀz, p = z = M⁻¹r.
      for (let f: usize = 0; f < <usize>k; f++) store<f64>(m + (f << 3), load<f64>(m + (f << 3)) + reg);
      for (let f: usize = <usize>k; f < <usize>kp; f++) store<f64>(m + (f << 3), 1);
      store<f64>(m + kb, <f64>(end - begin) + regBias);
      rr = preconditioned(r, m, p, kp);
    } else for (let f: usize = 0; f <= <usize>kp; f++) store<f64>(p + (f << 3), load<f64>(r + (f << 3)));
    const later: u32 = gather ? 2 : 0;
    for (let s: u32 = 0; s < steps; s++) {
      if (!(Math.sqrt(rr) > 0)) break;
      const pb = load<f64>(p + kb);
      if (s + 1 == steps) {
        // The last step needs only pᵀAp = Σ (x_j·p)² + pᵀDp (dots, no Σ w x pass) for α; r and p are not used after it.
        alsPass(DOTS, other, codes, begin, end, fixed, fixedBias, kp, mu, p, pb, scratch, out, later, rowsCopy, 0);
        let pap: f64 = passW2 + regBias * pb * pb;
        for (let f: usize = 0; f < <usize>k; f++) {
          const pf = load<f64>(p + (f << 3));
          pap += reg * pf * pf;
        }
        if (!(pap > 0)) break;
        const alpha = rr / pap;
        for (let f: usize = 0; f <= <usize>kp; f++) store<f64>(x + (f << 3), load<f64>(x + (f << 3)) + alpha * load<f64>(p + (f << 3)));
        break;
      }
      const wsum = alsPass(PRODUCT, other, codes, begin, end, fixed, fixedBias, kp, mu, p, pb, scratch, out, later, rowsCopy, 0);
      let pap: f64 = 0;
      for (let f: usize = 0; f < <usize>k; f++) {
        const pf = load<f64>(p + (f << 3));
        const apf = load<f64>(out + (f << 3)) + reg * pf;
        store<f64>(ap + (f << 3), apf);
        pap += pf * apf;
      }
      const apb = wsum + regBias * pb;
      store<f64>(ap + kb, apb);
      pap += pb * apb;
      if (!(pap > 0)) break;
      const alpha = rr / pap;
      let rrNew = cgStep(x, r, p, ap, alpha, k);
      store<f64>(x + kb, load<f64>(x + kb) + alpha * pb);
      const rbNew = load<f64>(r + kb) - alpha * apb;
      store<f64>(r + kb, rbNew);
      rrNew += rbNew * rbNew;
      if (precond) {
        // rᵀz with z = M⁻¹r; the direction follows z.
        rrNew = preconditioned(r, m, zv, kp);
      }
      const beta = rrNew / rr;
      const dir = precond ? zv : r;
      cgDirection(p, dir, beta, k);
      store<f64>(p + kb, load<f64>(dir + kb) + beta * pb);
      rr = rrNew;
    }
    for (let f: usize = 0; f < <usize>k; f++) store<f32>(z + (f << 2), <f32>(<f64>load<f32>(z + (f << 2)) + load<f64>(x + (f << 3))));
    store<f64>(zb, z0b + load<f64>(x + kb));
    if (withSse) sse += alsSse(other, codes, begin, end, fixed, fixedBias, kp, mu, z, load<f64>(zb));
  }
  return sse;
}
