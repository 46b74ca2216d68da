// The worker side of ChunkWorkerPool (pool.ts). Imports only relative modules: worker threads run
// it from sources under jest through @swc-node/register.
import { ALS_CONTROL } from './protocol';

/** What a pool worker answers to each request. */
export type ChunkWorkerMessage = { type: 'ready' } | { type: 'done' } | { type: 'error'; message: string };

/**
 * The worker side of a {@link ChunkWorkerPool}: runs `handle` for each request, answers `done`
 * (or `error`, after setting the abort word), and announces `ready`.
 */
export function serveChunkRequests<Request>(port: { on(event: 'message', listener: (request: Request) => void): unknown; postMessage(message: ChunkWorkerMessage): void }, control: Int32Array, handle: (request: Request) => void): void {
  port.on('message', (request: Request) => {
    let reply: ChunkWorkerMessage = { type: 'done' };
    try {
      handle(request);
    } catch (error) {
      Atomics.store(control, ALS_CONTROL.abort, 1);
      reply = { type: 'error', message: (error as Error).message };
    }
    port.postMessage(reply);
  });
  port.postMessage({ type: 'ready' });
}
