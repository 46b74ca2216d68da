import { buildRatingMatrix, RatingListBuilder, WHOLE_STARS_1_TO_5, MovieCatalog, datasetStats } from './index';

describe('datasetStats', () => {
  it('computes counts, histogram, mean, MSE of the mean and most-rated movies by hand', () => {
    const b = new RatingListBuilder(8, true);
    // user, movie, rating, day
    b.push(1, 10, 8, 100);
    b.push(1, 20, 4, 101);
    b.push(2, 10, 10, 102);
    b.push(3, 10, 6, 99);
    const { matrix } = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5);
    const catalog = new MovieCatalog([{ id: 10, title: 'Ten', year: 2001, genres: [] }]);
    const s = datasetStats({ matrix, catalog }, { top: 5 });
    // ratings 4, 2, 5, 3: mean 3.5, squared deviations .25 + 2.25 + 2.25 + .25 = 5 → MSE 1.25
    expect(s.ratings).toBe(4);
    expect(s.users).toBe(3);
    expect(s.movies).toBe(2);
    expect(s.meanRating).toBeCloseTo(3.5, 12);
    expect(s.mseOfMean).toBeCloseTo(1.25, 12);
    expect(s.density).toBeCloseTo(4 / 6, 12);
    expect(s.histogram).toEqual([
      { rating: 2, count: 1 },
      { rating: 3, count: 1 },
      { rating: 4, count: 1 },
      { rating: 5, count: 1 },
    ]);
    expect(s.ratingsPerUser).toEqual({ min: 1, median: 1, mean: 4 / 3, max: 2 });
    expect(s.mostRated[0]).toEqual({ id: 10, title: 'Ten', year: 2001, ratings: 3, meanRating: 4 });
    expect(s.mostRated[1].title).toBe('Movie 20');
    expect(s.firstDate).toBe('1970-04-10');
    expect(s.lastDate).toBe('1970-04-13');
  });
});
