// The iALS trainer's memory layout and its requests to worker threads (trainer.ts, worker.ts).
import { ALS_CONTROL } from '../../latent/als/protocol';
import type { AlsRatings } from '../../latent/als/protocol';
import { IALS_GRAM_GROUPS, IalsRowKernel, IalsViews } from './kernel';

/**
 * Byte offsets (16-byte aligned) of everything iALS keeps in its one buffer (the shared
 * WebAssembly memory, or a SharedArrayBuffer / ArrayBuffer for the plain kernel): the factor rows
 * X (users) and Y (items), kp f32 each; λ per row (f32); the confidence tables; the Grams; the
 * chunk boundaries, per-chunk objective shares, control words and one scratch area per thread.
 */
export interface IalsLayout {
  readonly nUsers: number;
  readonly nItems: number;
  readonly factors: number;
  readonly kp: number;
  readonly threads: number;
  readonly nUserChunks: number;
  readonly nItemChunks: number;
  readonly maxChunkRatings: number;
  readonly maxChunkRows: number;
  readonly gatherBytes: number;
  readonly X: number;
  readonly Y: number;
  readonly userReg: number;
  readonly itemReg: number;
  readonly cm1: number;
  readonly cp: number;
  readonly gram: number;
  readonly gram32: number;
  readonly gramParts: number;
  readonly groupReg: number;
  readonly userChunks: number;
  readonly itemChunks: number;
  readonly chunkLoss: number;
  readonly control: number;
  readonly scratch: number;
  readonly scratchBytes: number;
  readonly bytes: number;
}

/** Typed-array views of a layout over its buffer, with the rating arrays read in place. */
export interface IalsShared {
  readonly views: IalsViews;
  readonly userChunks: Uint32Array;
  /** The items' chunks (named as runChunks reads them). */
  readonly movieChunks: Uint32Array;
  readonly chunkSse: Float64Array;
  readonly control: Int32Array;
}

export function ialsSharedViews(buffer: ArrayBuffer | SharedArrayBuffer, l: IalsLayout, ratings: AlsRatings): IalsShared {
  const cells = l.kp * l.kp;
  return {
    views: {
      kp: l.kp,
      users: { ptr: ratings.userPtr, other: ratings.userMovies, codes: ratings.userRatings, factors: new Float32Array(buffer, l.X, l.nUsers * l.kp), reg: new Float32Array(buffer, l.userReg, l.nUsers) },
      items: { ptr: ratings.moviePtr, other: ratings.movieUsers, codes: ratings.movieRatings, factors: new Float32Array(buffer, l.Y, l.nItems * l.kp), reg: new Float32Array(buffer, l.itemReg, l.nItems) },
      cm1: new Float32Array(buffer, l.cm1, 256),
      cp: new Float32Array(buffer, l.cp, 256),
      gram: new Float64Array(buffer, l.gram, cells),
      gram32: new Float32Array(buffer, l.gram32, cells),
      gramParts: new Float64Array(buffer, l.gramParts, IALS_GRAM_GROUPS * cells),
      groupReg: new Float64Array(buffer, l.groupReg, IALS_GRAM_GROUPS),
    },
    userChunks: new Uint32Array(buffer, l.userChunks, l.nUserChunks + 1),
    movieChunks: new Uint32Array(buffer, l.itemChunks, l.nItemChunks + 1),
    chunkSse: new Float64Array(buffer, l.chunkLoss, Math.max(l.nUserChunks, l.nItemChunks)),
    control: new Int32Array(buffer, l.control, ALS_CONTROL.length),
  };
}

/** What a worker starts from. */
export interface IalsWorkerInput {
  layout: IalsLayout;
  ratings: AlsRatings;
  cgSteps: number;
  /** Index of the worker's scratch area (the calling thread uses 0). */
  thread: number;
  memory: { buffer: ArrayBuffer | SharedArrayBuffer } | null;
  module: unknown;
  buffer: SharedArrayBuffer | null;
}

/** A half step over one side's chunks, or the Gram of one side by groups. */
export type IalsWorkerRequest = { type: 'half'; byUser: boolean; withLoss: boolean } | { type: 'gram'; byUser: boolean };

/** Takes Gram groups from the shared counter until none is left (or another thread aborted). */
export function runGramGroups(kernel: IalsRowKernel, s: IalsShared, byUser: boolean): void {
  const control = s.control;
  for (;;) {
    if (Atomics.load(control, ALS_CONTROL.abort) !== 0) return;
    const g = Atomics.add(control, ALS_CONTROL.cursor, 1);
    if (g >= IALS_GRAM_GROUPS) return;
    kernel.gramGroup(byUser, g);
  }
}
