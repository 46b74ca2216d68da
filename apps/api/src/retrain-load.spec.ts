import 'reflect-metadata';
import autocannon from 'autocannon';
import { startTestApi, TestApi, TEST_TOKEN } from './testing/harness';

jest.setTimeout(60_000);

describe('retrain under load', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers every prediction query while a retrain runs in its worker, then serves the new model', async () => {
    const before = (await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
    const users = t.dataset.matrix.users.ids;
    const movies = t.dataset.matrix.movies.ids;
    const query = 'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback modelId } }';
    const bodies = Array.from({ length: 50 }, (_, i) => JSON.stringify({ query, variables: { u: users[(i * 37) % users.length], m: movies[(i * 11) % movies.length] } }));
    const answeredAt: number[] = [];
    const modelsSeen = new Set<string>();
    let next = 0;
    const load = autocannon({
      url: t.api.url,
      connections: 8,
      // At most; stopped 1 s after the run finished (on a busy machine the worker may take seconds to start).
      duration: 40,
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
    // SVD++ for 60 epochs at lr 0.005 and reg 0.08 (its default reg 0.02 overfits these 20k ratings in 60 epochs), fitted once
    // (the guard's fit without the held-out slice, which is then served: a retrain no longer refits on every rating). (At lr 0.015,
    // 150 epochs overfit these ratings: the guard fails such a run, issue 9.)
    const started = await t.gql<{ retrain: { id: string } }>(
      'mutation { retrain(input: { kind: SVDPP, parameters: { epochs: 60, lr: 0.005, reg: 0.08 } }) { id } }',
      {},
      { token: TEST_TOKEN },
    );
    expect(started.errors).toBeUndefined();
    const runId = started.data!.retrain.id;
    const training = t.api.services()!.training;
    const loadStarted = Date.now();
    for (let i = 0; i < 700 && /QUEUED|RUNNING/.test(training.get(runId)!.status); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    load.stop();
    const result = await load;
    const loadSeconds = (Date.now() - loadStarted) / 1000 + 0.5;
    const { data } = await t.gql<{ trainingRun: { status: string; startedAt: string; finishedAt: string; modelId: string }; activeModel: { id: string; kind: string } }>(
      'query($id: ID!) { trainingRun(id: $id) { status startedAt finishedAt modelId } activeModel { id kind } }',
      { id: runId },
    );
    const run = data!.trainingRun;
    // The swapped-in model answers (also when the load ended before the swap).
    const after = await t.gql<{ prediction: { modelId: string } }>('query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { modelId } }', { u: users[0], m: movies[0] });
    modelsSeen.add(after.data!.prediction.modelId);
    expect(run.status).toBe('SUCCEEDED');
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.mismatches).toBe(0);
    expect(result['2xx']).toBeGreaterThan(0);
    // Answers arrived while the run was training, and both models answered. How many, and how
    // long the training overlapped the load, are measured with their bounds by
    // `node tools/dist/bench/api-bench.js --scenario retrain-load` (timing bounds fail on a busy machine).
    const during = answeredAt.filter((ms) => ms >= Date.parse(run.startedAt) && ms <= Date.parse(run.finishedAt)).length;
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(during).toBeGreaterThan(0);
    expect(data!.activeModel.id).not.toBe(before);
    expect(data!.activeModel).toEqual({ id: run.modelId, kind: 'SVDPP' });
    expect(modelsSeen.has(before)).toBe(true);
    expect(modelsSeen.has(run.modelId)).toBe(true);
    console.log(
      `retrain under load: ${result['2xx']} requests in ${loadSeconds.toFixed(1)} s (${during} during the ${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(2)} s training), ` +
        `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors}, non-2xx ${result.non2xx}`,
    );
  });
});
