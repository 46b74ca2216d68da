// Worker thread of SimilarityPool: sleeps in Atomics.wait until the main thread posts a query in
// the shared control array, runs the WebAssembly kernel of the query's metric over its range of
// the movie's raters into its own accumulator region of the shared memory (or, worker 0, fits the
// ALS baselines into the memory), counts itself done, and sleeps again. Imports only relative modules (and types) so that it runs both compiled and from
// sources (jest, through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { SIMILARITY_METRICS } from './similarity';
import { strideOf } from './similarity-kernels';
import { fitBaselinesAls } from './baselines';
import { COMMAND_FIT_BASELINES, COMMAND_STOP, CONTROL, SimilarityPoolWorkerInput, SimilarityPoolWorkerMessage } from './similarity-pool-protocol';
import { MOMENT_SLOTS, PEARSON_BASELINE_FLUSH_RATERS, poolMatrix, similarityKernels } from './similarity-wasm';

function run(input: SimilarityPoolWorkerInput): void {
  const { layout: l, worker, threads, chunk, windows } = input;
  const kernels = similarityKernels(input.memory, l, input.module);
  const control = new Int32Array(input.control);
  const ranges = new Uint32Array(input.ranges);
  const region = l.accumulators + worker * l.regionBytes;
  const packed = l.packed + worker * MOMENT_SLOTS * l.packedBytes;
  const scratch = l.scratch + worker * 1024;
  const baselineValues = new Float64Array(input.memory.buffer, l.baselines, 1 + l.nUsers + l.nMovies);
  const userBias = l.baselines + 8;
  const movieBias = l.baselines + 8 * (1 + l.nUsers);

  parentPort!.postMessage({ type: 'ready' } satisfies SimilarityPoolWorkerMessage);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.SEQUENCE, seen);
    const sequence = Atomics.load(control, CONTROL.SEQUENCE);
    if (sequence === seen) continue;
    seen = sequence;
    const command = Atomics.load(control, CONTROL.COMMAND);
    if (command === COMMAND_STOP) break;
    if (command === COMMAND_FIT_BASELINES) {
      if (worker === 0) {
        const b = fitBaselinesAls(poolMatrix(input.memory, l));
        baselineValues[0] = b.globalMean;
        baselineValues.set(b.userBias, 1);
        baselineValues.set(b.movieBias, 1 + l.nUsers);
      }
      if (Atomics.add(control, CONTROL.DONE, 1) + 1 === threads) Atomics.notify(control, CONTROL.DONE);
      continue;
    }
    const m = control[CONTROL.MOVIE];
    const metric = SIMILARITY_METRICS[control[CONTROL.METRIC]];
    const pFrom = ranges[2 * worker];
    const pTo = ranges[2 * worker + 1];
    if (metric === 'jaccard') {
      kernels.accumulateJaccard(l.matrix, pFrom, pTo, region);
    } else if (metric === 'pearson-baseline') {
      // The packed slots (80 bytes per movie) hold the partial sums (16 bytes per movie, 32 over the segmented copy).
      kernels.accumulatePearsonBaselineF32(l.matrix, pFrom, pTo, m, baselineValues[0], userBias, movieBias, region, packed, l.nMovies, PEARSON_BASELINE_FLUSH_RATERS);
    } else {
      const stride = strideOf(metric);
      for (let w = 0; w < windows; w++) {
        kernels.accumulateMoments(l.matrix, pFrom, pTo, packed, l.packedBytes, region, stride, l.nMovies, chunk, l.codeSlots + 1024 * w, scratch);
      }
    }
    // Seq-cst add: the main thread that sees the count also sees the accumulators.
    if (Atomics.add(control, CONTROL.DONE, 1) + 1 === threads) Atomics.notify(control, CONTROL.DONE);
  }
}

run(workerData as SimilarityPoolWorkerInput);
