import { buildRatingMatrix } from './build-matrix';
import { dataSummary, dataSummarySync, scaleHistogram } from './data-summary';
import { INTERACTION_WEIGHTS, WHOLE_STARS_1_TO_5 } from './rating-scale';
import { generateSynthetic } from './synthetic';

// The API's spec (apps/api/src/dashboard-fields.spec.ts) checks every figure against a plain loop
// over the ratings; here: the cases it does not reach.
describe('dataSummary', () => {
  it('dataSummary of data without dates has no months, and an implicit scale lists all 255 weights; chunked equals in one go', async () => {
    const data = generateSynthetic({ ratings: 3000, users: 100, movies: 50, seed: 3, withDates: false });
    const matrix = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
    const whole = dataSummarySync(matrix);
    expect(whole.ratingsByMonth).toEqual([]);
    // Chunks of 7 ratings: the same figures as one pass.
    expect(await dataSummary(matrix, { chunk: 7 })).toEqual(whole);
    await expect(dataSummary(matrix, { chunk: 0 })).rejects.toThrow(/chunk must be at least 1/);
    const implicit = buildRatingMatrix({ ...data.list, days: null }, INTERACTION_WEIGHTS).matrix;
    const hist = dataSummarySync(implicit).ratingHistogram;
    expect(hist).toHaveLength(255);
    expect(hist[0]).toEqual({ value: 0.5, count: 0 });
    expect(hist.find((h) => h.value === 3)!.count).toBe(data.list.ratings.filter((c) => c === 6).length);
    expect(dataSummarySync(implicit).implicit).toBe(true);
  });

  it('scaleHistogram counts a slice of codes per value of the scale, off-scale codes left out', () => {
    const codes = Uint8Array.from([2, 4, 4, 10, 3, 7, 2]);
    expect(scaleHistogram(WHOLE_STARS_1_TO_5, codes, 0, 4)).toEqual([
      { value: 1, count: 1 },
      { value: 2, count: 2 },
      { value: 3, count: 0 },
      { value: 4, count: 0 },
      { value: 5, count: 1 },
    ]);
    // 3 and 7 are half stars, not on the whole-star scale.
    expect(scaleHistogram(WHOLE_STARS_1_TO_5, codes).map((h) => h.count)).toEqual([2, 2, 0, 0, 1]);
  });
});
