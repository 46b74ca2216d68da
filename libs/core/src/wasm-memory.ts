/**
 * Shared memory that WebAssembly kernels can read in place. A WebAssembly module sees one linear
 * memory only, so kernels that should read the rating matrix without copying it need the matrix's
 * arrays to live in a shared `WebAssembly.Memory` (whose buffer is an ordinary SharedArrayBuffer for
 * every other reader). {@link sharedBuffer} hands out such a buffer (snapshots and other containers
 * are read into one, see readContainer) and {@link wasmMemoryOf} finds the memory behind a buffer,
 * so that a kernel's host (the similarity pool) can run its kernels on it and grow it by the
 * kernels' own working space.
 */

import type { MatrixArrays } from './matrix-arrays';

/** A shared WebAssembly.Memory (opaque to the workspace's lib typings; it can be posted to worker threads). */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  /** Adds `pages` pages of 64 KiB and returns the previous size in pages (throws past the maximum). */
  grow(pages: number): number;
}

/** Bytes per WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB). */
export const WASM_MAX_PAGES = 65536;
/** Pages a buffer of {@link sharedBuffer} leaves free for kernels' working space (1 GiB, reserved address space only). */
const HEADROOM_PAGES = 16384;

interface WasmMemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
}
/** Node's global `WebAssembly` (the workspace compiles without the DOM lib that declares it). */
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmMemoryApi }).WebAssembly;

const memories = new WeakMap<SharedArrayBuffer, SharedWasmMemory>();

/**
 * A SharedArrayBuffer of at least `bytes`: the buffer of a new shared WebAssembly.Memory (rounded
 * up to whole 64 KiB pages, growable to 4 GiB; the pages past `bytes` are address space, not
 * resident memory until written) when `bytes` fits with room to spare, else a plain
 * SharedArrayBuffer of exactly `bytes` (also when no memory can be reserved). Either way its views can be posted to worker threads.
 */
export function sharedBuffer(bytes: number): SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  if (wasmApi === undefined || pages + HEADROOM_PAGES > WASM_MAX_PAGES) return new SharedArrayBuffer(bytes);
  let memory: SharedWasmMemory;
  try {
    memory = new wasmApi.Memory({ initial: pages, maximum: WASM_MAX_PAGES, shared: true });
  } catch {
    // Out of address space for another memory (each reserves its maximum): a plain buffer still serves every reader but WebAssembly.
    return new SharedArrayBuffer(bytes);
  }
  const buffer = memory.buffer;
  memories.set(buffer, memory);
  return buffer;
}

/** The shared WebAssembly.Memory whose buffer `buffer` is (one of {@link sharedBuffer}), or undefined. */
export function wasmMemoryOf(buffer: ArrayBufferLike): SharedWasmMemory | undefined {
  return buffer instanceof SharedArrayBuffer ? memories.get(buffer) : undefined;
}

/**
 * Registers a buffer the memory has since grown into (`memory.buffer` is a new, longer
 * SharedArrayBuffer after `grow`), so that views of it find the memory too.
 */
export function registerWasmBuffer(memory: SharedWasmMemory): SharedArrayBuffer {
  const buffer = memory.buffer;
  memories.set(buffer, memory);
  return buffer;
}

/** The array fields of a MatrixArrays, in the order they are laid out by {@link matrixArraysInOneBuffer}. */
const MATRIX_ARRAY_FIELDS = ['userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings', 'userIds', 'movieIds'] as const;

/**
 * The arrays of `a` (ids included, when present) copied into one buffer of {@link sharedBuffer},
 * each at an 8-byte boundary: shared with worker threads without a copy, and, the rating arrays
 * being in one WebAssembly memory, readable in place by WebAssembly kernels (the similarity pool's).
 * `a` itself when its arrays are all in shared memory already (a snapshot's: then this only checks).
 */
export function matrixArraysInOneBuffer(a: MatrixArrays): MatrixArrays {
  const arrays = MATRIX_ARRAY_FIELDS.map((field) => a[field]).filter((x): x is NonNullable<typeof x> => x !== undefined);
  if (arrays.every((x) => x.buffer instanceof SharedArrayBuffer)) return a;
  const bytes = arrays.reduce((sum, x) => sum + Math.ceil(x.byteLength / 8) * 8, 0);
  const buffer = sharedBuffer(bytes);
  const out: Record<string, unknown> = { ...a };
  let at = 0;
  for (const field of MATRIX_ARRAY_FIELDS) {
    const from = a[field];
    if (from === undefined) continue;
    const to = new (from.constructor as new (b: SharedArrayBuffer, offset: number, length: number) => Int32Array | Uint32Array | Uint8Array)(buffer, at, from.length);
    to.set(from);
    out[field] = to;
    at += Math.ceil(from.byteLength / 8) * 8;
  }
  return out as unknown as MatrixArrays;
}
