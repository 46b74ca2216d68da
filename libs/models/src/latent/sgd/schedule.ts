// Shared by the trainer and its worker threads (relative imports only, so the worker also runs
// from TypeScript sources under jest).
import type { SgdKernel } from './kernel';
import type { SgdLayout } from './layout';
import type { WasmMemory, WasmModule } from '../../wasm';

/** The f32 hyper-parameters an epoch passes to the kernel. */
export interface EpochParameters {
  readonly mu: number;
  readonly lr: number;
  readonly reg: number;
  readonly lrBias: number;
  readonly regBias: number;
}

/**
 * Segments per kernel call. V8 first runs WebAssembly in its baseline compiler and switches to
 * the optimised code only at the next call, so one call per block would run a whole first epoch
 * unoptimised (twice as slow); a few thousand users per call cost nothing and switch early.
 */
export const SEGMENTS_PER_CALL = 4096;

/**
 * Run the SGD kernel over block b's segments in their stored order (users ascending: the user
 * rows stream through memory, the block's movie rows stay in cache). Returns Σ e² of the block (summed per call of {@link SEGMENTS_PER_CALL} segments, then over calls).
 */
export function runBlock(kernel: SgdKernel, layout: SgdLayout, blockSeg: Uint32Array, b: number, p: EpochParameters): number {
  const from = blockSeg[b];
  const to = blockSeg[b + 1];
  let sse = 0;
  for (let start = from; start < to; start += SEGMENTS_PER_CALL) {
    sse += kernel.sgdSegments(
      layout.segUser,
      layout.segOff,
      start,
      Math.min(to, start + SEGMENTS_PER_CALL),
      layout.ratings,
      layout.P,
      layout.Q,
      layout.userBias,
      layout.movieBias,
      layout.kp,
      p.mu,
      p.lr,
      p.reg,
      p.lrBias,
      p.regBias,
    );
  }
  return sse;
}

/** Indices into the control Int32Array shared with the workers. */
export const CONTROL = Object.freeze({
  /** Barrier generation: bumped each time every worker has arrived. */
  generation: 0,
  /** Workers arrived at the current barrier. */
  arrived: 1,
  /** Non-zero: stop (dispose or a failed worker). */
  abort: 2,
  /** First of B round cursors: the next slot of round r to take. */
  cursors: 3,
});

/** Start of a worker thread: everything lives in shared memory. */
export interface SgdWorkerInput {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly layout: SgdLayout;
  /** B × B + 1 segment offsets per block (shared). */
  readonly blockSeg: Uint32Array;
  /** Int32 control words, see {@link CONTROL} (shared). */
  readonly control: Int32Array;
  /** B rounds × B blocks: block index of slot i of round r at r·B + i (shared, rewritten per epoch). */
  readonly schedule: Int32Array;
  /** Σ e² per block (shared). */
  readonly blockSse: Float64Array;
  readonly threads: number;
}

export type SgdWorkerRequest = { type: 'epoch'; parameters: EpochParameters };
export type SgdWorkerMessage = { type: 'ready' } | { type: 'done' } | { type: 'aborted' };
