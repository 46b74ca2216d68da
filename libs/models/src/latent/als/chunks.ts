import type { AlsRowKernel } from './passes';
import { ALS_CONTROL, AlsShared } from './protocol';

/**
 * Takes chunks of the half step's rows from the shared counter until none is left (or another
 * thread aborted) and solves them; with `withSse` (the second half step) it also stores each chunk's Σ e²
 * (the iALS trainer runs it too: its kernel's solveRows returns a chunk's objective share).
 */
export function runChunks(kernel: Pick<AlsRowKernel, 'solveRows'>, s: Pick<AlsShared, 'userChunks' | 'movieChunks' | 'chunkSse' | 'control'>, byUser: boolean, withSse: boolean): void {
  const chunks = byUser ? s.userChunks : s.movieChunks;
  const nChunks = chunks.length - 1;
  const control = s.control;
  for (;;) {
    if (Atomics.load(control, ALS_CONTROL.abort) !== 0) return;
    const c = Atomics.add(control, ALS_CONTROL.cursor, 1);
    if (c >= nChunks) return;
    const result = kernel.solveRows(byUser, chunks[c], chunks[c + 1], withSse);
    if (withSse) s.chunkSse[c] = result;
  }
}
