// Worker thread of the EASE solver: for each phase it takes tasks from the shared cursor and runs
// them with its own instance of the kernel on the shared memory (see tasks.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { EaseTask, EaseWorkerInput, EaseWorkerMessage, easeKernel, runEaseTasks } from './tasks';

const input = workerData as EaseWorkerInput;
const kernel = easeKernel(input.memory, input.module);
const control = new Int32Array(input.memory.buffer, input.layout.control, 16);

parentPort!.on('message', (task: EaseTask) => {
  let reply: EaseWorkerMessage = { type: 'done' };
  try {
    runEaseTasks(kernel, input.layout, control, task, input.thread);
  } catch (error) {
    reply = { type: 'error', message: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ type: 'ready' } satisfies EaseWorkerMessage);
