// Startup at scale (issue 10, item 3): a baseline serves first while the configured model trains in
// the background; RECSYS_MODEL serves a model trained by the CLI, and refuses one of other data;
// retrain answers before its training ends.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRatingMatrix, builtDatasetReport, generateSynthetic, holdoutSplit, LoadedDataset, RatingListBuilder, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { fitChecked } from '@recsys/evaluation';
import { createModel, fingerprintMatrix, loadModel, saveModel } from '@recsys/models';
import { ConfigError, resolveConfig } from './config';
import { createLogger } from './logger';
import { startApi, STARTUP_BASELINE } from './server';
import { smallDataset, startTestApi, testConfig, TestApi } from './testing/harness';

jest.setTimeout(120_000);

const CLI = resolve(__dirname, '../../cli/dist/main.js');

/** Slow enough on the small set (seconds) that the baseline is seen serving before it is replaced; passes the guard there. */
const SLOW_SVDPP = { kind: 'svdpp' as const, params: { epochs: 60, lr: 0.005, reg: 0.08 } };

describe('startup: the baseline serves first, the configured model replaces it', () => {
  let t: TestApi;
  afterAll(async () => {
    await t?.close();
  });

  it('is ready with a baseline fitted on every rating, says that the configured model trains, then serves that one', async () => {
    t = await startTestApi({ config: { defaultModel: SLOW_SVDPP }, keepBaseline: true });
    const timings = await t.api.ready;
    expect(timings.modelSource).toBe('baseline');
    const first = t.api.services()!.registry.requireActive();
    expect(first.record.kind).toBe('baseline');
    // The baseline is the plain biases fitted on all ratings (ALS, 3 sweeps): a reference fit agrees.
    const reference = await createModel('baseline', { ...STARTUP_BASELINE }).fit(t.dataset.matrix);
    const u = t.dataset.matrix.users.ids[3];
    const m = t.dataset.matrix.movies.ids[5];
    expect(first.model.predict(u, m).rating).toBeCloseTo(reference.predict(u, m).rating, 6);
    // Kept in memory only: a restart trains the configured model rather than restore the baseline.
    expect(t.api.services()!.registry.records()).toHaveLength(0);

    const readyz = (await (await fetch(t.api.url.replace('/graphql', '/readyz'))).json()) as {
      model: { kind: string };
      configured: { kind: string; status: string };
      status: string;
      eventLoop: { maxMs: number };
    };
    expect(readyz.model.kind).toBe('baseline');
    expect(readyz.configured.kind).toBe('svdpp');
    expect(['QUEUED', 'RUNNING']).toContain(readyz.configured.status);
    expect(readyz.status).toBe('serving baseline and popular; training the configured svdpp model; training the configured popular model');
    expect(readyz.eventLoop.maxMs).toBeGreaterThan(0);
    const before = await t.gql<{ prediction: { modelId: string; model: { id: string; kind: string } } }>(`{ prediction(userId: ${u}, movieId: ${m}) { modelId model { id kind } } }`);
    expect(before.errors).toBeUndefined();
    expect(before.data!.prediction.modelId).toBe(first.id);
    // The in-memory baseline has no stored record, yet its predictions name it.
    expect(before.data!.prediction.model).toEqual({ id: first.id, kind: 'BASELINE' });

    const run = await t.api.configuredModel;
    expect(run!.status).toBe('SUCCEEDED');
    const active = t.api.services()!.registry.requireActive();
    expect(active.record.kind).toBe('svdpp');
    expect(active.id).toBe(run!.modelId);
    expect(t.api.services()!.registry.records().map((r) => r.id)).toEqual([active.id]);
    const after = await t.gql<{ prediction: { modelId: string } }>(`{ prediction(userId: ${u}, movieId: ${m}) { modelId } }`);
    expect(after.data!.prediction.modelId).toBe(active.id);
    const readyzAfter = (await (await fetch(t.api.url.replace('/graphql', '/readyz'))).json()) as { model: { kind: string }; configured: { status: string } };
    expect(readyzAfter).toMatchObject({ model: { kind: 'svdpp' }, configured: { status: 'SERVING' } });
  });
});

describe('RECSYS_MODEL: a model trained by the CLI', () => {
  let dir: string;
  let artifact: string;
  const dataset = smallDataset();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recsys-model-file-'));
    const snap = join(dir, 'data.snap');
    writeSnapshot(snap, dataset);
    artifact = join(dir, 'svd.rmodel');
    execFileSync(process.execPath, [CLI, 'train', '--data', snap, '--model', 'svd', '--out', artifact], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is served as it is (no training) and predicts what the artifact loaded by the library predicts', async () => {
    const t = await startTestApi({ dataset, config: { modelFile: artifact } });
    try {
      expect((await t.api.ready).modelSource).toBe('file');
      expect(await t.api.configuredModel).toBeNull();
      // No rating model is trained (the ranking role, with no stored model, counts popular).
      expect(t.api.services()!.training.list().filter((r) => r.role === 'rating')).toHaveLength(0);
      const expected = await loadModel(artifact, dataset.matrix);
      const u = dataset.matrix.users.ids[10];
      const m = dataset.matrix.movies.ids[20];
      const r = await t.gql<{ prediction: { rating: number; modelId: string } }>(`{ prediction(userId: ${u}, movieId: ${m}) { rating modelId } }`);
      expect(r.data!.prediction.rating).toBeCloseTo(expected.predict(u, m).rating, 5);
      expect(r.data!.prediction.modelId).toBe('file-svd.rmodel');
      expect(t.api.services()!.registry.requireActive().record.kind).toBe('svd');
    } finally {
      await t.close();
    }
  });

  it('is refused over other data, the message naming both fingerprints', async () => {
    const other = smallDataset(15_000);
    const cache = mkdtempSync(join(tmpdir(), 'recsys-model-file-other-'));
    const api = await startApi(testConfig(cache, { modelFile: artifact }), { loadData: async () => other, logger: createLogger('silent') });
    try {
      const error = await api.ready.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).not.toBeNull();
      expect(error!.message).toContain('was trained on other data');
      expect(error!.message).toContain(`CRC-32 ${fingerprintMatrix(dataset.matrix).crc32}`);
      expect(error!.message).toContain(`CRC-32 ${fingerprintMatrix(other.matrix).crc32}`);
    } finally {
      await api.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('RECSYS_MODEL: an artifact whose held-out slice took every rating of some users', () => {
  /** The small set plus 400 users with one rating each: the guard's 2 % slice takes the only rating of several. */
  function withSingleRatingUsers(): LoadedDataset {
    const data = generateSynthetic({ ratings: 20_000, users: 500, movies: 300, seed: 7 });
    const list = new RatingListBuilder(data.list.length + 400, false);
    for (let k = 0; k < data.list.length; k++) list.push(data.list.users[k], data.list.movies[k], data.list.ratings[k]);
    for (let j = 0; j < 400; j++) list.push(900_000 + j, data.list.movies[(j * 37) % data.list.length], 2 + 2 * (j % 4));
    const dataset = { matrix: buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog };
    return { ...dataset, report: builtDatasetReport(dataset, 'synthetic') };
  }

  it('serves over the data as it is, predicting what the model predicted when it was trained', async () => {
    const dataset = withSingleRatingUsers();
    const data = dataset.matrix;
    expect(holdoutSplit(data, { testFraction: 0.02, seed: 42 }).train.nUsers).toBeLessThan(data.nUsers);
    const fit = await fitChecked('svd', {}, data);
    const dir = mkdtempSync(join(tmpdir(), 'recsys-model-file-lost-'));
    const artifact = join(dir, 'svd.rmodel');
    saveModel(artifact, fit.model, { source: { data, holdout: fit.holdout } });
    const t = await startTestApi({ dataset, config: { modelFile: artifact } });
    try {
      expect((await t.api.ready).modelSource).toBe('file');
      // No training matrix rebuilt (it would lack the held-out ratings): the model serves over the data's rows.
      const served = t.api.services()!.registry.requireActive().model.train;
      expect([served.nUsers, served.nRatings]).toEqual([data.nUsers, data.nRatings]);
      const lost: number[] = [];
      for (let u = 0; u < data.nUsers; u++) if (fit.train.userCount(u) === 0) lost.push(u);
      expect(lost.length).toBeGreaterThan(0);
      // The library's loader rebuilds the training ratings (every user kept) and predicts the same.
      const loaded = await loadModel(artifact, data);
      for (const u of [...lost.slice(0, 5), 0, 10, data.nUsers - 1]) {
        const userId = data.users.ids[u];
        const movieId = data.movies.ids[data.userMovies[data.userPtr[u]]];
        const r = await t.gql<{ prediction: { rating: number } }>(`{ prediction(userId: ${userId}, movieId: ${movieId}) { rating } }`);
        expect(r.data!.prediction.rating).toBe(fit.model.predict(userId, movieId).rating);
        expect(loaded.predict(userId, movieId).rating).toBe(fit.model.predict(userId, movieId).rating);
      }
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retrain', () => {
  it('answers before its training ends, and the run then succeeds', async () => {
    const t = await startTestApi();
    try {
      const started = await t.gql<{ retrain: { id: string; status: string; finishedAt: string | null } }>(
        `mutation { retrain(input: { kind: SVDPP, parameters: { epochs: ${SLOW_SVDPP.params.epochs}, lr: ${SLOW_SVDPP.params.lr}, reg: ${SLOW_SVDPP.params.reg} } }) { id status finishedAt } }`,
      );
      expect(started.errors).toBeUndefined();
      expect(['QUEUED', 'RUNNING']).toContain(started.data!.retrain.status);
      expect(started.data!.retrain.finishedAt).toBeNull();
      const run = t.api.services()!.training.get(started.data!.retrain.id)!;
      expect(run.finishedAt).toBeNull();
      await t.api.services()!.training.waitFor(run);
      expect(run.status).toBe('SUCCEEDED');
      expect(t.api.services()!.registry.requireActive().id).toBe(run.modelId);
    } finally {
      await t.close();
    }
  });
});

describe('RECSYS_MODEL_KIND, RECSYS_MODEL_PARAMS and RECSYS_MODEL', () => {
  it('take the configured model and the model file, and refuse bad values with a clear message', () => {
    expect(resolveConfig([], { RECSYS_MODEL_KIND: 'svdpp', RECSYS_MODEL_PARAMS: '{"factors":8,"epochs":2}' }).defaultModel).toEqual({ kind: 'svdpp', params: { factors: 8, epochs: 2 } });
    expect(resolveConfig([], {}).defaultModel).toEqual({ kind: 'svd', params: {} });
    expect(resolveConfig(['--model-file', 'a.rmodel'], { RECSYS_MODEL: 'b.rmodel' }).modelFile).toBe('a.rmodel');
    expect(resolveConfig([], { RECSYS_MODEL: 'b.rmodel' }).modelFile).toBe('b.rmodel');
    expect(() => resolveConfig([], { RECSYS_MODEL_KIND: 'knn-baseline' })).toThrow('RECSYS_MODEL_KIND must be one of baseline, svd, svdpp, got "knn-baseline"');
    expect(() => resolveConfig([], { RECSYS_MODEL_PARAMS: '{factors:8}' })).toThrow(/^RECSYS_MODEL_PARAMS is not JSON/);
    expect(() => resolveConfig([], { RECSYS_MODEL_PARAMS: '[1]' })).toThrow('RECSYS_MODEL_PARAMS must be a JSON object');
    expect(() => resolveConfig([], { RECSYS_MODEL_PARAMS: '{"factorz":8}' })).toThrow(/RECSYS_MODEL_PARAMS: .*unknown parameter "factorz"/);
    expect(() => resolveConfig([], { RECSYS_MODEL_PARAMS: '{"factorz":8}' })).toThrow(ConfigError);
  });
});
