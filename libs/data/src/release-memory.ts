import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/**
 * Run a full garbage collection now, so that large typed arrays just dropped (an import's parse
 * arrays, gigabytes at 100M ratings) are returned before the next large allocation instead of
 * whenever V8 next collects: without it the dropped and the new arrays are resident together
 * and the import's peak grows by their size. Uses `globalThis.gc` when the process runs with
 * `--expose-gc`, else exposes it once through the V8 flag (Node's documented `v8.setFlagsFromString`
 * with `vm`); a few milliseconds for a small heap. `wait: false` runs one collection only: the
 * memory of what it found dead is then freed by V8's background sweeper shortly after this
 * returns, for half the pause (the API, which must not hold its event loop long).
 */
export function releaseMemory(options: { wait?: boolean } = {}): void {
  if (collect === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  // Twice: V8 frees the backing stores of dead array buffers on a background thread after a
  // collection; the next collection waits for that sweep to finish, so the memory is returned
  // before this returns (measured: one collection left 40 of 40 MB resident at 10M ratings).
  collect();
  if (options.wait !== false) collect();
}

/**
 * Detach the buffers of arrays the caller owns and no longer needs (their views become empty),
 * so that their memory goes at the next collection whatever else still references the views
 * (a promise's value, a finished worker's message): moving a buffer out with `structuredClone`'s
 * transfer list takes its memory out of every view, and the moved copy is dropped here. Shared
 * and already detached buffers are left alone.
 */
export function discard(arrays: ReadonlyArray<ArrayBufferView | null>): void {
  for (const a of arrays) {
    if (a === null) continue;
    const buffer = a.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] });
  }
}
