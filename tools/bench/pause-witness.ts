/**
 * A witness for pauses of the whole machine, beside a server's own event-loop delay: a thread of
 * the benchmark's process that sleeps `periodMs` at a time (Atomics.wait with a timeout, so no
 * event loop of any process delays it) and keeps the longest oversleep. When the server reports
 * a long event-loop stall and the witness overslept as long over the same span, the VM or the
 * host paused (or starved) both processes; when the witness stayed short, the stall was the
 * server's own work. It cannot tell a host pause from both cores being busy for that long, so
 * its figure is an upper bound on what the server did not cause.
 */
import { Worker } from 'node:worker_threads';

/**
 * The loop both the thread and the specs run (plain JavaScript): sleeps `period` ms at a time on
 * control[0] until it becomes non-zero, then writes the longest oversleep (ms) and the count of
 * sleeps into result[0] and result[1].
 */
export const WITNESS_LOOP = `
function witness(control, result, period) {
  let max = 0;
  let count = 0;
  while (Atomics.load(control, 0) === 0) {
    const before = performance.now();
    if (Atomics.wait(control, 0, 0, period) !== 'timed-out') break;
    const late = performance.now() - before - period;
    if (late > max) max = late;
    count++;
  }
  result[0] = max;
  result[1] = count;
}`;

export interface PauseWitnessReading {
  /** The longest oversleep of one `periodMs` sleep, in ms. */
  maxLatenessMs: number;
  /** Sleeps completed. */
  sleeps: number;
}

export interface PauseWitness {
  /** Wakes the thread, waits for it to exit and answers what it saw. */
  stop(): Promise<PauseWitnessReading>;
}

/** Starts the witness thread (one per span to watch). */
export function startPauseWitness(periodMs = 5): PauseWitness {
  if (!(periodMs > 0)) throw new RangeError(`pause witness period must be > 0 ms, got ${periodMs}`);
  const control = new Int32Array(new SharedArrayBuffer(4));
  const result = new Float64Array(new SharedArrayBuffer(16));
  const source = `${WITNESS_LOOP}
const { workerData } = require('node:worker_threads');
witness(new Int32Array(workerData.control), new Float64Array(workerData.result), workerData.period);`;
  const worker = new Worker(source, { eval: true, workerData: { control: control.buffer, result: result.buffer, period: periodMs } });
  worker.unref();
  // Listened to from the start: a thread that failed early has exited before stop() is called.
  let failure: Error | null = null;
  worker.once('error', (error) => (failure = error));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopped: Promise<PauseWitnessReading> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        Atomics.store(control, 0, 1);
        Atomics.notify(control, 0);
        await exited;
        if (failure) throw new Error(`pause witness thread failed: ${(failure as Error).message}`);
        return { maxLatenessMs: result[0], sleeps: result[1] };
      })();
      return stopped;
    },
  };
}
