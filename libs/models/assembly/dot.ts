// The one SIMD dot product of the AssemblyScript kernels (sgd.ts, als.ts): inlined into each.

/**
 * a·b over two rows of f32 at byte offsets `a` and `b`, `rowBytes` long (a multiple of 16: rows
 * hold kp floats, kp a multiple of 4, padding zero). Chunk c (4 lanes, f32x4) is multiplied and
 * added into accumulator c mod 4; then (a0 + a1) + (a2 + a3), and the lanes (l0 + l1) + (l2 + l3):
 * four independent chains instead of one long one. The plain TypeScript reference of the SGD
 * kernel (src/latent/sgd/kernel.ts) sums in exactly this order, so the two agree bit for bit.
 */
// @ts-ignore: decorator
@inline
export function dot(a: usize, b: usize, rowBytes: usize): f32 {
  const quadEnd: usize = rowBytes & ~(<usize>63);
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  let f: usize = 0;
  for (; f < quadEnd; f += 64) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + f), v128.load(b + f)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + f + 16), v128.load(b + f + 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(a + f + 32), v128.load(b + f + 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(a + f + 48), v128.load(b + f + 48)));
  }
  // At most three chunks remain: they go to a0, a1, a2 in turn.
  if (f < rowBytes) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + f), v128.load(b + f)));
    f += 16;
    if (f < rowBytes) {
      a1 = f32x4.add(a1, f32x4.mul(v128.load(a + f), v128.load(b + f)));
      f += 16;
      if (f < rowBytes) a2 = f32x4.add(a2, f32x4.mul(v128.load(a + f), v128.load(b + f)));
    }
  }
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}
