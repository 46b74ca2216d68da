// Worker thread of the parallel ALS trainer: for each half step it takes chunks of rows from the
// shared counter and solves them with the same kernel as the calling thread. Rows of one half step
// are independent (each reads only the other side's factors and writes only its own), so which
// thread solves a row does not change its result. Imports only relative modules (runs from
// sources under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { AlsRowKernel } from './passes';
import { runChunks } from './chunks';
import { AlsWorkerInput, AlsWorkerRequest, alsSharedViews } from './protocol';
import { serveChunkRequests } from './pool-worker';
import { wasmAlsPasses } from './wasm';
import type { WasmMemory, WasmModule } from '../../wasm';

const input = workerData as AlsWorkerInput;
const { layout, params } = input;
const buffer = input.memory ? input.memory.buffer : input.buffer!;
const shared = alsSharedViews(buffer, layout, input.ratings);
const passes = input.memory
  ? wasmAlsPasses(input.memory as WasmMemory, input.module as WasmModule, layout, params.mu, layout.scratch + input.thread * layout.scratchBytes)
  : undefined;
const kernel = new AlsRowKernel(params, shared.views, passes);

serveChunkRequests<AlsWorkerRequest>(parentPort!, shared.control, (request) => runChunks(kernel, shared, request.byUser, request.withSse));
