// Worker-thread entry of a training run: the API's event loop never runs a training epoch.
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainingJob, TrainingJob, TrainingJobError, TrainingMessage } from './training-job';

const port = parentPort;
if (!port) throw new Error('training-worker must run in a worker thread');
const post = (message: TrainingMessage) => port.postMessage(message);

runTrainingJob(workerData as TrainingJob, (progress) => post({ type: 'progress', progress })).then(
  (outcome) => post({ type: 'done', outcome }),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), guard: error instanceof TrainingJobError ? error.guard : undefined }),
);
