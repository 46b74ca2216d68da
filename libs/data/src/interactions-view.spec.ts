import { buildRatingMatrix } from './build-matrix';
import { interactionsView } from './interactions-view';
import { RatingMatrix } from './rating-matrix';
import { HALF_STARS_05_TO_5 } from './rating-scale';

/*
 * Hand-made ratings (user:movie=stars, day):
 *   10:1=5 (d100)  10:2=3 (d101)
 *   20:2=4 (d102)  20:3=4.5 (d103)
 *   30:1=2 (d104)
 */
function ratings(): RatingMatrix {
  const users = Int32Array.from([10, 10, 20, 20, 30]);
  const movies = Int32Array.from([1, 2, 2, 3, 1]);
  const codes = Uint8Array.from([10, 6, 8, 9, 4]);
  const days = Uint16Array.from([100, 101, 102, 103, 104]);
  return buildRatingMatrix({ length: 5, users, movies, ratings: codes, days }, HALF_STARS_05_TO_5).matrix;
}

/** Entries by user as `user:movie=value@day`, and by movie as `movie:user=value`. */
function layouts(m: RatingMatrix): { rows: string[]; cols: string[] } {
  const rows: string[] = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) rows.push(`${m.users.ids[u]}:${m.movies.ids[m.userMovies[k]]}=${m.userRatings[k] / 2}@${m.userDays![k]}`);
  }
  const cols: string[] = [];
  for (let j = 0; j < m.nMovies; j++) {
    for (let k = m.moviePtr[j]; k < m.moviePtr[j + 1]; k++) cols.push(`${m.movies.ids[j]}:${m.users.ids[m.movieUsers[k]]}=${m.movieRatings[k] / 2}`);
  }
  return { rows, cols };
}

describe('interactionsView', () => {
  it('keeps ratings ≥ minRating as 1 over the same indices', () => {
    const m = ratings();
    const v = interactionsView(m, { minRating: 4 });
    expect(layouts(v)).toEqual({ rows: ['10:1=1@100', '20:2=1@102', '20:3=1@103'], cols: ['1:10=1', '2:20=1', '3:20=1'] });
    expect(v.users).toBe(m.users);
    expect(v.movies).toBe(m.movies);
    // User 30 keeps its index with an empty row.
    expect([v.nUsers, v.userCount(m.users.indexOf(30)), v.nRatings]).toEqual([3, 0, 3]);
    expect(v.scale).toEqual({ min: 1, max: 1, step: 1, implicit: true });
  });

  it('keeps the values with weight: value, the scale marked implicit', () => {
    const v = interactionsView(ratings(), { minRating: 4, weight: 'value' });
    expect(layouts(v)).toEqual({ rows: ['10:1=5@100', '20:2=4@102', '20:3=4.5@103'], cols: ['1:10=5', '2:20=4', '3:20=4.5'] });
    expect(v.scale).toEqual({ min: 0.5, max: 5, step: 0.5, implicit: true });
  });

  it('keeps everything without minRating, and rounds a minRating between grid points up', () => {
    expect(layouts(interactionsView(ratings())).rows).toEqual(['10:1=1@100', '10:2=1@101', '20:2=1@102', '20:3=1@103', '30:1=1@104']);
    expect(layouts(interactionsView(ratings(), { minRating: 4.2 })).rows).toEqual(['10:1=1@100', '20:3=1@103']);
    expect(interactionsView(ratings(), { minRating: 6 }).nRatings).toBe(0);
  });

  it('refuses a minRating or weight it cannot use', () => {
    expect(() => interactionsView(ratings(), { minRating: NaN })).toThrow('minRating must be a finite number, got NaN');
    expect(() => interactionsView(ratings(), { weight: 'confidence' as 'value' })).toThrow(`weight must be 'binary' or 'value', got "confidence"`);
  });
});
