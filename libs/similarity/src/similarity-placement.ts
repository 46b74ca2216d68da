// Where SimilarityPool's kernels find the matrix: in place, in the matrix's own WebAssembly memory
// (zero copy), or in a copy in a memory of the pool's own. Main thread only (the workers get the
// resulting memory and layout). Internal to the lib (not exported from index.ts).
import { MatrixArrays, registerWasmBuffer, SharedWasmMemory, wasmMemoryOf } from '@recsys/core';
import {
  canSegment,
  codeCount,
  copyMatrix,
  copySegmented,
  zeroInChunks,
  PAGE,
  PlacedArrays,
  poolMatrix,
  presentCodes,
  SimilarityLayout,
  similarityLayout,
  similarityMemory,
  WasmMemory,
  writeDescriptor,
} from './similarity-wasm';

/**
 * The memory the pool's kernels run on, its layout, and how to give back the pool's part:
 *
 * - zero copy: when the matrix's six arrays all lie in one shared WebAssembly.Memory (a snapshot
 *   read by readContainer, see `sharedBuffer` of @recsys/core), the kernels read them there, the
 *   movie indices as the matrix's own i32 (or, with `narrowMovieIndices`, a u16 copy of them: 2
 *   bytes per rating for about a third less memory traffic per query; segmented by rating code,
 *   see SimilarityLayout.segmented, when the matrix has at most MOMENT_SLOTS codes and 65,535
 *   movies, as the Netflix Prize: 2 B/rating + 2 B per user and code), and the memory grows by the
 *   pool's working space (baselines, accumulators: about 4 MB + 0.9 MB per thread at the Netflix
 *   Prize's size), reused by the next pool on that memory once this one is released;
 * - otherwise the arrays are copied into a memory of the pool's own (movie indices as u16 up to
 *   65,536 movies).
 *
 * Copies run one chunk per turn of the event loop. `shared` says which case it was. `segment`
 * false keeps the plain u16 copy where a segmented one would fit.
 */
export async function placeMatrix(
  matrix: MatrixArrays,
  threads: number,
  stride: number,
  narrowMovieIndices: boolean,
  segment = true,
): Promise<{ memory: WasmMemory; layout: SimilarityLayout; present: Uint8Array; shared: boolean; release: () => void }> {
  const { nUsers, nMovies } = matrix;
  const nRatings = matrix.userMovies.length;
  const arrays = [matrix.userPtr, matrix.moviePtr, matrix.userMovies, matrix.movieUsers, matrix.userRatings, matrix.movieRatings];
  const memory = wasmMemoryOf(matrix.userPtr.buffer);
  const shared = memory !== undefined && arrays.every((a) => wasmMemoryOf(a.buffer) === memory);
  if (!shared) {
    const layout = similarityLayout(nUsers, nMovies, nRatings, threads, stride);
    const own = similarityMemory(layout);
    const present = await copyMatrix(matrix, poolMatrix(own, layout));
    return { memory: own, layout, present, shared, release: () => undefined };
  }
  const narrow = narrowMovieIndices && nMovies <= 65536;
  const present = await presentCodes(matrix.movieRatings);
  const codes = narrow && segment && canSegment(nMovies, codeCount(present)) ? codeCount(present) : 0;
  const placed: PlacedArrays = {
    userPtr: matrix.userPtr.byteOffset,
    moviePtr: matrix.moviePtr.byteOffset,
    userMovies: narrow && codes === 0 ? undefined : matrix.userMovies.byteOffset,
    movieUsers: matrix.movieUsers.byteOffset,
    userRatings: matrix.userRatings.byteOffset,
    movieRatings: matrix.movieRatings.byteOffset,
  };
  const size = similarityLayout(nUsers, nMovies, nRatings, threads, stride, narrow ? 2 : 4, placed, 0, codes).bytes;
  const { at: base, grown } = reserveRegion(memory, size);
  const layout = similarityLayout(nUsers, nMovies, nRatings, threads, stride, narrow ? 2 : 4, placed, base, codes);
  // A region given back by a pool that was terminated mid-query may hold partial sums: zeroed in
  // chunks between turns of the event loop (in one fill, at 100M ratings, it held the loop for
  // 1.06 s when a retrain's new pool started). A grown one is zero already (WebAssembly zero-fills
  // new pages), so it is not touched here at all: its pages are first written by the chunked copies.
  if (!grown) await zeroInChunks(new Uint8Array(memory.buffer, base, size));
  writeDescriptor(memory, layout);
  await copyMatrix(matrix, poolMatrix(memory, layout), present);
  if (layout.segmented) await copySegmented(matrix, memory, layout, present);
  return { memory, layout, present, shared, release: () => releaseRegion(memory, base, size) };
}

/** Regions given back, by memory and size in bytes. */
const freeRegions = new WeakMap<WasmMemory, Map<number, number[]>>();

/**
 * A page-aligned region of `bytes` in the memory: one given back before (`grown` false: it may
 * hold anything), else the memory grows by it (`grown` true: all zero).
 */
function reserveRegion(memory: SharedWasmMemory, bytes: number): { at: number; grown: boolean } {
  const free = freeRegions.get(memory)?.get(bytes);
  if (free !== undefined && free.length > 0) return { at: free.pop()!, grown: false };
  const at = memory.grow(bytes / PAGE) * PAGE;
  registerWasmBuffer(memory);
  return { at, grown: true };
}

function releaseRegion(memory: SharedWasmMemory, at: number, bytes: number): void {
  let bySize = freeRegions.get(memory);
  if (bySize === undefined) freeRegions.set(memory, (bySize = new Map()));
  const list = bySize.get(bytes) ?? [];
  list.push(at);
  bySize.set(bytes, list);
}

