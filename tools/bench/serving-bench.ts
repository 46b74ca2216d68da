// Serving bench (issue 10, item 3): the API started as `npm start` starts it, over a snapshot.
//
//   node tools/dist/bench/serving-bench.js --data /work/data/prize-100m.snap [--kind svd]
//     [--params '{"factors":100,"epochs":3,"lr":0.02}'] [--retrain-params '{"factors":32,"epochs":3,"lr":0.02}']
//     [--connections 8 --duration 10 --timeout 1200]
//
// Prints one JSON document: seconds from spawn to listening, to data loaded, to ready (the first
// prediction answered), to the configured model active; steady RSS (bytes and B/rating);
// prediction and recommendations(n: 10) latency p50/p99 under load (autocannon), each load with
// the server's CPU per query and the CPU shares of the server and of the load generator (this
// process, which runs autocannon on the same cores) and the load average; then a retrain
// under prediction load: the mutation's latency, seconds from its last epoch to activation, the
// server's own largest event-loop delay over that span (its monitorEventLoopDelay, read from
// /metrics), and peak RSS during the retrain (sampled from /proc every 50 ms) against steady.
// `servingBench(options)` does the same for the lead's bench:netflix.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPauseWitness } from './pause-witness';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { autocannon, AutocannonResult } from './api-bench-load';
import { listIds, log, processCpuSeconds, REPO_ROOT, round } from './api-bench-server';

export interface ServingBenchOptions {
  /** A snapshot (or any data path the server takes). */
  data: string;
  /** The configured model (RECSYS_MODEL_KIND / RECSYS_MODEL_PARAMS). */
  kind: string;
  params: Record<string, number>;
  /** The retrain's parameters (same kind). */
  retrainParams: Record<string, number>;
  connections: number;
  /** Seconds of each latency load. */
  duration: number;
  /** Seconds to wait for each step before giving up. */
  timeout: number;
  /** A movie (the most-rated one) whose similarMovies latency is measured for every metric, one query at a time. */
  similarMovieId?: number;
  /**
   * Queries per metric for `similarMovieId`; default {@link SIMILAR_QUERIES} (100): the p99 of 30
   * queries is their maximum, which one slow query decides alone (the first of a series after the
   * loads took 63–100 ms in four runs at 100M, the others 25–45); of 100 it is the 99th value, so
   * one outlier shows in `maxMs` and `firstMs` but is not the p99 by itself.
   */
  similarQueries?: number;
  /** More environment for the server (e.g. RECSYS_MODEL: a CLI artifact to serve at once). */
  env?: Record<string, string>;
  /** Stop after the first prediction: only the startup figures (e.g. from a Prize folder with a cold import cache). */
  startupOnly?: boolean;
}

/** Latency of one query at a time (no queueing behind other clients). */
export interface SequentialLatency {
  queries: number;
  /** Whether this process (the client) collected its own garbage before the series (node --expose-gc); see similarLatency. */
  clientGcBefore: boolean;
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every query's time, in order. */
  seriesMs: number[];
  /** The server's longest event-loop delay over the series (its /metrics, reset before the series). */
  serverEventLoopMaxMs: number;
}

/** similarMovies queries per metric, one at a time (see ServingBenchOptions.similarQueries). */
export const SIMILAR_QUERIES = 100;

export const SERVING_BENCH_DEFAULTS: Omit<ServingBenchOptions, 'data'> = {
  kind: 'svd',
  // A few epochs at a learning rate that passes the guard in them (lr 0.005, the default, needs ~20).
  params: { factors: 100, epochs: 3, lr: 0.02 },
  retrainParams: { factors: 32, epochs: 3, lr: 0.02 },
  connections: 8,
  duration: 10,
  timeout: 1200,
};

export interface LatencyFigures {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The server's CPU (all its threads) per answered query over the load, in ms. */
  serverCpuMsPerQuery?: number;
  /** CPU seconds per second: the server's, and the load generator's (this process: autocannon runs in it) over the load. */
  serverCpuShare?: number;
  loadGeneratorCpuShare?: number;
  /** The machine's 1-minute load average at the end of the load. */
  loadAverage?: number;
}

export interface ServingBenchResult {
  data: string;
  ratings: number;
  nodeFlags: string[];
  configured: { kind: string; params: Record<string, number> };
  startup: {
    listeningSeconds: number;
    dataLoadedSeconds: number;
    readySeconds: number;
    readyAfterDataSeconds: number;
    configuredActiveSeconds: number;
    firstModel: string;
    /** The server's own startup timings (its "ready" log line). */
    serverTimings: unknown;
    /** Each log line up to the configured model's activation: seconds since spawn and message. */
    log: Array<[number, string]>;
  };
  steady: { rssBytes: number; bytesPerRating: number };
  latency: {
    prediction: LatencyFigures;
    recommendations: LatencyFigures;
    /** The same queries from one connection. */
    oneClient: { prediction: LatencyFigures; recommendations: LatencyFigures };
    similarMovies: Record<string, SequentialLatency> | null;
  };
  retrain: {
    kind: string;
    params: Record<string, number>;
    status: string;
    mutationMs: number;
    lastEpochToActiveSeconds: number | null;
    startToActiveSeconds: number | null;
    maxEventLoopStallMs: number;
    /** The longest oversleep of a 5 ms sleep by a thread of the benchmark over the same span (pause-witness.ts). */
    witnessMaxLatenessMs: number;
    peakRssBytes: number;
    peakOverSteady: number;
    rssAfterBytes: number;
    predictionUnderRetrain: LatencyFigures;
  };
}

/** The node flags of the root package.json's `start` script (`exec node <flags> apps/api/dist/main.js`). */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /node\s+(.*?)\s*apps\/api\/dist\/main\.js/.exec(pkg.scripts.start ?? '');
  if (!match) throw new Error(`package.json's start script does not run node … apps/api/dist/main.js: ${pkg.scripts.start}`);
  return match[1].split(/\s+/).filter(Boolean);
}

/** Waits until no training run is QUEUED or RUNNING (polling every 500 ms); throws after `timeoutMs`. */
async function runsFinished(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = (await (
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ trainingRuns(first: 100) { edges { node { id status } } } }' }) })
    ).json()) as { data?: { trainingRuns: { edges: Array<{ node: { id: string; status: string } }> } }; errors?: unknown };
    if (!res.data) throw new Error(`trainingRuns failed: ${JSON.stringify(res.errors)}`);
    const busy = res.data.trainingRuns.edges.filter((e) => e.node.status === 'RUNNING' || e.node.status === 'QUEUED');
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`training runs still ${busy.map((e) => `${e.node.id} ${e.node.status}`).join(', ')} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const latency = (r: AutocannonResult): LatencyFigures => ({ requests: r.requests.total, errors: r.errors + r.non2xx + r.mismatches + r.timeouts, p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max });

interface LogEvent {
  time: number;
  msg: string;
  entry: Record<string, unknown>;
}

const SIMILARITY_METRICS = ['JACCARD', 'COSINE', 'PEARSON', 'PEARSON_BASELINE'] as const;

/** The server's /metrics at `base` (with `reset`, its event-loop delays start over after this answer). */
async function serverMetrics(base: string, reset = false): Promise<{ rssBytes: number; eventLoop: { maxMs: number } }> {
  return (await (await fetch(`${base}/metrics${reset ? '?reset=1' : ''}`)).json()) as { rssBytes: number; eventLoop: { maxMs: number } };
}

/**
 * similarMovies(movieId, n: 10) for each metric, `queries` times one after the other (the first
 * counted apart too). Before each metric's series this process collects its own garbage when it
 * can (`node --expose-gc`, as `npm run bench:netflix` runs it): the series follows the
 * autocannon loads, which run in this process and leave it garbage whose collection otherwise
 * lands in the first timed query. Measured at 100M against a server on the snapshot, the first
 * jaccard query after 10 s of one-connection prediction load took 48.2 ms (the next five
 * 27.1–35.6) without it and 29.2 ms (then 26.2–33.3) with it, by hand; in two API-only runs of
 * `bench:netflix` with it the first jaccard query still took 69.4 and 100.5 ms (hence 100
 * queries, see ServingBenchOptions.similarQueries). The server is not touched.
 */
async function similarLatency(base: string, movieId: number, queries: number): Promise<Record<string, SequentialLatency>> {
  const url = `${base}/graphql`;
  const out: Record<string, SequentialLatency> = {};
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const metric of SIMILARITY_METRICS) {
    const body = JSON.stringify({ query: `{ similarMovies(movieId: ${movieId}, n: 10, metric: ${metric}) { similarity support } }` });
    await serverMetrics(base, true);
    gc?.();
    const ms: number[] = [];
    for (let i = 0; i < queries; i++) {
      const t = performance.now();
      const r = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()) as { errors?: unknown };
      ms.push(performance.now() - t);
      if (r.errors) throw new Error(`similarMovies ${metric} of movie ${movieId}: ${JSON.stringify(r.errors)}`);
    }
    const sorted = [...ms].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    out[metric] = { queries, clientGcBefore: gc !== undefined, firstMs: round(ms[0], 1), p50Ms: round(at(0.5), 1), p99Ms: round(at(0.99), 1), maxMs: round(sorted[sorted.length - 1], 1), seriesMs: ms.map((t) => round(t, 1)), serverEventLoopMaxMs: round((await serverMetrics(base)).eventLoop.maxMs, 1) };
    log(`similarMovies ${metric}: p50 ${out[metric].p50Ms} ms, p99 ${out[metric].p99Ms} ms`);
  }
  return out;
}

/** Runs the bench; the server is stopped (SIGTERM, then SIGKILL) whatever happens. */
export async function servingBench(options: ServingBenchOptions): Promise<ServingBenchResult> {
  const entry = join(REPO_ROOT, 'apps/api/dist/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: npm run build first`);
  if (!existsSync(options.data)) throw new Error(`--data ${options.data}: no such file`);
  const dir = mkdtempSync(join(tmpdir(), 'serving-bench-'));
  const token = randomBytes(18).toString('base64url');
  const nodeFlags = startNodeFlags();
  const spawned = Date.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, entry, '--data', options.data], {
    cwd: REPO_ROOT,
    // A fresh cache (no stored model: a cold start), the configured model, and a known token.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RECSYS_LOG_LEVEL: 'info', RECSYS_CACHE_DIR: dir, RECSYS_API_TOKEN: token, RECSYS_MODEL_KIND: options.kind, RECSYS_MODEL_PARAMS: JSON.stringify(options.params), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const events: LogEvent[] = [];
  const waiters: Array<{ test: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const event = { time: Number(e.time), msg: String(e.msg ?? ''), entry: e };
    if (Number(e.level) >= 40) process.stderr.write(`[server] ${line}\n`);
    events.push(event);
    for (const w of waiters.splice(0)) {
      if (w.test(event)) w.resolve(event);
      else waiters.push(w);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitLog = (test: (e: LogEvent) => boolean, what: string): Promise<LogEvent> => {
    const seen = events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${what}" in the server's log after ${options.timeout} s`)), options.timeout * 1000);
      waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void exited.then(() => reject(new Error(`the server exited before "${what}"`)));
    });
  };
  const since = (t: number) => round((t - spawned) / 1000, 2);
  try {
    const listening = await waitLog((e) => e.msg.startsWith('listening'), 'listening');
    const base = `http://127.0.0.1:${String(listening.entry.port)}`;
    const url = `${base}/graphql`;
    const dataLoaded = await waitLog((e) => e.msg === 'data loaded', 'data loaded');
    log(`listening after ${since(listening.time)} s, data loaded after ${since(dataLoaded.time)} s`);
    const ratings = Number(dataLoaded.entry.ratings);
    // Ready: the first prediction answered.
    const firstQuery = JSON.stringify({ query: '{ users(first: 1) { edges { node { id } } } movies(first: 1) { edges { node { id } } } }' });
    let readyAt = 0;
    let firstModel = '';
    for (const deadline = Date.now() + options.timeout * 1000; Date.now() < deadline; ) {
      try {
        const ids = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: firstQuery })).json()) as {
          data?: { users: { edges: Array<{ node: { id: number } }> }; movies: { edges: Array<{ node: { id: number } }> } };
        };
        if (ids.data) {
          const u = ids.data.users.edges[0].node.id;
          const m = ids.data.movies.edges[0].node.id;
          const p = (await (
            await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ prediction(userId: ${u}, movieId: ${m}) { rating modelId } }` }) })
          ).json()) as { data?: { prediction: { rating: number; modelId: string } } };
          if (p.data) {
            readyAt = Date.now();
            firstModel = p.data.prediction.modelId;
            break;
          }
        }
      } catch {
        // not accepting yet
      }
      if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) while starting`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!readyAt) throw new Error('the server answered no prediction in time');
    log(`first prediction after ${since(readyAt)} s (model ${firstModel})`);
    const startup = (configuredAt: number | null): ServingBenchResult['startup'] => ({
      listeningSeconds: since(listening.time),
      dataLoadedSeconds: since(dataLoaded.time),
      readySeconds: since(readyAt),
      readyAfterDataSeconds: round((readyAt - dataLoaded.time) / 1000, 2),
      configuredActiveSeconds: configuredAt === null ? NaN : since(configuredAt),
      firstModel,
      serverTimings: events.find((e) => e.msg === 'ready')?.entry.timings ?? null,
      log: events.filter((e) => configuredAt === null || e.time <= configuredAt).map((e) => [since(e.time), e.msg]),
    });
    if (options.startupOnly) {
      // Only the startup figures: the other fields are absent.
      return { data: options.data, ratings, nodeFlags, configured: { kind: options.kind, params: options.params }, startup: startup(null) } as unknown as ServingBenchResult;
    }
    // Served at ready (a stored model, or RECSYS_MODEL's file: its id starts with `file-`), or trained in the background.
    const servedAtReady = firstModel.startsWith(`${options.kind}-`) || ['file', 'artifact'].includes(String((events.find((e) => e.msg === 'ready')?.entry.timings as { modelSource?: string } | undefined)?.modelSource));
    const configuredAt = servedAtReady
      ? readyAt
      : (await waitLog((e) => e.msg.startsWith(`the configured ${options.kind} model`), 'configured model')).time;
    const configuredLine = events.find((e) => e.msg.startsWith(`the configured ${options.kind} model`));
    if (configuredLine && !configuredLine.msg.includes('now serves')) throw new Error(`the configured model did not pass: ${JSON.stringify(configuredLine.entry)}`);
    log(`configured ${options.kind} model active after ${since(configuredAt)} s`);

    // Steady: the similarity pool of the new model has started (it copies the matrix meanwhile) and
    // the configured model's run has ended (its artifact written: until then a retrain is refused), then 3 s.
    const poolStarted = waitLog((e) => e.time >= configuredAt && e.msg === 'similarity pool started', 'similarity pool started').catch(() => undefined);
    await Promise.race([poolStarted, new Promise((r) => setTimeout(r, 120_000).unref())]);
    await runsFinished(url, 600_000);
    await new Promise((r) => setTimeout(r, 3000));
    const steadyRss = rssOf(child.pid!);
    const users = await listIds(url, 'users', 300);
    const movies = await listIds(url, 'movies', 300);
    const predictionBodies = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ query: 'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating modelId } }', variables: { u: users[(i * 7919) % users.length], m: movies[(i * 104_729) % movies.length] } }),
    );
    const recommendationBodies = users.slice(0, 100).map((u) => JSON.stringify({ query: 'query($u: Int!) { recommendations(userId: $u, n: 10) { movieId score } }', variables: { u } }));
    const start = (bodies: string[], duration = options.duration, connections = options.connections) => {
      let next = 0;
      return autocannon({
        url,
        connections,
        duration,
        requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (r) => ({ ...r, body: bodies[next++ % bodies.length] }) }],
        verifyBody: (body: string) => !(JSON.parse(body) as { errors?: unknown }).errors,
      });
    };
    /** A load's figures with the CPU the server and this process (the load generator) spent meanwhile. */
    const load = async (bodies: string[], duration = options.duration, connections = options.connections): Promise<LatencyFigures> => {
      const cpu = { server: processCpuSeconds(child.pid!), self: process.cpuUsage(), at: performance.now() };
      const r = await start(bodies, duration, connections);
      const seconds = (performance.now() - cpu.at) / 1000;
      const self = process.cpuUsage(cpu.self);
      const server = processCpuSeconds(child.pid!) - cpu.server;
      return {
        ...latency(r),
        serverCpuMsPerQuery: round((server * 1000) / Math.max(1, r.requests.total), 3),
        serverCpuShare: round(server / seconds, 2),
        loadGeneratorCpuShare: round((self.user + self.system) / 1e6 / seconds, 2),
        loadAverage: round(loadavg()[0], 2),
      };
    };
    log(`prediction load: ${options.connections} connections, ${options.duration} s`);
    const prediction = await load(predictionBodies);
    log(`recommendations(n: 10) load: ${options.connections} connections, ${options.duration} s`);
    const recommendations = await load(recommendationBodies);
    // One client at a time: the latency of a query itself, without queueing behind the other connections' queries.
    log(`prediction and recommendations(n: 10), one connection, ${Math.ceil(options.duration / 2)} s each`);
    const oneClient = {
      prediction: await load(predictionBodies, Math.ceil(options.duration / 2), 1),
      recommendations: await load(recommendationBodies, Math.ceil(options.duration / 2), 1),
    };
    const similarMovies = options.similarMovieId === undefined ? null : await similarLatency(base, options.similarMovieId, options.similarQueries ?? SIMILAR_QUERIES);

    // A retrain under prediction load.
    await serverMetrics(base, true);
    // Over the same span as the server's event-loop figure: how long this process's sleeping
    // thread overslept (a pause of the machine shows in both; the server's own work only in its).
    const witness = startPauseWitness();
    let peakRss = rssOf(child.pid!);
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssOf(child.pid!));
      } catch {
        // exited
      }
    }, 50);
    const retrainLoad = start(predictionBodies, Math.max(options.duration, 600));
    await new Promise((r) => setTimeout(r, 1000));
    const mutationStart = performance.now();
    const mutationWall = Date.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation { retrain(input: { kind: ${options.kind.toUpperCase()}, parameters: { ${Object.entries(options.retrainParams).map(([k, v]) => `${k}: ${v}`).join(', ')} } }) { id status } }` }),
    });
    const started = (await res.json()) as { data?: { retrain: { id: string } }; errors?: unknown };
    const mutationMs = performance.now() - mutationStart;
    if (!started.data) throw new Error(`retrain refused: ${JSON.stringify(started.errors)}`);
    const runId = started.data.retrain.id;
    log(`retrain ${runId} accepted in ${mutationMs.toFixed(1)} ms`);
    // Epoch times: polled (every 50 ms) when the run's epoch count grows.
    let lastEpochAt = 0;
    let epochsSeen = 0;
    let status = '';
    let finishedAt = 0;
    let modelId: string | null = null;
    for (const deadline = Date.now() + options.timeout * 1000; Date.now() < deadline; ) {
      const r = (await (
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ trainingRun(id: ${JSON.stringify(runId)}) { status modelId finishedAt epochs { epoch } } }` }) })
      ).json()) as { data: { trainingRun: { status: string; modelId: string | null; finishedAt: string | null; epochs: Array<{ epoch: number }> } } };
      const run = r.data.trainingRun;
      if (run.epochs.length > epochsSeen) {
        epochsSeen = run.epochs.length;
        lastEpochAt = Date.now();
      }
      status = run.status;
      if (status === 'SUCCEEDED' || status === 'FAILED') {
        finishedAt = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
        modelId = run.modelId;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const stall = (await serverMetrics(base)).eventLoop.maxMs;
    const witnessed = await witness.stop();
    clearInterval(sampler);
    (retrainLoad as unknown as { stop?: () => void }).stop?.();
    const predictionUnderRetrain = latency(await retrainLoad);
    log(`retrain ${status} (model ${modelId}); largest event-loop delay ${stall.toFixed(1)} ms (a sleeping thread here overslept at most ${witnessed.maxLatenessMs.toFixed(1)} ms); peak RSS ${(peakRss / 2 ** 30).toFixed(2)} GiB`);
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfter = rssOf(child.pid!);
    return {
      data: options.data,
      ratings,
      nodeFlags,
      configured: { kind: options.kind, params: options.params },
      startup: startup(configuredAt),
      steady: { rssBytes: steadyRss, bytesPerRating: round(steadyRss / ratings, 2) },
      latency: { prediction, recommendations, oneClient, similarMovies },
      retrain: {
        kind: options.kind,
        params: options.retrainParams,
        status,
        mutationMs: round(mutationMs, 1),
        lastEpochToActiveSeconds: lastEpochAt && finishedAt ? round((finishedAt - lastEpochAt) / 1000, 2) : null,
        startToActiveSeconds: finishedAt ? round((finishedAt - mutationWall) / 1000, 2) : null,
        maxEventLoopStallMs: round(stall, 1),
        witnessMaxLatenessMs: round(witnessed.maxLatenessMs, 1),
        peakRssBytes: peakRss,
        peakOverSteady: round(peakRss / steadyRss, 3),
        rssAfterBytes: rssAfter,
        predictionUnderRetrain,
      },
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseCli(argv: string[]): ServingBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      kind: { type: 'string' },
      params: { type: 'string' },
      'retrain-params': { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      timeout: { type: 'string' },
    },
    strict: true,
  });
  if (!values.data) throw new Error('--data PATH is required (a snapshot, e.g. /work/data/prize-100m.snap)');
  const int = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return n;
  };
  const numbers = (name: string, text: string): Record<string, number> => {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || Object.values(o).some((v) => typeof v !== 'number')) throw new Error(`--${name} must be a JSON object of numbers, e.g. {"factors":100,"epochs":3}`);
    return o as Record<string, number>;
  };
  const d = SERVING_BENCH_DEFAULTS;
  return {
    data: values.data,
    kind: values.kind ?? d.kind,
    params: values.params === undefined ? d.params : numbers('params', values.params),
    retrainParams: values['retrain-params'] === undefined ? d.retrainParams : numbers('retrain-params', values['retrain-params']),
    connections: int('connections', values.connections, d.connections),
    duration: int('duration', values.duration, d.duration),
    timeout: int('timeout', values.timeout, d.timeout),
  };
}

if (require.main === module) {
  let options: ServingBenchOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`serving-bench: ${(error as Error).message}\n`);
    process.exit(2);
  }
  servingBench(options).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`serving-bench: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
