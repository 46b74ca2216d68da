// Worker thread of the parallel SGD trainer. Each epoch it takes blocks of round 0 from a shared
// cursor until none is left, waits at a barrier for the other workers, then round 1, and so on.
// Blocks of one round share no user block and no movie block, so they touch disjoint rows of
// P, Q and the biases and their results do not depend on which worker ran them or when: the
// epoch equals running the schedule serially. Imports only relative modules (runs from sources
// under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { wasmKernel } from './kernel';
import { CONTROL, EpochParameters, runBlock, SgdWorkerInput, SgdWorkerMessage, SgdWorkerRequest } from './schedule';

const input = workerData as SgdWorkerInput;
const kernel = wasmKernel(input.memory, input.module);
const { control, schedule, blockSeg, blockSse, layout, threads } = input;
const B = layout.blocks;

/** Sense-free generation barrier; false when the epoch was aborted while waiting. */
function barrier(): boolean {
  const generation = Atomics.load(control, CONTROL.generation);
  if (Atomics.add(control, CONTROL.arrived, 1) === threads - 1) {
    Atomics.store(control, CONTROL.arrived, 0);
    Atomics.add(control, CONTROL.generation, 1);
    Atomics.notify(control, CONTROL.generation);
    return true;
  }
  while (Atomics.load(control, CONTROL.generation) === generation) {
    if (Atomics.load(control, CONTROL.abort) !== 0) return false;
    Atomics.wait(control, CONTROL.generation, generation, 100);
  }
  return true;
}

function epoch(p: EpochParameters): SgdWorkerMessage {
  for (let r = 0; r < B; r++) {
    for (;;) {
      const slot = Atomics.add(control, CONTROL.cursors + r, 1);
      if (slot >= B) break;
      const b = schedule[r * B + slot];
      blockSse[b] = runBlock(kernel, layout, blockSeg, b, p);
    }
    if (r + 1 < B && !barrier()) return { type: 'aborted' };
  }
  return { type: 'done' };
}

parentPort!.on('message', (request: SgdWorkerRequest) => {
  if (request.type === 'epoch') parentPort!.postMessage(epoch(request.parameters));
});
parentPort!.postMessage({ type: 'ready' } satisfies SgdWorkerMessage);
