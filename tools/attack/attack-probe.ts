// The probe worker that pings the server under attack and samples its memory: started once,
// re-targeted when the server restarts, and asked for its report (`mark`) around each attack.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Server } from './attack-server';
import type { ProbeCommand, ProbeInput, ProbeReport } from './probe-worker';

let probe: Worker;
let pendingReport: ((r: ProbeReport) => void) | null = null;

export function mark(): Promise<ProbeReport> {
  return new Promise((done) => {
    pendingReport = done;
    probe.postMessage({ type: 'mark' } satisfies ProbeCommand);
  });
}

export async function retarget(server: Server): Promise<void> {
  probe.postMessage({ type: 'target', url: server.url, pid: server.pid } satisfies ProbeCommand);
}

export function startProbe(url: string): void {
  probe = new Worker(join(__dirname, 'probe-worker.js'), { workerData: { url, intervalMs: 10 } satisfies ProbeInput });
  probe.on('message', (m: ProbeReport) => {
    pendingReport?.(m);
    pendingReport = null;
  });
}

export async function stopProbe(): Promise<void> {
  probe.postMessage({ type: 'stop' } satisfies ProbeCommand);
  await probe.terminate();
}
