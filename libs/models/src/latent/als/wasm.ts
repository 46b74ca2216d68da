import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlsPasses } from './passes';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';

/** Where the compiled ALS kernel is: libs/models/wasm/als.wasm (next to both src/ and dist/). */
export const ALS_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'als.wasm');

/** Most bytes of factor rows one thread copies out for a row's later passes (longer rows read in place). */
export const ALS_GATHER_BYTES = 8 << 20;

/**
 * Bytes of one thread's scratch area for rows of kp floats: v and out (f64), two f32 rows, and
 * the copy of the current row's other-side factor rows ({@link ALS_GATHER_BYTES}).
 */
export function alsScratchBytes(kp: number): number {
  return Math.ceil((24 * kp) / 16) * 16 + ALS_GATHER_BYTES;
}

interface AlsWasmExports {
  alsPass(
    residual: number,
    other: number,
    codes: number,
    begin: number,
    end: number,
    fixed: number,
    fixedBias: number,
    kp: number,
    mu: number,
    v: number,
    vb: number,
    scratch: number,
    out: number,
    gather: number,
    rowsCopy: number,
  ): number;
  alsSse(
    other: number,
    codes: number,
    begin: number,
    end: number,
    fixed: number,
    fixedBias: number,
    kp: number,
    mu: number,
    p: number,
    bias: number,
    gathered: number,
    rowsCopy: number,
  ): number;
}

let compiled: WasmModule | null = null;

/** The compiled SIMD module (once per thread). Throws when the build has not produced it. */
export function alsWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(ALS_WASM_PATH)) {
      throw new Error(`ALS kernel ${ALS_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    }
    compiled = new wasmApi.Module(readFileSync(ALS_WASM_PATH));
  }
  return compiled;
}

/**
 * {@link AlsPasses} by the AssemblyScript SIMD kernel (libs/models/assembly/als.ts) on `memory`,
 * which must hold every array the passes are given (their byteOffset is their address) and this
 * thread's scratch area of {@link alsScratchBytes} at byte `scratch`. Dot products and the
 * accumulation over 64 ratings run in f32x4; sums over more ratings in f64. The residual pass
 * (the first over a row) copies the row's other-side factor rows into the scratch area when they
 * fit, and the products and the Σ e² of that row read the copy.
 */
export function wasmAlsPasses(memory: WasmMemory, module: WasmModule, k: number, kp: number, mu: number, scratch: number): AlsPasses {
  const kernel = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as AlsWasmExports;
  const vAt = scratch;
  const outAt = scratch + 8 * kp;
  const work = scratch + 16 * kp;
  const rowsCopy = scratch + Math.ceil((24 * kp) / 16) * 16;
  const rowBytes = 4 * kp;
  const v64 = new Float64Array(memory.buffer, vAt, kp);
  const out64 = new Float64Array(memory.buffer, outAt, kp);
  // The row whose factor rows are in the copy: its side's `other` array and range.
  let copiedOther: Int32Array | null = null;
  let copiedBegin = -1;
  let copiedEnd = -1;
  const isCopied = (other: Int32Array, begin: number, end: number): number =>
    copiedOther === other && copiedBegin === begin && copiedEnd === end ? 1 : 0;
  return {
    pass(residual, rows, fixed, begin, end, v, out) {
      for (let f = 0; f < k; f++) v64[f] = v[f];
      let gather = 0;
      if (residual) {
        copiedOther = null;
        if ((end - begin) * rowBytes <= ALS_GATHER_BYTES) {
          gather = 1;
          copiedOther = rows.other;
          copiedBegin = begin;
          copiedEnd = end;
        }
      } else if (isCopied(rows.other, begin, end)) gather = 2;
      const wsum = kernel.alsPass(
        residual ? 1 : 0,
        rows.other.byteOffset,
        rows.codes.byteOffset,
        begin,
        end,
        fixed.factors.byteOffset,
        fixed.bias.byteOffset,
        kp,
        mu,
        vAt,
        v[k],
        work,
        outAt,
        gather,
        rowsCopy,
      );
      for (let f = 0; f < k; f++) out[f] = out64[f];
      out[k] = wsum;
    },
    sse(rows, fixed, a) {
      return kernel.alsSse(
        rows.other.byteOffset,
        rows.codes.byteOffset,
        rows.ptr[a],
        rows.ptr[a + 1],
        fixed.factors.byteOffset,
        fixed.bias.byteOffset,
        kp,
        mu,
        rows.factors.byteOffset + a * kp * 4,
        rows.bias[a],
        isCopied(rows.other, rows.ptr[a], rows.ptr[a + 1]),
        rowsCopy,
      );
    },
  };
}
