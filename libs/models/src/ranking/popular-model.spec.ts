import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { tempDir } from '@recsys/testing';
import { join } from 'node:path';
import { loadModel, saveModel } from '../model-kinds';
import { MostPopularModel } from './popular-model';
import { isRankingModel } from './ranking-model';

type Row = [user: number, movie: number, rating: number];
const tmp = tempDir('recsys-popular-');

function matrixOf(rows: Row[]): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/**
 * Users 1–4, movies 10, 20, 30, 40:
 *   user 1: 10 20 30      user 2: 10 20      user 3: 10 40      user 4: 20 30
 * counts: 10 → 3, 20 → 3, 30 → 2, 40 → 1.
 */
const SMALL: Row[] = [
  [1, 10, 5], [1, 20, 4], [1, 30, 1],
  [2, 10, 3], [2, 20, 2],
  [3, 10, 4], [3, 40, 5],
  [4, 20, 1], [4, 30, 3],
];

/** "People who watched this also watched", by a plain nested loop over every pair of users' sets. */
function coOccurrence(rows: Row[], movie: number): Map<number, number> {
  const byMovie = new Map<number, Set<number>>();
  for (const [u, m] of rows) {
    if (!byMovie.has(m)) byMovie.set(m, new Set());
    byMovie.get(m)!.add(u);
  }
  const out = new Map<number, number>();
  const mine = byMovie.get(movie) ?? new Set<number>();
  for (const [other, users] of byMovie) {
    if (other === movie) continue;
    let c = 0;
    for (const u of users) if (mine.has(u)) c++;
    if (c > 0) out.set(other, c);
  }
  return out;
}

describe('popular as a RankingModel', () => {
  it('is a ranking model whose fold-in is the known interactions and whose scores are the counts', async () => {
    const model = await new MostPopularModel().fit(matrixOf(SMALL));
    expect(isRankingModel(model)).toBe(true);
    const user = model.foldIn([{ movieId: 30, weight: 2 }, { movieId: 99, weight: 1 }, { movieId: 30, weight: 1 }, { movieId: 10, weight: 4 }]);
    const t = model.train;
    expect(Array.from(user.movies, (m) => t.movies.ids[m])).toEqual([10, 30]);
    expect(Array.from(user.weights)).toEqual([4, 3]);
    expect(user.knownInteractions).toBe(3);
    expect(user.vector).toBeNull();
    const scores = new Float64Array(t.nMovies);
    model.scoreFolded(user, scores);
    expect(Array.from(t.movies.ids, (id, m) => [id, scores[m]])).toEqual([[10, 3], [20, 3], [30, 2], [40, 1]]);
  });

  it('recommends the most-interacted movies the folded user does not have, ties by smaller id; the top movie leaves the list once interacted with', async () => {
    const model = await new MostPopularModel().fit(matrixOf(SMALL));
    expect(model.recommendFolded(model.foldIn([]), 4)).toEqual([
      { movieId: 10, score: 3 },
      { movieId: 20, score: 3 },
      { movieId: 30, score: 2 },
      { movieId: 40, score: 1 },
    ]);
    expect(model.recommendFolded(model.foldIn([{ movieId: 10, weight: 1 }]), 2)).toEqual([
      { movieId: 20, score: 3 },
      { movieId: 30, score: 2 },
    ]);
    expect(model.recommendFolded(model.foldIn([]), 2, { excludeMovieIds: [20] }).map((r) => r.movieId)).toEqual([10, 30]);
    // A stored user: user 3 has 10 and 40.
    expect(model.recommend(3, 10)).toEqual([
      { movieId: 20, score: 3 },
      { movieId: 30, score: 2 },
    ]);
  });

  it('similar = co-occurrence counts (hand-computed), itself and movies without a common user left out', async () => {
    const model = await new MostPopularModel().fit(matrixOf(SMALL));
    // 10: users 1, 2, 3 → 20 by 1 and 2 (2), 30 by 1 (1), 40 by 3 (1).
    expect(model.similar(10, 5)).toEqual([
      { movieId: 20, similarity: 2 },
      { movieId: 30, similarity: 1 },
      { movieId: 40, similarity: 1 },
    ]);
    // 40: user 3 only → 10.
    expect(model.similar(40, 5)).toEqual([{ movieId: 10, similarity: 1 }]);
    expect(model.similar(30, 1)).toEqual([{ movieId: 20, similarity: 2 }]);
    expect(model.similar(99, 5)).toEqual([]);
    expect(model.explain([{ movieId: 10, weight: 5 }], 20, 5)).toEqual([]);
  });

  it('similar equals the nested-loop reference on random data', async () => {
    const rng = new Random(11);
    const rows: Row[] = [];
    const seen = new Set<string>();
    while (rows.length < 3000) {
      const u = 1 + Math.floor(rng.next() * 200);
      const m = 1 + Math.floor(Math.pow(rng.next(), 2) * 120);
      if (seen.has(`${u}:${m}`)) continue;
      seen.add(`${u}:${m}`);
      rows.push([u, m, 1 + Math.floor(rng.next() * 5)]);
    }
    const model = await new MostPopularModel().fit(matrixOf(rows));
    for (const movie of [1, 2, 17, 60, 119]) {
      const expected = [...coOccurrence(rows, movie).entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 15);
      expect(model.similar(movie, 15).map((s) => [s.movieId, s.similarity])).toEqual(expected);
    }
  });

  it('saves and loads (no sections: recounted over the training data)', async () => {
    const train = matrixOf(SMALL);
    const model = await new MostPopularModel().fit(train);
    const file = join(tmp, 'popular.rmodel');
    saveModel(file, model);
    const loaded = await loadModel(file, train);
    expect(loaded).toBeInstanceOf(MostPopularModel);
    expect(loaded.recommend(3, 10)).toEqual(model.recommend(3, 10));
    expect((loaded as MostPopularModel).similar(10, 3)).toEqual(model.similar(10, 3));
  });
});
