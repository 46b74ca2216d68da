// The BPR kernel over one linear memory (all arguments byte offsets into it): the AssemblyScript
// SIMD module (libs/models/assembly/bpr.ts, see there for the exact formulas) and a plain
// TypeScript reference ({@link referenceBprKernel}) that draws exactly the same samples (the
// sampler is integer arithmetic) and applies the same update rule in f64, storing f32.
// Imports only relative modules (the worker runs from sources under jest).
import { join } from 'node:path';
import { compiledWasmModule, wasmApi, WasmMemory, WasmModule } from '../../wasm';

/** Where the compiled kernel is: libs/models/wasm/bpr.wasm, above both src/ranking/bpr and dist/ranking/bpr. */
export const BPR_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'bpr.wasm');

/** Uniform negatives: draws rejected before the complement draw (the kernel's UNIFORM_TRIES). */
export const UNIFORM_TRIES = 4;
/** Popularity negatives: draws before a sample is skipped (the kernel's TABLE_TRIES). */
export const TABLE_TRIES = 64;

/** Byte offsets (inside a thread's 32-byte state block) of what the kernel keeps there. */
export const BPR_STATE = Object.freeze({ rng: 0, correct: 8, skipped: 16, loss: 24, bytes: 32 });

export interface BprKernel {
  /** `count` BPR steps on drawn triples; returns Σ −ln σ(x̂_uij) and adds counts to the state block. */
  bprSteps(
    ptr: number,
    movies: number,
    owners: number,
    nMovies: number,
    uFrom: number,
    uTo: number,
    table: number,
    tableLen: number,
    stateAt: number,
    count: number,
    P: number,
    Q: number,
    bias: number,
    kp: number,
    lr: number,
    regUser: number,
    regItem: number,
    regBias: number,
  ): number;
  /** `count` triples (u, i, j) as u32 at `out` + 12·s (j = 0xffffffff: skipped), drawn as bprSteps would. */
  bprDraw(ptr: number, movies: number, owners: number, nMovies: number, uFrom: number, uTo: number, table: number, tableLen: number, stateAt: number, count: number, out: number): void;
}

/** The compiled SIMD module (once per thread). */
export function bprWasmModule(): WasmModule {
  return compiledWasmModule(BPR_WASM_PATH, 'BPR kernel');
}

/** An instance of the SIMD kernel on the shared `memory`. */
export function wasmBprKernel(memory: WasmMemory, module: WasmModule = bprWasmModule()): BprKernel {
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as BprKernel;
}

/** xorshift32's next state after `x` (as the kernel's nextRandom). */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** ⌊x·n / 2³²⌋ exactly for u32 x and n (the kernel's 64-bit multiply-shift), in doubles. */
export function multiplyShift(x: number, n: number): number {
  const hi = x >>> 16;
  const lo = x & 0xffff;
  return Math.floor((hi * n + Math.floor((lo * n) / 65536)) / 65536);
}

/** The plain TypeScript kernel on `buffer`: the kernel's samples, the update rule in f64. */
export function referenceBprKernel(buffer: ArrayBuffer | SharedArrayBuffer): BprKernel {
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  const f64 = new Float64Array(buffer, 0, buffer.byteLength >>> 3);
  let user = 0;
  let positive = 0;
  let negative = 0;

  function below(rngAt: number, n: number): number {
    const x = xorshift32(u32[rngAt >>> 2]);
    u32[rngAt >>> 2] = x;
    return multiplyShift(x, n);
  }

  function holds(movies: number, start: number, end: number, m: number): boolean {
    let lo = start;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = u32[(movies >>> 2) + mid];
      if (v === m) return true;
      if (v < m) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }

  function nthAbsent(movies: number, start: number, end: number, r: number): number {
    let lo = 0;
    let hi = end - start;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u32[(movies >>> 2) + start + mid] - mid <= r) lo = mid + 1;
      else hi = mid;
    }
    return r + lo;
  }

  function draw(ptr: number, movies: number, owners: number, nMovies: number, uFrom: number, uTo: number, table: number, tableLen: number, rngAt: number): boolean {
    const p = ptr >>> 2;
    const first = u32[p + uFrom];
    const at = first + below(rngAt, u32[p + uTo] - first);
    const u = u32[(owners >>> 2) + at];
    user = u;
    positive = u32[(movies >>> 2) + at];
    const start = u32[p + u];
    const end = u32[p + u + 1];
    if (tableLen > 0) {
      for (let t = 0; t < TABLE_TRIES; t++) {
        const j = u32[(table >>> 2) + below(rngAt, tableLen)];
        if (!holds(movies, start, end, j)) {
          negative = j;
          return true;
        }
      }
      return false;
    }
    if (end - start >= nMovies) return false;
    for (let t = 0; t < UNIFORM_TRIES; t++) {
      const j = below(rngAt, nMovies);
      if (!holds(movies, start, end, j)) {
        negative = j;
        return true;
      }
    }
    negative = nthAbsent(movies, start, end, below(rngAt, nMovies - (end - start)));
    return true;
  }

  return {
    bprSteps(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt, count, P, Q, bias, kp, lr, regUser, regItem, regBias) {
      let loss = 0;
      let correct = 0;
      let skipped = 0;
      for (let s = 0; s < count; s++) {
        if (!draw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt)) {
          skipped++;
          continue;
        }
        const pu = (P >>> 2) + user * kp;
        const qi = (Q >>> 2) + positive * kp;
        const qj = (Q >>> 2) + negative * kp;
        const biAt = (bias >>> 2) + positive;
        const bjAt = (bias >>> 2) + negative;
        let dot = 0;
        for (let f = 0; f < kp; f++) dot += f32[pu + f] * (f32[qi + f] - f32[qj + f]);
        const bi = f32[biAt];
        const bj = f32[bjAt];
        const x = bi - bj + dot;
        const g = 1 / (1 + Math.exp(x));
        loss += x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
        if (x > 0) correct++;
        for (let f = 0; f < kp; f++) {
          const p = f32[pu + f];
          const a = f32[qi + f];
          const b = f32[qj + f];
          f32[pu + f] = p + lr * (g * (a - b) - regUser * p);
          f32[qi + f] = a + lr * (g * p - regItem * a);
          f32[qj + f] = b + lr * (-g * p - regItem * b);
        }
        f32[biAt] = bi + lr * (g - regBias * bi);
        f32[bjAt] = bj + lr * (-g - regBias * bj);
      }
      f64[(stateAt + BPR_STATE.correct) >>> 3] += correct;
      f64[(stateAt + BPR_STATE.skipped) >>> 3] += skipped;
      return loss;
    },
    bprDraw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt, count, out) {
      for (let s = 0; s < count; s++) {
        const ok = draw(ptr, movies, owners, nMovies, uFrom, uTo, table, tableLen, stateAt);
        const at = (out >>> 2) + 3 * s;
        u32[at] = user;
        u32[at + 1] = positive;
        u32[at + 2] = ok ? negative : 0xffffffff;
      }
    },
  };
}
