import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithData, sharedDataPath, tempDir } from '@recsys/testing';
import { RatingMatrix } from '../rating-matrix';
import { HALF_STARS_05_TO_5, WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { detectFormat, fileSplit, loadDataset, loadRatingsFile, readMovieLensTitles } from './index';
import { ML100K_GENRES } from './movielens';

const tmp = tempDir('recsys-movielens-');

function folder(name: string, files: Record<string, string | Buffer>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(d, f), content);
  return d;
}

const dayOf = (unixSeconds: number): number => Math.floor(unixSeconds / 86400);

function rows(m: RatingMatrix): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) {
      out.push([m.users.ids[u], m.movies.ids[m.userMovies[k]], m.userRatings[k] / 2, m.userDays ? m.userDays[k] : -1]);
    }
  }
  return out;
}

const flags = (on: number[], n = 19): string => Array.from({ length: n }, (_, g) => (on.includes(g) ? '1' : '0')).join('|');

describe('MovieLens 100k', () => {
  const U_DATA = '196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t242\t1\t878887116\n';

  it('reads u.data with days from timestamps and u.item with genres named by u.genre', async () => {
    const d = folder('100k', {
      'u.data': U_DATA,
      'u.genre': 'Drama|0\nComedy|1\nWar|2\n\n',
      'u.item': [
        `242|Kolya (1996)|24-Jan-1997||http://imdb|${flags([1], 3)}`,
        `302|No Year Here|01-Jan-1995||http://imdb|${flags([0, 2], 3)}`,
        `267|unknown||||${flags([], 3)}`,
      ].join('\n'),
    });
    expect(detectFormat(d)).toBe('movielens-100k');
    const { matrix, catalog, report } = await loadDataset(d);
    expect(rows(matrix)).toEqual([
      [22, 242, 1, dayOf(878887116)],
      [186, 302, 3, dayOf(891717742)],
      [196, 242, 3, dayOf(881250949)],
    ]);
    expect(matrix.scale).toBe(WHOLE_STARS_1_TO_5);
    expect(catalog.get(242)).toEqual({ id: 242, title: 'Kolya (1996)', year: 1996, genres: ['Comedy'] });
    expect(catalog.get(302)).toEqual({ id: 302, title: 'No Year Here', year: 1995, genres: ['Drama', 'War'] });
    expect(catalog.get(267)).toEqual({ id: 267, title: 'unknown', year: null, genres: [] });
    expect(report).toMatchObject({ format: 'movielens-100k', ratings: 3, users: 3, movies: 2, untitledMovies: 0 });
  });

  it('names the 19 standard genres when u.genre is absent', async () => {
    const d = folder('100k-no-genre', { 'u.item': `1|Toy Story (1995)|01-Jan-1995||url|${flags([3, 4, 5])}\n` });
    const catalog = await readMovieLensTitles(join(d, 'u.item'));
    expect(ML100K_GENRES.length).toBe(19);
    expect(catalog.get(1).genres).toEqual(['Animation', "Children's", 'Comedy']);
  });

  it('refuses u.item rows with a wrong number of genre flags', async () => {
    const d = folder('100k-bad-item', { 'u.data': U_DATA, 'u.item': `242|Kolya (1996)|24-Jan-1997||url|${flags([1], 18)}\n` });
    await expect(loadDataset(d)).rejects.toMatchObject({ line: 1, reason: 'expected 24 fields, found 23' });
  });
});

describe('MovieLens 1M / 10M (.dat)', () => {
  it('reads ratings.dat and a latin1 movies.dat; whole stars only → whole-star scale (1M)', async () => {
    const d = folder('1m', {
      'ratings.dat': '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n',
      'movies.dat': Buffer.concat([
        Buffer.from('1193::One Flew Over the Cuckoo\'s Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children\'s|Musical\n7::Am', 'latin1'),
        Buffer.from([0xe9]),
        Buffer.from('lie (2001)::Comedy|Romance\n', 'latin1'),
      ]),
    });
    expect(detectFormat(d)).toBe('movielens-dat');
    const { matrix, catalog } = await loadDataset(d);
    expect(rows(matrix)).toEqual([
      [1, 661, 3, dayOf(978302109)],
      [1, 1193, 5, dayOf(978300760)],
      [2, 1193, 4, dayOf(978298413)],
    ]);
    expect(matrix.scale).toBe(WHOLE_STARS_1_TO_5);
    expect(catalog.get(661)).toEqual({ id: 661, title: 'James and the Giant Peach (1996)', year: 1996, genres: ['Animation', "Children's", 'Musical'] });
    expect(catalog.get(7).title).toBe('Amélie (2001)');
  });

  it('reads half stars (10M) onto the half-star scale and a UTF-8 movies.dat', async () => {
    const d = folder('10m', {
      'ratings.dat': '1::122::5::838985046\n1::185::4.5::838983525\n',
      'movies.dat': '122::Boomerang (1992)::Comedy|Romance\n185::Café (1995)::Action\n',
    });
    const { matrix, catalog } = await loadDataset(d);
    expect(rows(matrix).map((r) => r[2])).toEqual([5, 4.5]);
    expect(matrix.scale).toBe(HALF_STARS_05_TO_5);
    expect(catalog.get(185).title).toBe('Café (1995)');
  });
});

describe('MovieLens 20M / 25M / latest (.csv)', () => {
  const MOVIES_CSV = [
    'movieId,title,genres',
    '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy',
    '11,"American President, The (1995)",Comedy|Drama|Romance',
    '12,"Dracula: ""Dead"" and Loving It (1995)",Comedy|Horror',
    '99,Untitled Thing,(no genres listed)',
    '',
  ].join('\r\n');

  it('reads ratings.csv with half stars and movies.csv with quoted titles', async () => {
    const d = folder('25m', {
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,0.5,964981247\n2,12,3.5,964982224\n',
      'movies.csv': MOVIES_CSV,
    });
    expect(detectFormat(d)).toBe('movielens-csv');
    const { matrix, catalog, report } = await loadDataset(d);
    expect(rows(matrix)).toEqual([
      [1, 1, 4, dayOf(964982703)],
      [1, 11, 0.5, dayOf(964981247)],
      [2, 12, 3.5, dayOf(964982224)],
    ]);
    expect(matrix.scale).toBe(HALF_STARS_05_TO_5);
    expect(catalog.get(11)).toEqual({ id: 11, title: 'American President, The (1995)', year: 1995, genres: ['Comedy', 'Drama', 'Romance'] });
    expect(catalog.get(12).title).toBe('Dracula: "Dead" and Loving It (1995)');
    expect(catalog.get(99)).toEqual({ id: 99, title: 'Untitled Thing', year: null, genres: [] });
    expect(report.untitledMovies).toBe(0);
  });

  it('gives whole-star data the whole-star scale and refuses ratings off the half-star grid', async () => {
    const d = folder('csv-whole', { 'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4,964982703\n1,2,5,964982703\n' });
    expect((await loadRatingsFile(join(d, 'ratings.csv'))).scale).toBe(WHOLE_STARS_1_TO_5);
    for (const [r, reason] of [
      ['5.5', 'rating "5.5" is outside 0.5..5'],
      ['0', 'rating "0" is outside 0.5..5'],
      ['3.25', 'rating "3.25" is not on the 0.5..5 scale in steps of 0.5'],
      ['four', 'rating "four" is not a number'],
    ]) {
      const bad = folder(`csv-bad-${r}`, { 'ratings.csv': `userId,movieId,rating,timestamp\n1,1,4,964982703\n1,2,${r},964982703\n` });
      await expect(loadRatingsFile(join(bad, 'ratings.csv'))).rejects.toMatchObject({ line: 3, reason });
    }
  });

  it('reads movies.csv and movies.dat on their own', async () => {
    const d = folder('titles', { 'movies.csv': MOVIES_CSV, 'movies.dat': '5::Father of the Bride Part II (1995)::Comedy\n' });
    expect((await readMovieLensTitles(join(d, 'movies.csv'))).size).toBe(4);
    expect((await readMovieLensTitles(join(d, 'movies.dat'))).get(5)).toEqual({
      id: 5,
      title: 'Father of the Bride Part II (1995)',
      year: 1995,
      genres: ['Comedy'],
    });
  });
});

const shared = sharedDataPath('movielens-100k');

describeWithData('the shared MovieLens 100k', ['movielens-100k/u.data', 'movielens-100k/u.item'], () => {
  it('loads 100,000 ratings of 943 users and 1,682 movies, with genres and years', async () => {
    const { matrix, catalog, report } = await loadDataset(shared);
    expect([matrix.nRatings, matrix.nUsers, matrix.nMovies]).toEqual([100000, 943, 1682]);
    expect([report.skipped, report.duplicates, report.untitledMovies]).toEqual([0, 0, 0]);
    expect(catalog.size).toBe(1682);
    expect(catalog.get(1)).toEqual({ id: 1, title: 'Toy Story (1995)', year: 1995, genres: ['Animation', "Children's", 'Comedy'] });
    const withYear = catalog.list().filter((m) => m.year !== null).length;
    expect(withYear).toBeGreaterThanOrEqual(1680);
    expect(catalog.list().filter((m) => m.genres.length > 0).length).toBe(1682);
    expect(matrix.userDays).not.toBeNull();
    // Mean rating by a plain re-read of u.data.
    const plain = readFileSync(join(shared, 'u.data'), 'latin1').trim().split('\n').map((l) => Number(l.split('\t')[2]));
    expect(matrix.globalMean()).toBeCloseTo(plain.reduce((a, b) => a + b, 0) / plain.length, 12);
  });

  it('reads the file-defined split u1.base / u1.test: 80,000 train, 20,000 test', async () => {
    const split = await fileSplit(join(shared, 'u1.base'), join(shared, 'u1.test'));
    expect(split.name).toBe('u1');
    expect(split.train.nRatings).toBe(80000);
    expect(split.test.length).toBe(20000);
    expect(split.train.scale).toBe(WHOLE_STARS_1_TO_5);
    // The first test row of u1.test is `1 6 5 887431973`.
    expect([split.test.users[0], split.test.movies[0], split.test.ratings[0] / 2, split.test.days![0]]).toEqual([1, 6, 5, dayOf(887431973)]);
  });
});
