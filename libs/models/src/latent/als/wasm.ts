import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALS_BLOCK_CHUNK_ROWS, AlsPasses, AlsSide } from './passes';
import type { AlsLayout } from './protocol';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';

/** Where the compiled ALS kernel is: libs/models/wasm/als.wasm (next to both src/ and dist/). */
export const ALS_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'als.wasm');

/** Most bytes of factor rows one thread copies out for a row's later passes (longer rows read in place). */
export const ALS_GATHER_BYTES = 8 << 20;

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/** Bytes per factor of a pass's own scratch: v and out (f64), v in f32 and two f32 sums (Σ w q, Σ q²). */
const SCRATCH_ROW_BYTES = 28;

/** Offsets in a thread's scratch area of the blocked half step's arrays ({@link AlsBlockState}), for {@link ALS_BLOCK_CHUNK_ROWS} rows. */
function blockOffsets(kp: number): { cg: number; cursor: number; v: number; vb: number; out: number; diag: number; rowState: number; pending: number; bytes: number } {
  const rows = ALS_BLOCK_CHUNK_ROWS;
  const cg = align16(SCRATCH_ROW_BYTES * kp) + ALS_GATHER_BYTES;
  const cursor = cg + align16(6 * (kp + 1) * 8);
  const v = cursor + align16(rows * 4);
  const vb = v + rows * kp * 8;
  const out = vb + rows * 8;
  const diag = out + rows * (kp + 2) * 8;
  // The kernel's own per-row state of a blocked pass: v in f32 and the f32 sums (3·kp f32), and their rating counts (u32).
  const rowState = align16(diag + rows * kp * 8);
  const pending = rowState + rows * 3 * kp * 4;
  return { cg, cursor, v, vb, out, diag, rowState, pending, bytes: align16(pending + rows * 4) };
}

/** Offsets in a thread's scratch area of the current chunk's slice of the rating arrays (ptr u32, other i32, codes u8). */
function chunkOffsets(kp: number, chunkRatings: number, chunkRows: number): { ptr: number; other: number; codes: number; bytes: number } {
  const ptr = blockOffsets(kp).bytes;
  const other = ptr + align16((chunkRows + 1) * 4);
  const codes = other + align16(chunkRatings * 4);
  return { ptr, other, codes, bytes: codes + align16(chunkRatings) };
}

/**
 * Bytes of one thread's scratch area for rows of kp floats: v and out (f64), two f32 rows, the
 * copy of the current row's other-side factor rows ({@link ALS_GATHER_BYTES}), the blocked
 * half step's arrays for {@link ALS_BLOCK_CHUNK_ROWS} rows, and the slice of the rating arrays
 * of a chunk of at most `chunkRatings` ratings and `chunkRows` rows.
 */
export function alsScratchBytes(kp: number, chunkRatings: number, chunkRows: number): number {
  return chunkOffsets(kp, chunkRatings, chunkRows).bytes;
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
    diag: number,
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
  ): number;
  alsBlockRun(
    mode: number,
    other: number,
    codes: number,
    ptr: number,
    from: number,
    to: number,
    nFixed: number,
    blockRows: number,
    fixed: number,
    fixedBias: number,
    kp: number,
    mu: number,
    cursor: number,
    v: number,
    vb: number,
    out: number,
    rowState: number,
    pending: number,
    diag: number,
  ): void;
  alsCgRows(
    other: number,
    codes: number,
    ptr: number,
    from: number,
    to: number,
    fixed: number,
    fixedBias: number,
    factors: number,
    bias: number,
    kp: number,
    k: number,
    mu: number,
    reg: number,
    regBias: number,
    steps: number,
    withSse: number,
    cg: number,
    scratch: number,
    out: number,
    rowsCopy: number,
    gatherBytes: number,
    precond: number,
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
 * which must hold the factors and biases (their byteOffset is their address) and this thread's
 * scratch area of `layout.scratchBytes` at byte `scratch`. The rating arrays stay outside it:
 * {@link AlsPasses.chunk} copies a chunk's slice of them into the scratch area (one memcpy per
 * array), and the passes read that. Dot products and the
 * accumulation over 64 ratings run in f32x4; sums over more ratings in f64. The residual pass
 * (the first over a row) copies the row's other-side factor rows into the scratch area when they
 * fit (four rows interleaved by 16-byte chunks, see `alsPass`), and the products of that row
 * read the copy; its Σ e² reads the fixed rows.
 */
export function wasmAlsPasses(memory: WasmMemory, module: WasmModule, layout: AlsLayout, mu: number, scratch: number): AlsPasses {
  const { factors: k, kp } = layout;
  const slice = chunkOffsets(kp, layout.maxChunkRatings, layout.maxChunkRows);
  const slicePtr = new Uint32Array(memory.buffer, scratch + slice.ptr, layout.maxChunkRows + 1);
  const sliceOther = new Int32Array(memory.buffer, scratch + slice.other, layout.maxChunkRatings);
  const sliceCodes = new Uint8Array(memory.buffer, scratch + slice.codes, layout.maxChunkRatings);
  // Addresses that index the slice with the rows' own positions: base + 4j is other[j] of the
  // chunk's side (i32 arithmetic wraps in the kernel, so a base below 0 is fine).
  let chunkSide: AlsSide | null = null;
  let ptrBase = 0;
  let otherBase = 0;
  let codesBase = 0;
  const bases = (rows: AlsSide): void => {
    if (rows !== chunkSide) throw new Error('wasmAlsPasses: a pass over rows outside the loaded chunk');
  };
  const kernel = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as AlsWasmExports;
  const vAt = scratch;
  const outAt = scratch + 8 * kp;
  const work = scratch + 16 * kp;
  const diagAt = scratch + blockOffsets(kp).cg + 4 * (kp + 1) * 8;
  const rowsCopy = scratch + align16(SCRATCH_ROW_BYTES * kp);
  const rowBytes = 4 * kp;
  const v64 = new Float64Array(memory.buffer, vAt, kp);
  const out64 = new Float64Array(memory.buffer, outAt, kp);
  const diag64 = new Float64Array(memory.buffer, diagAt, kp);
  // The row whose factor rows are in the copy: its side's `other` array and range.
  let copiedOther: Int32Array | null = null;
  let copiedBegin = -1;
  let copiedEnd = -1;
  const isCopied = (other: Int32Array, begin: number, end: number): number =>
    copiedOther === other && copiedBegin === begin && copiedEnd === end ? 1 : 0;
  return {
    chunk(rows, from, to) {
      const first = rows.ptr[from];
      const last = rows.ptr[to];
      if (last - first > layout.maxChunkRatings || to - from > layout.maxChunkRows) {
        throw new RangeError(`wasmAlsPasses: a chunk of ${to - from} rows and ${last - first} ratings exceeds the scratch area's ${layout.maxChunkRows} and ${layout.maxChunkRatings}`);
      }
      slicePtr.set(rows.ptr.subarray(from, to + 1));
      sliceOther.set(rows.other.subarray(first, last));
      sliceCodes.set(rows.codes.subarray(first, last));
      chunkSide = rows;
      ptrBase = scratch + slice.ptr - 4 * from;
      otherBase = scratch + slice.other - 4 * first;
      codesBase = scratch + slice.codes - first;
    },
    pass(residual, rows, fixed, begin, end, v, out, diag) {
      bases(rows);
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
        residual ? (diag ? 3 : 1) : 0,
        otherBase,
        codesBase,
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
        diagAt,
      );
      for (let f = 0; f < k; f++) out[f] = out64[f];
      out[k] = wsum;
      if (residual && diag) for (let f = 0; f < k; f++) diag[f] = diag64[f];
    },
    sse(rows, fixed, a) {
      bases(rows);
      return kernel.alsSse(
        otherBase,
        codesBase,
        rows.ptr[a],
        rows.ptr[a + 1],
        fixed.factors.byteOffset,
        fixed.bias.byteOffset,
        kp,
        mu,
        rows.factors.byteOffset + a * kp * 4,
        rows.bias[a],
      );
    },
    blockState(rows) {
      if (rows > ALS_BLOCK_CHUNK_ROWS) throw new RangeError(`wasmAlsPasses: the scratch area holds the blocked arrays of ${ALS_BLOCK_CHUNK_ROWS} rows, not ${rows}`);
      const at = blockOffsets(kp);
      const buffer = memory.buffer;
      return {
        rows,
        cursor: new Uint32Array(buffer, scratch + at.cursor, rows),
        v: new Float64Array(buffer, scratch + at.v, rows * kp),
        vb: new Float64Array(buffer, scratch + at.vb, rows),
        out: new Float64Array(buffer, scratch + at.out, rows * (kp + 2)),
        diag: new Float64Array(buffer, scratch + at.diag, rows * kp),
      };
    },
    cgRows(rows, fixed, from, to, reg, regBias, steps, jacobi, withSse) {
      bases(rows);
      // The kernel's copies of the fixed rows are its own; the JS-side record of them is stale now.
      copiedOther = null;
      return kernel.alsCgRows(
        otherBase,
        codesBase,
        ptrBase,
        from,
        to,
        fixed.factors.byteOffset,
        fixed.bias.byteOffset,
        rows.factors.byteOffset,
        rows.bias.byteOffset,
        kp,
        k,
        mu,
        reg,
        regBias,
        steps,
        withSse ? 1 : 0,
        scratch + blockOffsets(kp).cg,
        work,
        outAt,
        rowsCopy,
        ALS_GATHER_BYTES,
        jacobi ? 1 : 0,
      );
    },
    blockRun(mode, rows, fixed, from, to, blockRows, s) {
      bases(rows);
      const at = blockOffsets(kp);
      kernel.alsBlockRun(
        mode,
        otherBase,
        codesBase,
        ptrBase,
        from,
        to,
        fixed.bias.length,
        blockRows,
        fixed.factors.byteOffset,
        fixed.bias.byteOffset,
        kp,
        mu,
        s.cursor.byteOffset,
        s.v.byteOffset,
        s.vb.byteOffset,
        s.out.byteOffset,
        scratch + at.rowState,
        scratch + at.pending,
        s.diag.byteOffset,
      );
    },
  };
}
