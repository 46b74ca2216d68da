/**
 * API throughput benchmark: prediction queries per second and their latency on loopback, beside the
 * same server answering a constant (`{ ping }`), which is the ceiling of the HTTP + Express +
 * Apollo Server + type-graphql stack with its limits and plugins. Target: prediction ≥ 70 % of it.
 *
 *   npx tsc -b apps/api tools && node tools/dist/bench/api-bench.js
 *     [--connections 10] [--duration 10] [--warmup 3] [--rounds 2] [--pairs 1000]
 *     [--variables] [--data PATH [--format F]] [--cpu-prof DIR]   (--help: the options)
 *
 * The server is the compiled entry `apps/api/dist/main.js`, started as a child process (so it and
 * this load generator are separate processes on the machine's cores) with PORT=0 on 127.0.0.1, the
 * data of `--data` or the default synthetic set (its snapshot in the usual cache, `.cache/`), and a
 * temporary model directory and rating database, so the default model is trained afresh and the
 * repository's cache keeps no trace. The load generator is autocannon, programmatic, in this process.
 *
 * Each round runs, for each query kind, a warm-up (`--warmup` s, not counted) and then a measured
 * run (`--duration` s) with `--connections` connections; the order alternates between rounds
 * (constant first, then prediction first …) so drift in the machine's load falls on both alike.
 * Prediction requests cycle through `--pairs` (user, movie) pairs made of the first 1000 users and
 * the first 1000 movies the API lists (`users`, `movies`), combined in strides so consecutive
 * requests hit different users and movies (`fallbackShare`: the share of those pairs the model
 * answers with a fallback, from one `predictions` batch); by default the ids are literals in the query
 * text, as `{ prediction(userId: U, movieId: M) { rating isFallback } }` (each text is parsed and
 * validated once, then comes from Apollo's document cache), with `--variables` one query text and
 * the ids as variables. Every response body is checked (a GraphQL error in an HTTP 200 counts as
 * a mismatch).
 *
 * Latency percentiles are computed here from every response's time (autocannon's own histogram
 * rounds to whole milliseconds); requests per second are 2xx answers over the run's duration.
 * `serverCpu` is the server process's CPU seconds per wall second during the run (from
 * /proc/<pid>/stat; 1.0 = one core busy), `loadAverage` the 1-minute load average after it. On a
 * busy machine the server gets less than a core and both kinds slow alike, which flattens the
 * throughput ratio toward 1; `requestsPerServerCpuSecond` (requests per CPU second the server
 * spent) and `cpuRatio` compare the per-request cost of the two kinds independently of that.
 *
 * Prints ONE JSON document on stdout; progress and the server's warnings go to stderr.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BenchCli, BenchOption, BenchValues, intValue, readBenchArgs } from './bench-args';

// ---- the part of autocannon 9 used here (the package ships no typings) --------------------------

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}

interface AutocannonHistogram {
  average: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  '2xx': number;
  duration: number;
  requests: AutocannonHistogram;
  latency: AutocannonHistogram;
}

interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: AutocannonRequest[];
  verifyBody?: (body: string) => boolean;
}) => AutocannonInstance;

const autocannon = createRequire(__filename)('autocannon') as Autocannon;

// ---- arguments ---------------------------------------------------------------------------------

export interface Args {
  connections: number;
  duration: number;
  warmup: number;
  rounds: number;
  pairs: number;
  variables: boolean;
  data: string | undefined;
  format: string | undefined;
  cpuProf: string | undefined;
}

export const CLI = {
  name: 'api-bench',
  description:
    'Prediction queries per second and their latency against the compiled API (a child process on loopback), beside the same ' +
    'server answering a constant ({ ping }), with autocannon. Prints one JSON document on stdout; progress on stderr.',
  options: {
    connections: { type: 'string', value: 'N', default: '10', description: 'concurrent connections' },
    duration: { type: 'string', value: 'S', default: '10', description: 'seconds of each measured run' },
    warmup: { type: 'string', value: 'S', default: '3', description: 'seconds of warm-up before each run (0: none)' },
    rounds: { type: 'string', value: 'N', default: '2', description: 'rounds (each runs both query kinds, in alternating order)' },
    pairs: { type: 'string', value: 'N', default: '1000', description: '(user, movie) pairs the prediction requests cycle through' },
    variables: { type: 'boolean', description: 'send the ids as GraphQL variables instead of literals in the query text' },
    data: { type: 'string', value: 'PATH', description: "the server's data (default: the embedded synthetic set)" },
    format: { type: 'string', value: 'F', description: 'force the data format of --data' },
    'cpu-prof': { type: 'string', value: 'DIR', description: "write the server's CPU profile into DIR" },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    connections: intValue('connections', v.connections, 1),
    duration: intValue('duration', v.duration, 1),
    warmup: intValue('warmup', v.warmup, 0),
    rounds: intValue('rounds', v.rounds, 1),
    pairs: intValue('pairs', v.pairs, 1),
    variables: v.variables,
    data: v.data,
    format: v.format,
    cpuProf: v['cpu-prof'] === undefined ? undefined : resolve(v['cpu-prof']),
  };
}

function log(message: string): void {
  process.stderr.write(`[api-bench] ${message}\n`);
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

// ---- the server --------------------------------------------------------------------------------

/** The repository root: tools/dist/bench/api-bench.js is three levels below it. */
const REPO_ROOT = resolve(__dirname, '../../..');

interface ServerProcess {
  child: ChildProcess;
  url: string;
  base: string;
  startupSeconds: number;
  stop(): Promise<void>;
}

/**
 * Starts `node apps/api/dist/main.js` on a free loopback port, learns the port from its
 * "listening" log line, and waits until /readyz answers 200 (at most `timeoutSeconds`).
 */
async function startServer(args: Args, dir: string, timeoutSeconds = 120): Promise<ServerProcess> {
  const entry = join(REPO_ROOT, 'apps/api/dist/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the API first (npx tsc -b apps/api)`);
  const nodeArgs = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : [];
  const cli = [...(args.data ? ['--data', args.data] : []), ...(args.format ? ['--format', args.format] : [])];
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry, ...cli], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      RECSYS_MODEL_DIR: join(dir, 'models'),
      RECSYS_DB: join(dir, 'ratings.sqlite'),
      RECSYS_API_TOKEN: randomBytes(18).toString('base64url'),
      RECSYS_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let found = false;
    lines.on('line', (line) => {
      let entry: { level?: number; msg?: string; port?: number } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        process.stderr.write(`[server] ${line}\n`);
        return;
      }
      // Warnings and worse go to stderr; info lines only until the port is known.
      if ((entry.level ?? 0) >= 40) process.stderr.write(`[server] ${line}\n`);
      if (!found && typeof entry.port === 'number' && entry.msg?.startsWith('listening')) {
        found = true;
        resolvePort(entry.port);
      }
    });
    void exited.then((code) => {
      if (!found) reject(new Error(`the API exited (code ${code}) before listening`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + timeoutSeconds * 1000;
  let ready: unknown = null;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited (code ${child.exitCode}) while loading`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) {
        ready = await res.json();
        break;
      }
    } catch {
      // Not accepting yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (ready === null) {
    child.kill('SIGTERM');
    throw new Error(`the API was not ready after ${timeoutSeconds} s`);
  }
  const startupSeconds = (performance.now() - started) / 1000;
  log(`server pid ${child.pid} ready at ${base} after ${startupSeconds.toFixed(1)} s: ${JSON.stringify(ready)}`);
  return {
    child,
    url: `${base}/graphql`,
    base,
    startupSeconds,
    stop: async () => {
      if (child.exitCode === null) {
        // SIGTERM: the server drains and exits, writing its CPU profile when --cpu-prof is on.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat; NaN where there is no /proc. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---- requests ----------------------------------------------------------------------------------

async function gql<T>(url: string, query: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`${query.slice(0, 60)}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** The first `limit` ids of a Relay connection query (`users` or `movies`), page by page. */
async function listIds(url: string, field: 'users' | 'movies', limit: number): Promise<number[]> {
  const ids: number[] = [];
  let after: string | null = null;
  while (ids.length < limit) {
    const cursor: string = after ? `, after: ${JSON.stringify(after)}` : '';
    const data: Record<string, { edges: Array<{ node: { id: number } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> = await gql(
      url,
      `{ ${field}(first: 100${cursor}) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
    );
    const page = data[field];
    for (const e of page.edges) ids.push(e.node.id);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return ids.slice(0, limit);
}

/**
 * `count` (user, movie) pairs: users and movies taken in prime strides (7919, 104729), so
 * consecutive pairs hit different users and movies (and, with 1000 of each, every one once per 1000).
 */
function predictionPairs(users: readonly number[], movies: readonly number[], count: number): Array<{ u: number; m: number }> {
  return Array.from({ length: count }, (_, i) => ({ u: users[(i * 7919) % users.length], m: movies[(i * 104_729) % movies.length] }));
}

/** The share of the pairs that the active model answers with a fallback (one `predictions` batch). */
async function fallbackShareOf(url: string, pairs: Array<{ u: number; m: number }>): Promise<number> {
  const list = pairs.map((p) => `{ userId: ${p.u}, movieId: ${p.m} }`).join(', ');
  const data = await gql<{ predictions: Array<{ isFallback: boolean }> }>(url, `{ predictions(pairs: [${list}]) { isFallback } }`);
  return data.predictions.filter((p) => p.isFallback).length / pairs.length;
}

function predictionBodies(users: readonly number[], movies: readonly number[], count: number, variables: boolean): string[] {
  return predictionPairs(users, movies, count).map(({ u, m }) =>
    variables
      ? JSON.stringify({ query: 'query Prediction($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback } }', variables: { u, m } })
      : JSON.stringify({ query: `{ prediction(userId: ${u}, movieId: ${m}) { rating isFallback } }` }),
  );
}

const PING_BODY = JSON.stringify({ query: '{ ping }' });

interface Kind {
  name: 'constant' | 'prediction';
  bodies: string[];
  verify: (body: string) => boolean;
}

interface RunFigures {
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

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** One autocannon run of `seconds` with every response's time recorded. */
async function run(url: string, kind: Kind, connections: number, seconds: number, serverPid: number): Promise<RunFigures> {
  let next = 0;
  const { bodies } = kind;
  let times = new Float64Array(1 << 16);
  let n = 0;
  const cpu0 = processCpuSeconds(serverPid);
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
  const serverCpuSeconds = processCpuSeconds(serverPid) - cpu0;
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

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Means over the rounds of the headline figures, and the sums of the failure counts. */
function summary(runs: RunFigures[]) {
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

async function main(): Promise<void> {
  const args = readBenchArgs(CLI, argsFrom);
  const dir = mkdtempSync(join(tmpdir(), 'recsys-api-bench-'));
  const loadBefore = loadavg().map((x) => round(x, 2));
  let server: ServerProcess | null = null;
  try {
    log(`starting the API (models and rating database in ${dir})`);
    server = await startServer(args, dir);
    const pid = server.child.pid!;
    const users = await listIds(server.url, 'users', 1000);
    const movies = await listIds(server.url, 'movies', 1000);
    if (users.length === 0 || movies.length === 0) throw new Error(`the API lists ${users.length} users and ${movies.length} movies: nothing to predict`);
    const kinds: Kind[] = [
      { name: 'constant', bodies: [PING_BODY], verify: (body) => body === '{"data":{"ping":1}}\n' || body === '{"data":{"ping":1}}' },
      { name: 'prediction', bodies: predictionBodies(users, movies, args.pairs, args.variables), verify: (body) => body.startsWith('{"data":{"prediction":{"rating":') },
    ];
    // Check both kinds once by hand before loading the server.
    for (const kind of kinds) {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: kind.bodies[0] });
      const text = await res.text();
      if (res.status !== 200 || !kind.verify(text)) throw new Error(`${kind.name}: unexpected answer HTTP ${res.status} ${text.slice(0, 300)}`);
    }
    const fallbackShare = await fallbackShareOf(server.url, predictionPairs(users, movies, Math.min(args.pairs, 1000)));
    const figures: Record<Kind['name'], RunFigures[]> = { constant: [], prediction: [] };
    for (let r = 0; r < args.rounds; r++) {
      const order = r % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        if (args.warmup > 0) {
          log(`round ${r + 1}: ${kind.name} warm-up ${args.warmup} s`);
          await run(server.url, kind, args.connections, args.warmup, pid);
        }
        log(`round ${r + 1}: ${kind.name} ${args.duration} s × ${args.connections} connections`);
        const f = await run(server.url, kind, args.connections, args.duration, pid);
        log(`  ${f.requestsPerSecond} req/s, p50 ${f.latencyP50Ms} ms, p99 ${f.latencyP99Ms} ms, server CPU ${f.serverCpu}, load ${f.loadAverage}`);
        figures[kind.name].push(f);
      }
    }
    const constant = summary(figures.constant);
    const prediction = summary(figures.prediction);
    const ratio = prediction.requestsPerSecond / constant.requestsPerSecond;
    const cpuRatio = prediction.requestsPerServerCpuSecond / constant.requestsPerServerCpuSecond;
    const report = {
      benchmark: 'api-prediction-vs-constant',
      query: {
        prediction: args.variables
          ? 'query Prediction($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback } } (variables)'
          : '{ prediction(userId: U, movieId: M) { rating isFallback } } (literal ids)',
        constant: '{ ping }',
        pairs: args.pairs,
        fallbackShare: round(fallbackShare, 3),
        users: users.length,
        movies: movies.length,
      },
      setup: {
        connections: args.connections,
        durationSeconds: args.duration,
        warmupSeconds: args.warmup,
        rounds: args.rounds,
        data: args.data ?? 'default synthetic set',
        serverStartupSeconds: round(server.startupSeconds, 2),
        node: process.version,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverageBefore: loadBefore,
      },
      constant,
      prediction,
      ratio: round(ratio, 3),
      cpuRatio: round(cpuRatio, 3),
      target: 0.7,
      meetsTarget: ratio >= 0.7,
      loadAverageAfter: loadavg().map((x) => round(x, 2)),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (args.cpuProf) log(`server CPU profile written to ${args.cpuProf}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`[api-bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
