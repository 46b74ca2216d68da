import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { MovieCatalog } from '../catalog';
import { RatingList } from '../rating-matrix';
import { generateSynthetic } from './generate';
import { csvField, isoDate, writeNetflixKaggle, writeNetflixPrize } from './write';

/**
 * Four ratings a person can check by eye. List order: (7, movie 2, 4★, 2005-09-06),
 * (3, movie 1, 5★, 1999-11-11), (7, movie 1, 1★, 2005-12-31), (12, movie 2, 3★, 2002-11-09).
 * Movie 3 is in the catalog but unrated.
 */
function tiny(ratings: number[] = [8, 10, 2, 6]): { list: RatingList; catalog: MovieCatalog } {
  const list: RatingList = {
    length: 4,
    users: Int32Array.from([7, 3, 7, 12]),
    movies: Int32Array.from([2, 1, 1, 2]),
    ratings: Uint8Array.from(ratings),
    days: Uint16Array.from([13032, 10906, 13148, 12000]),
  };
  const catalog = new MovieCatalog([
    { id: 2, title: 'Goodbye, Lucy', year: null, genres: [] },
    { id: 1, title: 'Café Society', year: 1999, genres: ['Drama'] },
    { id: 3, title: 'The "Great" Escape', year: 2003, genres: [] },
  ]);
  return { list, catalog };
}

describe('synthetic writers', () => {
  // Generating and writing thousands of files: allow for a busy machine.
  jest.setTimeout(60_000);
  const dir = tempDir('recsys-write-', { each: true });

  const text = (...parts: string[]): string => readFileSync(join(dir, ...parts), 'utf8');

  it('isoDate converts days since 1970-01-01', () => {
    expect(isoDate(0)).toBe('1970-01-01');
    expect(isoDate(13032)).toBe('2005-09-06');
    expect(isoDate(10906)).toBe('1999-11-11');
    expect(isoDate(11016)).toBe('2000-02-29');
    for (let day = 0; day < 65536; day += 97) expect(isoDate(day)).toBe(new Date(day * 86_400_000).toISOString().slice(0, 10));
  });

  it('csvField quotes only fields with quotes, commas or line breaks', () => {
    expect(csvField('Plain Title')).toBe('Plain Title');
    expect(csvField('Goodbye, Lucy')).toBe('"Goodbye, Lucy"');
    expect(csvField('The "Great" Escape')).toBe('"The ""Great"" Escape"');
  });

  it('writes the Kaggle layout exactly: rows by movie, NULL years, quoted names, UTF-8', async () => {
    const result = await writeNetflixKaggle(dir, tiny());
    expect(text('Netflix_Dataset_Rating.csv')).toBe('User_ID,Rating,Movie_ID\n3,5,1\n7,1,1\n7,4,2\n12,3,2\n');
    const movies = 'Movie_ID,Year,Name\n1,1999,Café Society\n2,NULL,"Goodbye, Lucy"\n3,2003,"The ""Great"" Escape"\n';
    expect(text('Netflix_Dataset_Movie.csv')).toBe(movies);
    expect(readFileSync(join(dir, 'Netflix_Dataset_Movie.csv')).includes(Buffer.from([0xc3, 0xa9]))).toBe(true); // é in UTF-8
    expect(result.files).toEqual([join(dir, 'Netflix_Dataset_Rating.csv'), join(dir, 'Netflix_Dataset_Movie.csv')]);
    expect(result.bytes).toBe(Buffer.byteLength('User_ID,Rating,Movie_ID\n3,5,1\n7,1,1\n7,4,2\n12,3,2\n') + Buffer.byteLength(movies));
  });

  it('writes the other Kaggle column order and half stars', async () => {
    await writeNetflixKaggle(dir, tiny([8, 10, 2, 7]), { columnOrder: 'user,movie,rating' });
    expect(text('Netflix_Dataset_Rating.csv')).toBe('User_ID,Movie_ID,Rating\n3,1,5\n7,1,1\n7,2,4\n12,2,3.5\n');
  });

  it('writes the Prize combined layout exactly, with latin1 titles, NO quoting and NULL years', async () => {
    const result = await writeNetflixPrize(dir, tiny(), { probeFraction: 1, qualifyingFraction: 1 });
    // Two rated movies: two parts.
    expect(text('combined_data_1.txt')).toBe('1:\n3,5,1999-11-11\n7,1,2005-12-31\n');
    expect(text('combined_data_2.txt')).toBe('2:\n7,4,2005-09-06\n12,3,2002-11-09\n');
    expect(existsSync(join(dir, 'combined_data_3.txt'))).toBe(false);
    const titles = readFileSync(join(dir, 'movie_titles.csv'));
    expect(titles.equals(Buffer.from('1,1999,Caf\u00e9 Society\n2,NULL,Goodbye, Lucy\n3,2003,The "Great" Escape\n', 'latin1'))).toBe(true);
    expect(titles.includes(Buffer.from([0x43, 0x61, 0x66, 0xe9]))).toBe(true); // "Caf" + 0xE9
    // probeFraction 1: every rating, grouped by movie.
    expect(text('probe.txt')).toBe('1:\n3\n7\n2:\n7\n12\n');
    // Only (12, movie 1) and (3, movie 2) are unrated among the rated users and movies; the date is
    // the user's last rating day (12: 2002-11-09, 3: 1999-11-11).
    expect(text('qualifying.txt')).toBe('1:\n12,2002-11-09\n2:\n3,1999-11-11\n');
    expect(result.probe).toBe(4);
    expect(result.qualifying).toBe(2);
    expect(result.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'combined_data_1.txt',
      'combined_data_2.txt',
      'movie_titles.csv',
      'probe.txt',
      'qualifying.txt',
    ]);
    const total = result.files.reduce((acc, f) => acc + readFileSync(f).length, 0);
    expect(result.bytes).toBe(total);
  });

  it('writes the Prize per-movie layout', async () => {
    const result = await writeNetflixPrize(dir, tiny(), { layout: 'per-movie', probeFraction: 0, qualifyingFraction: 0 });
    expect(readdirSync(join(dir, 'training_set')).sort()).toEqual(['mv_0000001.txt', 'mv_0000002.txt']);
    expect(text('training_set', 'mv_0000001.txt')).toBe('1:\n3,5,1999-11-11\n7,1,2005-12-31\n');
    expect(text('training_set', 'mv_0000002.txt')).toBe('2:\n7,4,2005-09-06\n12,3,2002-11-09\n');
    expect(text('probe.txt')).toBe('');
    expect(text('qualifying.txt')).toBe('');
    expect(result.probe).toBe(0);
    expect(result.qualifying).toBe(0);
  });

  it('refuses data the Prize layout cannot hold, before writing anything', async () => {
    const noDays = { ...tiny(), list: { ...tiny().list, days: null } };
    await expect(writeNetflixPrize(join(dir, 'a'), noDays)).rejects.toThrow(/no days/);
    const data = tiny();
    data.catalog.set({ id: 4, title: '東京物語', year: 1953, genres: [] });
    await expect(writeNetflixPrize(join(dir, 'b'), data)).rejects.toThrow(/movie 4 .*ISO-8859-1/);
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });

  it('writes probe pairs that are ratings and qualifying pairs that are not, in the requested numbers', async () => {
    const data = generateSynthetic({ ratings: 20_000, seed: 9 });
    const result = await writeNetflixPrize(dir, data);
    expect(result.probe).toBe(Math.round(0.014 * 20_000));
    expect(result.qualifying).toBe(Math.round(0.028 * 20_000));
    const rated = new Map<string, number>();
    for (let k = 0; k < data.list.length; k++) rated.set(`${data.list.users[k]}:${data.list.movies[k]}`, data.list.ratings[k] / 2);

    // Training files: every rating exactly once, with its rating and date.
    let lines = 0;
    for (let p = 1; p <= 4; p++) {
      let movie = -1;
      for (const line of text(`combined_data_${p}.txt`).split('\n')) {
        if (line === '') continue;
        if (line.endsWith(':')) {
          movie = Number(line.slice(0, -1));
          continue;
        }
        const [user, stars, date] = line.split(',');
        expect(rated.get(`${user}:${movie}`)).toBe(Number(stars));
        expect(date).toMatch(/^(1999|200[0-5])-\d\d-\d\d$/);
        lines++;
      }
    }
    expect(lines).toBe(data.list.length);

    const readPairs = (file: string): string[] => {
      const pairs: string[] = [];
      let movie = -1;
      for (const line of text(file).split('\n')) {
        if (line === '') continue;
        if (line.endsWith(':')) movie = Number(line.slice(0, -1));
        else pairs.push(`${line.split(',')[0]}:${movie}`);
      }
      return pairs;
    };
    const probe = readPairs('probe.txt');
    expect(probe.length).toBe(result.probe);
    expect(new Set(probe).size).toBe(probe.length);
    for (const pair of probe) expect(rated.has(pair)).toBe(true);
    const qualifying = readPairs('qualifying.txt');
    expect(qualifying.length).toBe(result.qualifying);
    expect(new Set(qualifying).size).toBe(qualifying.length);
    for (const pair of qualifying) expect(rated.has(pair)).toBe(false);
    // Qualifying movies are spread over the catalog, not just its first ids.
    const qMovies = qualifying.map((p) => Number(p.split(':')[1]));
    expect(Math.max(...qMovies)).toBeGreaterThan(0.8 * data.options.movies);

    // Titles: latin1, one line per movie, and the title is everything after the second comma.
    const titleLines = readFileSync(join(dir, 'movie_titles.csv')).toString('latin1').split('\n').filter((l) => l !== '');
    expect(titleLines.length).toBe(data.options.movies);
    for (const line of titleLines) {
      const first = line.indexOf(',');
      const second = line.indexOf(',', first + 1);
      const movie = data.catalog.get(Number(line.slice(0, first)));
      expect(line.slice(first + 1, second)).toBe(movie.year === null ? 'NULL' : String(movie.year));
      expect(line.slice(second + 1)).toBe(movie.title);
    }
  });

  it('writes a Kaggle rating file that a plain parser reads back to the same ratings', async () => {
    const data = generateSynthetic({ ratings: 20_000, seed: 10 });
    await writeNetflixKaggle(dir, data);
    const lines = text('Netflix_Dataset_Rating.csv').split('\n');
    expect(lines[0]).toBe('User_ID,Rating,Movie_ID');
    expect(lines[lines.length - 1]).toBe('');
    const rows = lines.slice(1, -1);
    expect(rows.length).toBe(data.list.length);
    const expected = new Map<string, number>();
    for (let k = 0; k < data.list.length; k++) expected.set(`${data.list.users[k]}:${data.list.movies[k]}`, data.list.ratings[k] / 2);
    let lastMovie = 0;
    for (const row of rows) {
      const [user, stars, movie] = row.split(',').map(Number);
      expect(movie).toBeGreaterThanOrEqual(lastMovie); // grouped by movie, ascending
      lastMovie = movie;
      expect(expected.get(`${user}:${movie}`)).toBe(stars);
    }
  });
});
