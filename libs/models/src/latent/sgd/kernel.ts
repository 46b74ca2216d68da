import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';

/**
 * The SGD kernel over one linear memory, all arguments byte offsets into it. Two
 * implementations with identical arithmetic: the AssemblyScript SIMD module
 * (libs/models/assembly/sgd.ts, see there for the exact formulas) and a plain TypeScript
 * reference ({@link referenceKernel}) that rounds every operation to f32 the way WebAssembly does,
 * so both give bit-identical results. The WebAssembly kernel fuses each dot into the previous
 * update (the same operations in the same order); the reference computes them one after the other.
 */
export interface SgdKernel {
  /** One SGD pass over the segments `from .. to−1` in order; returns Σ e² (e before each update). */
  sgdSegments(
    segUser: number,
    segOff: number,
    from: number,
    to: number,
    ratings: number,
    P: number,
    Q: number,
    userBias: number,
    movieBias: number,
    kp: number,
    mu: number,
    lr: number,
    reg: number,
    lrBias: number,
    regBias: number,
  ): number;
}

/** Where the compiled kernel is: libs/models/wasm/sgd.wasm, two levels above both src/kernels and dist/kernels. */
export const SGD_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'sgd.wasm');

let compiled: WasmModule | null = null;

/** The compiled SIMD kernel module (compiled once per thread). Throws when the build has not produced it. */
export function sgdWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(SGD_WASM_PATH)) {
      throw new Error(
        `SGD kernel ${SGD_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`,
      );
    }
    compiled = new wasmApi.Module(readFileSync(SGD_WASM_PATH));
  }
  return compiled;
}

/** An instance of the SIMD kernel on `memory` (which must be shared: the module imports shared memory). */
export function wasmKernel(memory: WasmMemory, module: WasmModule = sgdWasmModule()): SgdKernel {
  const instance = new wasmApi.Instance(module, { env: { memory } });
  return instance.exports as unknown as SgdKernel;
}

const fround = Math.fround;

/** e = r − (((μ + b_u) + b_m) + dot) in f32, as the kernels compute it. */
export function ratingError(r: number, mu: number, bu: number, bm: number, dot: number): number {
  return fround(r - fround(fround(fround(mu + bu) + bm) + dot));
}

/** b + lrBias·(e − regBias·b) in f32: the step of a user or movie bias. */
function biasStep(b: number, e: number, lrBias: number, regBias: number): number {
  return fround(b + fround(lrBias * fround(e - fround(regBias * b))));
}

/** Steps the movie bias at `f32[bmAt]` in place and returns the stepped user bias `bu`. */
export function stepBiases(f32: Float32Array, bmAt: number, bu: number, e: number, lrBias: number, regBias: number): number {
  f32[bmAt] = biasStep(f32[bmAt], e, lrBias, regBias);
  return biasStep(bu, e, lrBias, regBias);
}

/**
 * The sum of the four f32x4 accumulators of dot.ts held as `acc[4·a + lane]`, in its order:
 * (a0 + a1) + (a2 + a3) lane by lane, then the lanes (l0 + l1) + (l2 + l3), each step in f32.
 */
export function reduceAccumulators(acc: Float32Array): number {
  const l0 = fround(fround(acc[0] + acc[4]) + fround(acc[8] + acc[12]));
  const l1 = fround(fround(acc[1] + acc[5]) + fround(acc[9] + acc[13]));
  const l2 = fround(fround(acc[2] + acc[6]) + fround(acc[10] + acc[14]));
  const l3 = fround(fround(acc[3] + acc[7]) + fround(acc[11] + acc[15]));
  return fround(fround(l0 + l1) + fround(l2 + l3));
}

/**
 * The plain TypeScript kernel on `buffer`: the same operations as the WebAssembly one, each rounded
 * to f32 with `Math.fround` (exact for +, −, × of f32 values, since doubles have more than twice
 * the bits), in the same order, including the four-accumulator dot product.
 */
export function referenceKernel(buffer: ArrayBuffer | SharedArrayBuffer): SgdKernel {
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  // acc[4·(c mod 4) + lane]: the four f32x4 accumulators; a Float32Array rounds every store to f32.
  const acc = new Float32Array(16);

  function dot(pu: number, qi: number, kp: number): number {
    acc.fill(0);
    for (let f = 0; f < kp; f++) {
      const slot = (((f >>> 2) & 3) << 2) | (f & 3);
      acc[slot] = acc[slot] + fround(f32[pu + f] * f32[qi + f]);
    }
    return reduceAccumulators(acc);
  }

  return {
    sgdSegments(segUser, segOff, from, to, ratings, P, Q, userBias, movieBias, kp, muIn, lrIn, regIn, lrBiasIn, regBiasIn) {
      const mu = fround(muIn);
      const lr = fround(lrIn);
      const reg = fround(regIn);
      const lrBias = fround(lrBiasIn);
      const regBias = fround(regBiasIn);
      const keep = fround(1 - fround(lr * reg));
      let sse = 0;
      for (let s = from; s < to; s++) {
        const u = u32[(segUser >>> 2) + s];
        const start = u32[(segOff >>> 2) + s];
        const end = u32[(segOff >>> 2) + s + 1];
        const pu = (P >>> 2) + u * kp;
        const buAt = (userBias >>> 2) + u;
        let bu = f32[buAt];
        for (let k = start; k < end; k++) {
          const packed = u32[(ratings >>> 2) + k];
          const m = packed >>> 8;
          const r = (packed & 255) * 0.5;
          const qi = (Q >>> 2) + m * kp;
          const d = dot(pu, qi, kp);
          const bmAt = (movieBias >>> 2) + m;
          const e = ratingError(r, mu, bu, f32[bmAt], d);
          sse += e * e;
          bu = stepBiases(f32, bmAt, bu, e, lrBias, regBias);
          // p += lr·(e·q − reg·p) as c·p + s·q with c = 1 − lr·reg, s = lr·e (q likewise, old p).
          const step = fround(lr * e);
          for (let f = 0; f < kp; f++) {
            const p = f32[pu + f];
            const q = f32[qi + f];
            f32[pu + f] = fround(fround(keep * p) + fround(step * q));
            f32[qi + f] = fround(fround(keep * q) + fround(step * p));
          }
        }
        f32[buAt] = bu;
      }
      return sse;
    },
  };
}
