import { buildRatingMatrix, generateSynthetic, holdoutSlice, INTERACTION_WEIGHTS, RatingList, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel } from '@recsys/models';
import { DEFAULT_HOLDOUT } from './guard';
import { fitCheckedRanking, relevantThresholdOf, sampleTestUsers } from './ranking-guard';
import { rankingMetrics } from './ranking-metrics';

const data = buildRatingMatrix(generateSynthetic({ ratings: 30_000, users: 300, movies: 200, seed: 5 }).list, WHOLE_STARS_1_TO_5).matrix;

function listOf(rows: Array<[number, number, number]>): RatingList {
  return { length: rows.length, users: Int32Array.from(rows, (r) => r[0]), movies: Int32Array.from(rows, (r) => r[1]), ratings: Uint8Array.from(rows, (r) => r[2]), days: null };
}

describe('the ranking guard', () => {
  it('relevant = the top quarter of a rating scale (4 stars on 1..5), every interaction of implicit feedback', () => {
    expect(relevantThresholdOf(WHOLE_STARS_1_TO_5)).toBe(4);
    expect(relevantThresholdOf({ min: 1, max: 10, step: 1 })).toBe(7.75);
    expect(relevantThresholdOf(INTERACTION_WEIGHTS)).toBe(0.5);
  });

  it('sampleTestUsers keeps whole users (all their entries, in order), at most the number asked, the same for the same seed', () => {
    const rows: Array<[number, number, number]> = [];
    for (let u = 1; u <= 9; u++) for (let k = 0; k < u; k++) rows.push([u * 10, k + 1, 2 + (k % 8)]);
    const test = listOf(rows);
    expect(sampleTestUsers(test, 9, 1)).toBe(test);
    const a = sampleTestUsers(test, 4, 3);
    const users = [...new Set(a.users)];
    expect(users).toHaveLength(4);
    // Every entry of a chosen user, as in the input (the plain reference: filter the rows).
    const expected = rows.filter(([u]) => users.includes(u));
    expect(Array.from(a.users)).toEqual(expected.map((r) => r[0]));
    expect(Array.from(a.movies)).toEqual(expected.map((r) => r[1]));
    expect(Array.from(a.ratings)).toEqual(expected.map((r) => r[2]));
    expect(a.length).toBe(expected.length);
    expect(Array.from(sampleTestUsers(test, 4, 3).users)).toEqual(Array.from(a.users));
  });

  it('popular passes (it is the floor) with the NDCG@10 rankingMetrics gives on the same slice', async () => {
    const fit = await fitCheckedRanking('popular', {}, data);
    expect(fit.reference).toBeNull();
    const split = holdoutSlice(data, { testFraction: DEFAULT_HOLDOUT.fraction, seed: DEFAULT_HOLDOUT.seed, consume: false, days: false });
    const popular = await createModel('popular').fit(split.train);
    const direct = rankingMetrics(popular, split.train, split.test, { k: 10, relevantThreshold: 4 });
    expect(fit.ndcg).toBe(direct.ndcg);
    expect(fit.users).toBe(direct.usersEvaluated);
    expect(fit.heldOut).toBe(split.test.length);
  });

  it('refuses a kind that is not a ranking model', async () => {
    await expect(fitCheckedRanking('baseline', {}, data)).rejects.toThrow('baseline is not a ranking model');
  });
});
