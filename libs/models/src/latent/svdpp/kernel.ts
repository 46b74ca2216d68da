import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';
import { ratingError, reduceAccumulators, stepBiases } from '../sgd/kernel';

/**
 * The SVD++ kernel over one linear memory, every argument a byte offset into it. Two
 * implementations with identical arithmetic: the AssemblyScript SIMD module
 * (libs/models/assembly/svdpp.ts, which states the formulas) and the plain TypeScript reference
 * {@link svdppReferenceKernel}, which rounds every operation to f32 the way WebAssembly does, so
 * both give bit-identical results.
 */
export interface SvdppKernel {
  /** SVD++ SGD over the users `order[from .. to)`; returns Σ e² (e before each update). */
  svdppUsers(
    order: number,
    from: number,
    to: number,
    userPtr: number,
    ratings: number,
    P: number,
    Q: number,
    Y: number,
    userBias: number,
    movieBias: number,
    norm: number,
    shrink: number,
    z: number,
    g: number,
    yScale: number,
    kp: number,
    mu: number,
    lr: number,
    reg: number,
    lrBias: number,
    regBias: number,
  ): number;
  /**
   * A worker's run applied to the shared Q, Y and movie biases (see assembly/svdpp.ts):
   * Q += wQ − bQ, b += wBias − bBias, Y ← s·Y + (wY − s·bY) with s = yScale[m].
   */
  pushMovies(nMovies: number, Q: number, Y: number, movieBias: number, wQ: number, wY: number, wBias: number, bQ: number, bY: number, bBias: number, yScale: number, kp: number): void;
}

/** libs/models/wasm/svdpp.wasm, three levels above both src/latent/svdpp and dist/latent/svdpp. */
export const SVDPP_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'svdpp.wasm');

let compiled: WasmModule | null = null;

/** The compiled SIMD kernel (once per thread). Throws when the build has not produced it. */
export function svdppWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(SVDPP_WASM_PATH)) {
      throw new Error(`SVD++ kernel ${SVDPP_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    }
    compiled = new wasmApi.Module(readFileSync(SVDPP_WASM_PATH));
  }
  return compiled;
}

/** An instance of the SIMD kernel on `memory` (shared: the module imports shared memory). */
export function svdppWasmKernel(memory: WasmMemory, module: WasmModule = svdppWasmModule()): SvdppKernel {
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SvdppKernel;
}

const fround = Math.fround;

/** The plain TypeScript kernel on `buffer`: the WebAssembly kernel's f32 operations, in its order. */
export function svdppReferenceKernel(buffer: ArrayBuffer | SharedArrayBuffer): SvdppKernel {
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  // acc[4·(c mod 4) + lane]: the four f32x4 accumulators (a Float32Array rounds each store to f32).
  const acc = new Float32Array(16);
  return {
    svdppUsers(order, from, to, userPtr, ratings, P, Q, Y, userBias, movieBias, norm, shrink, z, g, yScale, kp, muIn, lrIn, regIn, lrBiasIn, regBiasIn) {
      const mu = fround(muIn);
      const lr = fround(lrIn);
      const reg = fround(regIn);
      const lrBias = fround(lrBiasIn);
      const regBias = fround(regBiasIn);
      const keep = fround(1 - fround(lr * reg));
      const zi = z >>> 2;
      const gi = g >>> 2;
      let sse = 0;
      for (let j = from; j < to; j++) {
        const u = u32[(order >>> 2) + j];
        const start = u32[(userPtr >>> 2) + u];
        const end = u32[(userPtr >>> 2) + u + 1];
        if (start >= end) continue;
        const nrm = f32[(norm >>> 2) + u];
        for (let f = 0; f < kp; f++) f32[zi + f] = 0;
        for (let k = start; k < end; k++) {
          const yj = (Y >>> 2) + (u32[(ratings >>> 2) + k] >>> 8) * kp;
          for (let f = 0; f < kp; f++) f32[zi + f] = fround(f32[zi + f] + f32[yj + f]);
        }
        for (let f = 0; f < kp; f++) {
          f32[zi + f] = fround(f32[zi + f] * nrm);
          f32[gi + f] = 0;
        }
        const pu = (P >>> 2) + u * kp;
        const buAt = (userBias >>> 2) + u;
        let bu = f32[buAt];
        for (let k = start; k < end; k++) {
          const packed = u32[(ratings >>> 2) + k];
          const m = packed >>> 8;
          const r = (packed & 255) * 0.5;
          const qi = (Q >>> 2) + m * kp;
          acc.fill(0);
          for (let f = 0; f < kp; f++) {
            const slot = (((f >>> 2) & 3) << 2) | (f & 3);
            acc[slot] = acc[slot] + fround(fround(f32[pu + f] + f32[zi + f]) * f32[qi + f]);
          }
          const dot = reduceAccumulators(acc);
          const bmAt = (movieBias >>> 2) + m;
          const e = ratingError(r, mu, bu, f32[bmAt], dot);
          sse += e * e;
          bu = stepBiases(f32, bmAt, bu, e, lrBias, regBias);
          const step = fround(lr * e);
          for (let f = 0; f < kp; f++) {
            const p = f32[pu + f];
            const q = f32[qi + f];
            f32[gi + f] = fround(f32[gi + f] + fround(e * q));
            f32[pu + f] = fround(fround(keep * p) + fround(step * q));
            f32[qi + f] = fround(fround(keep * q) + fround(step * fround(p + f32[zi + f])));
          }
        }
        f32[buAt] = bu;
        const sh = f32[(shrink >>> 2) + u];
        const gain = fround(lr * nrm);
        for (let k = start; k < end; k++) {
          const m = u32[(ratings >>> 2) + k] >>> 8;
          const yj = (Y >>> 2) + m * kp;
          for (let f = 0; f < kp; f++) f32[yj + f] = fround(fround(sh * f32[yj + f]) + fround(gain * f32[gi + f]));
          if (yScale !== 0) f32[(yScale >>> 2) + m] *= sh;
        }
      }
      return sse;
    },

    pushMovies(nMovies, Q, Y, movieBias, wQ, wY, wBias, bQ, bY, bBias, yScale, kp) {
      for (let m = 0; m < nMovies; m++) {
        const s = f32[(yScale >>> 2) + m];
        for (let f = m * kp; f < (m + 1) * kp; f++) {
          f32[(Q >>> 2) + f] = fround(f32[(Q >>> 2) + f] + fround(f32[(wQ >>> 2) + f] - f32[(bQ >>> 2) + f]));
          f32[(Y >>> 2) + f] = fround(fround(s * f32[(Y >>> 2) + f]) + fround(f32[(wY >>> 2) + f] - fround(s * f32[(bY >>> 2) + f])));
        }
        f32[(movieBias >>> 2) + m] = fround(f32[(movieBias >>> 2) + m] + fround(f32[(wBias >>> 2) + m] - f32[(bBias >>> 2) + m]));
      }
    },
  };
}
