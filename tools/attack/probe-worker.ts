// The attack suite's probe, in a worker thread so that the attacks' own work on the main thread
// does not delay it: sends `{ ping }` to the server over one keep-alive connection in a loop and
// samples the server's resident memory, and on each `mark` message reports (and resets) the
// longest ping round trip and the largest VmRSS seen since the previous mark.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface ProbeInput {
  /** The server's /graphql (changed later by a `target` message, with its pid). */
  url: string;
  /** Pause between pings, ms. */
  intervalMs: number;
}

export type ProbeCommand = { type: 'mark' } | { type: 'target'; url: string; pid: number } | { type: 'stop' };

export interface ProbeReport {
  type: 'report';
  /** Longest ping round trip since the last mark (a ping still waiting counts with its age). */
  maxPingMs: number;
  pings: number;
  failedPings: number;
  /** Largest VmRSS of the server since the last mark, MB. */
  peakRssMb: number;
}

const input = workerData as ProbeInput;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ query: '{ ping }' });
let pid = 0;
let url = input.url;
let maxPing = 0;
let pings = 0;
let failed = 0;
let peakRss = 0;
let inFlightSince: number | null = null;
let stopped = false;

function ping(): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    inFlightSince = started;
    const done = (ok: boolean) => {
      inFlightSince = null;
      const ms = performance.now() - started;
      if (ok) {
        pings++;
        maxPing = Math.max(maxPing, ms);
      } else {
        failed++;
      }
      resolve();
    };
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
      res.on('error', () => done(false));
    });
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

function rssMb(): number {
  if (pid <= 0) return 0;
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 50);

parentPort!.on('message', (command: ProbeCommand) => {
  if (command.type === 'target') {
    pid = command.pid;
    url = command.url;
  } else if (command.type === 'mark') {
    const waiting = inFlightSince === null ? 0 : performance.now() - inFlightSince;
    const report: ProbeReport = { type: 'report', maxPingMs: Math.max(maxPing, waiting), pings, failedPings: failed, peakRssMb: Math.max(peakRss, rssMb()) };
    maxPing = 0;
    pings = 0;
    failed = 0;
    peakRss = 0;
    parentPort!.postMessage(report);
  } else {
    stopped = true;
    clearInterval(sampler);
    agent.destroy();
  }
});

void (async () => {
  while (!stopped) {
    if (pid > 0) await ping();
    await new Promise((resolve) => setTimeout(resolve, input.intervalMs));
  }
})();
