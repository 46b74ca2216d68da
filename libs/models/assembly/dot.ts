// The one row loop of the AssemblyScript kernels (sgd.ts, svdpp.ts, als.ts): a sum over the 4-lane
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
