// The BPR trainer's memory layout, the per-thread epoch and its messages with worker threads
// (trainer.ts, worker.ts). Relative imports only (the worker runs from sources under jest).
import { ALS_CONTROL } from '../../latent/als/protocol';
import { BprKernel, BPR_STATE } from './kernel';
import type { WasmMemory, WasmModule } from '../../wasm';

/**
 * Byte offsets (16-byte aligned) of everything the kernel reads and writes, in one buffer (the
 * shared WebAssembly memory, or an ArrayBuffer for the TypeScript kernel): P, Q (rows of kp f32,
 * padding lanes zero), b (f32), the positives by user (ptr u32, movies u32 ascending per row),
 * the user of each positive (owners u32), the negative-sampling table (u32, tableLen entries; none for uniform sampling), one
 * {@link BPR_STATE} block per thread and the control words (i32).
 */
export interface BprLayout {
  readonly nUsers: number;
  readonly nMovies: number;
  readonly nPositives: number;
  readonly factors: number;
  readonly kp: number;
  readonly P: number;
  readonly Q: number;
  readonly bias: number;
  readonly ptr: number;
  readonly movies: number;
  /** The user of each positive (u32, aligned with movies): a uniform positive's user without a search. */
  readonly owners: number;
  readonly table: number;
  readonly tableLen: number;
  readonly states: number;
  readonly control: number;
  /** Thread t trains users userFrom[t] .. userFrom[t+1]−1 (threads + 1 boundaries). */
  readonly userFrom: readonly number[];
  /** Samples per epoch of thread t: its users' positives. */
  readonly samples: readonly number[];
  readonly bytes: number;
}

/** Indices into the Int32 control words. */
export const BPR_CONTROL = Object.freeze({
  /** Non-zero: stop taking chunks (dispose, or a failure in another thread); the word ChunkWorkerPool raises. */
  abort: ALS_CONTROL.abort,
  length: 4,
});

/** The f32 hyper-parameters of an epoch. */
export interface BprStepParams {
  readonly lr: number;
  readonly regUser: number;
  readonly regItem: number;
  readonly regBias: number;
}

/**
 * Samples per kernel call: V8 runs WebAssembly first in its baseline compiler and switches to
 * optimised code only at a later call, and the abort flag is read between calls.
 */
export const BPR_SAMPLES_PER_CALL = 1 << 16;

/** Thread t's share of an epoch: its sample count in calls of {@link BPR_SAMPLES_PER_CALL}; the loss adds up in its state block. */
export function runThreadEpoch(kernel: BprKernel, layout: BprLayout, t: number, p: BprStepParams, control: Int32Array, f64: Float64Array): void {
  const total = layout.samples[t];
  const stateAt = layout.states + t * BPR_STATE.bytes;
  const lossAt = (stateAt + BPR_STATE.loss) >>> 3;
  for (let done = 0; done < total; done += BPR_SAMPLES_PER_CALL) {
    if (Atomics.load(control, BPR_CONTROL.abort) !== 0) return;
    f64[lossAt] += kernel.bprSteps(
      layout.ptr,
      layout.movies,
      layout.owners,
      layout.nMovies,
      layout.userFrom[t],
      layout.userFrom[t + 1],
      layout.table,
      layout.tableLen,
      stateAt,
      Math.min(BPR_SAMPLES_PER_CALL, total - done),
      layout.P,
      layout.Q,
      layout.bias,
      layout.kp,
      p.lr,
      p.regUser,
      p.regItem,
      p.regBias,
    );
  }
}

/** What a worker starts from: the shared memory, the compiled module, the layout and its thread index. */
export interface BprWorkerInput {
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  readonly layout: BprLayout;
  readonly thread: number;
}

export type BprWorkerRequest = { type: 'epoch'; params: BprStepParams };
