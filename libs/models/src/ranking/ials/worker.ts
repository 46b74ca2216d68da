// Worker thread of the iALS trainer: for each request it takes Gram groups or chunks of rows from
// the shared counter and runs them with the same kernel as the calling thread. Rows of one half
// step are independent (each reads only the other side's factors and the Gram, and writes only
// its own row), so which thread solves a row does not change its result. Imports only relative
// modules (runs from sources under jest through @swc-node/register).
import { parentPort, workerData } from 'node:worker_threads';
import { runChunks } from '../../latent/als/chunks';
import { serveChunkRequests } from '../../latent/als/pool-worker';
import type { WasmMemory, WasmModule } from '../../wasm';
import { IalsRowKernel } from './kernel';
import { ialsSharedViews, IalsWorkerInput, IalsWorkerRequest, runGramGroups } from './protocol';

const input = workerData as IalsWorkerInput;
const { layout } = input;
const buffer = input.memory ? input.memory.buffer : input.buffer!;
const shared = ialsSharedViews(buffer, layout, input.ratings);
const wasm = input.memory
  ? {
      memory: input.memory as WasmMemory,
      module: input.module as WasmModule,
      scratch: layout.scratch + input.thread * layout.scratchBytes,
      maxChunkRatings: layout.maxChunkRatings,
      maxChunkRows: layout.maxChunkRows,
      gatherBytes: layout.gatherBytes,
    }
  : null;
const kernel = new IalsRowKernel(layout.factors, input.cgSteps, shared.views, wasm);

serveChunkRequests<IalsWorkerRequest>(parentPort!, shared.control, (request) => {
  if (request.type === 'gram') runGramGroups(kernel, shared, request.byUser);
  else runChunks(kernel, shared, request.byUser, request.withLoss);
});
