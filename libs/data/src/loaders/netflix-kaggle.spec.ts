import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithData, sharedDataPath, tempDir } from '@recsys/testing';
import { WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { loadDataset, readNetflixKaggleTitles } from './index';

const tmp = tempDir('recsys-kaggle-');

function folder(name: string, files: Record<string, string | Buffer>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(d, f), content);
  return d;
}

/** (user, movie, stars) triples of a loaded matrix, in user-then-movie order. */
function triples(matrix: Awaited<ReturnType<typeof loadDataset>>['matrix']): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let u = 0; u < matrix.nUsers; u++) {
    for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) {
      out.push([matrix.users.ids[u], matrix.movies.ids[matrix.userMovies[k]], matrix.userRatings[k] / 2]);
    }
  }
  return out;
}

const TITLES = [
  'Movie_ID,Year,Name',
  '1,2003,Dinosaur Planet',
  '3,1997,Character',
  '4825,1985,"Brazil: The ""Love Conquers All"" Version"',
  '7,NULL,"Comma, Inside"',
  '8,,Café',
  '',
].join('\n');

describe('Netflix Kaggle CSV', () => {
  it('reads User_ID,Rating,Movie_ID with titles, quoted names and unknown years', async () => {
    const d = folder('a', {
      'Netflix_Dataset_Rating.csv': 'User_ID,Rating,Movie_ID\n712664,5,3\n1331154,4,3\n44937,1,1\n712664,2,9\n',
      'Netflix_Dataset_Movie.csv': TITLES,
    });
    const { matrix, catalog, report } = await loadDataset(d);
    expect(triples(matrix)).toEqual([
      [44937, 1, 1],
      [712664, 3, 5],
      [712664, 9, 2],
      [1331154, 3, 4],
    ]);
    expect(matrix.scale).toBe(WHOLE_STARS_1_TO_5);
    expect(matrix.userDays).toBeNull();
    expect(catalog.size).toBe(5);
    expect(catalog.get(4825)).toEqual({ id: 4825, title: 'Brazil: The "Love Conquers All" Version', year: 1985, genres: [] });
    expect(catalog.get(7)).toEqual({ id: 7, title: 'Comma, Inside', year: null, genres: [] });
    expect(catalog.get(8)).toEqual({ id: 8, title: 'Café', year: null, genres: [] });
    expect(catalog.get(9).title).toBe('Movie 9');
    expect(report).toMatchObject({
      format: 'netflix-kaggle',
      ratings: 4,
      users: 3,
      movies: 3,
      skipped: 0,
      duplicates: 0,
      untitledMovies: 1, // movie 9
    });
    expect(report.files.map((f) => f.slice(d.length + 1)).sort()).toEqual(['Netflix_Dataset_Movie.csv', 'Netflix_Dataset_Rating.csv']);
    expect(report.bytes).toBe(readFileSync(join(d, 'Netflix_Dataset_Rating.csv')).length + Buffer.byteLength(TITLES));
  });

  it('follows the header order User_ID,Movie_ID,Rating (names in any case)', async () => {
    const d = folder('b', { 'Netflix_Dataset_Rating.csv': 'user_id,MOVIE_ID,Rating\r\n712664,3,5\r\n44937,1,2\r\n' });
    const { matrix, report } = await loadDataset(d);
    expect(triples(matrix)).toEqual([
      [44937, 1, 2],
      [712664, 3, 5],
    ]);
    expect(report.untitledMovies).toBe(2); // no titles file
  });

  it('refuses a header that does not name the columns, at line 1', async () => {
    const d = folder('c', { 'Netflix_Dataset_Rating.csv': 'a,b,c\n1,2,3\n' });
    await expect(loadDataset(d)).rejects.toMatchObject({ line: 1, reason: 'header "a,b,c" does not name the columns User_ID, Movie_ID and Rating' });
    // ... even when skipping malformed rows: without a header nothing can be read.
    await expect(loadDataset(d, { skipInvalid: true })).rejects.toMatchObject({ line: 1 });
  });

  it('reads a titles file on its own, rejecting malformed rows', async () => {
    const f = join(folder('d', {}), 'Netflix_Dataset_Movie.csv');
    writeFileSync(f, 'Movie_ID,Year,Name\n1,2003,A\n2,19x5,B\n3,2001\n4,2004,"open\n');
    await expect(readNetflixKaggleTitles(f)).rejects.toMatchObject({ line: 3, reason: 'year "19x5" is not a year' });
    const catalog = await readNetflixKaggleTitles(f, { skipInvalid: true });
    expect(catalog.list().map((m) => m.id)).toEqual([1]);
  });
});

const shared = sharedDataPath('netflix-kaggle-sample');

describeWithData('the shared Netflix Kaggle sample', ['netflix-kaggle-sample/Netflix_Dataset_Rating.csv', 'netflix-kaggle-sample/Netflix_Dataset_Movie.csv'], () => {
  it('loads 99,999 ratings of 74,260 users and 8 movies, with all 17,770 titles', async () => {
    const { matrix, catalog, report } = await loadDataset(shared);
    expect(report.format).toBe('netflix-kaggle');
    expect([matrix.nRatings, matrix.nUsers, matrix.nMovies]).toEqual([99999, 74260, 8]);
    expect([report.ratings, report.users, report.movies, report.skipped, report.untitledMovies]).toEqual([99999, 74260, 8, 0, 0]);
    expect(catalog.size).toBe(17770);
    expect(catalog.list().some((m) => m.title === 'Brazil: The "Love Conquers All" Version')).toBe(true);
    expect(catalog.get(4825).title).toBe('Brazil: The "Love Conquers All" Version');
  });

  it('gives the notebook figures for the first 1,000 rows: mean 3.616, MSE of the mean 0.952544', async () => {
    const lines = readFileSync(join(shared, 'Netflix_Dataset_Rating.csv'), 'latin1').split('\n');
    const d = folder('first1000', { 'Netflix_Dataset_Rating.csv': lines.slice(0, 1001).join('\n') + '\n' });
    const { matrix } = await loadDataset(d);
    expect(matrix.nRatings).toBe(1000);
    const mean = matrix.globalMean();
    let se = 0;
    for (const code of matrix.userRatings) se += (code / 2 - mean) ** 2;
    expect(mean).toBeCloseTo(3.616, 12);
    expect(se / 1000).toBeCloseTo(0.952544, 12);
  });
});
