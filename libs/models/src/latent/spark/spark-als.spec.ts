// spark-als: a Spark ML ALSModel (fixtures written by DuckDB in Spark's layout, see
// test/fixtures/spark-als/write-fixtures.mjs) imported and served; expected values come from the
// fixture's own factors.json by plain loops, or are solved by hand.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRatingMatrix, loadDataset, RatingList, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { tempDir } from '@recsys/testing';
import { gaussSolve } from '../../../test/reference';
import { ArtifactError } from '../../artifact';
import { createModel, loadModel, saveModel, trainableModelKinds } from '../../model-kinds';
import { SparkAlsModel } from '../spark-als-model';
import { importSparkAlsModel } from './read-spark-als';

const FIXTURES = join(__dirname, '../../../test/fixtures/spark-als');
const MODEL = join(FIXTURES, 'model');
interface Row {
  id: number;
  features: number[];
}
const FACTORS = JSON.parse(readFileSync(join(FIXTURES, 'factors.json'), 'utf8')) as { rank: number; users: Row[]; items: Row[] };
const tmp = tempDir('recsys-spark-als-', { each: true });

const dot = (a: number[], b: number[]) => a.reduce((s, v, f) => s + v * b[f], 0);

async function fixtureData(): Promise<RatingMatrix> {
  return (await loadDataset(join(FIXTURES, 'ratings.csv'))).matrix;
}

function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const list: RatingList = {
    length: rows.length,
    users: Int32Array.from(rows, (r) => r[0]),
    movies: Int32Array.from(rows, (r) => r[1]),
    ratings: Uint8Array.from(rows, (r) => r[2] * 2),
    days: null,
  };
  return buildRatingMatrix(list, WHOLE_STARS_1_TO_5).matrix;
}

describe('spark-als: import of a saved ALSModel', () => {
  it('predicts x_u·y_i of the fixture factors (1e-6) for every user and movie with factors', async () => {
    const data = await fixtureData();
    const { model, match, metadata, users, items } = await importSparkAlsModel(MODEL, data);
    expect(metadata).toMatchObject({ rank: 3, sparkVersion: '3.5.3', userCol: 'user', itemCol: 'movie', regParam: null });
    expect(users.files).toHaveLength(2);
    expect(items.files).toHaveLength(2);
    expect(match).toEqual({ usersMatched: 5, moviesMatched: 5, usersSkipped: 1, moviesSkipped: 1, dataUsersWithoutFactors: 1, dataMoviesWithoutFactors: 1 });
    let checked = 0;
    for (const u of FACTORS.users) {
      for (const i of FACTORS.items) {
        if (!data.users.has(u.id) || !data.movies.has(i.id)) continue;
        const p = model.predict(u.id, i.id);
        expect(p.fallback).toBeNull();
        expect(Math.abs(p.unclipped - dot(u.features, i.features))).toBeLessThan(1e-6);
        expect(Math.abs(p.rating - dot(u.features, i.features))).toBeLessThan(1e-6);
        checked++;
      }
    }
    expect(checked).toBe(25);
  });

  it('falls back to the data mean, with the reason, for a user or movie without factors', async () => {
    const data = await fixtureData();
    const { model } = await importSparkAlsModel(MODEL, data);
    const mean = data.globalMean();
    expect(model.predict(120, 1)).toMatchObject({ rating: mean, fallback: 'unknown-user' });
    expect(model.predict(7, 13)).toMatchObject({ rating: mean, fallback: 'unknown-movie' });
    expect(model.predict(120, 13)).toMatchObject({ rating: mean, fallback: 'unknown-user-and-movie' });
    // Ids of the model that the data lacks were skipped: unknown to the served model.
    expect(model.predict(5000, 1)).toMatchObject({ rating: mean, fallback: 'unknown-user' });
    expect(model.predict(7, 777)).toMatchObject({ rating: mean, fallback: 'unknown-movie' });
    const scores = model.predictMany({ length: 2, users: Int32Array.of(7, 120), movies: Int32Array.of(2, 2) });
    expect(scores[0]).toBeCloseTo(dot(FACTORS.users[0].features, FACTORS.items[1].features), 6);
    expect(scores[1]).toBe(mean);
  });

  it('recommends by the dot products, movies without factors scored at the mean', async () => {
    const data = await fixtureData();
    const { model } = await importSparkAlsModel(MODEL, data);
    const u = FACTORS.users[1];
    const expected = [...FACTORS.items.filter((i) => data.movies.has(i.id)).map((i) => ({ movieId: i.id, score: dot(u.features, i.features) })), { movieId: 13, score: data.globalMean() }];
    expected.sort((a, b) => b.score - a.score);
    const recs = model.recommend(u.id, 6, { excludeRated: false });
    expect(recs.map((r) => r.movieId)).toEqual(expected.map((e) => e.movieId));
    recs.forEach((r, j) => expect(r.score).toBeCloseTo(expected[j].score, 6));
  });

  it('reads paramMap.regParam when the metadata has one, and --reg-param over it', async () => {
    cpSync(MODEL, join(tmp, 'm'), { recursive: true });
    const file = join(tmp, 'm/metadata/part-00000');
    const meta = JSON.parse(readFileSync(file, 'utf8'));
    meta.paramMap.regParam = 0.05;
    writeFileSync(file, JSON.stringify(meta) + '\n');
    const data = await fixtureData();
    expect((await importSparkAlsModel(join(tmp, 'm'), data)).regParam).toEqual({ value: 0.05, from: 'metadata' });
    expect((await importSparkAlsModel(join(tmp, 'm'), data, { regParam: 0.2 })).regParam).toEqual({ value: 0.2, from: 'option' });
    expect((await importSparkAlsModel(MODEL, data)).regParam).toEqual({ value: 0.1, from: 'default' });
  });

  it('saves as an artifact that loads over the same data only, predicting the same', async () => {
    const data = await fixtureData();
    const { model } = await importSparkAlsModel(MODEL, data);
    const file = join(tmp, 'spark.rmodel');
    saveModel(file, model);
    const loaded = await loadModel(file, data);
    expect(loaded).toBeInstanceOf(SparkAlsModel);
    for (const [u, m] of [[7, 1], [99, 8], [120, 1], [7, 13]]) expect(loaded.predict(u, m)).toEqual(model.predict(u, m));
    const other = matrixOf([[7, 1, 3], [12, 2, 4]]);
    await expect(loadModel(file, other)).rejects.toThrow(/trained on other data/);
  });

  it('is not trained here: fit refuses, naming the kinds that are', async () => {
    const model = createModel('spark-als');
    expect(trainableModelKinds()).not.toContain('spark-als');
    expect(trainableModelKinds()).toContain('svd');
    await expect(model.fit(matrixOf([[1, 1, 3]]))).rejects.toThrow(new RegExp(`import-model --format spark-als.*kinds trained here: ${trainableModelKinds().join(', ')}`));
    expect((model as SparkAlsModel).isFitted).toBe(false);
    expect(() => createModel('spark-als', { regParam: 0 })).toThrow(/regParam must be a number with 0 < regParam/);
    expect(() => createModel('spark-als', { rank: 3 })).toThrow(/unknown parameter "rank"/);
  });
});

describe('spark-als: the model-level prediction and fold-in (hand-solved)', () => {
  // rank 2, y_1 = (1, 0), y_2 = (0, 1), y_3 = (1, 1); user 1: x = (2, 3).
  const data = matrixOf([[1, 1, 5], [1, 2, 5], [2, 1, 4], [2, 3, 2]]);
  const factors = {
    rank: 2,
    userIds: Int32Array.of(1, 2),
    userFactors: Float32Array.of(2, 3, 0.5, 0.5),
    itemIds: Int32Array.of(1, 2, 3),
    itemFactors: Float32Array.of(1, 0, 0, 1, 1, 1),
  };

  it('predicts the plain dot product: unclipped is x·y, the served rating is clamped to the scale', () => {
    const { model } = SparkAlsModel.fromFactors(factors, data, { regParam: 0.5 });
    expect(model.predict(1, 1)).toMatchObject({ rating: 2, unclipped: 2, fallback: null });
    // x_1·y_3 = 2 + 3 = 5; user 2: 0.5·1 = 0.5, below the scale: clamped to 1, unclipped 0.5.
    expect(model.predict(1, 3)).toMatchObject({ rating: 5, unclipped: 5 });
    expect(model.predict(2, 1)).toMatchObject({ rating: 1, unclipped: 0.5 });
    expect(model.estimateRaw(data.users.indexOf(1), data.movies.indexOf(3))).toBe(5);
  });

  it('folds in x = (YᵀY + λ·n·I)⁻¹ Yᵀr: two ratings, solved by hand', () => {
    const { model } = SparkAlsModel.fromFactors(factors, data, { regParam: 0.5 });
    // Ratings 4 of movie 1, 2 of movie 2: YᵀY = I, λn = 1, so x = (4, 2) / 2 = (2, 1).
    const folded = model.foldIn([{ movieId: 1, rating: 4 }, { movieId: 2, rating: 2 }, { movieId: 999, rating: 5 }]);
    expect(folded.knownRatings).toBe(2);
    expect(Array.from(folded.vector)).toEqual([2, 1, 0]);
    const p = model.predictFolded(folded, 77, 3);
    expect(p).toMatchObject({ rating: 3, unclipped: 3, fallback: null, foldedIn: true, baseline: 0 });
    expect(model.predictForFactors(folded.vector, 3)).toBe(3);
  });

  it('folds in three ratings as the normal equations say (Gaussian elimination), and explains by shares that sum to the prediction', () => {
    const { model } = SparkAlsModel.fromFactors(factors, data, { regParam: 0.5 });
    const ratings = [{ movieId: 1, rating: 4 }, { movieId: 2, rating: 2 }, { movieId: 3, rating: 5 }];
    // YᵀY = [[2, 1], [1, 2]] + 1.5·I; Yᵀr = (9, 7): x = (24.5, 15.5) / 11.25.
    const expected = gaussSolve([[3.5, 1], [1, 3.5]], [9, 7]);
    expect(expected[0]).toBeCloseTo(24.5 / 11.25, 12);
    const folded = model.foldIn(ratings);
    expect(folded.vector[0]).toBeCloseTo(expected[0], 6);
    expect(folded.vector[1]).toBeCloseTo(expected[1], 6);
    const prediction = model.predictFolded(folded, 77, 3).unclipped;
    expect(prediction).toBeCloseTo(expected[0] + expected[1], 6);
    const shares = model.explain(ratings, 3);
    expect(shares).toHaveLength(3);
    expect(shares.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(prediction, 6);
    // A different λ through the options: λn = 3 → [[5, 1], [1, 5]].
    const heavier = model.foldInUser(ratings, { reg: 1 });
    const solved = gaussSolve([[5, 1], [1, 5]], [9, 7]);
    expect(heavier[0]).toBeCloseTo(solved[0], 6);
    expect(heavier[1]).toBeCloseTo(solved[1], 6);
  });

  it('folds a user with no rated movie that has factors into zeros, predicted as unknown', () => {
    const { model } = SparkAlsModel.fromFactors(factors, data, { regParam: 0.5 });
    const folded = model.foldIn([{ movieId: 999, rating: 4 }]);
    expect(folded.knownRatings).toBe(0);
    expect(model.predictFolded(folded, 77, 1)).toMatchObject({ fallback: 'unknown-user', rating: data.globalMean() });
  });
});

describe('spark-als: hostile saved models are refused, naming the file and the fault', () => {
  function copy(): string {
    const dir = join(tmp, 'model');
    cpSync(MODEL, dir, { recursive: true });
    return dir;
  }
  const partsOf = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('part-')).map((n) => join(dir, n));
  /** userFactors holding only `file` (a hostile fixture) as its part file. */
  function withUserFactors(dir: string, file: string): string {
    for (const p of partsOf(join(dir, 'userFactors'))) rmSync(p);
    const target = join(dir, 'userFactors', 'part-00000-hostile-c000.snappy.parquet');
    cpSync(join(FIXTURES, 'hostile', file), target);
    return target;
  }
  async function refusal(dir: string): Promise<ArtifactError> {
    const data = await fixtureData();
    const error = await importSparkAlsModel(dir, data).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArtifactError);
    return error as ArtifactError;
  }
  const metadataFile = (dir: string) => join(dir, 'metadata', 'part-00000');
  function editMetadata(dir: string, edit: (m: Record<string, unknown>) => void): void {
    const m = JSON.parse(readFileSync(metadataFile(dir), 'utf8'));
    edit(m);
    writeFileSync(metadataFile(dir), JSON.stringify(m) + '\n');
  }

  it('missing metadata', async () => {
    const dir = copy();
    rmSync(join(dir, 'metadata'), { recursive: true });
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, 'metadata'));
    expect(e.message).toMatch(/missing \(ENOENT\)/);
  });

  it('metadata that is not JSON, and the wrong class', async () => {
    const dir = copy();
    writeFileSync(metadataFile(dir), '{"class": "org.apache.spark.ml.recommendation.ALSModel", "rank"\n');
    expect((await refusal(dir)).message).toMatch(/part-00000: (expected one JSON line|not JSON)/);
    writeFileSync(metadataFile(dir), '{"class":"org.apache.spark.ml.recommendation.ALS","rank":3}\n');
    const e = await refusal(dir);
    expect(e.file).toBe(metadataFile(dir));
    expect(e.message).toMatch(/class is "org\.apache\.spark\.ml\.recommendation\.ALS", expected "org\.apache\.spark\.ml\.recommendation\.ALSModel"/);
  });

  it('a rank that is not the features\' length, and a huge or fractional rank', async () => {
    const dir = copy();
    editMetadata(dir, (m) => (m.rank = 4));
    const e = await refusal(dir);
    expect(e.file).toMatch(/userFactors\/part-00000-.*\.parquet$/);
    expect(e.message).toMatch(/row 0 \(id 7\): features has 3 values, the metadata's rank is 4/);
    editMetadata(dir, (m) => (m.rank = 1_000_000));
    expect((await refusal(dir)).message).toMatch(/rank must be an integer in 1\.\.1000, got 1000000/);
    editMetadata(dir, (m) => (m.rank = 2.5));
    expect((await refusal(dir)).message).toMatch(/rank must be an integer in 1\.\.1000, got 2\.5/);
    const dir2 = join(tmp, 'rank4');
    cpSync(MODEL, dir2, { recursive: true });
    withUserFactors(dir2, 'rank-4.parquet');
    expect((await refusal(dir2)).message).toMatch(/row 1 \(id 12\): features has 4 values, the metadata's rank is 3/);
  });

  it('a null element, a NaN and a null features list', async () => {
    for (const [file, fault] of [
      ['null-element.parquet', /row 1 \(id 12\): features\[1\] is null, expected a finite float/],
      ['nan-element.parquet', /row 1 \(id 12\): features\[1\] is NaN, expected a finite float/],
      ['null-list.parquet', /row 1 \(id 12\): features is null/],
    ] as const) {
      const dir = join(tmp, file);
      cpSync(MODEL, dir, { recursive: true });
      const target = withUserFactors(dir, file);
      const e = await refusal(dir);
      expect(e.file).toBe(target);
      expect(e.message).toMatch(fault);
    }
  });

  it('an id in two part files', async () => {
    const dir = copy();
    cpSync(join(FIXTURES, 'hostile', 'duplicate-12.parquet'), join(dir, 'userFactors', 'part-00002-dup-c000.snappy.parquet'));
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, 'userFactors'));
    expect(e.message).toMatch(/id 12 appears more than once \(3 file\(s\)\)/);
  });

  it('a part file that is not Parquet, and an empty folder', async () => {
    const dir = copy();
    const [first] = partsOf(join(dir, 'itemFactors'));
    writeFileSync(first, 'id,features\n1,"[1,2,3]"\n');
    const e = await refusal(dir);
    expect(e.file).toBe(first);
    expect(e.message).toMatch(/not a Parquet file \(starts with "id,f", ends with .*expected "PAR1"\)/);
    for (const p of partsOf(join(dir, 'itemFactors'))) rmSync(p);
    const empty = await refusal(dir);
    expect(empty.file).toBe(join(dir, 'itemFactors'));
    expect(empty.message).toMatch(/holds no data file \(only ._SUCCESS.crc, .*_SUCCESS\)/);
  });

  it('a model none of whose ids is in the data', async () => {
    const other = matrixOf([[1000, 2000, 3]]);
    await expect(importSparkAlsModel(MODEL, other)).rejects.toThrow(/none of the model's 6 user ids is in the data/);
  });
});
