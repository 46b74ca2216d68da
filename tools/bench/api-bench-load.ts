// api-bench's load generation (autocannon) and figures, and what the scenarios share: their data,
// setup report and bounds.
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildRatingMatrix, generateSynthetic, loadDataset, DataFormat, RatingMatrix, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { gql, log, processCpuSeconds, round, ServerProcess } from './api-bench-server';
import { Args } from './api-bench-args';

// ---- the part of autocannon 9 used here (the package ships no typings) --------------------------

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}

export interface AutocannonHistogram {
  average: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
}

export interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  '2xx': number;
  duration: number;
  requests: AutocannonHistogram;
  latency: AutocannonHistogram;
}

export interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
}

export type Autocannon = (options: {
  /** Several URLs: the connections go to them in turn. */
  url: string | string[];
  connections: number;
  duration: number;
  requests: AutocannonRequest[];
  verifyBody?: (body: string) => boolean;
}) => AutocannonInstance;

export const autocannon = createRequire(__filename)('autocannon') as Autocannon;

/**
 * `count` (user, movie) pairs: users and movies taken in prime strides (7919, 104729), so
 * consecutive pairs hit different users and movies (and, with 1000 of each, every one once per 1000).
 */
export function predictionPairs(users: readonly number[], movies: readonly number[], count: number): Array<{ u: number; m: number }> {
  return Array.from({ length: count }, (_, i) => ({ u: users[(i * 7919) % users.length], m: movies[(i * 104_729) % movies.length] }));
}

/** The share of the pairs that the active model answers with a fallback (one `predictions` batch). */
export async function fallbackShareOf(url: string, pairs: Array<{ u: number; m: number }>): Promise<number> {
  const list = pairs.map((p) => `{ userId: ${p.u}, movieId: ${p.m} }`).join(', ');
  const data = await gql<{ predictions: Array<{ isFallback: boolean }> }>(url, `{ predictions(pairs: [${list}]) { isFallback } }`);
  return data.predictions.filter((p) => p.isFallback).length / pairs.length;
}

export function predictionBodies(users: readonly number[], movies: readonly number[], count: number, variables: boolean): string[] {
  return predictionPairs(users, movies, count).map(({ u, m }) =>
    variables
      ? JSON.stringify({ query: 'query Prediction($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback } }', variables: { u, m } })
      : JSON.stringify({ query: `{ prediction(userId: ${u}, movieId: ${m}) { rating isFallback } }` }),
  );
}

export const PING_BODY = JSON.stringify({ query: '{ ping }' });

export interface Kind {
  name: 'constant' | 'prediction';
  bodies: string[];
  verify: (body: string) => boolean;
}

export interface RunFigures {
  requestsPerSecond: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  autocannonP50Ms: number;
  autocannonP99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  seconds: number;
  serverCpu: number;
  requestsPerServerCpuSecond: number;
  loadGeneratorCpu: number;
  loadAverage: number;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** CPU seconds of the server processes together (see {@link processCpuSeconds}). */
function serversCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((s, pid) => s + processCpuSeconds(pid), 0);
}

/**
 * One autocannon run of `seconds` with every response's time recorded. With several URLs (API
 * replicas) autocannon spreads the connections over them round-robin; `serverPid` then lists
 * every replica's process, and `serverCpu` is their sum.
 */
export async function run(url: string | string[], kind: Kind, connections: number, seconds: number, serverPid: number | readonly number[]): Promise<RunFigures> {
  const pids = typeof serverPid === 'number' ? [serverPid] : serverPid;
  let next = 0;
  const { bodies } = kind;
  let times = new Float64Array(1 << 16);
  let n = 0;
  const cpu0 = serversCpuSeconds(pids);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[0],
        setupRequest: (request) => {
          request.body = bodies[next++ % bodies.length];
          return request;
        },
      },
    ],
    verifyBody: kind.verify,
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    if (n === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[n++] = responseTime;
  });
  const result = await instance;
  const wall = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const serverCpuSeconds = serversCpuSeconds(pids) - cpu0;
  const serverCpu = serverCpuSeconds / wall;
  const sorted = times.slice(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    requestsPerSecond: round(result['2xx'] / result.duration, 1),
    requests: result['2xx'],
    latencyP50Ms: round(percentile(sorted, 0.5)),
    latencyP99Ms: round(percentile(sorted, 0.99)),
    latencyMeanMs: round(sum / Math.max(1, n)),
    latencyMaxMs: round(sorted[n - 1] ?? NaN),
    autocannonP50Ms: result.latency.p50,
    autocannonP99Ms: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    seconds: round(result.duration, 2),
    serverCpu: round(serverCpu, 2),
    requestsPerServerCpuSecond: round(result['2xx'] / serverCpuSeconds, 1),
    loadGeneratorCpu: round((own.user + own.system) / 1e6 / wall, 2),
    loadAverage: round(loadavg()[0], 2),
  };
}

export function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Means over the rounds of the headline figures, and the sums of the failure counts. */
export function summary(runs: RunFigures[]) {
  return {
    requestsPerSecond: round(mean(runs.map((r) => r.requestsPerSecond)), 1),
    latencyP50Ms: round(mean(runs.map((r) => r.latencyP50Ms))),
    latencyP99Ms: round(mean(runs.map((r) => r.latencyP99Ms))),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    timeouts: runs.reduce((s, r) => s + r.timeouts, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    mismatches: runs.reduce((s, r) => s + r.mismatches, 0),
    serverCpu: round(mean(runs.map((r) => r.serverCpu)), 2),
    requestsPerServerCpuSecond: round(mean(runs.map((r) => r.requestsPerServerCpuSecond)), 1),
    runs,
  };
}

export interface ScenarioResult {
  report: Record<string, unknown>;
  /** Every figure within its bound (throughput: the target ratio met). */
  passed: boolean;
}

// ---- scenarios with bounds (moved here from the specs: a time bound in a test fails on a busy machine)

export interface Check {
  value: number;
  /** `max`: value < bound; `min`: value ≥ bound (as the specs asserted). */
  kind: 'max' | 'min';
  bound: number;
  pass: boolean;
}

export function check(value: number, kind: 'max' | 'min', bound: number): Check {
  return { value: round(value), kind, bound, pass: kind === 'max' ? value < bound : value >= bound };
}

export function allPass(checks: Record<string, Check | boolean>): boolean {
  return Object.values(checks).every((c) => (typeof c === 'boolean' ? c : c.pass));
}

export interface ScenarioData {
  matrix: RatingMatrix;
  /** What the server loads (a snapshot written here, or `--data`). */
  path: string;
  format?: string;
  description: string;
}

/** `--data` (also loaded here, to choose the queries), or a generated set written as a snapshot into `dir`. */
export async function scenarioData(args: Args, dir: string, generated: Parameters<typeof generateSynthetic>[0]): Promise<ScenarioData> {
  if (args.data) {
    log(`loading ${args.data}`);
    const { matrix } = await loadDataset(args.data, { format: args.format as DataFormat | undefined });
    return { matrix, path: args.data, format: args.format, description: args.data };
  }
  log(`generating ${generated.ratings} synthetic ratings (seed ${generated.seed})`);
  const data = generateSynthetic(generated);
  const matrix = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
  const path = join(dir, 'data.rsnap');
  writeSnapshot(path, { matrix, catalog: data.catalog });
  return { matrix, path, description: `generateSynthetic(${JSON.stringify(generated)})` };
}

export function setupOf(server: ServerProcess, data: ScenarioData, loadBefore: number[]) {
  return {
    data: data.description,
    ratings: data.matrix.nRatings,
    serverStartupSeconds: round(server.startupSeconds, 2),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverageBefore: loadBefore,
  };
}
