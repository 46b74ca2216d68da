// Worker thread of SimilarityPool: sleeps in Atomics.wait until the main thread posts a query in
// the shared control array, runs the WebAssembly kernel of the query's metric over its range of
// the movie's raters into its own accumulator region of the shared memory, counts itself done, and
// sleeps again. Imports only relative modules (and types) so that it runs both compiled and from
// sources (jest, through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { SIMILARITY_METRICS } from './similarity';
import { strideOf } from './similarity-kernels';
import { COMMAND_STOP, CONTROL, SimilarityPoolWorkerInput, SimilarityPoolWorkerMessage } from './similarity-pool-protocol';
import { similarityKernels } from './similarity-wasm';

function run(input: SimilarityPoolWorkerInput): void {
  const { layout: l, worker, threads, chunk } = input;
  const kernels = similarityKernels(input.memory, input.module);
  const control = new Int32Array(input.control);
  const ranges = new Uint32Array(input.ranges);
  const region = l.accumulators + worker * l.regionBytes;
  const packed = l.packed + worker * l.packedBytes;
  const histogram = l.histogram + worker * 1024;
  const globalMean = new Float64Array(input.memory.buffer, l.baselines, 1);
  const userBias = l.baselines + 8;
  const movieBias = l.baselines + 8 * (1 + l.nUsers);

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
    const pFrom = ranges[2 * worker];
    const pTo = ranges[2 * worker + 1];
    if (metric === 'jaccard') {
      kernels.accumulateJaccard(l.movieUsers, l.userPtr, l.userMovies, pFrom, pTo, region);
    } else if (metric === 'pearson-baseline') {
      kernels.accumulatePearsonBaseline(l.movieUsers, l.movieRatings, l.userPtr, l.userMovies, l.userRatings, pFrom, pTo, m, globalMean[0], userBias, movieBias, region);
    } else {
      kernels.accumulateMoments(l.movieUsers, l.movieRatings, l.userPtr, l.userMovies, l.userRatings, pFrom, pTo, packed, region, strideOf(metric), l.nMovies, chunk, histogram);
    }
    // Seq-cst add: the main thread that sees the count also sees the accumulators.
    if (Atomics.add(control, CONTROL.DONE, 1) + 1 === threads) Atomics.notify(control, CONTROL.DONE);
  }
}

run(workerData as SimilarityPoolWorkerInput);
