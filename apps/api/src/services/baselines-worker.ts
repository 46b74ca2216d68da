// Worker-thread entry that fits the ALS baselines of pearson-baseline similarities (about 24 s at
// 100M ratings), so that the API's event loop never runs the fit. It reads the training matrix
// from shared memory (no copy) and hands the biases back by transfer.
import { parentPort, workerData } from 'node:worker_threads';
import { fitBaselinesAls } from '@recsys/similarity';
import type { BaselinesJob, BaselinesMessage } from './similar-movies-protocol';

const port = parentPort;
if (!port) throw new Error('baselines-worker must run in a worker thread');
try {
  const { globalMean, userBias, movieBias } = fitBaselinesAls((workerData as BaselinesJob).matrix);
  port.postMessage({ type: 'done', globalMean, userBias, movieBias } satisfies BaselinesMessage, [userBias.buffer as ArrayBuffer, movieBias.buffer as ArrayBuffer]);
} catch (error) {
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies BaselinesMessage);
}
