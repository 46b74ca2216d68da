// Worker thread of SimilarityPool: sleeps in Atomics.wait until the main thread posts a query in
// the shared control array, adds the contributions of its range of the movie's raters into its
// own accumulator region, counts itself done, and sleeps again. Imports only relative modules (and
// types) so that it runs both compiled and from sources (jest, through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import type { Baselines } from './baselines';
import { SIMILARITY_METRICS } from './similarity';
import { accumulateDense } from './similarity-kernels';
import {
  COMMAND_STOP,
  CONTROL,
  SimilarityPoolWorkerInput,
  SimilarityPoolWorkerMessage,
} from './similarity-pool-protocol';

function run(input: SimilarityPoolWorkerInput): void {
  const { matrix, worker, threads } = input;
  const { nUsers, nMovies } = matrix;
  const control = new Int32Array(input.control);
  const ranges = new Uint32Array(input.ranges);
  const regionOffset = worker * input.regionBytes;
  // Two views of one region: a query uses one of them, and leaves the region zeroed.
  const counts = new Int32Array(input.accumulators, regionOffset, nMovies);
  const sums = new Float64Array(input.accumulators, regionOffset, input.regionBytes / 8);
  const baselineValues = new Float64Array(input.baselines);
  const userBias = baselineValues.subarray(1, 1 + nUsers);
  const movieBias = baselineValues.subarray(1 + nUsers, 1 + nUsers + nMovies);

  parentPort!.postMessage({ type: 'ready' } satisfies SimilarityPoolWorkerMessage);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.SEQUENCE, seen);
    const sequence = Atomics.load(control, CONTROL.SEQUENCE);
    if (sequence === seen) continue;
    seen = sequence;
    if (Atomics.load(control, CONTROL.COMMAND) === COMMAND_STOP) break;
    const m = control[CONTROL.MOVIE];
    const metric = SIMILARITY_METRICS[control[CONTROL.METRIC]];
    const baselines: Baselines | null =
      metric === 'pearson-baseline' ? { globalMean: baselineValues[0], userBias, movieBias } : null;
    accumulateDense(metric, matrix, baselines, m, ranges[2 * worker], ranges[2 * worker + 1], counts, sums);
    // Seq-cst add: the main thread that sees the count also sees the accumulators.
    if (Atomics.add(control, CONTROL.DONE, 1) + 1 === threads) Atomics.notify(control, CONTROL.DONE);
  }
}

run(workerData as SimilarityPoolWorkerInput);
