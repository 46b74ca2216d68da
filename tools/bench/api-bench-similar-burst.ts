// api-bench scenario `similar-burst`: similarity queries on the most-rated movies while the
// event loop's delay is probed.
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { RatingMatrix } from '@recsys/data';
import { log, post, round, ServerProcess, startServer } from './api-bench-server';
import { allPass, check, scenarioData, ScenarioResult, setupOf } from './api-bench-load';
import { Args } from './api-bench-args';

// -- similar-burst

export const PING_BOUND_MS = 200;
export const TOP_MOVIES = 10;
export const SIMILARITY_METRICS = { jaccard: 'JACCARD', cosine: 'COSINE', pearson: 'PEARSON', 'pearson-baseline': 'PEARSON_BASELINE' } as const;

/** Internal indices of the `count` most-rated movies. */
export function mostRated(matrix: RatingMatrix, count: number): number[] {
  const order = Array.from({ length: matrix.nMovies }, (_, m) => m).sort((a, b) => matrix.movieCount(b) - matrix.movieCount(a) || a - b);
  return order.slice(0, count);
}

/** Accumulations of a query on internal movie m: Σ |I_u| over its raters u. */
export function workOf(matrix: RatingMatrix, m: number): number {
  let work = 0;
  for (let p = matrix.moviePtr[m]; p < matrix.moviePtr[m + 1]; p++) work += matrix.userCount(matrix.movieUsers[p]);
  return work;
}

export interface LagReading {
  seq: number;
  maxMs: number;
  meanMs: number;
  p99Ms: number;
  count: number;
}

/** Asks the probe in the server (SIGUSR2) for its event-loop delay since the last reading, and waits for the answer. */
export async function readLag(server: ServerProcess, file: string, last: number): Promise<LagReading> {
  server.child.kill('SIGUSR2');
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (existsSync(file)) {
      const reading = JSON.parse(readFileSync(file, 'utf8')) as LagReading;
      if (reading.seq > last) return reading;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the event-loop probe in the server did not answer');
}

export async function similarBurst(args: Args, dir: string): Promise<ScenarioResult> {
  const loadBefore = loadavg().map((x) => round(x, 2));
  const data = await scenarioData(args, dir, { ratings: 2_000_000, seed: 11 });
  const lagFile = join(dir, 'event-loop.json');
  let server: ServerProcess | null = null;
  try {
    log(`starting the API over ${data.matrix.nRatings} ratings`);
    server = await startServer({ data: data.path, format: data.format, cpuProf: args.cpuProf, preload: join(__dirname, 'event-loop-probe.js'), env: { RECSYS_BENCH_LAG_FILE: lagFile } }, dir);
    const top = mostRated(data.matrix, TOP_MOVIES);
    const movies = top.map((m) => data.matrix.movies.ids[m]);
    const queries = (Object.keys(SIMILARITY_METRICS) as Array<keyof typeof SIMILARITY_METRICS>).flatMap((metric) =>
      movies.map((movieId, i) => ({ movieId, metric, minSupport: i % 3 === 0 ? 20 : 0 })),
    );
    // Open the client's connections first (as on a server under steady load), so that the pings
    // wait on the event loop and not on TCP handshakes; for reference, time these light queries.
    const c0 = performance.now();
    await Promise.all(queries.map(() => post(server!, 'query($id: Int!) { movie(id: $id) { id } }', { id: movies[0] })));
    const lightQueriesMs = performance.now() - c0;

    let lag = await readLag(server, lagFile, 0);
    let inFlight = true;
    const t0 = performance.now();
    const burst = Promise.all(
      queries.map((q) =>
        post<{ similarMovies: unknown[] }>(server!, 'query($id: Int!, $metric: SimilarityMetric!, $ms: Int!) { similarMovies(movieId: $id, n: 10, metric: $metric, minSupport: $ms) { movieId similarity support } }', {
          id: q.movieId,
          metric: SIMILARITY_METRICS[q.metric],
          ms: q.minSupport,
        }),
      ),
    ).finally(() => (inFlight = false));
    const pings: number[] = [];
    let badPings = 0;
    while (inFlight) {
      const started = performance.now();
      const pong = await post<{ ping: number }>(server, '{ ping }');
      pings.push(performance.now() - started);
      if (pong.data?.ping !== 1) badPings++;
    }
    const answers = await burst;
    const burstMs = performance.now() - t0;
    lag = await readLag(server, lagFile, lag.seq);
    const failed = answers.filter((a) => a.errors || !Array.isArray(a.data?.similarMovies)).length;
    const sorted = [...pings].sort((a, b) => a - b);
    const worst = sorted[sorted.length - 1] ?? NaN;
    log(`burst of ${queries.length} queries in ${burstMs.toFixed(0)} ms: ${pings.length} pings, worst ${worst.toFixed(1)} ms; event-loop delay max ${lag.maxMs.toFixed(1)} ms`);
    const checks = {
      worstPingMs: check(worst, 'max', PING_BOUND_MS),
      eventLoopDelayMaxMs: check(lag.maxMs, 'max', PING_BOUND_MS),
      pingsDuringBurst: check(pings.length, 'min', 2),
      everyAnswerRight: failed === 0 && badPings === 0,
    };
    const report = {
      benchmark: 'api-similar-burst',
      setup: setupOf(server, data, loadBefore),
      burst: {
        queries: queries.length,
        movies: top.map((m) => ({ id: data.matrix.movies.ids[m], raters: data.matrix.movieCount(m), work: workOf(data.matrix, m) })),
        metrics: Object.keys(SIMILARITY_METRICS),
        seconds: round(burstMs / 1000),
        failedAnswers: failed,
      },
      lightQueries: { queries: queries.length, ms: round(lightQueriesMs, 1) },
      pings: { count: pings.length, worstMs: round(worst, 1), medianMs: round(sorted[sorted.length >> 1] ?? NaN, 1), wrongAnswers: badPings },
      eventLoopDelay: { maxMs: round(lag.maxMs, 1), meanMs: round(lag.meanMs, 2), p99Ms: round(lag.p99Ms, 1) },
      checks,
      passed: allPass(checks),
      loadAverageAfter: loadavg().map((x) => round(x, 2)),
    };
    return { report, passed: report.passed };
  } finally {
    await server?.stop();
  }
}
