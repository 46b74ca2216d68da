import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { DataFormatError } from '../errors';
import { RatingListBuilder } from '../rating-matrix';
import { LoadContext } from './context';
import { fileSplit, loadDataset, loadRatingsFile } from './index';
import { planMovieLensDat } from './movielens';
import { planNetflixKaggle } from './netflix-kaggle';
import { readRatingRows } from './rating-rows';

const tmp = tempDir('recsys-load-');

let seq = 0;
/** A Kaggle ratings file (header `User_ID,Rating,Movie_ID` unless the text has its own) in a fresh folder. */
function kaggle(body: string | Buffer, header = 'User_ID,Rating,Movie_ID\n'): string {
  const d = join(tmp, `k${seq++}`);
  mkdirSync(d);
  const f = join(d, 'Netflix_Dataset_Rating.csv');
  writeFileSync(f, typeof body === 'string' ? header + body : Buffer.concat([Buffer.from(header), body]));
  return f;
}

async function failure(promise: Promise<unknown>): Promise<DataFormatError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DataFormatError) return e;
    throw e;
  }
  throw new Error('expected a DataFormatError');
}

describe('malformed rows', () => {
  it.each([
    ['too few fields', '1,5\n', 'expected 3 fields, found 2'],
    ['too many fields', '1,5,1,9\n', 'expected 3 fields, found 4'],
    ['a letter in a user id', 'abc,5,1\n', 'user id "abc" is not a non-negative integer'],
    ['a negative movie id', '1,5,-3\n', 'movie id "-3" is not a non-negative integer'],
    ['an empty user id', ',5,1\n', 'user id "" is empty'],
    ['an id beyond 32 bits', '2147483648,5,1\n', 'user id "2147483648" is larger than 2147483647'],
    ['a rating above the scale', '1,7,1\n', 'rating "7" is outside 1..5'],
    ['a rating of zero', '1,0,1\n', 'rating "0" is outside 1..5'],
    ['a half star on whole-star data', '1,3.5,1\n', 'rating "3.5" is not on the 1..5 scale in steps of 1'],
    ['a rating that is not a number', '1,x,1\n', 'rating "x" is not a number'],
    ['spaces around a value', '1, 5,1\n', 'rating " 5" is not a number'],
  ])('%s throws DataFormatError(file, line, reason)', async (_what, row, reason) => {
    const f = kaggle(`10,4,1\n${row}`);
    const e = await failure(loadDataset(f));
    expect([e.file, e.line, e.reason]).toEqual([f, 3, reason]);
    expect(e.message).toBe(`${f}:3: ${reason}`);
  });

  it('accepts 4.0 as a whole star', async () => {
    const { matrix } = await loadDataset(kaggle('10,4.0,1\n'));
    expect(matrix.userRatings[0]).toBe(8);
  });

  it('counts lines from 1 including the header and blank lines, with CRLF endings', async () => {
    const f = kaggle('10,4,1\r\n\r\n\r\n20,5,1\r\nbad,1,1\r\n', 'User_ID,Rating,Movie_ID\r\n');
    expect(await failure(loadDataset(f))).toMatchObject({ line: 6, reason: 'user id "bad" is not a non-negative integer' });
  });

  it('ignores blank lines and reads CRLF files and a UTF-8 BOM', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const f = kaggle(Buffer.from('10,4,1\r\n\r\n20,5,2\r\n\n'), '');
    writeFileSync(f, Buffer.concat([bom, Buffer.from('User_ID,Rating,Movie_ID\r\n10,4,1\r\n\r\n20,5,2\r\n\n')]));
    const { report } = await loadDataset(f);
    expect([report.ratings, report.users, report.movies, report.skipped]).toEqual([2, 2, 2, 0]);
  });

  it('keeps a complete last row without newline, and refuses one cut short, naming the last line', async () => {
    expect((await loadDataset(kaggle('10,4,1\n20,5,2'))).report.ratings).toBe(2);
    const f = kaggle('10,4,1\n123,4');
    expect(await failure(loadDataset(f))).toMatchObject({ file: f, line: 3, reason: 'expected 3 fields, found 2' });
  });

  it('keeps the last of duplicate (user, movie) ratings and reports them', async () => {
    const { matrix, report } = await loadDataset(kaggle('10,4,1\n20,2,1\n10,1,1\n10,5,2\n10,3,1\n'));
    expect(matrix.rating(matrix.users.indexOf(10), matrix.movies.indexOf(1))).toBe(3);
    expect(report.ratings).toBe(3);
    expect(report.duplicates).toBe(2);
    expect(report.duplicateExamples).toEqual([
      { user: 10, movie: 1 },
      { user: 10, movie: 1 },
    ]);
  });

  it('refuses an empty file, a header alone, and a file with nothing usable, even when skipping', async () => {
    const empty = kaggle('', '');
    for (const skipInvalid of [false, true]) {
      expect(await failure(loadDataset(empty, { skipInvalid }))).toMatchObject({ line: 0, reason: 'no ratings: the file is empty' });
      expect(await failure(loadDataset(kaggle(''), { skipInvalid }))).toMatchObject({ line: 0, reason: 'no ratings: the file has only a header' });
      expect(await failure(loadDataset(kaggle('\n\n'), { skipInvalid }))).toMatchObject({ line: 0, reason: 'no ratings: the file has no rows' });
    }
    expect(await failure(loadDataset(kaggle('x,1,1\n1,9,1\n'), { skipInvalid: true }))).toMatchObject({
      line: 0,
      reason: 'no ratings: all 2 rows were malformed and skipped',
    });
  });
});

describe('skipInvalid', () => {
  it('skips and counts malformed rows, keeping the first 10 as examples', async () => {
    const good = Array.from({ length: 5 }, (_, i) => `${i + 1},3,1`);
    const bad = Array.from({ length: 12 }, (_, i) => `${i + 1},9,1`);
    const f = kaggle([good[0], ...bad, ...good.slice(1)].join('\n') + '\n');
    const { report } = await loadDataset(f, { skipInvalid: true });
    expect(report.ratings).toBe(5);
    expect(report.skipped).toBe(12);
    expect(report.skippedExamples).toHaveLength(10);
    expect(report.skippedExamples[0]).toEqual({ file: f, line: 3, reason: 'rating "9" is outside 1..5' });
    expect(report.skippedExamples[9].line).toBe(12);
  });
});

describe('chunk boundaries', () => {
  // Every kind of line, so that tiny reads cut each of them in every place.
  const body = [
    '10,4,1',
    '',
    '20,3.0,2\r',
    'x,1,1',
    '30,5,3',
    '30,5',
    '2147483647,1,17770',
    '40,2,4',
  ].join('\n');

  const f = kaggle(body);
  async function read(chunkBytes: number): Promise<unknown> {
    const ctx = new LoadContext({ skipInvalid: true }, [f], chunkBytes);
    const out = new RatingListBuilder(4);
    await readRatingRows(ctx, f, planNetflixKaggle(f).layout(f), out);
    const list = out.finish();
    return { users: [...list.users], movies: [...list.movies], ratings: [...list.ratings], skipped: ctx.issues.examples, bytes: ctx.bytes };
  }

  it('gives the same rows, skips and line numbers for any read size', async () => {
    const expected = await read(1 << 20);
    expect(expected).toMatchObject({
      users: [10, 20, 30, 2147483647, 40],
      movies: [1, 2, 3, 17770, 4],
      ratings: [8, 6, 10, 2, 4],
    });
    expect((expected as { skipped: Array<{ line: number }> }).skipped.map((s) => s.line)).toEqual([5, 7]);
    for (const chunk of [1, 2, 3, 5, 8, 13]) expect(await read(chunk)).toEqual(expected);
  });

  it('reads the double-colon separator of ratings.dat across reads', async () => {
    const d = join(tmp, 'dat');
    mkdirSync(d);
    const f = join(d, 'ratings.dat');
    writeFileSync(f, '1::10::5::978300760\n2:20::4::978300760\n3::30::4.5::978300760\n');
    const ctx = new LoadContext({ skipInvalid: true }, [f], 3);
    const out = new RatingListBuilder(4, true);
    await readRatingRows(ctx, f, planMovieLensDat(f).layout(f), out);
    const list = out.finish();
    expect([...list.users]).toEqual([1, 3]);
    expect([...list.ratings]).toEqual([10, 9]);
    expect(ctx.issues.examples).toEqual([{ file: f, line: 2, reason: 'expected 4 fields, found 3' }]);
  });
});

describe('progress and the report', () => {
  it('reports bytes done over all files, ending at the total', async () => {
    const f = kaggle(Array.from({ length: 2000 }, (_, i) => `${i},${1 + (i % 5)},${1 + (i % 7)}`).join('\n') + '\n');
    const titles = join(f, '..', 'Netflix_Dataset_Movie.csv');
    writeFileSync(titles, 'Movie_ID,Year,Name\n1,2000,A\n');
    const total = statSync(f).size + statSync(titles).size;
    const calls: Array<[number, number]> = [];
    const { report } = await loadDataset(join(f, '..'), { onProgress: (done, all) => calls.push([done, all]) });
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every(([, all]) => all === total)).toBe(true);
    expect(calls[calls.length - 1][0]).toBe(total);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThan(calls[i - 1][0]);
    expect(report.bytes).toBe(total);
    expect(report.untitledMovies).toBe(6); // movies 2..7
    expect(report.seconds).toBeGreaterThan(0);
  });

  it('says plainly when a path does not exist or is a folder where a file is needed', async () => {
    expect(await failure(loadDataset(join(tmp, 'nowhere')))).toMatchObject({ line: 0, reason: 'no such file or folder' });
    expect(await failure(loadDataset(join(tmp, 'nowhere'), { format: 'netflix-kaggle' }))).toMatchObject({ reason: 'no such file or folder' });
    expect(await failure(loadRatingsFile(tmp))).toMatchObject({ reason: 'expected a ratings file, found a folder' });
    const emptyDir = join(tmp, 'empty-folder');
    mkdirSync(emptyDir);
    expect(await failure(loadDataset(emptyDir, { format: 'movielens-dat' }))).toMatchObject({
      file: emptyDir,
      reason: 'no ratings.dat in this folder (needed for format movielens-dat)',
    });
  });
});

describe('loadRatingsFile and fileSplit', () => {
  it('reads one file as a list with a report; a split of two files names itself by their stem', async () => {
    const d = join(tmp, 'split');
    mkdirSync(d);
    writeFileSync(join(d, 'r1.base'), '1\t10\t5\t881250949\n1\t11\t3\t881250949\n2\t10\t4\t881250949\n2\t10\t2\t881250950\n');
    writeFileSync(join(d, 'r1.test'), '3\t12\t1\t881250949\n');
    const one = await loadRatingsFile(join(d, 'r1.base'), { format: 'movielens-100k' });
    expect(one.list.length).toBe(4);
    expect(one.report).toMatchObject({ format: 'movielens-100k', ratings: 4, users: 2, movies: 2, duplicates: 0 });

    const split = await fileSplit(join(d, 'r1.base'), join(d, 'r1.test'), { format: 'movielens-100k' });
    expect(split.name).toBe('r1');
    expect(split.train.nRatings).toBe(3); // the duplicate (2, 10) keeps its last rating
    expect(split.train.rating(split.train.users.indexOf(2), split.train.movies.indexOf(10))).toBe(2);
    expect([...split.test.users]).toEqual([3]); // a user unknown to the train matrix stays in the test list
  });
});
