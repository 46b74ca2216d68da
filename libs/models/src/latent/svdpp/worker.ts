// Worker thread of the SVD++ trainer: each epoch it claims runs of layout.usersPerRun users of the
// shared order from a shared cursor, until none is left, and trains on each run with its own
// working copies of the movie parameters (runUsersOnCopies). Imports
// only relative modules (runs from sources under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { svdppWasmKernel } from './kernel';
import { runUsersOnCopies, SVDPP_CONTROL, SvdppEpochParameters, SvdppWorkerInput, SvdppWorkerMessage, SvdppWorkerRequest } from './protocol';

const input = workerData as SvdppWorkerInput;
const kernel = svdppWasmKernel(input.memory, input.module);
const { control, layout, lock, sse, thread } = input;
const f32 = new Float32Array(input.memory.buffer);

function epoch(p: SvdppEpochParameters): SvdppWorkerMessage {
  let sum = 0;
  const run = layout.usersPerRun;
  for (;;) {
    if (Atomics.load(control, SVDPP_CONTROL.abort) !== 0) return { type: 'aborted' };
    const from = Atomics.add(control, SVDPP_CONTROL.cursor, run);
    if (from >= layout.nUsers) break;
    sum += runUsersOnCopies(kernel, f32, layout, from, Math.min(layout.nUsers, from + run), thread, lock, p);
  }
  sse[thread] = sum;
  return { type: 'done' };
}

parentPort!.on('message', (request: SvdppWorkerRequest) => {
  if (request.type === 'epoch') parentPort!.postMessage(epoch(request.parameters));
});
parentPort!.postMessage({ type: 'ready' } satisfies SvdppWorkerMessage);
