import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/**
 * Run a full garbage collection now, so that large typed arrays just dropped (an import's parse
 * arrays, gigabytes at 100M ratings) are returned before the next large allocation instead of
 * whenever V8 next collects: without it the dropped and the new arrays are resident together
 * and the import's peak grows by their size. Uses `globalThis.gc` when the process runs with
 * `--expose-gc`, else exposes it once through the V8 flag (Node's documented `v8.setFlagsFromString`
 * with `vm`); a few milliseconds for a small heap.
 */
export function releaseMemory(): void {
  if (collect === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}
