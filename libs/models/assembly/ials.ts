// SIMD kernel of implicit ALS with conjugate-gradient rows (libs/models/src/ranking/ials/),
// compiled to WebAssembly by tools/build-wasm.js with the same flags as als.ts (shared imported
// memory, stub runtime, no state: worker instances run it on disjoint rows of one memory).
//
// Factor rows hold `kp` floats (k rounded up to a multiple of 4, padding zero). The plain
// TypeScript reference is `plainIalsPasses` in src/ranking/ials/kernel.ts: same formulas with
// f64 everywhere, so results agree to f32 rounding, not bit for bit.

import { axpy, axpy4, cgDirection, cgStep, copyRow, copyRows4, dot, dot4, flush } from './dot';

/** Ratings accumulated in f32 before they are added into the f64 sums. */
const FLUSH_EVERY: u32 = 64;

/**
 * One pass over a row's entries `begin .. end−1` (entry j: the fixed side's row o_j = other[j]
 * of `fixed`, its value code c_j = codes[j]) with the f32 vector `v` (kp):
 *
 *   d_j = y_{o_j}·v
 *   mode 1 (residual): w_j = cp[c_j] − cm1[c_j]·d_j, and returns Σ cp − 2·cp·d_j + cm1·d_j²
 *   mode 0 (product):  w_j = cm1[c_j]·d_j, returns 0
 *
 * with cm1 = c − 1 and cp = c·p per code (two tables of 256 f32). Writes out[f] = Σ_j w_j y_{o_j,f}
 * (kp f64; the sums run in f32 over 64 entries at a time, then in f64). `acc` holds kp f32.
 * `gather` 1 copies each y_{o_j} to row j − begin of `copy`, 2 reads them from there.
 */
export function ialsPass(
  mode: u32,
  other: usize,
  codes: usize,
  begin: u32,
  end: u32,
  fixed: usize,
  kp: u32,
  v: usize,
  cm1: usize,
  cp: usize,
  acc: usize,
  out: usize,
  gather: u32,
  copy: usize,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  for (let f: usize = 0; f < <usize>kp; f++) {
    store<f32>(acc + (f << 2), 0);
    store<f64>(out + (f << 3), 0);
  }
  let loss: f64 = 0;
  let pending: u32 = 0;
  let j = begin;
  for (; j + 4 <= end; j += 4) {
    const at = other + ((<usize>j) << 2);
    const c = codes + <usize>j;
    const to = copy + (<usize>(j - begin)) * rowBytes;
    let q0 = fixed + (<usize>load<i32>(at)) * rowBytes;
    let q1 = fixed + (<usize>load<i32>(at, 4)) * rowBytes;
    let q2 = fixed + (<usize>load<i32>(at, 8)) * rowBytes;
    let q3 = fixed + (<usize>load<i32>(at, 12)) * rowBytes;
    if (gather === 2) {
      q0 = to;
      q1 = to + rowBytes;
      q2 = to + 2 * rowBytes;
      q3 = to + 3 * rowBytes;
    } else if (gather === 1) copyRows4(to, q0, q1, q2, q3, rowBytes);
    const d = dot4(v, q0, q1, q2, q3, rowBytes);
    const m0 = load<f32>(cm1 + ((<usize>load<u8>(c)) << 2));
    const m1 = load<f32>(cm1 + ((<usize>load<u8>(c, 1)) << 2));
    const m2 = load<f32>(cm1 + ((<usize>load<u8>(c, 2)) << 2));
    const m3 = load<f32>(cm1 + ((<usize>load<u8>(c, 3)) << 2));
    const d0 = f32x4.extract_lane(d, 0);
    const d1 = f32x4.extract_lane(d, 1);
    const d2 = f32x4.extract_lane(d, 2);
    const d3 = f32x4.extract_lane(d, 3);
    let w0: f32 = m0 * d0;
    let w1: f32 = m1 * d1;
    let w2: f32 = m2 * d2;
    let w3: f32 = m3 * d3;
    if (mode) {
      const p0 = load<f32>(cp + ((<usize>load<u8>(c)) << 2));
      const p1 = load<f32>(cp + ((<usize>load<u8>(c, 1)) << 2));
      const p2 = load<f32>(cp + ((<usize>load<u8>(c, 2)) << 2));
      const p3 = load<f32>(cp + ((<usize>load<u8>(c, 3)) << 2));
      loss += <f64>(p0 - 2 * p0 * d0 + m0 * d0 * d0) + <f64>(p1 - 2 * p1 * d1 + m1 * d1 * d1);
      loss += <f64>(p2 - 2 * p2 * d2 + m2 * d2 * d2) + <f64>(p3 - 2 * p3 * d3 + m3 * d3 * d3);
      w0 = p0 - w0;
      w1 = p1 - w1;
      w2 = p2 - w2;
      w3 = p3 - w3;
    }
    axpy4(acc, q0, q1, q2, q3, w0, w1, w2, w3, rowBytes);
    pending += 4;
    if (pending >= FLUSH_EVERY) {
      flush(acc, out, kp);
      pending = 0;
    }
  }
  for (; j < end; j++) {
    const code = <usize>load<u8>(codes + <usize>j);
    const to = copy + (<usize>(j - begin)) * rowBytes;
    let q = fixed + (<usize>load<i32>(other + ((<usize>j) << 2))) * rowBytes;
    if (gather === 2) q = to;
    else if (gather === 1) copyRow(to, q, rowBytes);
    const d = dot(v, q, rowBytes);
    const m = load<f32>(cm1 + (code << 2));
    let w: f32 = m * d;
    if (mode) {
      const p = load<f32>(cp + (code << 2));
      loss += <f64>(p - 2 * p * d + m * d * d);
      w = p - w;
    }
    axpy(acc, q, w, rowBytes);
    pending++;
  }
  if (pending > 0) flush(acc, out, kp);
  return loss;
}

/**
 * out[a] = Σ_b G[a][b]·v[b] for the symmetric kp×kp f32 matrix G and the f32 vector v (kp): as
 * out = Σ_b v[b]·G[b] (row b is column b), 16 outputs at a time held in four registers, so G is
 * read once and out written once.
 */
// @ts-ignore: decorator
@inline
function gramTimes(gram: usize, v: usize, out: usize, kp: u32): void {
  const rowBytes: usize = (<usize>kp) << 2;
  let g: usize = 0;
  for (; g + 64 <= rowBytes; g += 64) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    for (let b: usize = 0; b < <usize>kp; b++) {
      const s = f32x4.splat(load<f32>(v + (b << 2)));
      const row = gram + b * rowBytes + g;
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(row)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(row, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(row, 32)));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(row, 48)));
    }
    v128.store(out + g, a0);
    v128.store(out + g, a1, 16);
    v128.store(out + g, a2, 32);
    v128.store(out + g, a3, 48);
  }
  for (; g < rowBytes; g += 16) {
    let a0 = f32x4.splat(0);
    for (let b: usize = 0; b < <usize>kp; b++) a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(v + (b << 2))), v128.load(gram + b * rowBytes + g)));
    v128.store(out + g, a0);
  }
}

/**
 * The conjugate-gradient update of rows `from .. to−1` of one side (`solved`, rows of kp f32), the
 * other side (`fixed`) held: row a with entries `ptr[a] .. ptr[a+1]−1` solves
 *
 *   (G + λ_a I + Σ_j cm1_j y_j y_jᵀ) x = Σ_j cp_j y_j      (G = YᵀY, kp×kp f32 at `gram`)
 *
 * by `steps` CG steps from its current x₀ (warm start): r = b − A x₀ (one {@link ialsPass} in
 * mode 1, which also copies the row's y_j into `copy` when they fit in `gatherBytes`), p = r, then
 * each step A p (one pass in mode 0 over the copy, plus G p + λ_a p), α = r·r / p·A p, x += α p,
 * r −= α A p, p = r + (r·r)_new/(r·r) p. λ_a is rowReg[a] (f32). A row without entries gets 0.
 * Returns Σ_rows of the residual pass's loss terms (see ialsPass) when `withLoss`, else 0.
 * `work` holds: v (kp f32), acc (kp f32), Gv (kp f32), then r, p, δ, out (kp f64 each).
 */
export function ialsRows(
  other: usize,
  codes: usize,
  ptr: usize,
  from: u32,
  to: u32,
  fixed: usize,
  solved: usize,
  kp: u32,
  k: u32,
  gram: usize,
  rowReg: usize,
  cm1: usize,
  cp: usize,
  steps: u32,
  withLoss: u32,
  work: usize,
  copy: usize,
  gatherBytes: u32,
): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const vf = work;
  const acc = vf + rowBytes;
  const gv = acc + rowBytes;
  const r = gv + rowBytes;
  const p = r + ((<usize>kp) << 3);
  const x = p + ((<usize>kp) << 3);
  const out = x + ((<usize>kp) << 3);
  let total: f64 = 0;
  for (let a = from; a < to; a++) {
    const begin = load<u32>(ptr + ((<usize>a) << 2));
    const end = load<u32>(ptr + ((<usize>a + 1) << 2));
    const z = solved + (<usize>a) * rowBytes;
    if (begin === end) {
      for (let f: usize = 0; f < <usize>kp; f++) store<f32>(z + (f << 2), 0);
      continue;
    }
    const reg: f64 = <f64>load<f32>(rowReg + ((<usize>a) << 2));
    const gather: u32 = (<usize>(end - begin)) * rowBytes <= <usize>gatherBytes ? 1 : 0;
    copyRow(vf, z, rowBytes);
    const loss = ialsPass(1, other, codes, begin, end, fixed, kp, vf, cm1, cp, acc, out, gather, copy);
    if (withLoss) total += loss;
    gramTimes(gram, vf, gv, kp);
    let rr: f64 = 0;
    for (let f: usize = 0; f < <usize>k; f++) {
      const rf = load<f64>(out + (f << 3)) - <f64>load<f32>(gv + (f << 2)) - reg * <f64>load<f32>(z + (f << 2));
      store<f64>(r + (f << 3), rf);
      store<f64>(p + (f << 3), rf);
      store<f64>(x + (f << 3), 0);
      rr += rf * rf;
    }
    const later: u32 = gather ? 2 : 0;
    for (let s: u32 = 0; s < steps; s++) {
      if (!(rr > 0)) break;
      for (let f: usize = 0; f < <usize>k; f++) store<f32>(vf + (f << 2), <f32>load<f64>(p + (f << 3)));
      ialsPass(0, other, codes, begin, end, fixed, kp, vf, cm1, cp, acc, out, later, copy);
      gramTimes(gram, vf, gv, kp);
      let pap: f64 = 0;
      for (let f: usize = 0; f < <usize>k; f++) {
        const pf = load<f64>(p + (f << 3));
        const apf = load<f64>(out + (f << 3)) + <f64>load<f32>(gv + (f << 2)) + reg * pf;
        store<f64>(out + (f << 3), apf);
        pap += pf * apf;
      }
      if (!(pap > 0)) break;
      const alpha = rr / pap;
      const rrNew = cgStep(x, r, p, out, alpha, k);
      cgDirection(p, r, rrNew / rr, k);
      rr = rrNew;
    }
    for (let f: usize = 0; f < <usize>k; f++) store<f32>(z + (f << 2), <f32>(<f64>load<f32>(z + (f << 2)) + load<f64>(x + (f << 3))));
  }
  return total;
}

/**
 * Adds YᵀY of the rows `from .. to−1` of `factors` (rows of kp f32) into `out` (kp×kp f64) and
 * returns Σ_r rowReg[r]·‖y_r‖². Only the upper part in 4-column blocks (columns ≥ 4⌊a/4⌋ of row
 * a) is summed; the caller mirrors it. Sums run in f32 over 64 rows at a time (`acc`, kp×kp f32).
 */
export function ialsGram(factors: usize, from: u32, to: u32, kp: u32, k: u32, rowReg: usize, acc: usize, out: usize): f64 {
  const rowBytes: usize = (<usize>kp) << 2;
  const cells: usize = (<usize>kp) * <usize>kp;
  for (let c: usize = 0; c < cells; c++) store<f32>(acc + (c << 2), 0);
  let regSum: f64 = 0;
  let pending: u32 = 0;
  for (let r = from; r < to; r++) {
    const y = factors + (<usize>r) * rowBytes;
    regSum += <f64>load<f32>(rowReg + ((<usize>r) << 2)) * <f64>dot(y, y, rowBytes);
    for (let a: usize = 0; a < <usize>k; a++) {
      const ya = load<f32>(y + (a << 2));
      if (ya == 0) continue;
      const s = f32x4.splat(ya);
      const row = acc + a * rowBytes;
      for (let g: usize = (a & ~(<usize>3)) << 2; g < rowBytes; g += 16) v128.store(row + g, f32x4.add(v128.load(row + g), f32x4.mul(s, v128.load(y + g))));
    }
    if (++pending >= FLUSH_EVERY) {
      for (let c: usize = 0; c < cells; c++) {
        store<f64>(out + (c << 3), load<f64>(out + (c << 3)) + <f64>load<f32>(acc + (c << 2)));
        store<f32>(acc + (c << 2), 0);
      }
      pending = 0;
    }
  }
  for (let c: usize = 0; c < cells; c++) store<f64>(out + (c << 3), load<f64>(out + (c << 3)) + <f64>load<f32>(acc + (c << 2)));
  return regSum;
}
