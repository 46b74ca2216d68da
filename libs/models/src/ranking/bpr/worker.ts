// Worker thread of the BPR trainer: each epoch it runs its own range of users' samples with the
// SIMD kernel on the shared memory (P rows of its users are its alone; Q and b are shared with
// the other threads, updated without locks: Hogwild!). Relative imports only (runs from sources
// under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { wasmBprKernel } from './kernel';
import { serveChunkRequests } from '../../latent/als/pool-worker';
import { BPR_CONTROL, BprWorkerInput, BprWorkerRequest, runThreadEpoch } from './protocol';

const input = workerData as BprWorkerInput;
const { layout, thread } = input;
const kernel = wasmBprKernel(input.memory, input.module);
const control = new Int32Array(input.memory.buffer, layout.control, BPR_CONTROL.length);
const f64 = new Float64Array(input.memory.buffer, 0, input.memory.buffer.byteLength >>> 3);

serveChunkRequests<BprWorkerRequest>(parentPort!, control, (request) => runThreadEpoch(kernel, layout, thread, request.params, control, f64));
