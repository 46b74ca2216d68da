// Worker-thread entry of a training run: the API's event loop never runs a training epoch.
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainingJob, TrainingJob, TrainingJobError, TrainingMessage, transferablesOf } from './training-job';

const port = parentPort;
if (!port) throw new Error('training-worker must run in a worker thread');
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

runTrainingJob(workerData as TrainingJob, (progress) => post({ type: 'progress', progress })).then(
  ({ save, ...outcome }) => {
    // The factors are in shared memory and a new matrix's buffers are transferred: the server copies
    // nothing and serves the model at once; the artifact is written after.
    post({ type: 'done', outcome }, transferablesOf(outcome));
    save();
    post({ type: 'saved' });
  },
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), guard: error instanceof TrainingJobError ? error.guard : undefined }),
).catch((error: unknown) => post({ type: 'error', message: `writing the model artifact failed: ${error instanceof Error ? error.message : String(error)}` }));
