// The shared row helpers of the AssemblyScript kernels: dot4/axpy4/axpy/copyRow (als.ts, ials.ts)
// and the one row loop of sgd.ts, svdpp.ts, als.ts: a sum over the 4-lane
// chunks of factor rows into four accumulators, with what a chunk does chosen by a compile-time
// constant (inlined, so each use compiles to its own loop with no branch inside).

/** a·b. */
export const DOT: i32 = 0;
/** (a + z)·b: SVD++'s (p + z)·q. */
export const IMPLICIT_DOT: i32 = 1;
/** SGD's update of p = a and q = b (p ← c·p + s·q, q ← c·q + s·p_old), then p_new·n. */
export const SGD_STEP: i32 = 2;
/** SVD++'s update: g += e·q, p ← c·p + s·q, q ← c·q + s·(p_old + z), then (p_new + z)·n. */
export const SVDPP_STEP: i32 = 3;

/** One chunk at byte offsets a, b, n, z, g (see the kinds above); returns its four products. */
// @ts-ignore: decorator
@inline
function chunk(kind: i32, a: usize, b: usize, n: usize, z: usize, g: usize, vkeep: v128, vstep: v128, ve: v128): v128 {
  if (kind == DOT) return f32x4.mul(v128.load(a), v128.load(b));
  if (kind == IMPLICIT_DOT) return f32x4.mul(f32x4.add(v128.load(a), v128.load(z)), v128.load(b));
  const vp = v128.load(a);
  const vq = v128.load(b);
  const np = f32x4.add(f32x4.mul(vkeep, vp), f32x4.mul(vstep, vq));
  v128.store(a, np);
  if (kind == SGD_STEP) {
    v128.store(b, f32x4.add(f32x4.mul(vkeep, vq), f32x4.mul(vstep, vp)));
    return f32x4.mul(np, v128.load(n));
  }
  const vz = v128.load(z);
  v128.store(g, f32x4.add(v128.load(g), f32x4.mul(ve, vq)));
  v128.store(b, f32x4.add(f32x4.mul(vkeep, vq), f32x4.mul(vstep, f32x4.add(vp, vz))));
  return f32x4.mul(f32x4.add(np, vz), v128.load(n));
}

/**
 * Σ over the rows' chunks of {@link chunk}(kind), rows `rowBytes` long (a multiple of 16: kp
 * floats, kp a multiple of 4, padding zero). Chunk c is added into accumulator c mod 4; then
 * (a0 + a1) + (a2 + a3), and the lanes (l0 + l1) + (l2 + l3): four independent chains instead of
 * one long one. The plain TypeScript references (src/latent/sgd/kernel.ts, svdpp/kernel.ts) sum
 * in exactly this order, so they agree bit for bit.
 */
// @ts-ignore: decorator
@inline
export function rowSum(kind: i32, a: usize, b: usize, n: usize, z: usize, g: usize, rowBytes: usize, vkeep: v128, vstep: v128, ve: v128): f32 {
  const quadEnd: usize = rowBytes & ~(<usize>63);
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  let f: usize = 0;
  for (; f < quadEnd; f += 64) {
    a0 = f32x4.add(a0, chunk(kind, a + f, b + f, n + f, z + f, g + f, vkeep, vstep, ve));
    a1 = f32x4.add(a1, chunk(kind, a + f + 16, b + f + 16, n + f + 16, z + f + 16, g + f + 16, vkeep, vstep, ve));
    a2 = f32x4.add(a2, chunk(kind, a + f + 32, b + f + 32, n + f + 32, z + f + 32, g + f + 32, vkeep, vstep, ve));
    a3 = f32x4.add(a3, chunk(kind, a + f + 48, b + f + 48, n + f + 48, z + f + 48, g + f + 48, vkeep, vstep, ve));
  }
  // At most three chunks remain: they go to a0, a1, a2 in turn.
  if (f < rowBytes) {
    a0 = f32x4.add(a0, chunk(kind, a + f, b + f, n + f, z + f, g + f, vkeep, vstep, ve));
    f += 16;
    if (f < rowBytes) {
      a1 = f32x4.add(a1, chunk(kind, a + f, b + f, n + f, z + f, g + f, vkeep, vstep, ve));
      f += 16;
      if (f < rowBytes) a2 = f32x4.add(a2, chunk(kind, a + f, b + f, n + f, z + f, g + f, vkeep, vstep, ve));
    }
  }
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** a·b over two rows of `rowBytes` bytes ({@link rowSum} of {@link DOT}). */
// @ts-ignore: decorator
@inline
export function dot(a: usize, b: usize, rowBytes: usize): f32 {
  const zero = f32x4.splat(0);
  return rowSum(DOT, a, b, 0, 0, 0, rowBytes, zero, zero, zero);
}

/** [Σ lanes of a0, Σ lanes of a1, Σ lanes of a2, Σ lanes of a3], each as (l0 + l2) + (l1 + l3), by two rounds of pairwise shuffles. */
// @ts-ignore: decorator
@inline
function laneSums(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 1, 4, 5), v128.shuffle<f32>(a0, a1, 2, 3, 6, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 1, 4, 5), v128.shuffle<f32>(a2, a3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 2, 4, 6), v128.shuffle<f32>(s01, s23, 1, 3, 5, 7));
}

/**
 * Four rows' dot products with one row v: [v·q0, v·q1, v·q2, v·q3] in f32x4 lanes. One
 * accumulator per row, and one moving address with the other rows at fixed distances from it
 * (`q + d`): with two accumulators per row and an address per row and chunk, V8 kept accumulators
 * on the stack and spent an address computation per load (≈ 25 % slower per pass, 100 factors).
 */
// @ts-ignore: decorator
@inline
export function dot4(v: usize, q0: usize, q1: usize, q2: usize, q3: usize, rowBytes: usize): v128 {
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  const end = v + rowBytes;
  const d1 = q1 - q0;
  const d2 = q2 - q0;
  const d3 = q3 - q0;
  let p = v;
  let q = q0;
  for (; p < end; p += 16, q += 16) {
    const x = v128.load(p);
    a0 = f32x4.add(a0, f32x4.mul(x, v128.load(q)));
    a1 = f32x4.add(a1, f32x4.mul(x, v128.load(q + d1)));
    a2 = f32x4.add(a2, f32x4.mul(x, v128.load(q + d2)));
    a3 = f32x4.add(a3, f32x4.mul(x, v128.load(q + d3)));
  }
  return laneSums(a0, a1, a2, a3);
}

/** acc += (w0·q0 + w1·q1) + (w2·q2 + w3·q3), rows of `rowBytes`: one load and store of acc per four rows; addresses as in {@link dot4}. */
// @ts-ignore: decorator
@inline
export function axpy4(acc: usize, q0: usize, q1: usize, q2: usize, q3: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  axpy4With(false, acc, 0, q0, q1, q2, q3, w0, w1, w2, w3, rowBytes);
}

/** acc += w·q, rows of `rowBytes`. */
// @ts-ignore: decorator
@inline
export function axpy(acc: usize, q: usize, w: f32, rowBytes: usize): void {
  const wv = f32x4.splat(w);
  for (let g: usize = 0; g < rowBytes; g += 16) v128.store(acc + g, f32x4.add(v128.load(acc + g), f32x4.mul(wv, v128.load(q + g))));
}

/** Copies a row of `rowBytes` from `from` to `to`. */
// @ts-ignore: decorator
@inline
export function copyRow(to: usize, from: usize, rowBytes: usize): void {
  for (let g: usize = 0; g < rowBytes; g += 16) v128.store(to + g, v128.load(from + g));
}

/** out[f] += acc[f] (kp f64 ← f32) and acc[f] ← 0: the f32 sums of a few ratings flushed into f64. */
// @ts-ignore: decorator
@inline
export function flush(acc: usize, out: usize, kp: u32): void {
  for (let f: usize = 0; f < <usize>kp; f++) {
    const at = acc + (f << 2);
    store<f64>(out + (f << 3), load<f64>(out + (f << 3)) + <f64>load<f32>(at));
    store<f32>(at, 0);
  }
}

/**
 * The update of one conjugate-gradient step over n f64 components: x += α·p, r −= α·Ap; returns
 * the new r·r (als.ts, ials.ts).
 */
// @ts-ignore: decorator
@inline
export function cgStep(x: usize, r: usize, p: usize, ap: usize, alpha: f64, n: u32): f64 {
  let rr: f64 = 0;
  for (let f: usize = 0; f < <usize>n; f++) {
    const o = f << 3;
    store<f64>(x + o, load<f64>(x + o) + alpha * load<f64>(p + o));
    const rf = load<f64>(r + o) - alpha * load<f64>(ap + o);
    store<f64>(r + o, rf);
    rr += rf * rf;
  }
  return rr;
}

/** The next conjugate direction over n f64 components: p ← r + β·p. */
// @ts-ignore: decorator
@inline
export function cgDirection(p: usize, r: usize, beta: f64, n: u32): void {
  for (let f: usize = 0; f < <usize>n; f++) {
    const o = f << 3;
    store<f64>(p + o, load<f64>(r + o) + beta * load<f64>(p + o));
  }
}

/**
 * Copies the rows q0..q3 (`rowBytes` each) to `to` interleaved by 16-byte chunks: chunk c of row
 * i at byte 64c + 16i (4·rowBytes in all), the layout {@link dot4i} and {@link axpy4i} read.
 */
// @ts-ignore: decorator
@inline
export function copyRows4i(to: usize, q0: usize, q1: usize, q2: usize, q3: usize, rowBytes: usize): void {
  const d1 = q1 - q0;
  const d2 = q2 - q0;
  const d3 = q3 - q0;
  const end = q0 + rowBytes;
  let t = to;
  for (let q = q0; q < end; q += 16, t += 64) {
    v128.store(t, v128.load(q));
    v128.store(t, v128.load(q + d1), 16);
    v128.store(t, v128.load(q + d2), 32);
    v128.store(t, v128.load(q + d3), 48);
  }
}

/**
 * {@link dot4} of v with four rows stored interleaved at `g` ({@link copyRows4i}): the same sums in
 * the same order (bit-identical), but every load at a fixed offset from one of two moving
 * addresses, so the loop spends no instruction on addresses.
 */
// @ts-ignore: decorator
@inline
export function dot4i(v: usize, g: usize, rowBytes: usize): v128 {
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  let q = g;
  for (let p = v, end = v + rowBytes; p < end; p += 16, q += 64) {
    const x = v128.load(p);
    a0 = f32x4.add(a0, f32x4.mul(x, v128.load(q)));
    a1 = f32x4.add(a1, f32x4.mul(x, v128.load(q, 16)));
    a2 = f32x4.add(a2, f32x4.mul(x, v128.load(q, 32)));
    a3 = f32x4.add(a3, f32x4.mul(x, v128.load(q, 48)));
  }
  return laneSums(a0, a1, a2, a3);
}

/** {@link axpy4} over four rows stored interleaved at `g` ({@link copyRows4i}): the same sums in the same order. */
// @ts-ignore: decorator
@inline
export function axpy4i(acc: usize, g: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  axpy4iWith(false, acc, 0, g, w0, w1, w2, w3, rowBytes);
}

/** Copies the rows q0..q3 (`rowBytes` each) to four consecutive rows at `to`. */
// @ts-ignore: decorator
@inline
export function copyRows4(to: usize, q0: usize, q1: usize, q2: usize, q3: usize, rowBytes: usize): void {
  copyRow(to, q0, rowBytes);
  copyRow(to + rowBytes, q1, rowBytes);
  copyRow(to + 2 * rowBytes, q2, rowBytes);
  copyRow(to + 3 * rowBytes, q3, rowBytes);
}

/** {@link axpy4i} that also adds q_i ⊙ q_i of the four rows into `sq` (the diagonal of Σ q qᵀ), from the same loads. */
// @ts-ignore: decorator
@inline
export function axpySq4i(acc: usize, sq: usize, g: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  axpy4iWith(true, acc, sq, g, w0, w1, w2, w3, rowBytes);
}

/** {@link axpy4i}, and with `squares` (a constant at each call: the branch folds away) also sq += Σ q_i ⊙ q_i. */
// @ts-ignore: decorator
@inline
function axpy4iWith(squares: bool, acc: usize, sq: usize, g: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  const v0 = f32x4.splat(w0);
  const v1 = f32x4.splat(w1);
  const v2 = f32x4.splat(w2);
  const v3 = f32x4.splat(w3);
  const ds = sq - acc;
  const end = acc + rowBytes;
  let q = g;
  for (let a = acc; a < end; a += 16, q += 64) {
    const x0 = v128.load(q);
    const x1 = v128.load(q, 16);
    const x2 = v128.load(q, 32);
    const x3 = v128.load(q, 48);
    const s = f32x4.add(f32x4.add(f32x4.mul(v0, x0), f32x4.mul(v1, x1)), f32x4.add(f32x4.mul(v2, x2), f32x4.mul(v3, x3)));
    v128.store(a, f32x4.add(v128.load(a), s));
    if (squares) {
      const d = f32x4.add(f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1)), f32x4.add(f32x4.mul(x2, x2), f32x4.mul(x3, x3)));
      v128.store(a + ds, f32x4.add(v128.load(a + ds), d));
    }
  }
}

/** {@link axpy4} that also adds q_i ⊙ q_i of the four rows into `sq`, from the same loads. */
// @ts-ignore: decorator
@inline
export function axpySq4(acc: usize, sq: usize, q0: usize, q1: usize, q2: usize, q3: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  axpy4With(true, acc, sq, q0, q1, q2, q3, w0, w1, w2, w3, rowBytes);
}

/** {@link axpy4}, and with `squares` (a constant at each call: the branch folds away) also sq += Σ q_i ⊙ q_i. */
// @ts-ignore: decorator
@inline
function axpy4With(squares: bool, acc: usize, sq: usize, q0: usize, q1: usize, q2: usize, q3: usize, w0: f32, w1: f32, w2: f32, w3: f32, rowBytes: usize): void {
  const v0 = f32x4.splat(w0);
  const v1 = f32x4.splat(w1);
  const v2 = f32x4.splat(w2);
  const v3 = f32x4.splat(w3);
  const d1 = q1 - q0;
  const d2 = q2 - q0;
  const d3 = q3 - q0;
  const da = acc - q0;
  const ds = sq - q0;
  const end = q0 + rowBytes;
  for (let q = q0; q < end; q += 16) {
    const x0 = v128.load(q);
    const x1 = v128.load(q + d1);
    const x2 = v128.load(q + d2);
    const x3 = v128.load(q + d3);
    const s = f32x4.add(f32x4.add(f32x4.mul(v0, x0), f32x4.mul(v1, x1)), f32x4.add(f32x4.mul(v2, x2), f32x4.mul(v3, x3)));
    v128.store(q + da, f32x4.add(v128.load(q + da), s));
    if (squares) {
      const d = f32x4.add(f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1)), f32x4.add(f32x4.mul(x2, x2), f32x4.mul(x3, x3)));
      v128.store(q + ds, f32x4.add(v128.load(q + ds), d));
    }
  }
}

/** {@link axpy} that also adds q ⊙ q into `sq`. */
// @ts-ignore: decorator
@inline
export function axpySq(acc: usize, sq: usize, q: usize, w: f32, rowBytes: usize): void {
  const wv = f32x4.splat(w);
  for (let g: usize = 0; g < rowBytes; g += 16) {
    const x = v128.load(q + g);
    v128.store(acc + g, f32x4.add(v128.load(acc + g), f32x4.mul(wv, x)));
    v128.store(sq + g, f32x4.add(v128.load(sq + g), f32x4.mul(x, x)));
  }
}
