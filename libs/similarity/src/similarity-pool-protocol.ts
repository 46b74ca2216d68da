import type { SimilarityLayout, WasmMemory, WasmModule } from './similarity-wasm';

/**
 * What SimilarityPool hands each worker thread. The matrix, the baselines and every worker's
 * accumulators live in one shared WebAssembly memory (`layout` says where); queries are passed
 * through `control` (Atomics.wait/notify), not messages.
 */
export interface SimilarityPoolWorkerInput {
  /** The compiled kernels (assembly/similarity.ts). */
  module: WasmModule;
  /** The shared linear memory the kernels run on. */
  memory: WasmMemory;
  layout: SimilarityLayout;
  /** This worker's number: its range in `ranges` and its accumulator region. */
  worker: number;
  /** Number of workers. */
  threads: number;
  /** Int32 slots, see CONTROL. */
  control: SharedArrayBuffer;
  /** Uint32 × 2·threads: worker w accumulates m's raters at CSC positions [ranges[2w], ranges[2w+1]). */
  ranges: SharedArrayBuffer;
  /** accumulateMoments' flush interval for this matrix's rating codes (`momentsChunk`). */
  chunk: number;
  /** accumulateMoments' code windows (`codeWindows`): passes per cosine or pearson query. */
  windows: number;
}

/** Slots of the Int32 control array. */
export const CONTROL = {
  /** Incremented by the main thread for each command; workers Atomics.wait on it. */
  SEQUENCE: 0,
  /** COMMAND_ACCUMULATE, COMMAND_FIT_BASELINES or COMMAND_STOP. */
  COMMAND: 1,
  /** Internal movie index of the query. */
  MOVIE: 2,
  /** Index of the metric in SIMILARITY_METRICS. */
  METRIC: 3,
  /** Workers finished with the current query; the last one notifies. */
  DONE: 4,
} as const;

export const CONTROL_SLOTS = 5;
export const COMMAND_ACCUMULATE = 0;
export const COMMAND_STOP = 1;
/** Worker 0 fits the ALS baselines (`fitBaselinesAls`'s defaults) into the memory's baselines; the others only count themselves done. */
export const COMMAND_FIT_BASELINES = 2;

/** The only message a worker posts: it has wrapped the shared memory and waits for queries. */
export type SimilarityPoolWorkerMessage = { type: 'ready' };
