// api-bench scenario `throughput`: prediction vs constant queries under autocannon.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { listIds, log, round, ServerProcess, startServer } from './api-bench-server';
import { fallbackShareOf, Kind, PING_BODY, predictionBodies, predictionPairs, run, RunFigures, ScenarioResult, summary } from './api-bench-load';
import { Args } from './api-bench-args';

/** The throughput scenario: prediction vs constant, `--rounds` rounds of autocannon runs. */
export async function throughput(args: Args, dir: string): Promise<ScenarioResult> {
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
    return { report, passed: report.meetsTarget };
  } finally {
    await server?.stop();
  }
}
