// api-bench scenario `retrain-load`: queries under load while a retrain runs.
import { loadavg } from 'node:os';
import { log, post, round, ServerProcess, startServer } from './api-bench-server';
import { allPass, autocannon, check, scenarioData, ScenarioResult, setupOf } from './api-bench-load';
import { Args } from './api-bench-args';

// -- retrain-load

// The retrain-load spec's run: its default reg (0.02) overfits the 20k ratings in 60 epochs, and the guard would fail it.
export const RETRAIN = { kind: 'SVDPP', epochs: 60, lr: 0.005, reg: 0.08 } as const;

export async function retrainLoad(args: Args, dir: string): Promise<ScenarioResult> {
  const loadBefore = loadavg().map((x) => round(x, 2));
  const data = await scenarioData(args, dir, { ratings: 20_000, users: 500, movies: 300, seed: 7 });
  let server: ServerProcess | null = null;
  try {
    log(`starting the API over ${data.matrix.nRatings} ratings`);
    server = await startServer({ data: data.path, format: data.format, cpuProf: args.cpuProf }, dir);
    const before = (await post<{ activeModel: { id: string } }>(server, '{ activeModel { id } }')).data!.activeModel.id;
    const users = data.matrix.users.ids;
    const movies = data.matrix.movies.ids;
    const query = 'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback modelId } }';
    const bodies = Array.from({ length: 50 }, (_, i) => JSON.stringify({ query, variables: { u: users[(i * 37) % users.length], m: movies[(i * 11) % movies.length] } }));
    const answeredAt: number[] = [];
    const modelsSeen = new Set<string>();
    let next = 0;
    log(`prediction load: ${args.connections} connections for ${args.duration} s, a ${RETRAIN.kind} retrain (${RETRAIN.epochs} epochs) from 0.5 s`);
    const load = autocannon({
      url: server.url,
      connections: args.connections,
      duration: args.duration,
      requests: bodies.map(() => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[next++ % bodies.length],
        onResponse: (status: number, body: string) => {
          answeredAt.push(Date.now());
          if (status === 200) {
            const parsed = JSON.parse(body) as { data?: { prediction?: { modelId: string } } };
            if (parsed.data?.prediction) modelsSeen.add(parsed.data.prediction.modelId);
          }
        },
      })),
      verifyBody: (body: string) => {
        const parsed = JSON.parse(body) as { data?: { prediction?: { rating: number } }; errors?: unknown };
        return !parsed.errors && typeof parsed.data?.prediction?.rating === 'number';
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const started = await post<{ retrain: { id: string } }>(server, `mutation { retrain(input: { kind: ${RETRAIN.kind}, parameters: { epochs: ${RETRAIN.epochs}, lr: ${RETRAIN.lr}, reg: ${RETRAIN.reg} } }) { id } }`);
    if (started.errors || !started.data) throw new Error(`retrain refused: ${JSON.stringify(started.errors)}`);
    const result = await load;
    const runId = started.data.retrain.id;
    type Run = { trainingRun: { status: string; startedAt: string | null; finishedAt: string | null; modelId: string | null }; activeModel: { id: string; kind: string } };
    let run: Run;
    for (const deadline = performance.now() + 300_000; ; ) {
      run = (await post<Run>(server, 'query($id: ID!) { trainingRun(id: $id) { status startedAt finishedAt modelId } activeModel { id kind } }', { id: runId })).data!;
      if (run.trainingRun.status === 'SUCCEEDED' || run.trainingRun.status === 'FAILED') break;
      if (performance.now() > deadline) throw new Error(`the retrain did not finish in 300 s (${run.trainingRun.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await post<{ prediction: { modelId: string } }>(server, 'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { modelId } }', { u: users[0], m: movies[0] });
    const from = Date.parse(run.trainingRun.startedAt ?? '');
    const to = Date.parse(run.trainingRun.finishedAt ?? '');
    const during = answeredAt.filter((ms) => ms >= from && ms <= to).length;
    const trainingSeconds = (to - from) / 1000;
    const requestsPerSecond = result['2xx'] / result.duration;
    log(`${result['2xx']} answers (${requestsPerSecond.toFixed(0)}/s), ${during} during the ${trainingSeconds.toFixed(2)} s training`);
    const checks = {
      requestsPerSecond: check(requestsPerSecond, 'min', 50),
      trainingSeconds: check(trainingSeconds, 'min', 0.3),
      answeredDuringTraining: check(during, 'min', 100),
      retrainSucceeded: run.trainingRun.status === 'SUCCEEDED' && run.activeModel.id === run.trainingRun.modelId && run.activeModel.id !== before,
      oldModelAnsweredUnderLoad: modelsSeen.has(before),
      newModelServes: after.data?.prediction.modelId === run.trainingRun.modelId,
      noErrors: result.errors === 0 && result.timeouts === 0 && result.non2xx === 0 && result.mismatches === 0,
    };
    const report = {
      benchmark: 'api-retrain-under-load',
      setup: { ...setupOf(server, data, loadBefore), connections: args.connections, durationSeconds: args.duration, retrain: RETRAIN },
      load: {
        requests: result['2xx'],
        requestsPerSecond: round(requestsPerSecond, 1),
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        mismatches: result.mismatches,
      },
      training: { status: run.trainingRun.status, seconds: round(trainingSeconds) },
      answeredDuringTraining: during,
      // 2 when the swap happened before the load ended (the training took less than about duration − 0.5 s).
      modelsAnsweringUnderLoad: modelsSeen.size,
      checks,
      passed: allPass(checks),
      loadAverageAfter: loadavg().map((x) => round(x, 2)),
    };
    return { report, passed: report.passed };
  } finally {
    await server?.stop();
  }
}
