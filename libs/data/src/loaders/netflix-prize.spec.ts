import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { RatingListBuilder, RatingMatrix } from '../rating-matrix';
import { LoadContext } from './context';
import { detectFormat, loadDataset, loadRatingsFile, readNetflixPrizeTitles, readProbe, readQualifying } from './index';
import { PRIZE_TRAINING_LAYOUT } from './netflix-prize';
import { readRatingRows } from './rating-rows';

const tmp = tempDir('recsys-prize-');

function folder(name: string, files: Record<string, string | Buffer>): string {
  const d = join(tmp, name);
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), content);
  }
  return d;
}

/** Days since 1970-01-01, computed independently of the loader. */
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86400000;

/** (user, movie, stars, day) of every rating, user-then-movie order. */
function rows(m: RatingMatrix): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) {
      out.push([m.users.ids[u], m.movies.ids[m.userMovies[k]], m.userRatings[k] / 2, m.userDays![k]]);
    }
  }
  return out;
}

// movie_titles.csv: a title with commas, a NULL year, and a latin1 byte 0xE9 ('é').
const TITLES = Buffer.concat([
  Buffer.from('1,2003,Dinosaur Planet\n2,NULL,Isle of Man TT 2004 Review\n3,1997,Character, Part One, Take 2\n4,1994,Am', 'latin1'),
  Buffer.from([0xe9]),
  Buffer.from('lie\n', 'latin1'),
]);

const COMBINED_1 = '1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n2:\n2059652,4,2005-09-05\n';
const COMBINED_2 = '3:\r\n1488844,1,1999-11-11\r\n\r\n4:\r\n6,2,2004-02-29\r\n';

const EXPECTED: Array<[number, number, number, number]> = [
  [6, 4, 2, day('2004-02-29')],
  [822109, 1, 5, day('2005-05-13')],
  [1488844, 1, 3, 13032],
  [1488844, 3, 1, day('1999-11-11')],
  [2059652, 2, 4, day('2005-09-05')],
];

describe('Netflix Prize layout', () => {
  it('reads combined_data_*.txt in number order with dates, and movie_titles.csv', async () => {
    const d = folder('combined', {
      'combined_data_2.txt': COMBINED_2,
      'combined_data_1.txt': COMBINED_1,
      'movie_titles.csv': TITLES,
    });
    expect(detectFormat(d)).toBe('netflix-prize');
    const { matrix, catalog, report } = await loadDataset(d);
    expect(rows(matrix)).toEqual(EXPECTED);
    expect(day('2005-09-06')).toBe(13032);
    expect(report.files.map((f) => f.slice(d.length + 1))).toEqual(['movie_titles.csv', 'combined_data_1.txt', 'combined_data_2.txt']);
    expect(catalog.get(2)).toEqual({ id: 2, title: 'Isle of Man TT 2004 Review', year: null, genres: [] });
    expect(catalog.get(3)).toEqual({ id: 3, title: 'Character, Part One, Take 2', year: 1997, genres: [] });
    expect(catalog.get(4).title).toBe('Amélie');
    expect(report).toMatchObject({ format: 'netflix-prize', ratings: 5, users: 4, movies: 4, untitledMovies: 0 });
  });

  it('reads the training_set/mv_*.txt variant to the same ratings', async () => {
    const d = folder('per-movie', {
      'training_set/mv_0000001.txt': '1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n',
      'training_set/mv_0000002.txt': '2:\n2059652,4,2005-09-05\n',
      'training_set/mv_0000003.txt': '3:\n1488844,1,1999-11-11\n',
      'training_set/mv_0000004.txt': '4:\n6,2,2004-02-29', // no final newline
      'movie_titles.csv': TITLES,
    });
    expect(detectFormat(d)).toBe('netflix-prize');
    const { matrix, catalog } = await loadDataset(d);
    expect(rows(matrix)).toEqual(EXPECTED);
    expect(catalog.size).toBe(4);

    // One movie file alone: titles are found one folder up.
    const one = await loadDataset(join(d, 'training_set', 'mv_0000001.txt'));
    expect(one.report.ratings).toBe(2);
    expect(one.catalog.get(1).title).toBe('Dinosaur Planet');
  });

  it('reads movie_titles.csv on its own', async () => {
    const d = folder('titles-only', { 'movie_titles.csv': TITLES });
    const catalog = await readNetflixPrizeTitles(join(d, 'movie_titles.csv'));
    expect(catalog.list().map((m) => [m.id, m.year])).toEqual([
      [1, 2003],
      [2, null],
      [3, 1997],
      [4, 1994],
    ]);
  });

  it('reads probe.txt as pairs without dates and qualifying.txt as pairs with dates', async () => {
    const d = folder('probe', {
      'probe.txt': '1:\n30878\n2647871\n10:\n1952305\n',
      'qualifying.txt': '1:\n1046323,2005-12-19\n17770:\n2647871,2005-09-06\n',
    });
    const probe = await readProbe(join(d, 'probe.txt'));
    expect(probe.length).toBe(3);
    expect([...probe.users]).toEqual([30878, 2647871, 1952305]);
    expect([...probe.movies]).toEqual([1, 1, 10]);
    expect(probe.days).toBeNull();

    const qualifying = await readQualifying(join(d, 'qualifying.txt'));
    expect([...qualifying.users]).toEqual([1046323, 2647871]);
    expect([...qualifying.movies]).toEqual([1, 17770]);
    expect([...qualifying.days!]).toEqual([day('2005-12-19'), 13032]);
  });

  it('refuses rows before any MovieID: line, malformed MovieID: lines and bad dates', async () => {
    const d = folder('bad', {
      'before.txt': '\n1488844,3,2005-09-06\n',
      'movie.txt': '1:\n5,3,2005-09-06\nx1:\n6,3,2005-09-06\n',
      'date.txt': '1:\n5,3,2005-02-30\n',
      'early.txt': '1:\n5,3,1969-12-31\n',
      'probe.txt': '1:\n5,3\n',
    });
    const opts = { format: 'netflix-prize' as const };
    await expect(loadRatingsFile(join(d, 'before.txt'), opts)).rejects.toMatchObject({ line: 2, reason: 'row comes before any "MovieID:" line' });
    await expect(loadRatingsFile(join(d, 'movie.txt'), opts)).rejects.toMatchObject({ line: 3, reason: 'movie id "x1" is not a non-negative integer' });
    await expect(loadRatingsFile(join(d, 'date.txt'), opts)).rejects.toMatchObject({ line: 2, reason: 'date "2005-02-30" is not a valid YYYY-MM-DD date' });
    await expect(loadRatingsFile(join(d, 'early.txt'), opts)).rejects.toMatchObject({ line: 2, reason: 'date "1969-12-31" is outside 1970-01-01..2149-06-06' });
    await expect(readProbe(join(d, 'probe.txt'))).rejects.toMatchObject({ line: 2, reason: 'expected 1 field, found 2' });

    // Skipping: the rows after a malformed MovieID: line are dropped with it, and counted.
    const skipped = await loadRatingsFile(join(d, 'movie.txt'), { ...opts, skipInvalid: true });
    expect(skipped.list.length).toBe(1);
    expect(skipped.report.skipped).toBe(2);
    expect(skipped.report.skippedExamples.map((e) => [e.line, e.reason])).toEqual([
      [3, 'movie id "x1" is not a non-negative integer'],
      [4, 'row follows a malformed "MovieID:" line'],
    ]);
  });

  it('reads every one-byte change of a row as a plain parser of the layout does (the fast path accepts nothing the careful one refuses)', async () => {
    // Each case is its own block: movie k holds case k's row, so what the loader kept says which cases it accepted.
    const bases = ['1488844,3,2005-09-06', '6,5,2004-02-29\r'];
    // First a malformed line longer than a 64-byte read (the reader's buffer grows: the rows after it are read from the new one).
    const cases: Buffer[] = [Buffer.from(`1488844,3,2005-09-06${','.repeat(300)}`, 'latin1')];
    // The user id's bounds: the largest id, one past it, eleven digits, leading zeros, none.
    for (const user of ['2147483647', '2147483648', '12147483647', '0000000042', '']) cases.push(Buffer.from(`${user},4,2005-09-06`, 'latin1'));
    for (const base of bases) {
      const row = Buffer.from(base, 'latin1');
      for (let i = 0; i < row.length; i++) {
        for (let b = 0; b < 256; b++) {
          if (b === 10 || b === row[i]) continue;
          const changed = Buffer.from(row);
          changed[i] = b;
          cases.push(changed);
        }
      }
      cases.push(row);
    }
    const text = Buffer.concat(cases.flatMap((c, k) => [Buffer.from(`${k + 1}:\n`), c, Buffer.from('\n')]));
    const d = folder('one-byte', { 'combined_data_1.txt': text });

    /** The row as a plain parser reads it: [user, stars, day] or null. */
    const plain = (c: Buffer): [number, number, number] | null => {
      const line = c.toString('latin1').replace(/\r$/, '');
      const f = line.split(',');
      if (f.length !== 3 || !/^[0-9]{1,10}$/.test(f[0]) || Number(f[0]) > 2147483647 || !/^[1-5]$/.test(f[1])) return null;
      const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(f[2]);
      if (m === null) return null;
      const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      if (new Date(t).toISOString().slice(0, 10) !== f[2]) return null;
      const dd = t / 86400000;
      return dd >= 0 && dd <= 65535 ? [Number(f[0]), Number(f[1]), dd] : null;
    };
    const expected: Array<[number, number, number, number]> = [];
    cases.forEach((c, k) => {
      const r = plain(c);
      if (r !== null) expected.push([r[0], k + 1, r[1], r[2]]);
    });
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(cases.length / 2);

    // Whole-file reads, and reads of 64 bytes (rows cut by every read boundary).
    const file = join(d, 'combined_data_1.txt');
    for (const chunkBytes of [1 << 20, 64]) {
      const ctx = new LoadContext({ skipInvalid: true }, [file], chunkBytes);
      const out = new RatingListBuilder(1024, true);
      await readRatingRows(ctx, file, PRIZE_TRAINING_LAYOUT, out);
      const list = out.finish();
      const got: Array<[number, number, number, number]> = [];
      for (let i = 0; i < list.length; i++) got.push([list.users[i], list.movies[i], list.ratings[i] / 2, list.days![i]]);
      expect(got).toEqual(expected);
      expect(ctx.issues.skipped).toBe(cases.length - expected.length);
    }
  });
});
