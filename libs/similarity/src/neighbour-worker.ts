// Worker thread of buildNeighbourIndex: takes movies from a shared cursor and writes each one's
// top-k neighbours into shared slot arrays. Imports only relative modules (and types) so that it
// runs both compiled and from sources (jest, through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import type { NeighbourWorkerInput, NeighbourWorkerMessage } from './neighbour-worker-protocol';
import { SimilarityScorer } from './similarity';

function run(input: NeighbourWorkerInput): void {
  const scorer = new SimilarityScorer(input.matrix, {
    metric: input.metric,
    minSupport: input.minSupport,
    shrinkage: input.shrinkage,
    baselines: input.baselines ?? undefined,
  });
  const order = new Int32Array(input.order);
  const cursor = new Int32Array(input.cursor);
  const counts = new Int32Array(input.counts);
  const neighbours = new Int32Array(input.neighbours);
  const similarities = new Float32Array(input.similarities);
  const supports = new Int32Array(input.supports);
  const k = input.k;
  let sinceReport = 0;
  for (;;) {
    const position = Atomics.add(cursor, 0, 1);
    if (position >= order.length) break;
    const m = order[position];
    counts[m] = scorer.mostSimilarInto(m, k, neighbours, similarities, supports, m * k);
    if (++sinceReport >= input.progressEvery) {
      parentPort!.postMessage({ type: 'progress', done: sinceReport } satisfies NeighbourWorkerMessage);
      sinceReport = 0;
    }
  }
  parentPort!.postMessage({ type: 'finished', done: sinceReport } satisfies NeighbourWorkerMessage);
}

run(workerData as NeighbourWorkerInput);
