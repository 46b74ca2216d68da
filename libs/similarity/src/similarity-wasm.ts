// The WebAssembly side of SimilarityPool: the compiled kernels (assembly/similarity.ts, built by
// tools/build-wasm.js into libs/similarity/wasm/similarity.wasm), the layout of the shared linear
// memory they run on, and the copy of a matrix into it. Internal to the lib (not exported from
// index.ts). Imports only relative modules and node built-ins so that the pool's worker loads it
// both compiled and from sources.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MatrixArrays, SharedWasmMemory } from '@recsys/core';
import type { BaselineMatrix } from './baselines';

/** A compiled module (opaque; it can be posted to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A shared linear memory (its buffer is a SharedArrayBuffer; it can be posted to worker threads). */
export type WasmMemory = SharedWasmMemory;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** Node's global `WebAssembly` (the workspace compiles without the DOM lib that declares it). */
const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The kernels of assembly/similarity.ts for one layout of the movie indices (the exports suffixed
 * 16 or 32, or those over the segmented copy); every pointer is a byte offset into the memory,
 * `matrix` the layout's `matrix` descriptor. Over the segmented copy, accumulatePearsonBaselineF32
 * is accumulatePearsonBaselineSegmented, whose `partial` takes 32 bytes per movie (16 otherwise).
 */
export interface SimilarityKernels {
  accumulateJaccard(matrix: number, pFrom: number, pTo: number, counts: number): void;
  accumulateMoments(
    matrix: number,
    pFrom: number,
    pTo: number,
    packed: number,
    packedBytes: number,
    sums: number,
    stride: number,
    nMovies: number,
    chunk: number,
    codeSlots: number,
    inChunk: number,
  ): void;
  accumulatePearsonBaselineF32(
    matrix: number,
    pFrom: number,
    pTo: number,
    m: number,
    globalMean: number,
    userBias: number,
    movieBias: number,
    sums: number,
    partial: number,
    nMovies: number,
    flushEvery: number,
  ): void;
}

/**
 * Raters whose pearson-baseline contributions accumulatePearsonBaselineF32 sums in f32 before it
 * adds them into the f64 sums: the f32 rounding then applies to sums of at most this many terms
 * (relative error ≤ 4096·2⁻²⁴ ≈ 2.4e-4 of their magnitudes in the worst case, about 1e-6 in
 * practice); a flush costs one pass over the movies' 16-byte partial sums.
 */
export const PEARSON_BASELINE_FLUSH_RATERS = 4096;

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

/** An instance of the kernels on `memory`, for the layout's movie indices (u16 or u32, or the segmented copy). */
export function similarityKernels(
  memory: WasmMemory,
  layout: Pick<SimilarityLayout, 'movieIndexBytes' | 'segmented'>,
  module: WasmModule = similarityWasmModule(),
): SimilarityKernels {
  const exports = new wasmApi.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
  const { movieIndexBytes } = layout;
  if (layout.segmented) {
    return {
      accumulateJaccard: exports.accumulateJaccardSegmented as SimilarityKernels['accumulateJaccard'],
      accumulateMoments: exports.accumulateMomentsSegmented as SimilarityKernels['accumulateMoments'],
      accumulatePearsonBaselineF32: exports.accumulatePearsonBaselineSegmented as SimilarityKernels['accumulatePearsonBaselineF32'],
    };
  }
  const bits = movieIndexBytes * 8;
  const pick = <F>(name: string): F => exports[`${name}${bits}`] as F;
  return {
    accumulateJaccard: pick('accumulateJaccard'),
    accumulateMoments: pick('accumulateMoments'),
    accumulatePearsonBaselineF32: (exports.accumulatePearsonBaselineF32 as (bytes: number, ...rest: Parameters<SimilarityKernels['accumulatePearsonBaselineF32']>) => void).bind(
      null,
      movieIndexBytes,
    ),
  };
}

/**
 * Byte offsets of everything the kernels use in the pool's memory: the six matrix arrays (the CSR's
 * movie indices as u16 when `movieIndexBytes` is 2, else the matrix's own i32; i32 too when
 * `segmented`, for poolMatrix, the kernels then reading the segmented copy), the segmented copy
 * when there is one (see `segmented`), the baselines
 * (f64 [μ, b_u × nUsers, b_i × nMovies]), the code windows of accumulateMoments (CODE_WINDOWS
 * tables of 256 u32, see codeWindows) and, per worker w, an accumulator region at
 * `accumulators + w·regionBytes` (i32 counts or f64 sums, zero between queries), MOMENT_SLOTS packed
 * slots of `packedBytes` each at `packed + w·MOMENT_SLOTS·packedBytes` (u64 per movie; pearson-baseline's
 * f32x4 partial sums, 16 bytes per movie, use the same bytes) and 1 KiB of
 * scratch at `scratch + w·1024`. The pool's own part is the `bytes` from `base`; matrix arrays
 * placed by the caller (the matrix's own arrays in its WebAssembly memory) lie outside it.
 */
export interface SimilarityLayout {
  nUsers: number;
  nMovies: number;
  nRatings: number;
  /** Bytes per movie index the kernels stream: 2 (a u16 copy, or the segmented copy) up to 65,536 movies, or 4 (i32). */
  movieIndexBytes: 2 | 4;
  /**
   * Whether the kernels read the segmented copy: each user's row of u16 movie indices ordered by
   * rating code (ascending codes, movies ascending within a code) at `segmentedMovies`, the end of
   * each code's run relative to the row's start (u16 × `nCodes` per user) at `segmentEnds`, and
   * the codes (u32 × `nCodes`, ascending) at `codeList`. A rating's code is then where it lies:
   * the kernels stream 2 bytes per co-rating (no rating byte) and add one constant per run.
   * 2 B/rating + 2·nCodes B/user, in place of the plain u16 copy; `userMovies` (i32, row order)
   * stays the matrix's own. Only for up to MOMENT_SLOTS codes and 65,535 movies.
   */
  segmented: boolean;
  segmentedMovies: number;
  segmentEnds: number;
  codeList: number;
  /** Codes of the segmented copy (0 without one). */
  nCodes: number;
  /**
   * The kernels' matrix descriptor: u32 offsets of movieUsers, movieRatings, userPtr, userMovies,
   * userRatings, segmentedMovies, segmentEnds, codeList, then nCodes (the last four 0 without a
   * segmented copy).
   */
  matrix: number;
  userPtr: number;
  moviePtr: number;
  userMovies: number;
  movieUsers: number;
  userRatings: number;
  movieRatings: number;
  baselines: number;
  accumulators: number;
  regionBytes: number;
  codeSlots: number;
  packed: number;
  packedBytes: number;
  scratch: number;
  /** Where the pool's own part starts (a multiple of the 64 KiB page). */
  base: number;
  /** Bytes of the pool's own part (a multiple of the 64 KiB page). */
  bytes: number;
}

/** Byte offsets of matrix arrays that already are in the memory (not laid out, not copied). */
export type PlacedArrays = Partial<Pick<SimilarityLayout, 'userPtr' | 'moviePtr' | 'userMovies' | 'movieUsers' | 'userRatings' | 'movieRatings'>>;

/** Bytes per WebAssembly page. */
export const PAGE = 65536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB). */
const MAX_PAGES = 65536;
/** Rating codes accumulateMoments takes in one pass (each with its own packed accumulators): every code of whole- or half-star data. */
export const MOMENT_SLOTS = 10;
/** u32 fields of the kernels' matrix descriptor (SimilarityLayout.matrix). */
const DESCRIPTOR_FIELDS = 9;
/** Windows of MOMENT_SLOTS codes that cover all 256 codes. */
export const CODE_WINDOWS = Math.ceil(256 / MOMENT_SLOTS);

/**
 * The layout for a matrix of that size and `threads` workers; `stride` is the most f64 slots per
 * movie of any metric; `movieIndexBytes` defaults to 2 up to 65,536 movies, else 4 (4 may be asked
 * for any matrix: the tests run both kernels on one). Arrays in `placed` keep their offsets; the
 * rest is laid out from `base` (a page boundary; 0 for a memory of the pool's own). `codes` > 0
 * lays out a segmented copy for that many rating codes (see SimilarityLayout.segmented; fill it
 * with copySegmented).
 */
export function similarityLayout(
  nUsers: number,
  nMovies: number,
  nRatings: number,
  threads: number,
  stride: number,
  movieIndexBytes: 2 | 4 = nMovies <= 65536 ? 2 : 4,
  placed: PlacedArrays = {},
  base = 0,
  codes = 0,
): SimilarityLayout {
  if (movieIndexBytes === 2 && nMovies > 65536) throw new RangeError(`u16 movie indices cannot hold ${nMovies} movies`);
  const segmented = codes > 0;
  if (segmented && !canSegment(nMovies, codes)) throw new RangeError(`a segmented copy holds up to ${MOMENT_SLOTS} codes and 65,535 movies, not ${codes} and ${nMovies}`);
  if (segmented && movieIndexBytes !== 2) throw new RangeError('a segmented copy streams u16 movie indices');
  if (placed.userMovies !== undefined && movieIndexBytes !== 4 && !segmented) throw new RangeError('placed movie indices are the matrix\'s own i32');
  let end = base + 64;
  // Every block on a 64-byte boundary: no two workers write one cache line.
  const take = (bytes: number): number => {
    const at = Math.ceil(end / 64) * 64;
    end = at + bytes;
    return at;
  };
  const regionBytes = Math.max(64, Math.ceil((nMovies * stride * 8) / 64) * 64);
  const packedBytes = Math.max(64, Math.ceil((nMovies * 8) / 64) * 64);
  const layout: SimilarityLayout = {
    nUsers,
    nMovies,
    nRatings,
    movieIndexBytes,
    segmented,
    nCodes: codes,
    matrix: take(4 * DESCRIPTOR_FIELDS),
    userPtr: placed.userPtr ?? take(4 * (nUsers + 1)),
    moviePtr: placed.moviePtr ?? take(4 * (nMovies + 1)),
    userMovies: placed.userMovies ?? take((segmented ? 4 : movieIndexBytes) * nRatings),
    segmentedMovies: segmented ? take(2 * nRatings) : 0,
    segmentEnds: segmented ? take(2 * codes * nUsers) : 0,
    codeList: segmented ? take(4 * codes) : 0,
    movieUsers: placed.movieUsers ?? take(4 * nRatings),
    userRatings: placed.userRatings ?? take(nRatings),
    movieRatings: placed.movieRatings ?? take(nRatings),
    baselines: take(8 * (1 + nUsers + nMovies)),
    codeSlots: take(CODE_WINDOWS * 1024),
    accumulators: take(threads * regionBytes),
    regionBytes,
    packed: take(threads * MOMENT_SLOTS * packedBytes),
    packedBytes,
    scratch: take(threads * 1024),
    base,
    bytes: 0,
  };
  layout.bytes = Math.ceil((end - base) / PAGE) * PAGE;
  if ((base + layout.bytes) / PAGE > MAX_PAGES) {
    throw new RangeError(
      `the similarity pool's WebAssembly memory would need ${((base + layout.bytes) / 2 ** 30).toFixed(2)} GiB for ${nRatings} ratings, ` +
        `more than the 4 GiB a wasm32 memory can hold (about 400M ratings)`,
    );
  }
  return layout;
}

/** Whether a segmented copy can hold a matrix of `nMovies` movies and `codes` rating codes (its run ends are u16, one window of codes). */
export function canSegment(nMovies: number, codes: number): boolean {
  return codes >= 1 && codes <= MOMENT_SLOTS && nMovies <= 65535;
}

/** Writes the kernels' matrix descriptor (see SimilarityLayout.matrix) into the memory. */
export function writeDescriptor(memory: WasmMemory, l: SimilarityLayout): void {
  new Uint32Array(memory.buffer, l.matrix, DESCRIPTOR_FIELDS).set([
    l.movieUsers,
    l.movieRatings,
    l.userPtr,
    l.userMovies,
    l.userRatings,
    l.segmentedMovies,
    l.segmentEnds,
    l.codeList,
    l.nCodes,
  ]);
}

/** A new shared memory of the layout's size (its `base` must be 0), zeroed but for the kernels' matrix descriptor. */
export function similarityMemory(layout: SimilarityLayout): WasmMemory {
  if (layout.base !== 0) throw new RangeError('similarityMemory lays out a memory of its own: base must be 0');
  const pages = layout.bytes / PAGE;
  const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
  writeDescriptor(memory, layout);
  return memory;
}

/** The matrix arrays in the memory, as views: a MatrixArrays but for the narrower movie indices (rows in the matrix's order; not the segmented copy). */
export function poolMatrix(memory: WasmMemory, l: SimilarityLayout): BaselineMatrix {
  const b = memory.buffer;
  return {
    nUsers: l.nUsers,
    nMovies: l.nMovies,
    userPtr: new Uint32Array(b, l.userPtr, l.nUsers + 1),
    moviePtr: new Uint32Array(b, l.moviePtr, l.nMovies + 1),
    userMovies: l.movieIndexBytes === 2 && !l.segmented ? new Uint16Array(b, l.userMovies, l.nRatings) : new Int32Array(b, l.userMovies, l.nRatings),
    movieUsers: new Int32Array(b, l.movieUsers, l.nRatings),
    userRatings: new Uint8Array(b, l.userRatings, l.nRatings),
    movieRatings: new Uint8Array(b, l.movieRatings, l.nRatings),
  };
}

/** Elements copied or scanned per turn of the event loop (1M: about a millisecond). */
const COPY_CHUNK = 1 << 20;

const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Copies the matrix into the memory (views from poolMatrix), one chunk per turn of the event loop
 * so that a 100M-rating matrix (about 1 GB) does not hold the loop. Arrays that already are the
 * matrix's own (the same memory at the same offset) are left alone.
 * @returns which rating codes (stars × 2) the matrix holds: 256 flags (`present` when given, else presentCodes)
 */
export async function copyMatrix(matrix: MatrixArrays, into: BaselineMatrix, present?: Uint8Array): Promise<Uint8Array> {
  // Uint16Array.set of an Int32Array narrows each index (all below 65,536 there).
  const copy = async (from: Uint32Array | Int32Array | Uint8Array, to: Uint32Array | Int32Array | Uint16Array | Uint8Array): Promise<void> => {
    if (from.buffer === to.buffer && from.byteOffset === to.byteOffset) return;
    for (let at = 0; at < from.length; at += COPY_CHUNK) {
      await turn();
      to.set(from.subarray(at, at + COPY_CHUNK), at);
    }
  };
  await copy(matrix.userPtr, into.userPtr);
  await copy(matrix.moviePtr, into.moviePtr);
  await copy(matrix.userMovies, into.userMovies);
  await copy(matrix.movieUsers, into.movieUsers);
  await copy(matrix.movieRatings, into.movieRatings);
  await copy(matrix.userRatings, into.userRatings);
  return present ?? presentCodes(matrix.movieRatings);
}

/** Which rating codes `ratings` holds (256 flags), one chunk per turn of the event loop. */
/** Sets `bytes` to zero, 4 MB per turn of the event loop (a few milliseconds each). */
export async function zeroInChunks(bytes: Uint8Array): Promise<void> {
  const chunk = 4 * COPY_CHUNK;
  for (let at = 0; at < bytes.length; at += chunk) {
    if (at > 0) await turn();
    bytes.fill(0, at, Math.min(bytes.length, at + chunk));
  }
}

export async function presentCodes(ratings: Uint8Array): Promise<Uint8Array> {
  const present = new Uint8Array(256);
  for (let at = 0; at < ratings.length; at += COPY_CHUNK) {
    await turn();
    const end = Math.min(ratings.length, at + COPY_CHUNK);
    for (let p = at; p < end; p++) present[ratings[p]] = 1;
  }
  return present;
}

/** The number of codes flagged in `present`. */
export function codeCount(present: Uint8Array): number {
  return present.reduce((n, flag) => n + (flag !== 0 ? 1 : 0), 0);
}

/**
 * Fills the layout's segmented copy (see SimilarityLayout.segmented) from the matrix's rows: per
 * user, a counting sort of the row by code (stable, so movies stay ascending within a code), one
 * chunk of users per turn of the event loop. `present` flags the matrix's codes (exactly
 * `layout.nCodes` of them).
 */
export async function copySegmented(matrix: MatrixArrays, memory: WasmMemory, l: SimilarityLayout, present: Uint8Array): Promise<void> {
  if (!l.segmented) throw new RangeError('the layout has no segmented copy');
  const b = memory.buffer;
  const nCodes = l.nCodes;
  const codeList = new Uint32Array(b, l.codeList, nCodes);
  const indexOf = new Int32Array(256).fill(-1);
  let k = 0;
  for (let code = 0; code < 256; code++) {
    if (present[code] === 0) continue;
    if (k === nCodes) throw new RangeError(`the matrix holds more than the layout's ${nCodes} codes`);
    indexOf[code] = k;
    codeList[k++] = code;
  }
  if (k !== nCodes) throw new RangeError(`the matrix holds ${k} codes, the layout ${nCodes}`);
  const movies = new Uint16Array(b, l.segmentedMovies, l.nRatings);
  const ends = new Uint16Array(b, l.segmentEnds, nCodes * l.nUsers);
  const { userPtr, userMovies, userRatings } = matrix;
  const next = new Int32Array(nCodes);
  let sinceYield = 0;
  for (let u = 0; u < matrix.nUsers; u++) {
    const from = userPtr[u];
    const to = userPtr[u + 1];
    next.fill(0);
    for (let q = from; q < to; q++) next[indexOf[userRatings[q]]]++;
    // next[c]: where code c's run starts (relative), and its end is written as the run's end.
    let start = 0;
    for (let c = 0; c < nCodes; c++) {
      const length = next[c];
      next[c] = start;
      start += length;
      ends[u * nCodes + c] = start;
    }
    for (let q = from; q < to; q++) movies[from + next[indexOf[userRatings[q]]]++] = userMovies[q];
    sinceYield += to - from;
    if (sinceYield >= COPY_CHUNK) {
      sinceYield = 0;
      await turn();
    }
  }
}

/**
 * Writes the code windows of accumulateMoments into the memory: the codes present, MOMENT_SLOTS
 * per window in ascending order; window w's table (256 u32 at `codeSlots + 1024·w`) holds slot + 1
 * for each of its codes and 0 for the others.
 * @returns the number of windows (passes of accumulateMoments per query; 1 for whole or half stars)
 */
export function codeWindows(memory: WasmMemory, l: SimilarityLayout, present: Uint8Array): number {
  const tables = new Uint32Array(memory.buffer, l.codeSlots, CODE_WINDOWS * 256);
  tables.fill(0);
  let codes = 0;
  for (let code = 0; code < 256; code++) {
    if (present[code] === 0) continue;
    tables[Math.floor(codes / MOMENT_SLOTS) * 256 + code] = (codes % MOMENT_SLOTS) + 1;
    codes++;
  }
  return Math.ceil(codes / MOMENT_SLOTS);
}

/**
 * The most raters accumulateMoments may pack before it flushes, for rating codes up to `maxCode`:
 * its three 21-, 21- and 22-bit fields hold the raters, Σy ≤ chunk·maxCode and Σy² ≤ chunk·maxCode².
 */
export function momentsChunk(present: Uint8Array): number {
  let maxCode = 0;
  for (let code = 0; code < present.length; code++) if (present[code] !== 0) maxCode = code;
  const FIELD = 2 ** 21 - 1;
  const TOP = 2 ** 22 - 1;
  return Math.max(1, Math.min(FIELD, Math.floor(FIELD / Math.max(1, maxCode)), Math.floor(TOP / Math.max(1, maxCode * maxCode))));
}
