// EASE kernels (libs/models/src/ranking/ease/), compiled to WebAssembly by tools/build-wasm.js
// (`asc --enable simd --enable threads --importMemory --sharedMemory -O3 --runtime stub`).
//
// Everything lives in the imported (shared) linear memory at byte offsets the host lays out
// (libs/models/src/ranking/ease/kernel.ts); the functions keep no state, so worker instances run
// them on disjoint rows or tiles of the same memory at once. The matrix G is np × np f32,
// row-major (row stride np floats, np a multiple of the block size nb, itself a multiple of 16);
// only its lower triangle (j ≤ i) is meaningful until easeFinishTile writes the full B.
//
// The inverse is the blocked symmetric sweep (in-place Gauss–Jordan for a symmetric positive
// definite matrix, Goodnight 1979): sweeping a block K of nb pivots does
//   D = A_KK⁻¹,  A_RR ← A_RR − (A_RK D) A_KR,  A_RK ← A_RK D,  A_KK ← −D   (R: every other index)
// and sweeping every block leaves −G⁻¹ in place. It costs n³/2 multiply-adds on the lower
// triangle (as Cholesky + L⁻¹ + L⁻ᵀL⁻¹ do), nearly all in one rank-nb update
// C[i][j] −= Σ_p W[i][p] V[j][p] (easeUpdateRows) run by a 4 × 8 f32x4 register-blocked
// micro-kernel. The plain TypeScript reference is src/ranking/ease/reference.ts (f64).

/** The user's interaction weight: 1 for binary, the stored value (code × 0.5) otherwise. */
// @ts-ignore: decorator
@inline
function weightOf(codes: usize, p: usize, binary: i32): f32 {
  return binary ? 1 : <f32>load<u8>(codes + p) * 0.5;
}

/** First index in [lo, hi) of the ascending i32 array at `a` whose value is ≥ x. */
// @ts-ignore: decorator
@inline
function lowerBound(a: usize, lo: u32, hi: u32, x: i32): u32 {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<i32>(a + (<usize>mid << 2)) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Rows [a, b) of the lower triangle of G = XᵀX + λI from the interaction matrix X (by-user CSR
 * userPtr/userMovies/codes and by-movie CSC moviePtr/movieUsers, indices ascending): for every
 * user with an item in [a, b) (found once through the CSC lists; `mark[u] = tile` remembers
 * them) and each of those items i, G[i][j] += x_ui x_uj for the user's items j ≤ i. The rows of
 * the tile (b − a rows) stay in cache while all its users are added; each user's row prefix is
 * read once per tile. Rows ≥ n (padding up to np) get G[i][i] = 1. The rows must be zero before.
 */
export function easeGramTile(
  g: usize,
  np: u32,
  n: u32,
  a: u32,
  b: u32,
  userPtr: usize,
  userMovies: usize,
  codes: usize,
  moviePtr: usize,
  movieUsers: usize,
  mark: usize,
  tile: i32,
  binary: i32,
  lambda: f32,
): void {
  const rowBytes = <usize>np << 2;
  const end = min(b, n);
  for (let i = a; i < end; i++) {
    const k1 = load<u32>(moviePtr + (<usize>(i + 1) << 2));
    for (let k = load<u32>(moviePtr + (<usize>i << 2)); k < k1; k++) {
      const u = load<i32>(movieUsers + (<usize>k << 2));
      const markAt = mark + (<usize>u << 2);
      if (load<i32>(markAt) == tile) continue;
      store<i32>(markAt, tile);
      const rowStart = load<u32>(userPtr + (<usize>u << 2));
      const rowEnd = load<u32>(userPtr + (<usize>(u + 1) << 2));
      for (let p = lowerBound(userMovies, rowStart, rowEnd, i); p < rowEnd; p++) {
        const ii = load<i32>(userMovies + (<usize>p << 2));
        if (<u32>ii >= b) break;
        const row = g + <usize>ii * rowBytes;
        if (binary) {
          let q = rowStart;
          for (; q + 4 <= p + 1; q += 4) {
            const m = userMovies + (<usize>q << 2);
            const a0 = row + (<usize>load<i32>(m) << 2);
            const a1 = row + (<usize>load<i32>(m, 4) << 2);
            const a2 = row + (<usize>load<i32>(m, 8) << 2);
            const a3 = row + (<usize>load<i32>(m, 12) << 2);
            store<f32>(a0, load<f32>(a0) + 1);
            store<f32>(a1, load<f32>(a1) + 1);
            store<f32>(a2, load<f32>(a2) + 1);
            store<f32>(a3, load<f32>(a3) + 1);
          }
          for (; q <= p; q++) {
            const at = row + (<usize>load<i32>(userMovies + (<usize>q << 2)) << 2);
            store<f32>(at, load<f32>(at) + 1);
          }
        } else {
          const wi = weightOf(codes, p, 0);
          for (let q = rowStart; q <= p; q++) {
            const at = row + (<usize>load<i32>(userMovies + (<usize>q << 2)) << 2);
            store<f32>(at, load<f32>(at) + wi * weightOf(codes, q, 0));
          }
        }
      }
    }
  }
  for (let i = a; i < b; i++) {
    const at = g + <usize>i * rowBytes + (<usize>i << 2);
    store<f32>(at, i < n ? load<f32>(at) + lambda : 1);
  }
}

/**
 * Packs the column panel V = A[:, K] (K = [k0, k0 + nb), from the lower triangle: A[j][k0 + p]
 * for j > K, A[k0 + p][j] for j < K) into strips of 8 rows: V[j][p] at vp + 4·((j ≫ 3)·8·nb +
 * 8p + (j & 7)), so the micro-kernel reads 8 consecutive j of one p as two f32x4. The rows of K
 * are not packed (the update skips them).
 */
export function easePack(g: usize, np: u32, k0: u32, nb: u32, vp: usize): void {
  const rowBytes = <usize>np << 2;
  const stripBytes = <usize>nb << 5;
  // j < k0: rows k0 + p of the row panel, read along the row.
  for (let p: u32 = 0; p < nb; p++) {
    const src = g + <usize>(k0 + p) * rowBytes;
    const dst = vp + (<usize>p << 5);
    for (let j: u32 = 0; j < k0; j += 8) {
      const at = dst + <usize>(j >>> 3) * stripBytes;
      v128.store(at, v128.load(src + (<usize>j << 2)));
      v128.store(at, v128.load(src + (<usize>j << 2), 16), 16);
    }
  }
  // j ≥ k0 + nb: row j's nb floats of the column panel.
  for (let j = k0 + nb; j < np; j++) {
    const src = g + <usize>j * rowBytes + (<usize>k0 << 2);
    const dst = vp + <usize>(j >>> 3) * stripBytes + (<usize>(j & 7) << 2);
    for (let p: u32 = 0; p < nb; p++) store<f32>(dst + (<usize>p << 5), load<f32>(src + (<usize>p << 2)));
  }
}

/**
 * D = A_KK⁻¹ (nb × nb, f32 row-major at d) by the scalar sweep in f64 on `work` (nb² f64), and
 * A_KK ← −D in the lower triangle. Returns −1, or the first pivot index (within K) that was not
 * positive: G was not positive definite in f32 (λ too small for the data).
 */
export function easeInvertBlock(g: usize, np: u32, k0: u32, nb: u32, d: usize, work: usize): i32 {
  const rowBytes = <usize>np << 2;
  const nb8 = <usize>nb << 3;
  for (let i: u32 = 0; i < nb; i++) {
    for (let j: u32 = 0; j <= i; j++) {
      const v = <f64>load<f32>(g + <usize>(k0 + i) * rowBytes + (<usize>(k0 + j) << 2));
      store<f64>(work + <usize>i * nb8 + (<usize>j << 3), v);
      store<f64>(work + <usize>j * nb8 + (<usize>i << 3), v);
    }
  }
  for (let k: u32 = 0; k < nb; k++) {
    const rowK = work + <usize>k * nb8;
    const pivot = load<f64>(rowK + (<usize>k << 3));
    if (!(pivot > 0)) return <i32>k;
    const inv = 1 / pivot;
    for (let i: u32 = 0; i < nb; i++) {
      if (i == k) continue;
      const rowI = work + <usize>i * nb8;
      const f = load<f64>(rowI + (<usize>k << 3)) * inv;
      if (f == 0) continue;
      for (let j: u32 = 0; j < nb; j++) {
        if (j == k) continue;
        const at = rowI + (<usize>j << 3);
        store<f64>(at, load<f64>(at) - f * load<f64>(rowK + (<usize>j << 3)));
      }
    }
    for (let i: u32 = 0; i < nb; i++) {
      if (i == k) continue;
      store<f64>(work + <usize>i * nb8 + (<usize>k << 3), load<f64>(work + <usize>i * nb8 + (<usize>k << 3)) * inv);
      store<f64>(rowK + (<usize>i << 3), load<f64>(rowK + (<usize>i << 3)) * inv);
    }
    store<f64>(rowK + (<usize>k << 3), -inv);
  }
  // work = −A_KK⁻¹ now.
  const nb4 = <usize>nb << 2;
  for (let i: u32 = 0; i < nb; i++) {
    for (let j: u32 = 0; j < nb; j++) {
      const v = load<f64>(work + <usize>i * nb8 + (<usize>j << 3));
      store<f32>(d + <usize>i * nb4 + (<usize>j << 2), <f32>-v);
      if (j <= i) store<f32>(g + <usize>(k0 + i) * rowBytes + (<usize>(k0 + j) << 2), <f32>v);
    }
  }
  return -1;
}

/** C[r][0..8) −= Σ_p W[r][p] V[p][0..8) for 4 rows r: W rows of nb floats at w, V the packed strip at v, C rows of stride rowBytes. */
// @ts-ignore: decorator
@inline
function micro4x8(w: usize, v: usize, c: usize, rowBytes: usize, nb: u32): void {
  const wb = <usize>nb << 2;
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  const w1 = w + wb;
  const w2 = w1 + wb;
  const w3 = w2 + wb;
  for (let p: usize = 0; p < <usize>nb; p++) {
    const vv = v + (p << 5);
    const b0 = v128.load(vv);
    const b1 = v128.load(vv, 16);
    const o = p << 2;
    const a0 = v128.load32_splat(w + o);
    const a1 = v128.load32_splat(w1 + o);
    const a2 = v128.load32_splat(w2 + o);
    const a3 = v128.load32_splat(w3 + o);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
  }
  const r1 = c + rowBytes;
  const r2 = r1 + rowBytes;
  const r3 = r2 + rowBytes;
  v128.store(c, f32x4.sub(v128.load(c), c00));
  v128.store(c, f32x4.sub(v128.load(c, 16), c01), 16);
  v128.store(r1, f32x4.sub(v128.load(r1), c10));
  v128.store(r1, f32x4.sub(v128.load(r1, 16), c11), 16);
  v128.store(r2, f32x4.sub(v128.load(r2), c20));
  v128.store(r2, f32x4.sub(v128.load(r2, 16), c21), 16);
  v128.store(r3, f32x4.sub(v128.load(r3), c30));
  v128.store(r3, f32x4.sub(v128.load(r3, 16), c31), 16);
}

/**
 * One sweep step on rows [r0, r1) (outside K, r0 and r1 multiples of 8): W = V D for these rows
 * (into `w`, (r1 − r0) × nb f32), then the lower-triangle update C[i][j] −= W[i]·V[j] for j ≤ i
 * (by 8-column strips: the diagonal strip's few entries above the diagonal are updated too and
 * mean nothing), columns of K skipped, then W written into the panel (A[i][K] for i > K,
 * A[K][i] for i < K). Rows of different calls are disjoint; the panel was packed before.
 */
export function easeUpdateRows(g: usize, np: u32, k0: u32, nb: u32, vp: usize, d: usize, w: usize, r0: u32, r1: u32): void {
  const rowBytes = <usize>np << 2;
  const stripBytes = <usize>nb << 5;
  const nb4 = <usize>nb << 2;
  const rows = r1 - r0;
  // W[r] = V[r0 + r] D, 16 columns at a time.
  for (let r: u32 = 0; r < rows; r++) {
    const i = r0 + r;
    const vrow = vp + <usize>(i >>> 3) * stripBytes + (<usize>(i & 7) << 2);
    const wrow = w + <usize>r * nb4;
    for (let q: u32 = 0; q < nb; q += 16) {
      let a0 = f32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      let drow = d + (<usize>q << 2);
      for (let p: u32 = 0; p < nb; p++) {
        const s = v128.load32_splat(vrow + (<usize>p << 5));
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(drow)));
        a1 = f32x4.add(a1, f32x4.mul(s, v128.load(drow, 16)));
        a2 = f32x4.add(a2, f32x4.mul(s, v128.load(drow, 32)));
        a3 = f32x4.add(a3, f32x4.mul(s, v128.load(drow, 48)));
        drow += nb4;
      }
      const at = wrow + (<usize>q << 2);
      v128.store(at, a0);
      v128.store(at, a1, 16);
      v128.store(at, a2, 32);
      v128.store(at, a3, 48);
    }
  }
  // The rank-nb update, strip by strip (a strip's packed V, 32·nb bytes, stays in L1 across the row groups).
  const lastStrip = (r1 - 1) >>> 3;
  for (let s: u32 = 0; s <= lastStrip; s++) {
    const j0 = s << 3;
    if (j0 >= k0 && j0 < k0 + nb) continue;
    const v = vp + <usize>s * stripBytes;
    // Row groups whose last row reaches the strip: rows ≥ j0 (rounded down to a group of 4).
    let rg = r0;
    if (j0 > rg) rg = j0 & ~3;
    for (; rg < r1; rg += 4) {
      micro4x8(w + <usize>(rg - r0) * nb4, v, g + <usize>rg * rowBytes + (<usize>j0 << 2), rowBytes, nb);
    }
  }
  // The new panel.
  for (let r: u32 = 0; r < rows; r++) {
    const i = r0 + r;
    const wrow = w + <usize>r * nb4;
    if (i > k0) {
      memory.copy(g + <usize>i * rowBytes + (<usize>k0 << 2), wrow, nb4);
    } else {
      for (let q: u32 = 0; q < nb; q++) store<f32>(g + <usize>(k0 + q) * rowBytes + (<usize>i << 2), load<f32>(wrow + (<usize>q << 2)));
    }
  }
}

/**
 * B from M = −G⁻¹ (lower triangle) for the tile pair rows [i0, i1) × columns [j0, j1) (j1 ≤ i1,
 * the pair's lower tile) and its mirror: B[i][j] = M[i][j]·s[j] and B[j][i] = M[i][j]·s[i] with
 * s[j] = −1 / M[j][j] (f32 at `scale`), so B_ij = −P_ij / P_jj for P = G⁻¹; B[i][i] = 0. Each
 * tile pair is written by one call (the upper tile is read by none).
 */
export function easeFinishTile(g: usize, np: u32, scale: usize, i0: u32, i1: u32, j0: u32, j1: u32): void {
  const rowBytes = <usize>np << 2;
  for (let i = i0; i < i1; i++) {
    const si = load<f32>(scale + (<usize>i << 2));
    const row = g + <usize>i * rowBytes;
    const jEnd = i0 == j0 ? i : j1;
    for (let j = j0; j < jEnd; j++) {
      const at = row + (<usize>j << 2);
      const m = load<f32>(at);
      store<f32>(at, m * load<f32>(scale + (<usize>j << 2)));
      store<f32>(g + <usize>j * rowBytes + (<usize>i << 2), m * si);
    }
    if (i0 == j0) store<f32>(row + (<usize>i << 2), 0);
  }
}
