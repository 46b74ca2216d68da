// Worker thread of the SVD++ trainer: each epoch it claims runs of USERS_PER_CALL users of the
// shared order from a shared cursor and runs the kernel over them, until none is left. Imports
// only relative modules (runs from sources under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { svdppWasmKernel } from './kernel';
import { runUsers, SVDPP_CONTROL, SvdppEpochParameters, SvdppWorkerInput, SvdppWorkerMessage, SvdppWorkerRequest, USERS_PER_CALL } from './protocol';

const input = workerData as SvdppWorkerInput;
const kernel = svdppWasmKernel(input.memory, input.module);
const { control, layout, sse, thread } = input;

function epoch(p: SvdppEpochParameters): SvdppWorkerMessage {
  let sum = 0;
  for (;;) {
    if (Atomics.load(control, SVDPP_CONTROL.abort) !== 0) return { type: 'aborted' };
    const from = Atomics.add(control, SVDPP_CONTROL.cursor, USERS_PER_CALL);
    if (from >= layout.nUsers) break;
    sum += runUsers(kernel, layout, from, Math.min(layout.nUsers, from + USERS_PER_CALL), thread, p);
  }
  sse[thread] = sum;
  return { type: 'done' };
}

parentPort!.on('message', (request: SvdppWorkerRequest) => {
  if (request.type === 'epoch') parentPort!.postMessage(epoch(request.parameters));
});
parentPort!.postMessage({ type: 'ready' } satisfies SvdppWorkerMessage);
