import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random } from '@recsys/core';
import { buildRatingMatrix, fileSplit, loadDataset, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { JaccardCfModel } from './jaccard-cf';
import { KnnBaselineModel } from './knn-baseline';
import { MeanModel } from './mean-model';
import { loadModel, loadModelArtifact, saveModel } from '../model-kinds';
import { buildNeighbourIndex } from '@recsys/similarity';
import { describeWithData, sharedDataPath, tempDir } from '@recsys/testing';

const NETFLIX = sharedDataPath('netflix-kaggle-sample', 'Netflix_Dataset_Rating.csv');
const ML = sharedDataPath('movielens-100k');
const ML_FOLDS = [1, 2, 3, 4, 5].flatMap((f) => [`movielens-100k/u${f}.base`, `movielens-100k/u${f}.test`]);
const tmp = tempDir('recsys-neighbourhood-');

type Row = [user: number, movie: number, rating: number];

function matrixOf(rows: Row[]): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** The notebook's code, transcribed: Python dicts of sets and lists, one set intersection per pair. */
function notebookPredictor(rows: Row[]): (user: number, movie: number) => number {
  const usersPerItem = new Map<number, Set<number>>();
  const reviewsPerUser = new Map<number, Array<{ movie: number; rating: number }>>();
  let sum = 0;
  for (const [u, m, r] of rows) {
    if (!usersPerItem.has(m)) usersPerItem.set(m, new Set());
    usersPerItem.get(m)!.add(u);
    if (!reviewsPerUser.has(u)) reviewsPerUser.set(u, []);
    reviewsPerUser.get(u)!.push({ movie: m, rating: r });
    sum += r;
  }
  const ratingMean = sum / rows.length;
  const jaccard = (a: Set<number>, b: Set<number>) => {
    let inter = 0;
    for (const x of a) if (b.has(x)) inter++;
    const union = a.size + b.size - inter;
    return union === 0 ? 0 : inter / union;
  };
  return (user, item) => {
    const ratings: number[] = [];
    const similarities: number[] = [];
    for (const d of reviewsPerUser.get(user) ?? []) {
      if (d.movie === item) continue;
      ratings.push(d.rating);
      similarities.push(jaccard(usersPerItem.get(item) ?? new Set(), usersPerItem.get(d.movie)!));
    }
    const total = similarities.reduce((a, b) => a + b, 0);
    if (total > 0) return ratings.reduce((acc, r, i) => acc + r * similarities[i], 0) / total;
    return ratingMean;
  };
}

describe('jaccard-cf', () => {
  // users 1..4, movies 10, 20, 30
  const rows: Row[] = [
    [1, 10, 5],
    [1, 20, 3],
    [2, 10, 4],
    [2, 30, 2],
    [3, 20, 1],
    [3, 30, 5],
    [4, 10, 2],
  ];

  it('is the Jaccard-weighted average of the user’s other ratings (hand-computed)', async () => {
    const model = await new JaccardCfModel().fit(matrixOf(rows));
    // U10 = {1,2,4}, U20 = {1,3}, U30 = {2,3}.
    // user 1, movie 30: J(30,10) = |{2}|/|{1,2,3,4}| = 1/4 (rating 5), J(30,20) = |{3}|/|{1,2,3}| = 1/3 (rating 3)
    // → (5/4 + 3/3) / (1/4 + 1/3) = 2.25 / (7/12) = 27/7
    const p = model.predict(1, 30);
    expect(p.rating).toBeCloseTo(27 / 7, 12);
    expect(p.fallback).toBeNull();
    // user 4 rated only movie 10: predicting 10 for user 4 has no other rating → global mean 22/7
    expect(model.predict(4, 10)).toMatchObject({ fallback: 'no-neighbours' });
    expect(model.predict(4, 10).rating).toBeCloseTo(22 / 7, 12);
  });

  it('falls back to the mean for unknown users and movies, never NaN or an exception', async () => {
    const model = await new JaccardCfModel().fit(matrixOf(rows));
    expect(model.predict(99, 10)).toMatchObject({ fallback: 'unknown-user' });
    expect(model.predict(1, 99)).toMatchObject({ fallback: 'unknown-movie' });
    expect(model.predict(99, 99)).toMatchObject({ fallback: 'unknown-user-and-movie' });
    expect(model.predict(99, 99).rating).toBeCloseTo(22 / 7, 12);
  });

  it('predictMany (one similarity row per movie) equals predict and the notebook on random data', async () => {
    const rnd = new Random(3);
    const random: Row[] = [];
    const seen = new Set<string>();
    while (random.length < 600) {
      const u = rnd.int(60);
      const m = rnd.int(25);
      if (seen.has(`${u}:${m}`)) continue;
      seen.add(`${u}:${m}`);
      random.push([u, m, 1 + rnd.int(5)]);
    }
    const model = await new JaccardCfModel().fit(matrixOf(random));
    const notebook = notebookPredictor(random);
    const pairs = new RatingListBuilder(200);
    for (let k = 0; k < 200; k++) pairs.push(rnd.int(62), rnd.int(27), 2);
    const list = pairs.finish();
    const many = model.predictMany(list);
    for (let k = 0; k < list.length; k++) {
      const expected = Math.min(5, Math.max(1, notebook(list.users[k], list.movies[k])));
      expect(many[k]).toBeCloseTo(expected, 12);
      expect(model.predict(list.users[k], list.movies[k]).rating).toBeCloseTo(expected, 12);
    }
  });

  describeWithData('on the notebook’s Netflix sample', ['netflix-kaggle-sample/Netflix_Dataset_Rating.csv'], () => {
    let rows: Row[] = [];
    beforeAll(() => {
      const lines = fs.readFileSync(NETFLIX, 'utf8').trim().split('\n').slice(1);
      rows = lines.map((l) => {
        const [u, r, m] = l.split(',').map(Number);
        return [u, m, r] as Row;
      });
    });

    it('reproduces the notebook on its first 1,000 ratings: MSE 0.952544, as the mean', async () => {
      const first = rows.slice(0, 1000);
      const file = path.join(tmp, 'Netflix_Dataset_Rating.csv');
      fs.writeFileSync(file, 'User_ID,Rating,Movie_ID\n' + first.map(([u, m, r]) => `${u},${r},${m}`).join('\n') + '\n');
      const { matrix } = await loadDataset(file);
      const model = await new JaccardCfModel().fit(matrix);
      const notebook = notebookPredictor(first);
      let se = 0;
      let seMean = 0;
      for (const [u, m, r] of first) {
        const p = model.predict(u, m).rating;
        expect(p).toBeCloseTo(notebook(u, m), 12);
        se += (p - r) ** 2;
        seMean += (3.616 - r) ** 2;
      }
      expect(se / 1000).toBeCloseTo(0.952544, 6);
      expect(seMean / 1000).toBeCloseTo(0.952544, 6);
    });

    it('equals the notebook’s set-based predictions on every 97th row of the whole sample', async () => {
      const model = await new JaccardCfModel().fit(matrixOf(rows));
      const notebook = notebookPredictor(rows);
      const pairs = new RatingListBuilder(1100);
      for (let k = 0; k < rows.length; k += 97) pairs.push(rows[k][0], rows[k][1], rows[k][2] * 2);
      const list = pairs.finish();
      const many = model.predictMany(list);
      let fellBack = 0;
      for (let k = 0; k < list.length; k++) {
        const expected = notebook(list.users[k], list.movies[k]);
        expect(many[k]).toBeCloseTo(expected, 12);
        if (model.predict(list.users[k], list.movies[k]).fallback) fellBack++;
      }
      // Most sampled users rated a single movie of the eight: many fall back, but not all.
      expect(fellBack).toBeGreaterThan(0);
      expect(fellBack).toBeLessThan(list.length);
    });
  });
});

/** Surprise's KNNBaseline (item-based, pearson_baseline), transcribed with plain maps. */
function plainKnnBaseline(rows: Row[], k: number, minK: number, shrinkage: number): (u: number, i: number) => number {
  const byUser = new Map<number, Map<number, number>>();
  const byItem = new Map<number, Map<number, number>>();
  let sum = 0;
  for (const [u, i, r] of rows) {
    if (!byUser.has(u)) byUser.set(u, new Map());
    byUser.get(u)!.set(i, r);
    if (!byItem.has(i)) byItem.set(i, new Map());
    byItem.get(i)!.set(u, r);
    sum += r;
  }
  const mu = sum / rows.length;
  const bu = new Map<number, number>([...byUser.keys()].map((u) => [u, 0]));
  const bi = new Map<number, number>([...byItem.keys()].map((i) => [i, 0]));
  for (let it = 0; it < 10; it++) {
    for (const [i, raters] of byItem) {
      let dev = 0;
      for (const [u, r] of raters) dev += r - mu - bu.get(u)!;
      bi.set(i, dev / (10 + raters.size));
    }
    for (const [u, items] of byUser) {
      let dev = 0;
      for (const [i, r] of items) dev += r - mu - bi.get(i)!;
      bu.set(u, dev / (15 + items.size));
    }
  }
  const sim = (i: number, j: number) => {
    let n = 0;
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (const [u, ri] of byItem.get(i)!) {
      const rj = byItem.get(j)!.get(u);
      if (rj === undefined) continue;
      const x = ri - (mu + bu.get(u)! + bi.get(i)!);
      const y = rj - (mu + bu.get(u)! + bi.get(j)!);
      n++;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    if (n < 2 || xx * yy === 0) return 0;
    return ((n - 1) / (n - 1 + shrinkage)) * (xy / Math.sqrt(xx * yy));
  };
  return (u, i) => {
    const baseline = mu + (bu.get(u) ?? 0) + (bi.get(i) ?? 0);
    if (!byUser.has(u) || !byItem.has(i)) return baseline;
    const neighbours = [...byUser.get(u)!].filter(([j]) => j !== i).map(([j, r]) => ({ s: sim(i, j), dev: r - (mu + bu.get(u)! + bi.get(j)!) }));
    neighbours.sort((a, b) => b.s - a.s);
    let sumSim = 0;
    let sumDev = 0;
    let actual = 0;
    for (const nb of neighbours.slice(0, k)) {
      if (nb.s > 0) {
        sumSim += nb.s;
        sumDev += nb.s * nb.dev;
        actual++;
      }
    }
    if (actual < minK || sumSim === 0) return baseline;
    return baseline + sumDev / sumSim;
  };
}

describe('knn-baseline', () => {
  function randomRows(seed: number): Row[] {
    const rnd = new Random(seed);
    const rows: Row[] = [];
    const seen = new Set<string>();
    while (rows.length < 900) {
      const u = rnd.int(80);
      const m = rnd.int(30);
      if (seen.has(`${u}:${m}`)) continue;
      seen.add(`${u}:${m}`);
      rows.push([u, m, 1 + ((u * 7 + m * 3 + rnd.int(2)) % 5)]);
    }
    return rows;
  }

  it.each([
    [40, 1, 100],
    [3, 2, 5],
  ])('equals a plain transcription of Surprise’s KNNBaseline (k %d, minK %d, shrinkage %d)', async (k, minK, shrinkage) => {
    const rows = randomRows(k);
    // Surprise's baseline regularisation (reg_u 15, reg_i 10), as the transcription has it.
    const model = await new KnnBaselineModel({ k, minK, shrinkage, regUser: 15, regMovie: 10 }).fit(matrixOf(rows));
    const plain = plainKnnBaseline(rows, k, minK, shrinkage);
    const rnd = new Random(11);
    for (let t = 0; t < 300; t++) {
      const u = rnd.int(82);
      const i = rnd.int(32);
      const expected = Math.min(5, Math.max(1, plain(u, i)));
      // Similarities are stored as Float32: agreement to ~1e-6.
      expect(model.predict(u, i).rating).toBeCloseTo(expected, 5);
    }
  });

  it('reports unknowns and missing neighbours as fallbacks with the baseline value', async () => {
    const rows: Row[] = [
      [1, 10, 5],
      [2, 10, 3],
      [2, 20, 4],
    ];
    const model = await new KnnBaselineModel().fit(matrixOf(rows));
    expect(model.predict(1, 20).fallback).toBe('no-neighbours');
    expect(model.predict(7, 20).fallback).toBe('unknown-user');
    expect(model.predict(1, 70).fallback).toBe('unknown-movie');
    expect(Number.isFinite(model.predict(7, 70).rating)).toBe(true);
  });

  it('saves and loads (baselines, similarities; the training matrix by fingerprint) with the same predictions', async () => {
    const rows = randomRows(5);
    const matrix = matrixOf(rows);
    const model = await new KnnBaselineModel().fit(matrix);
    const file = path.join(tmp, 'knn.model');
    saveModel(file, model);
    const loaded = await loadModel(file, matrix);
    expect(loaded.kind).toBe('knn-baseline');
    for (let u = 0; u < 80; u += 7) for (let i = 0; i < 30; i += 3) expect(loaded.predict(u, i)).toEqual(model.predict(u, i));
    expect(loaded.recommend(3, 5)).toEqual(model.recommend(3, 5));
  });

  it('stores a neighbour index beside the model and gives it back on load', async () => {
    const matrix = matrixOf(randomRows(8));
    const model = await new JaccardCfModel().fit(matrix);
    const index = await buildNeighbourIndex(matrix, { metric: 'jaccard', k: 5, threads: 1 });
    const file = path.join(tmp, 'with-index.model');
    saveModel(file, model, { neighbourIndex: index });
    const loaded = await loadModelArtifact(file, matrix);
    expect(loaded.neighbourIndex).not.toBeNull();
    for (let m = 0; m < matrix.nMovies; m++) expect(loaded.neighbourIndex!.neighboursOf(m)).toEqual(index.neighboursOf(m));
    expect(loaded.model.predict(3, 4)).toEqual(model.predict(3, 4));
  });

  it('jaccard-cf saves and loads too', async () => {
    const rows = randomRows(6);
    const matrix = matrixOf(rows);
    const model = await new JaccardCfModel().fit(matrix);
    const file = path.join(tmp, 'jcf.model');
    saveModel(file, model);
    const loaded = await loadModel(file, matrix);
    expect(loaded.predict(4, 7)).toEqual(model.predict(4, 7));
  });
});

describeWithData('MovieLens 100k canonical folds u1..u5', ML_FOLDS, () => {
  it('knn-baseline mean RMSE ≤ 0.935, with jaccard-cf and mean beside it', async () => {
    const rmse: Record<string, number[]> = { 'knn-baseline': [], 'jaccard-cf': [], mean: [] };
    for (let f = 1; f <= 5; f++) {
      const { train, test } = await fileSplit(path.join(ML, `u${f}.base`), path.join(ML, `u${f}.test`));
      for (const [name, model] of [
        ['knn-baseline', new KnnBaselineModel()],
        ['jaccard-cf', new JaccardCfModel()],
        ['mean', new MeanModel()],
      ] as const) {
        await model.fit(train);
        const p = model.predictMany(test);
        let se = 0;
        for (let k = 0; k < test.length; k++) se += (p[k] - test.ratings[k] / 2) ** 2;
        rmse[name].push(Math.sqrt(se / test.length));
      }
    }
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const result = Object.fromEntries(Object.entries(rmse).map(([k, v]) => [k, mean(v)]));
    console.log('MovieLens 100k u1..u5 mean RMSE', result);
    expect(result['knn-baseline']).toBeLessThanOrEqual(0.935);
    expect(result['jaccard-cf']).toBeLessThan(result.mean);
    // The global mean on these folds is a known figure (≈ 1.126 averaged over u1..u5).
    expect(result.mean).toBeGreaterThan(1.1);
    expect(result.mean).toBeLessThan(1.16);
  }, 60_000);
});
