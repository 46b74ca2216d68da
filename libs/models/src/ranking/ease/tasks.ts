// The EASE solver's memory layout and the tasks its threads share (kernel.ts, worker.ts). Imports
// only relative modules (the worker runs from sources under jest through @swc-node/register).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';

/** Where the compiled EASE kernel is: libs/models/wasm/ease.wasm (next to both src/ and dist/). */
export const EASE_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'ease.wasm');

/** Indices into the shared Int32Array of control words. */
export const EASE_CONTROL = { cursor: 0, length: 16 } as const;

/** Bytes of the accumulating row tile of the Gram build (rows of np f32): about 1 MiB, an L2's worth. */
export const EASE_GRAM_TILE_BYTES = 1 << 20;

/** Side of the square tiles of the final pass that writes B. */
export const EASE_FINISH_TILE = 64;

/**
 * Byte offsets (64-byte aligned) in the kernel's one shared WebAssembly memory: the np × np f32
 * matrix (G, then −G⁻¹, then B), the diagonal scale (np f32), the packed column panel (np × nb
 * f32), the block inverse (nb² f32 and nb² f64 work), per thread the W rows of a chunk (rows × nb
 * f32) and a user mark array (nUsers i32), and the interaction matrix as the Gram build reads it:
 * userPtr (u32), userMovies (i32), codes (u8), moviePtr (u32), movieUsers (i32).
 */
export interface EaseLayout {
  readonly n: number;
  /** n rounded up to a multiple of nb (padding rows and columns are the identity). */
  readonly np: number;
  /** Pivots per sweep step (a multiple of 16). */
  readonly nb: number;
  /** Rows per task of a sweep step (divides nb). */
  readonly chunkRows: number;
  /** Rows per tile of the Gram build. */
  readonly tileRows: number;
  readonly threads: number;
  readonly nUsers: number;
  readonly nnz: number;
  readonly control: number;
  readonly matrix: number;
  readonly scale: number;
  readonly panel: number;
  readonly block: number;
  readonly blockWork: number;
  /** Per-thread areas: W rows then marks, `threadBytes` each. */
  readonly threadArea: number;
  readonly threadBytes: number;
  readonly userPtr: number;
  readonly userMovies: number;
  readonly codes: number;
  readonly moviePtr: number;
  readonly movieUsers: number;
  readonly bytes: number;
}

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** The block size for n items: 128 from 4,096 items, 64 from 512, 32 from 64, else 16. */
export function easeBlockSize(n: number): number {
  return n >= 4096 ? 128 : n >= 512 ? 64 : n >= 64 ? 32 : 16;
}

/** The layout for n items, nUsers users and nnz interactions on `threads` threads (nb: see {@link easeBlockSize}; Gram tiles of about gramTileBytes). */
export function easeLayout(n: number, nUsers: number, nnz: number, threads: number, nb = easeBlockSize(n), gramTileBytes = EASE_GRAM_TILE_BYTES): EaseLayout {
  // The kernel forms W = V·D 16 columns at a time.
  if (!(Number.isInteger(nb) && nb >= 16 && nb % 16 === 0)) throw new RangeError(`ease: block size must be a multiple of 16, got ${nb}`);
  const np = Math.max(nb, Math.ceil(n / nb) * nb);
  const chunkRows = Math.min(64, nb);
  const tileRows = Math.max(1, Math.min(np, Math.floor(gramTileBytes / (4 * np))));
  let at = 1024; // the first KiB stays unused: offset 0 never holds data
  const take = (bytes: number): number => {
    const offset = at;
    at = align64(at + bytes);
    return offset;
  };
  const control = take(EASE_CONTROL.length * 4);
  const matrix = take(np * np * 4);
  const scale = take(np * 4);
  const panel = take(np * nb * 4);
  const block = take(nb * nb * 4);
  const blockWork = take(nb * nb * 8);
  const threadBytes = align64(chunkRows * nb * 4) + align64(nUsers * 4);
  const threadArea = take(threads * threadBytes);
  const userPtr = take((nUsers + 1) * 4);
  const userMovies = take(nnz * 4);
  const codes = take(nnz);
  const moviePtr = take((n + 1) * 4);
  const movieUsers = take(nnz * 4);
  return { n, np, nb, chunkRows, tileRows, threads, nUsers, nnz, control, matrix, scale, panel, block, blockWork, threadArea, threadBytes, userPtr, userMovies, codes, moviePtr, movieUsers, bytes: at };
}

/** The kernel's exports (libs/models/assembly/ease.ts). */
export interface EaseKernel {
  easeGramTile(g: number, np: number, n: number, a: number, b: number, userPtr: number, userMovies: number, codes: number, moviePtr: number, movieUsers: number, mark: number, tile: number, binary: number, lambda: number): void;
  easePack(g: number, np: number, k0: number, nb: number, vp: number): void;
  easeInvertBlock(g: number, np: number, k0: number, nb: number, d: number, work: number): number;
  easeUpdateRows(g: number, np: number, k0: number, nb: number, vp: number, d: number, w: number, r0: number, r1: number): void;
  easeFinishTile(g: number, np: number, scale: number, i0: number, i1: number, j0: number, j1: number): void;
}

let compiled: WasmModule | null = null;

/** The compiled SIMD module (once per thread). Throws when the build has not produced it. */
export function easeWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(EASE_WASM_PATH)) {
      throw new Error(`EASE kernel ${EASE_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    }
    compiled = new wasmApi.Module(readFileSync(EASE_WASM_PATH));
  }
  return compiled;
}

/** An instance of the kernel on `memory`. */
export function easeKernel(memory: WasmMemory, module: WasmModule): EaseKernel {
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as EaseKernel;
}

/** What the threads do in one phase: every thread takes task indices from the shared cursor until none is left. */
export type EaseTask =
  | { type: 'gram'; lambda: number; binary: boolean }
  | { type: 'update'; k0: number }
  | { type: 'finish' };

/** Number of tasks of a phase. */
export function easeTaskCount(l: EaseLayout, task: EaseTask): number {
  if (task.type === 'gram') return Math.ceil(l.np / l.tileRows);
  if (task.type === 'update') return l.np / l.chunkRows;
  const tiles = Math.ceil(l.n / EASE_FINISH_TILE);
  return (tiles * (tiles + 1)) / 2;
}

/**
 * Runs tasks of `task` taken from the shared cursor on this thread's kernel until none is left.
 * Tasks go from the last rows to the first (the lower triangle's long rows first, so that the
 * threads finish together).
 */
export function runEaseTasks(kernel: EaseKernel, l: EaseLayout, control: Int32Array, task: EaseTask, thread: number): void {
  const count = easeTaskCount(l, task);
  const own = l.threadArea + thread * l.threadBytes;
  const w = own;
  const mark = own + align64(l.chunkRows * l.nb * 4);
  for (;;) {
    const t = Atomics.add(control, EASE_CONTROL.cursor, 1);
    if (t >= count) return;
    const back = count - 1 - t;
    if (task.type === 'gram') {
      const a = back * l.tileRows;
      const b = Math.min(l.np, a + l.tileRows);
      kernel.easeGramTile(l.matrix, l.np, l.n, a, b, l.userPtr, l.userMovies, l.codes, l.moviePtr, l.movieUsers, mark, back + 1, task.binary ? 1 : 0, task.lambda);
    } else if (task.type === 'update') {
      const r0 = back * l.chunkRows;
      if (r0 >= task.k0 && r0 < task.k0 + l.nb) continue;
      kernel.easeUpdateRows(l.matrix, l.np, task.k0, l.nb, l.panel, l.block, w, r0, r0 + l.chunkRows);
    } else {
      // Tile pair index → (I, J) with I ≥ J, row-major over the lower triangle of tiles, from the last.
      const I = Math.floor((Math.sqrt(8 * back + 1) - 1) / 2);
      const J = back - (I * (I + 1)) / 2;
      const T = EASE_FINISH_TILE;
      kernel.easeFinishTile(l.matrix, l.np, l.scale, I * T, Math.min(l.n, I * T + T), J * T, Math.min(l.n, J * T + T));
    }
  }
}

/** What a worker starts from. */
export interface EaseWorkerInput {
  layout: EaseLayout;
  memory: WasmMemory;
  module: WasmModule;
  thread: number;
}

export type EaseWorkerMessage = { type: 'ready' } | { type: 'done' } | { type: 'error'; message: string };
