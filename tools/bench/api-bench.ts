/**
 * API benchmark, three scenarios (`--scenario`), each against the compiled API in a child process.
 *
 * `throughput` (default): prediction queries per second and their latency on loopback, beside the
 * same server answering a constant (`{ ping }`), which is the ceiling of the HTTP + Express +
 * Apollo Server + type-graphql stack with its limits and plugins. Target: prediction ≥ 70 % of it.
 *
 *   npx tsc -b apps/api tools && node tools/dist/bench/api-bench.js
 *     [--connections 10] [--duration 10] [--warmup 3] [--rounds 2] [--pairs 1000]
 *     [--variables] [--data PATH [--format F]] [--cpu-prof DIR] [--check]   (--help: the options)
 *
 * `similar-burst`: the server over 2M synthetic ratings (seed 11; or `--data`), so that the most-rated
 * movies' similar-movie queries run on its SimilarityPool's worker threads. After 40 light queries
 * that open the client's connections, a burst of 40 heavy similar-movie queries (the 10 most-rated
 * movies × every metric, pearson-baseline's baselines fitted then) is sent at once, and `{ ping }` is
 * asked again and again until the burst is answered: the worst ping latency, and the server's
 * longest event-loop delay during the burst (a histogram preloaded into the server,
 * `event-loop-probe.js`), must each stay under 200 ms. Measured in apps/api/src/similar-movies.spec.ts
 * before the bound moved here (2-core VM, client and server in one process): worst ping 66–81 ms,
 * event-loop delay 47–53 ms with the pool; 559–567 ms and 528–537 ms with every query on the event loop.
 *
 * `retrain-load`: the server over 20k synthetic ratings (500 users, 300 movies, seed 7; or `--data`)
 * answers prediction queries from `--connections 8` connections for `--duration 4` s while an SVD++
 * retrain (150 epochs) runs in its worker from the 0.5 s mark: at least 50 answers per second
 * (200 in 4 s), the training overlapping the load for at least 0.3 s, and at least 100 answers
 * given while it trained (the bounds of apps/api/src/retrain-load.spec.ts before they moved here);
 * both the old and the new model answer, with no error.
 *
 * The figures with their bounds are in the JSON (`checks`, `passed`); with `--check` the exit code
 * is 1 when one is missed (in `throughput`: when the prediction/constant ratio misses the target).
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
 * `throughput --replicas N` (N ≥ 2, tools/bench/api-bench-replicas.ts): N servers over one
 * PostgreSQL database (created by the bench in `--database-url`'s cluster, default
 * RECSYS_TEST_DATABASE_URL, and dropped after) and one model directory; prediction queries through
 * one replica and through all N (autocannon's connections spread round-robin over their URLs) in
 * alternating order, each run as above; `ratio` = all N / one. On one machine the replicas and
 * this load generator share the cores.
 *
 * Prints ONE JSON document on stdout; progress and the server's warnings go to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBenchArgs } from './bench-args';
import { throughput } from './api-bench-throughput';
import { similarBurst } from './api-bench-similar-burst';
import { log } from './api-bench-server';
import { retrainLoad } from './api-bench-retrain-load';
import { replicaThroughput } from './api-bench-replicas';
import { argsFrom, CLI } from './api-bench-args';

export * from './api-bench-args';

async function main(): Promise<void> {
  const args = readBenchArgs(CLI, argsFrom);
  const dir = mkdtempSync(join(tmpdir(), 'recsys-api-bench-'));
  try {
    if (args.replicas > 1 && args.scenario !== 'throughput') throw new Error(`--replicas applies to --scenario throughput, not ${args.scenario}`);
    const scenario = args.replicas > 1 ? replicaThroughput : { throughput, 'similar-burst': similarBurst, 'retrain-load': retrainLoad }[args.scenario];
    const { report, passed } = await scenario(args, dir);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (args.check && !passed) {
      log('a figure missed its bound (--check)');
      process.exitCode = 1;
    }
  } finally {
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
