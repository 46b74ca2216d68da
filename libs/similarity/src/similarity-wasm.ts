// The WebAssembly side of SimilarityPool: the compiled kernels (assembly/similarity.ts, built by
// tools/build-wasm.js into libs/similarity/wasm/similarity.wasm), the layout of the shared linear
// memory they run on, and the copy of a matrix into it. Internal to the lib (not exported from
// index.ts). Imports only relative modules and node built-ins so that the pool's worker loads it
// both compiled and from sources.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MatrixArrays } from '@recsys/core';

/** A compiled module (opaque; it can be posted to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A shared linear memory (its buffer is a SharedArrayBuffer; it can be posted to worker threads). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** Node's global `WebAssembly` (the workspace compiles without the DOM lib that declares it). */
const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of assembly/similarity.ts; every pointer is a byte offset into the memory. */
export interface SimilarityKernels {
  accumulateJaccard(movieUsers: number, userPtr: number, userMovies: number, pFrom: number, pTo: number, counts: number): void;
  accumulateMoments(
    movieUsers: number,
    movieRatings: number,
    userPtr: number,
    userMovies: number,
    userRatings: number,
    pFrom: number,
    pTo: number,
    packed: number,
    sums: number,
    stride: number,
    nMovies: number,
    chunk: number,
    histogram: number,
  ): void;
  accumulatePearsonBaseline(
    movieUsers: number,
    movieRatings: number,
    userPtr: number,
    userMovies: number,
    userRatings: number,
    pFrom: number,
    pTo: number,
    m: number,
    globalMean: number,
    userBias: number,
    movieBias: number,
    sums: number,
  ): void;
}

/** Where the compiled kernels are: libs/similarity/wasm/similarity.wasm, one level above both src/ and dist/. */
export const SIMILARITY_WASM_PATH = join(__dirname, '..', 'wasm', 'similarity.wasm');

let compiled: WasmModule | null = null;

/** The compiled kernel module (compiled once per thread). Throws when the build has not produced it. */
export function similarityWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(SIMILARITY_WASM_PATH)) {
      throw new Error(`similarity kernel ${SIMILARITY_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    }
    compiled = new wasmApi.Module(readFileSync(SIMILARITY_WASM_PATH));
  }
  return compiled;
}

/** An instance of the kernels on `memory`. */
export function similarityKernels(memory: WasmMemory, module: WasmModule = similarityWasmModule()): SimilarityKernels {
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SimilarityKernels;
}

/**
 * Byte offsets of everything in the pool's memory: the six matrix arrays, the baselines
 * (f64 [μ, b_u × nUsers, b_i × nMovies]) and, per worker w, an accumulator region at
 * `accumulators + w·regionBytes` (i32 counts or f64 sums, zero between queries), a packed region at
 * `packed + w·packedBytes` (u64 per movie, for accumulateMoments) and 1 KiB of histogram scratch.
 */
export interface SimilarityLayout {
  nUsers: number;
  nMovies: number;
  nRatings: number;
  userPtr: number;
  moviePtr: number;
  userMovies: number;
  movieUsers: number;
  userRatings: number;
  movieRatings: number;
  baselines: number;
  accumulators: number;
  regionBytes: number;
  packed: number;
  packedBytes: number;
  histogram: number;
  /** Bytes in all (a multiple of the 64 KiB page). */
  bytes: number;
}

const PAGE = 65536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB). */
const MAX_PAGES = 65536;

/** The layout for a matrix of that size and `threads` workers; `stride` is the most f64 slots per movie of any metric. */
export function similarityLayout(nUsers: number, nMovies: number, nRatings: number, threads: number, stride: number): SimilarityLayout {
  let end = 64;
  // Every block on a 64-byte boundary: no two workers write one cache line.
  const take = (bytes: number): number => {
    const at = Math.ceil(end / 64) * 64;
    end = at + bytes;
    return at;
  };
  const regionBytes = Math.max(64, Math.ceil((nMovies * stride * 8) / 64) * 64);
  const packedBytes = Math.max(64, Math.ceil((nMovies * 8) / 64) * 64);
  const layout = {
    nUsers,
    nMovies,
    nRatings,
    userPtr: take(4 * (nUsers + 1)),
    moviePtr: take(4 * (nMovies + 1)),
    userMovies: take(4 * nRatings),
    movieUsers: take(4 * nRatings),
    userRatings: take(nRatings),
    movieRatings: take(nRatings),
    baselines: take(8 * (1 + nUsers + nMovies)),
    accumulators: take(threads * regionBytes),
    regionBytes,
    packed: take(threads * packedBytes),
    packedBytes,
    histogram: take(threads * 1024),
    bytes: 0,
  };
  layout.bytes = Math.ceil(end / PAGE) * PAGE;
  if (layout.bytes / PAGE > MAX_PAGES) {
    throw new RangeError(
      `the similarity pool's WebAssembly memory would need ${(layout.bytes / 2 ** 30).toFixed(2)} GiB for ${nRatings} ratings, ` +
        `more than the 4 GiB a wasm32 memory can hold (about 400M ratings)`,
    );
  }
  return layout;
}

/** A new shared memory of the layout's size (zeroed). */
export function similarityMemory(layout: SimilarityLayout): WasmMemory {
  const pages = layout.bytes / PAGE;
  return new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
}

/** The matrix arrays as views of the memory (SharedArrayBuffer-backed, as `shareMatrixArrays` gives). */
export function matrixViews(memory: WasmMemory, l: SimilarityLayout): MatrixArrays {
  const b = memory.buffer;
  return {
    nUsers: l.nUsers,
    nMovies: l.nMovies,
    userPtr: new Uint32Array(b, l.userPtr, l.nUsers + 1),
    moviePtr: new Uint32Array(b, l.moviePtr, l.nMovies + 1),
    userMovies: new Int32Array(b, l.userMovies, l.nRatings),
    movieUsers: new Int32Array(b, l.movieUsers, l.nRatings),
    userRatings: new Uint8Array(b, l.userRatings, l.nRatings),
    movieRatings: new Uint8Array(b, l.movieRatings, l.nRatings),
  };
}

/** Elements copied per turn of the event loop (1M: about a millisecond). */
const COPY_CHUNK = 1 << 20;

/**
 * Copies the matrix into the memory (views from matrixViews), one chunk per turn of the event loop
 * so that a 100M-rating matrix (about 1 GB) does not hold the loop.
 * @returns the largest rating code (stars × 2) of the matrix, 0 when it has none
 */
export async function copyMatrix(matrix: MatrixArrays, into: MatrixArrays): Promise<number> {
  const copy = async <A extends Uint32Array | Int32Array | Uint8Array>(from: A, to: A): Promise<void> => {
    for (let at = 0; at < from.length; at += COPY_CHUNK) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      to.set(from.subarray(at, at + COPY_CHUNK), at);
    }
  };
  await copy(matrix.userPtr, into.userPtr);
  await copy(matrix.moviePtr, into.moviePtr);
  await copy(matrix.userMovies, into.userMovies);
  await copy(matrix.movieUsers, into.movieUsers);
  await copy(matrix.movieRatings, into.movieRatings);
  let maxCode = 0;
  const ratings = matrix.userRatings;
  for (let at = 0; at < ratings.length; at += COPY_CHUNK) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(ratings.length, at + COPY_CHUNK);
    for (let p = at; p < end; p++) if (ratings[p] > maxCode) maxCode = ratings[p];
    into.userRatings.set(ratings.subarray(at, end), at);
  }
  return maxCode;
}

/**
 * The most raters accumulateMoments may pack before it flushes, for rating codes up to `maxCode`:
 * its three 21-, 21- and 22-bit fields hold the raters, Σy ≤ chunk·maxCode and Σy² ≤ chunk·maxCode².
 */
export function momentsChunk(maxCode: number): number {
  const FIELD = 2 ** 21 - 1;
  const TOP = 2 ** 22 - 1;
  return Math.max(1, Math.min(FIELD, Math.floor(FIELD / Math.max(1, maxCode)), Math.floor(TOP / Math.max(1, maxCode * maxCode))));
}
