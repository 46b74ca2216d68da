// A Spark ML ALSModel served by the API: the Spark-layout fixture (written by DuckDB, see
// libs/models/test/fixtures/spark-als) imported into a spark-als artifact and served with
// RECSYS_MODEL (modelFile). Expected values: dot products by a plain loop over the fixture's
// factors.json, and the ALS-WR fold-in solved by Gaussian elimination.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { builtDatasetReport, loadDataset, LoadedDataset } from '@recsys/data';
import { importSparkAlsModel, saveModel, trainableModelKinds } from '@recsys/models';
import { tempDir } from '@recsys/testing';
import { codeOf, solve } from './testing/api-fixtures';
import { startTestApi, TestApi } from './testing/harness';

const FIXTURES = join(__dirname, '../../../libs/models/test/fixtures/spark-als');
interface Row {
  id: number;
  features: number[];
}
const FACTORS = JSON.parse(readFileSync(join(FIXTURES, 'factors.json'), 'utf8')) as { rank: number; users: Row[]; items: Row[] };
const dot = (a: number[], b: number[]) => a.reduce((s, v, f) => s + v * b[f], 0);
const tmp = tempDir('recsys-spark-serving-');

interface PredictionResult {
  prediction: { rating: number; unclipped: number; baseline: number; fallbackReason: string | null; foldedIn: boolean; modelId: string; model: { kind: string; role: string } };
}

describe('a Spark ALSModel served through RECSYS_MODEL', () => {
  let t: TestApi;
  let dataset: LoadedDataset;
  beforeAll(async () => {
    const loaded = await loadDataset(join(FIXTURES, 'ratings.csv'));
    dataset = { ...loaded, report: builtDatasetReport(loaded, 'spark fixture') };
    const { model } = await importSparkAlsModel(join(FIXTURES, 'model'), dataset.matrix);
    const artifact = join(tmp, 'spark.rmodel');
    saveModel(artifact, model);
    t = await startTestApi({ dataset, config: { modelFile: artifact } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const predict = (u: number, m: number) =>
    t.gql<PredictionResult>(`{ prediction(userId: ${u}, movieId: ${m}) { rating unclipped baseline fallbackReason foldedIn modelId model { kind role } } }`);

  it('predicts the dot product of the factors (1e-6) for every user and movie of the data with factors', async () => {
    let checked = 0;
    for (const u of FACTORS.users) {
      if (!dataset.matrix.users.has(u.id)) continue;
      for (const i of FACTORS.items) {
        if (!dataset.matrix.movies.has(i.id)) continue;
        const r = await predict(u.id, i.id);
        expect(r.errors).toBeUndefined();
        const p = r.data!.prediction;
        const expected = dot(u.features, i.features);
        expect(Math.abs(p.rating - expected)).toBeLessThan(1e-6);
        expect(Math.abs(p.unclipped - expected)).toBeLessThan(1e-6);
        expect(p).toMatchObject({ fallbackReason: null, foldedIn: false, modelId: 'file-spark.rmodel', model: { kind: 'SPARK_ALS', role: 'RATING' } });
        checked++;
      }
    }
    expect(checked).toBe(25);
  });

  it('falls back to the data mean for a user or movie without factors', async () => {
    const mean = dataset.matrix.globalMean();
    expect((await predict(120, 1)).data!.prediction).toMatchObject({ rating: mean, fallbackReason: 'UNKNOWN_USER' });
    expect((await predict(7, 13)).data!.prediction).toMatchObject({ rating: mean, fallbackReason: 'UNKNOWN_MOVIE' });
  });

  it('refuses to retrain it, naming the kinds retrain trains', async () => {
    const r = await t.gql('mutation { retrain { id } }');
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0].message).toMatch(/input\.kind is imported, not trained here \(recsys import-model --format spark-als DIR.*\); retrain one of baseline, svd, svdpp, popular, ease, ials, bpr/);
    const explicit = await t.gql('mutation { retrain(input: { kind: SPARK_ALS }) { id } }');
    expect(codeOf(explicit)).toBe('BAD_USER_INPUT');
    const kinds = await t.gql<{ modelKinds: Array<{ kind: string }> }>('{ modelKinds { kind } }');
    expect(kinds.data!.modelKinds.map((k) => k.kind)).not.toContain('SPARK_ALS');
    expect(trainableModelKinds()).not.toContain('spark-als');
  });

  it('folds in a rating given through the API: x_u = (Y_uᵀY_u + λ·n_u·I)⁻¹ Y_uᵀ r_u over the user\'s movies with factors', async () => {
    const user = 12;
    const rated = await t.gql(`mutation { rateMovie(userId: ${user}, movieId: 2, rating: 5) { rating } }`);
    expect(rated.errors).toBeUndefined();
    // The user's ratings now: the data's, movie 2's replaced by 5; movie 13 has no factors.
    const ratings = new Map<number, number>();
    const m = dataset.matrix;
    const u = m.users.indexOf(user);
    for (let p = m.userPtr[u]; p < m.userPtr[u + 1]; p++) ratings.set(m.movies.ids[m.userMovies[p]], m.userRatings[p] / 2);
    ratings.set(2, 5);
    const used = FACTORS.items.filter((i) => ratings.has(i.id));
    const k = FACTORS.rank;
    const lambda = 0.1 * used.length;
    const A = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => used.reduce((s, i) => s + i.features[a] * i.features[b], 0) + (a === b ? lambda : 0)));
    const rhs = Array.from({ length: k }, (_, a) => used.reduce((s, i) => s + ratings.get(i.id)! * i.features[a], 0));
    const x = solve(A, rhs);
    for (const i of FACTORS.items.filter((i) => m.movies.has(i.id))) {
      const p = (await predict(user, i.id)).data!.prediction;
      expect(p.foldedIn).toBe(true);
      expect(Math.abs(p.unclipped - dot(x, i.features))).toBeLessThan(1e-5);
    }
  });
});
