// Worker-thread entry of a training run: the API's event loop never runs a training epoch.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainingJob, TrainingJob, TrainingJobError, TrainingMessage, transferablesOf } from './training-job';

const port = parentPort;
if (!port) throw new Error('training-worker must run in a worker thread');
// Linux keeps a nice value per thread (setpriority of "process 0" is the calling thread's), and
// threads inherit their creator's: this thread and the epoch threads it starts yield the cores to
// the event loop, which then waits for no training thread's time slice (see TRAINING_NICE).
const job = workerData as TrainingJob;
try {
  if (job.nice) setPriority(job.nice);
} catch {
  // Not permitted here (another OS, a sandbox): training runs at the server's own priority.
}
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

runTrainingJob(job, (progress) => post({ type: 'progress', progress })).then(
  ({ save, ...outcome }) => {
    // The factors are in shared memory and a new matrix's buffers are transferred: the server copies
    // nothing and serves the model at once; the artifact is written after.
    post({ type: 'done', outcome }, transferablesOf(outcome));
    save();
    post({ type: 'saved' });
  },
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), guard: error instanceof TrainingJobError ? error.guard : undefined }),
).catch((error: unknown) => post({ type: 'error', message: `writing the model artifact failed: ${error instanceof Error ? error.message : String(error)}` }));
