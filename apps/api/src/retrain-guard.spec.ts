import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { SVD_DEFAULTS } from '@recsys/models';
import { startTestApi, TestApi } from './testing/harness';

jest.setTimeout(60_000);

const codeOf = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => r.errors?.[0]?.extensions?.code;

interface Run {
  id: string;
  status: string;
  error: string | null;
  parameters: Record<string, unknown>;
  heldOutRmse: number | null;
  heldOutRatings: number | null;
  referenceKind: string | null;
  referenceRmse: number | null;
  modelId: string | null;
  epochs: Array<{ epoch: number; trainRmse: number | null; validationRmse: number | null }>;
}
const RUN_FIELDS = 'id status error parameters heldOutRmse heldOutRatings referenceKind referenceRmse modelId epochs { epoch trainRmse validationRmse }';

/**
 * issue 9: training cannot hurt serving. Bounds refuse what blew the server up, omitted
 * parameters are the kind's defaults, and a model that diverges or does not beat its reference
 * on held-out ratings ends FAILED while the active model keeps answering.
 */
describe('retrain: bounded parameters and the guard before activation (over HTTP)', () => {
  let t: TestApi;
  let user: number;
  let movie: number;

  beforeAll(async () => {
    t = await startTestApi();
    const m = t.dataset.matrix;
    user = m.users.ids[0];
    movie = m.movies.ids[m.userMovies[m.userPtr[0]]];
  });
  afterAll(async () => {
    await t?.close();
  });

  async function retrain(input: string): Promise<{ run: Run | null; errors: Array<{ message: string; extensions?: { code?: string } }> | undefined }> {
    const r = await t.gql<{ retrain: Run }>(`mutation { retrain(input: ${input}) { ${RUN_FIELDS} } }`);
    return { run: r.data?.retrain ?? null, errors: r.errors };
  }

  async function finished(id: string): Promise<Run> {
    for (let i = 0; i < 2000; i++) {
      const run = (await t.gql<{ trainingRun: Run }>(`query($id: ID!) { trainingRun(id: $id) { ${RUN_FIELDS} } }`, { id })).data!.trainingRun;
      if (run.status === 'SUCCEEDED' || run.status === 'FAILED') return run;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`run ${id} did not finish`);
  }

  async function activeId(): Promise<string> {
    return (await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
  }

  /** Predictions, recommendations and rateMovie answer with the active model. */
  async function servingWorks(): Promise<void> {
    const r = await t.gql<{ prediction: { rating: number; baseline: number; isFallback: boolean }; recommendations: Array<{ score: number }> }>(
      `{ prediction(userId: ${user}, movieId: ${movie}) { rating baseline isFallback } recommendations(userId: ${user}, n: 5) { score } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.prediction.isFallback).toBe(false);
    expect(Number.isFinite(r.data!.prediction.baseline)).toBe(true);
    expect(r.data!.recommendations).toHaveLength(5);
    for (const rec of r.data!.recommendations) expect(Number.isFinite(rec.score)).toBe(true);
    const rated = await t.gql<{ rateMovie: { rating: number } }>(`mutation { rateMovie(userId: ${user}, movieId: ${movie}, rating: 4) { rating } }`);
    expect(rated.errors).toBeUndefined();
    expect(rated.status).toBe(200);
  }

  it('refuses out-of-bounds parameters up front with BAD_USER_INPUT naming the range; nothing runs, nothing changes', async () => {
    const before = await activeId();
    const runsBefore = (await t.gql<{ trainingRuns: { totalCount: number } }>('{ trainingRuns { totalCount } }')).data!.trainingRuns.totalCount;
    const cases: Array<[string, RegExp]> = [
      ['{ parameters: { lr: 1e6 } }', /svd: lr must be a number in 0\.\.1, got 1000000/],
      ['{ parameters: { initStd: 1e308 } }', /svd: initStd must be a number with 0 < initStd ≤ 1, got 1e\+308/],
      ['{ parameters: { reg: 1e300 } }', /svd: reg must be a number in 0\.\.1000, got 1e\+300/],
      ['{ parameters: { threads: 10000 } }', new RegExp(`threads must be an integer in 1\\.\\.cores \\(os\\.availableParallelism\\(\\)\\) \\(${availableParallelism()} on this machine\\), got 10000`)],
      [`{ threads: ${availableParallelism() + 1} }`, /threads must be an integer in 1\.\.cores/],
      ['{ parameters: { factors: 0, epochs: 0 } }', /svd: epochs must be an integer in 1\.\.1000, got 0/],
      ['{ parameters: { factors: 5000 } }', /svd: factors must be an integer in 0\.\.1000, got 5000/],
      ['{ kind: SVDPP, parameters: { lr: 2 } }', /svdpp: lr must be a number with 0 < lr ≤ 1, got 2/],
      ['{ kind: BASELINE, parameters: { epochs: 100000 } }', /baseline: epochs must be an integer in 1\.\.1000, got 100000/],
    ];
    for (const [input, message] of cases) {
      const { run, errors } = await retrain(input);
      expect({ input, run, code: codeOf({ errors }) }).toEqual({ input, run: null, code: 'BAD_USER_INPUT' });
      expect(errors![0].message).toMatch(message);
    }
    expect((await t.gql<{ trainingRuns: { totalCount: number } }>('{ trainingRuns { totalCount } }')).data!.trainingRuns.totalCount).toBe(runsBefore);
    expect(await activeId()).toBe(before);
    await servingWorks();
  });

  it('a fit that diverges inside the bounds (svd, lr 1) ends FAILED with the epoch; the active model keeps serving', async () => {
    const before = await activeId();
    const { run, errors } = await retrain('{ parameters: { lr: 1, epochs: 200 } }');
    expect(errors).toBeUndefined();
    const done = await finished(run!.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatch(/^svd diverged: training RMSE NaN after epoch 1 of 200; not served or written; lower the learning rate/);
    expect(done.modelId).toBeNull();
    // It stopped at the first NaN epoch instead of running 200.
    expect(done.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(await activeId()).toBe(before);
    await servingWorks();
  });

  it('a model that does not beat its reference on the held-out slice ends FAILED with both RMSEs; the active model keeps serving', async () => {
    const before = await activeId();
    const { run } = await retrain('{ parameters: { epochs: 1, lr: 1e-6, lrBias: 1e-6 } }');
    const done = await finished(run!.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatch(/^svd does not beat baseline on \d+ held-out ratings \(RMSE \d\.\d{4} against \d\.\d{4}\): not served or written/);
    expect(done.referenceKind).toBe('baseline');
    expect(done.heldOutRatings).toBe(Math.round(0.02 * t.dataset.matrix.nRatings));
    expect(done.heldOutRmse!).toBeGreaterThan(done.referenceRmse!);
    expect(await activeId()).toBe(before);
    await servingWorks();
  });

  it('omitted parameters are the kind\'s defaults, not the last run\'s; a run reports them all and the held-out figures that let it serve', async () => {
    const first = await finished((await retrain('{ parameters: { epochs: 25, factors: 8 } }')).run!.id);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.parameters).toEqual({ ...SVD_DEFAULTS.sgd, epochs: 25, factors: 8 });
    const { run } = await retrain('{}');
    expect(run!.parameters).toEqual({ ...SVD_DEFAULTS.sgd });
    const second = await finished(run!.id);
    expect(second.status).toBe('SUCCEEDED');
    expect(second.referenceKind).toBe('baseline');
    expect(second.heldOutRmse!).toBeLessThan(second.referenceRmse!);
    expect(second.epochs).toHaveLength(SVD_DEFAULTS.sgd.epochs);
    for (const e of second.epochs) expect(Number.isFinite(e.validationRmse)).toBe(true);
    const active = await t.gql<{ activeModel: { id: string; parameters: Record<string, unknown>; metrics: { heldOutRmse: number; referenceKind: string; referenceRmse: number; ratings: number } } }>(
      '{ activeModel { id parameters metrics { heldOutRmse referenceKind referenceRmse ratings } } }',
    );
    const a = active.data!.activeModel;
    expect(a.id).toBe(second.modelId);
    expect(a.parameters).toEqual({ ...SVD_DEFAULTS.sgd });
    expect(a.metrics).toMatchObject({ heldOutRmse: second.heldOutRmse, referenceKind: 'baseline', referenceRmse: second.referenceRmse });
    // The model served is fitted on every rating (the guard's fit left the slice out).
    const apiRatings = (await t.gql<{ trainingRun: { apiRatings: number } }>(`{ trainingRun(id: "${second.id}") { apiRatings } }`)).data!.trainingRun.apiRatings;
    expect(a.metrics.ratings).toBeGreaterThanOrEqual(t.dataset.matrix.nRatings);
    expect(a.metrics.ratings).toBeLessThanOrEqual(t.dataset.matrix.nRatings + apiRatings);
    await servingWorks();
  });
});
