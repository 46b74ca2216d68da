// SIMD kernel of the SVD++ trainer, compiled to WebAssembly by tools/build-wasm.js (shared
// imported memory, stub runtime, no allocation). Everything lives at byte offsets the host lays out
// (libs/models/src/latent/svdpp/layout.ts). Factor rows hold `kp` floats (k rounded up to 4), the
// padding lanes zero and staying zero.
//
// The plain TypeScript reference (`svdppReferenceKernel` in src/latent/svdpp/kernel.ts) performs
// exactly these f32 operations in exactly this order; keep the two in step.

/**
 * SVD++ SGD over the users `order[from .. to)` (see SvdppModel for the model). User u has the
 * packed ratings `ratings[userPtr[u] .. userPtr[u+1])`, each `(movie << 8) | (stars × 2)`, and
 * the host's per-user constants `norm[u]` = |N(u)|^-½ and `shrink[u]` = (1 − lr·reg)^|N(u)|.
 * `z` and `g` are this thread's scratch rows (kp floats each). For each user:
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
  kp: u32,
  mu: f32,
  lr: f32,
  reg: f32,
  lrBias: f32,
  regBias: f32,
): f64 {
  let sse: f64 = 0;
  const rowBytes: usize = (<usize>kp) << 2;
  const quadEnd: usize = rowBytes & ~(<usize>63);
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
    let dot = implicitDot(pu, z, qi, rowBytes);
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
        let a0 = zero;
        let a1 = zero;
        let a2 = zero;
        let a3 = zero;
        let f: usize = 0;
        for (; f < quadEnd; f += 64) {
          a0 = f32x4.add(a0, update(pu + f, qi + f, z + f, g + f, qn + f, vkeep, vstep, ve));
          a1 = f32x4.add(a1, update(pu + f + 16, qi + f + 16, z + f + 16, g + f + 16, qn + f + 16, vkeep, vstep, ve));
          a2 = f32x4.add(a2, update(pu + f + 32, qi + f + 32, z + f + 32, g + f + 32, qn + f + 32, vkeep, vstep, ve));
          a3 = f32x4.add(a3, update(pu + f + 48, qi + f + 48, z + f + 48, g + f + 48, qn + f + 48, vkeep, vstep, ve));
        }
        if (f < rowBytes) {
          a0 = f32x4.add(a0, update(pu + f, qi + f, z + f, g + f, qn + f, vkeep, vstep, ve));
          f += 16;
          if (f < rowBytes) {
            a1 = f32x4.add(a1, update(pu + f, qi + f, z + f, g + f, qn + f, vkeep, vstep, ve));
            f += 16;
            if (f < rowBytes) a2 = f32x4.add(a2, update(pu + f, qi + f, z + f, g + f, qn + f, vkeep, vstep, ve));
          }
        }
        dot = reduce(a0, a1, a2, a3);
        qi = qn;
      } else {
        for (let c: usize = 0; c < rowBytes; c += 16) update(pu + c, qi + c, z + c, g + c, qi + c, vkeep, vstep, ve);
      }
    }
    store<f32>(buAt, bu);

    // y_j ← shrink·y_j + (lr·norm)·g for every movie the user rated.
    const vshrink = f32x4.splat(load<f32>(shrink + (u << 2)));
    const vgain = f32x4.splat(lr * nrm);
    for (let k = start; k < end; k++) {
      const yj = Y + (<usize>(load<u32>(ratings + ((<usize>k) << 2)) >>> 8)) * rowBytes;
      for (let c: usize = 0; c < rowBytes; c += 16) {
        v128.store(yj + c, f32x4.add(f32x4.mul(vshrink, v128.load(yj + c)), f32x4.mul(vgain, v128.load(g + c))));
      }
    }
  }
  // Keeps the touching loads alive; bytes 0 … 15 of the memory are this scratch word.
  v128.store(0, sink);
  return sse;
}

/** (a0 + a1) + (a2 + a3), then the lanes (l0 + l1) + (l2 + l3), as dot.ts sums. */
// @ts-ignore: decorator
@inline
function reduce(a0: v128, a1: v128, a2: v128, a3: v128): f32 {
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** (p + z)·q over rows of `rowBytes` bytes: chunk c into accumulator c mod 4, then {@link reduce}. */
// @ts-ignore: decorator
@inline
function implicitDot(pu: usize, z: usize, qi: usize, rowBytes: usize): f32 {
  const quadEnd: usize = rowBytes & ~(<usize>63);
  const zero = f32x4.splat(0);
  let a0 = zero;
  let a1 = zero;
  let a2 = zero;
  let a3 = zero;
  let f: usize = 0;
  for (; f < quadEnd; f += 64) {
    a0 = f32x4.add(a0, f32x4.mul(f32x4.add(v128.load(pu + f), v128.load(z + f)), v128.load(qi + f)));
    a1 = f32x4.add(a1, f32x4.mul(f32x4.add(v128.load(pu + f + 16), v128.load(z + f + 16)), v128.load(qi + f + 16)));
    a2 = f32x4.add(a2, f32x4.mul(f32x4.add(v128.load(pu + f + 32), v128.load(z + f + 32)), v128.load(qi + f + 32)));
    a3 = f32x4.add(a3, f32x4.mul(f32x4.add(v128.load(pu + f + 48), v128.load(z + f + 48)), v128.load(qi + f + 48)));
  }
  if (f < rowBytes) {
    a0 = f32x4.add(a0, f32x4.mul(f32x4.add(v128.load(pu + f), v128.load(z + f)), v128.load(qi + f)));
    f += 16;
    if (f < rowBytes) {
      a1 = f32x4.add(a1, f32x4.mul(f32x4.add(v128.load(pu + f), v128.load(z + f)), v128.load(qi + f)));
      f += 16;
      if (f < rowBytes) a2 = f32x4.add(a2, f32x4.mul(f32x4.add(v128.load(pu + f), v128.load(z + f)), v128.load(qi + f)));
    }
  }
  return reduce(a0, a1, a2, a3);
}

/**
 * One chunk of a rating's update: g += e·q, p ← c·p + s·q, q ← c·q + s·(p_old + z); returns
 * (p_new + z)·qn lane by lane (qn: the next rating's row; the caller ignores it after the last).
 */
// @ts-ignore: decorator
@inline
function update(p: usize, q: usize, z: usize, g: usize, qn: usize, vkeep: v128, vstep: v128, ve: v128): v128 {
  const vp = v128.load(p);
  const vq = v128.load(q);
  const vz = v128.load(z);
  v128.store(g, f32x4.add(v128.load(g), f32x4.mul(ve, vq)));
  const np = f32x4.add(f32x4.mul(vkeep, vp), f32x4.mul(vstep, vq));
  v128.store(p, np);
  v128.store(q, f32x4.add(f32x4.mul(vkeep, vq), f32x4.mul(vstep, f32x4.add(vp, vz))));
  return f32x4.mul(f32x4.add(np, vz), v128.load(qn));
}
