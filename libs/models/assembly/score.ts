// Scoring every movie for one user: out[m] = the movie's start value + p·q_m, in f64, for a
// recommendation list (17,770 movies × 100 factors at Netflix size). The movie factors are laid
// out in panels of 4 movies (panel j, factor f: the f32 values q_{4j..4j+3}[f], 16 bytes), so a
// panel streams through memory once and each f64x2 lane carries one movie with exactly the
// scalar loop's operations in the scalar loop's order: a product of two f32 values is exact in
// f64 and each lane adds the products in the same sequence, so the result is bit-identical to the
// plain TypeScript loops it replaces (LatentModel.scoreVector: four sums by f mod 4; the factor
// ranking models: one running sum from the bias). See libs/models/src/score-kernel.ts.

/** The two movies of a panel's half (lanes 0–1 or 2–3) at `q`, as f64x2. */
// @ts-ignore: decorator
@inline
function half(q: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(q));
}

/**
 * LatentModel's four sums: d_r = Σ_{f ≡ r mod 4, f < k4} p_f q_f (k4 = k rounded down to 4), the
 * factors from k4 to k added to d0 in order, then
 * out[m] = (base + start[m]) + (((d0 + d1) + d2) + d3).
 * panels: nPanels × k × 16 bytes; p: k f64; start, out: 4·nPanels f64.
 */
export function scoreSum4(panels: usize, nPanels: i32, k: i32, p: usize, start: usize, base: f64, out: usize): void {
  const k4 = k & ~3;
  const vbase = f64x2.splat(base);
  const zero = f64x2.splat(0);
  let q = panels;
  for (let j = 0; j < nPanels; j++) {
    let a0l = zero;
    let a0h = zero;
    let a1l = zero;
    let a1h = zero;
    let a2l = zero;
    let a2h = zero;
    let a3l = zero;
    let a3h = zero;
    let pf = p;
    let f = 0;
    for (; f < k4; f += 4) {
      const p0 = v128.load64_splat(pf);
      const p1 = v128.load64_splat(pf + 8);
      const p2 = v128.load64_splat(pf + 16);
      const p3 = v128.load64_splat(pf + 24);
      a0l = f64x2.add(a0l, f64x2.mul(p0, half(q)));
      a0h = f64x2.add(a0h, f64x2.mul(p0, half(q + 8)));
      a1l = f64x2.add(a1l, f64x2.mul(p1, half(q + 16)));
      a1h = f64x2.add(a1h, f64x2.mul(p1, half(q + 24)));
      a2l = f64x2.add(a2l, f64x2.mul(p2, half(q + 32)));
      a2h = f64x2.add(a2h, f64x2.mul(p2, half(q + 40)));
      a3l = f64x2.add(a3l, f64x2.mul(p3, half(q + 48)));
      a3h = f64x2.add(a3h, f64x2.mul(p3, half(q + 56)));
      pf += 32;
      q += 64;
    }
    for (; f < k; f++) {
      const p0 = v128.load64_splat(pf);
      a0l = f64x2.add(a0l, f64x2.mul(p0, half(q)));
      a0h = f64x2.add(a0h, f64x2.mul(p0, half(q + 8)));
      pf += 8;
      q += 16;
    }
    const s = start + (<usize>j << 5);
    const o = out + (<usize>j << 5);
    const dl = f64x2.add(f64x2.add(f64x2.add(a0l, a1l), a2l), a3l);
    const dh = f64x2.add(f64x2.add(f64x2.add(a0h, a1h), a2h), a3h);
    v128.store(o, f64x2.add(f64x2.add(vbase, v128.load(s)), dl));
    v128.store(o + 16, f64x2.add(f64x2.add(vbase, v128.load(s + 16)), dh));
  }
}

/**
 * The factor ranking models' one running sum: out[m] = start[m] + p_0 q_0 + p_1 q_1 + … (added
 * left to right). Layout as {@link scoreSum4}, nPanels even (the host pads): two panels at a
 * time, four independent chains of additions instead of two (each lane's own order is unchanged).
 */
export function scoreSum1(panels: usize, nPanels: i32, k: i32, p: usize, start: usize, out: usize): void {
  const panelBytes = <usize>k << 4;
  for (let j = 0; j < nPanels; j += 2) {
    let q = panels + <usize>j * panelBytes;
    let r = q + panelBytes;
    const s = start + (<usize>j << 5);
    let al = v128.load(s);
    let ah = v128.load(s + 16);
    let bl = v128.load(s + 32);
    let bh = v128.load(s + 48);
    let pf = p;
    for (let f = 0; f < k; f++) {
      const pv = v128.load64_splat(pf);
      al = f64x2.add(al, f64x2.mul(pv, half(q)));
      ah = f64x2.add(ah, f64x2.mul(pv, half(q + 8)));
      bl = f64x2.add(bl, f64x2.mul(pv, half(r)));
      bh = f64x2.add(bh, f64x2.mul(pv, half(r + 8)));
      pf += 8;
      q += 16;
      r += 16;
    }
    const o = out + (<usize>j << 5);
    v128.store(o, al);
    v128.store(o + 16, ah);
    v128.store(o + 32, bl);
    v128.store(o + 48, bh);
  }
}
