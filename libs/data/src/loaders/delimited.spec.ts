import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { DataFormatError } from '../errors';
import { RatingMatrix } from '../rating-matrix';
import { parseRatingScale } from '../rating-scale';
import { readSnapshot, writeSnapshot } from '../snapshot';
import { MovieCatalog } from '../catalog';
import { daysFromCivil } from './byte-reader';
import { LoadContext } from './context';
import { detectSeparator, parseColumns, planDelimited } from './delimited';
import { detectFormat } from './detect';
import { loadDataset, loadRatingsFile, readPlanRatings } from './load';
import { flexibleDay } from './rating-rows';

const tmp = tempDir('recsys-delimited-');
let seq = 0;
function put(text: string, name = `f${seq++}.csv`): string {
  const dir = join(tmp, `d${seq++}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Every entry of a matrix as `user:movie=value` by external ids, in row order. */
function entries(m: RatingMatrix): string[] {
  const out: string[] = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) out.push(`${m.users.ids[u]}:${m.movies.ids[m.userMovies[k]]}=${m.userRatings[k] / 2}`);
  }
  return out;
}

/** Days of every entry, in row order. */
function days(m: RatingMatrix): number[] {
  return Array.from(m.userDays ?? []);
}

/** The load fails with a DataFormatError at `line` for `reason`. */
async function refused(promise: Promise<unknown>, line: number, reason: string | RegExp): Promise<void> {
  await expect(promise).rejects.toThrow(DataFormatError);
  await expect(promise).rejects.toMatchObject({ line, reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) });
}

const DAY = 86400;
const JAN5 = daysFromCivil(2024, 1, 5);

describe('interactions format', () => {
  it('reads every separator, told from the first line', async () => {
    const rows = [
      ['user_id', 'item_id', 'timestamp'],
      ['1', '10', String(JAN5 * DAY + 5)],
      ['2', '10', String(JAN5 * DAY)],
      ['2', '11', String((JAN5 + 1) * DAY)],
    ];
    for (const sep of [',', '\t', ';', '::', ' ']) {
      const file = put(`${rows.map((r) => r.join(sep)).join('\n')}\n`);
      expect(detectFormat(file)).toBe('interactions');
      const { matrix, report } = await loadDataset(file);
      expect([report.format, sep]).toEqual(['interactions', sep]);
      expect(entries(matrix)).toEqual(['1:10=1', '2:10=1', '2:11=1']);
      expect(days(matrix)).toEqual([JAN5, JAN5, JAN5 + 1]);
      expect(matrix.scale.implicit).toBe(true);
    }
  });

  it('takes runs of spaces and tabs as one separator, leading and trailing ones ignored', async () => {
    const file = put('user   item  weight\n  1    10     2\n2 \t 11 3  \n');
    const { matrix } = await loadDataset(file);
    expect(entries(matrix)).toEqual(['1:10=2', '2:11=3']);
  });

  it('knows every header alias, in any case, and ignores other columns', async () => {
    const users = ['user', 'user_id', 'userId', 'UID', 'USER_ID'];
    const items = ['item', 'item_id', 'itemId', 'movie', 'movie_id', 'MovieId'];
    const weights = ['weight', 'count', 'VALUE', 'plays', 'clicks'];
    const times = ['timestamp', 'time', 'ts', 'Date', 'datetime'];
    for (let i = 0; i < 6; i++) {
      const header = ['note', items[i % items.length], weights[i % weights.length], users[i % users.length], times[i % times.length]].join(',');
      const file = put(`${header}\nx,7,2.5,3,2024-01-05\ny,8,4,3,2024-01-06T10:11:12Z\n`);
      const { matrix } = await loadDataset(file);
      expect([header, entries(matrix)]).toEqual([header, ['3:7=2.5', '3:8=4']]);
      expect(days(matrix)).toEqual([JAN5, JAN5 + 1]);
    }
  });

  it('sums repeated (user, item) pairs, keeping the latest day, and counts the rows summed', async () => {
    const file = put('user,item,weight,ts\n1,5,1,100000\n1,6,2,0\n1,5,2.5,300000\n2,5,1,0\n1,5,0.5,200000\n');
    const { matrix, report } = await loadDataset(file);
    expect(entries(matrix)).toEqual(['1:5=4', '1:6=2', '2:5=1']);
    expect(days(matrix)).toEqual([3, 0, 0]);
    expect([report.duplicates, report.capped, report.ratings]).toEqual([2, 0, 3]);
  });

  it('caps weights and sums above 127.5, counting them', async () => {
    const file = put('user,item,count\n1,1,100\n1,1,50\n1,1,10\n1,2,127.5\n1,3,1000\n2,1,127\n2,1,0.5\n');
    const { matrix, report } = await loadDataset(file);
    // 100 + 50 + 10: one capped pair; 1000: one capped row; 127 + 0.5 = 127.5 is not capped.
    expect(entries(matrix)).toEqual(['1:1=127.5', '1:2=127.5', '1:3=127.5', '2:1=127.5']);
    expect(report.capped).toBe(2);
  });

  it('rounds a weight to the nearest half unit, never below 0.5', async () => {
    const { matrix } = await loadDataset(put('user,item,weight\n1,1,0.1\n1,2,1.3\n1,3,1.26\n'));
    expect(entries(matrix)).toEqual(['1:1=0.5', '1:2=1.5', '1:3=1.5']);
  });

  it('refuses a weight that is not a positive number, naming the line and field', async () => {
    const cases: Array<[string, string]> = [
      ['0', 'weight "0" is not positive'],
      ['-1', 'weight "-1" is not a number'],
      ['abc', 'weight "abc" is not a number'],
      ['', 'weight "" is not a number'],
      ['1e3', 'weight "1e3" is not a number'],
    ];
    for (const [w, reason] of cases) {
      await refused(loadDataset(put(`user,item,weight\n1,1,2\n2,1,${w}\n`)), 3, reason);
    }
  });

  it('reads Unix seconds, milliseconds (from 10^11 on) and ISO dates and times', async () => {
    const file = put(
      `user,item,ts\n1,1,${JAN5 * DAY}\n1,2,${JAN5 * DAY * 1000 + 999}\n1,3,2024-01-05\n1,4,2024-01-05T23:59:59\n1,5,2024-01-05 08:00\n1,6,2024-01-05T10:00:00.123+02:00\n`,
    );
    const { matrix } = await loadDataset(file);
    expect(days(matrix)).toEqual([JAN5, JAN5, JAN5, JAN5, JAN5, JAN5]);
    // Just below 10^11: seconds (the year 5138, past the last day); from 10^11: milliseconds.
    expect(flexibleDay('99999999999')).toBe('timestamp "99999999999" is outside 1970-01-01..2149-06-06');
    expect(flexibleDay('100000000000')).toBe(Math.floor(100000000 / DAY));
  });

  it('refuses a bad timestamp, naming the line and field', async () => {
    const cases: Array<[string, string]> = [
      ['yesterday', 'timestamp "yesterday" is not Unix seconds or milliseconds or an ISO date (YYYY-MM-DD[THH:MM[:SS]])'],
      ['2024-02-30', 'timestamp "2024-02-30" is not Unix seconds or milliseconds or an ISO date (YYYY-MM-DD[THH:MM[:SS]])'],
      ['2024-01-05T25:00', 'timestamp "2024-01-05T25:00" is not Unix seconds or milliseconds or an ISO date (YYYY-MM-DD[THH:MM[:SS]])'],
      ['1960-01-01', 'timestamp "1960-01-01" is outside 1970-01-01..2149-06-06'],
      ['-5', 'timestamp "-5" is not Unix seconds or milliseconds or an ISO date (YYYY-MM-DD[THH:MM[:SS]])'],
    ];
    for (const [t, reason] of cases) {
      // The first row decides whether the column holds dates or numbers; both kinds are checked either way.
      for (const first of ['2024-01-01', '1700000000']) {
        await refused(loadDataset(put(`user,item,time\n1,1,${first}\n1,2,${t}\n`)), 3, reason);
      }
    }
  });

  it('skips bad rows with --skip-invalid, losing nothing else', async () => {
    const { matrix, report } = await loadDataset(put('user,item,weight\n1,1,2\n2,x,1\n2,2,0\n3,3\n4,4,1\n'), { skipInvalid: true });
    expect(entries(matrix)).toEqual(['1:1=2', '4:4=1']);
    expect(report.skipped).toBe(3);
    expect(report.skippedExamples.map((e) => [e.line, e.reason])).toEqual([
      [3, 'movie id "x" is not a non-negative integer'],
      [4, 'weight "0" is not positive'],
      [5, 'expected 3 fields, found 2'],
    ]);
  });

  it('refuses a header without user and item columns, and an empty file', async () => {
    await refused(loadDataset(put('who,what\n1,2\n'), { format: 'interactions' }), 1, /^header "who,what" does not name the user and item columns/);
    await refused(loadDataset(put(''), { format: 'interactions' }), 0, 'no interactions: the file is empty');
    await refused(loadDataset(put('user,item\n'), { format: 'interactions' }), 0, 'no interactions: the file has only a header');
  });

  it('reads a large file on two threads exactly as on one, summing across the threads', async () => {
    const lines = ['user_id,item_id,clicks'];
    let s = 7;
    const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
    for (let k = 0; k < 60000; k++) lines.push(`${1 + rnd(300)},${1 + rnd(200)},${1 + rnd(4)}`);
    lines.push('1,1,200');
    const file = put(`${lines.join('\n')}\n`);
    const read = async (minBytes: number) => {
      const plan = planDelimited('interactions', file, {});
      const ctx = new LoadContext({ threads: 2 }, plan.ratingFiles);
      ctx.parallelMinBytes = minBytes;
      const { parts } = await readPlanRatings(ctx, plan);
      return { parts, ctx };
    };
    const one = await read(Infinity);
    const two = await read(0);
    expect(one.parts.length).toBe(1);
    expect(two.parts.length).toBe(2);
    const flat = (parts: typeof one.parts): number[] => parts.flatMap((p) => Array.from(p.ratings.subarray(0, p.length)));
    expect(flat(two.parts)).toEqual(flat(one.parts));
    expect([one.ctx.issues.capped, two.ctx.issues.capped]).toEqual([1, 1]);
    // The sums against a plain reference: weights per pair added up (codes), capped at 255.
    const sums = new Map<string, number>();
    for (const line of lines.slice(1)) {
      const [u, i, w] = line.split(',').map(Number);
      sums.set(`${u}:${i}`, Math.min(255, (sums.get(`${u}:${i}`) ?? 0) + Math.min(255, w * 2)));
    }
    const { matrix } = await loadDataset(file);
    expect(matrix.nRatings).toBe(sums.size);
    for (let u = 0; u < matrix.nUsers; u++) {
      for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) {
        expect(matrix.userRatings[k]).toBe(sums.get(`${matrix.users.ids[u]}:${matrix.movies.ids[matrix.userMovies[k]]}`));
      }
    }
  });
});

describe('--columns', () => {
  it('parses the names, refusing unknown, repeated or missing ones', () => {
    expect(parseColumns('user,movie,rating,timestamp')).toEqual(['user', 'movie', 'rating', 'timestamp']);
    expect(parseColumns(' Item , _ ,USER,skip,weight')).toEqual(['movie', 'skip', 'user', 'skip', 'weight']);
    expect(() => parseColumns('user,film,rating')).toThrow('columns "user,film,rating": "film" is not one of user, movie, item, rating, weight, timestamp, skip, _');
    expect(() => parseColumns('user,movie,item')).toThrow('"item" is named twice');
    expect(() => parseColumns('user,rating')).toThrow('a user and a movie (item) column are needed');
    expect(() => parseColumns('user,movie,rating,weight')).toThrow('name either a rating or a weight column, not both');
  });

  it('reads headerless files in any column order', async () => {
    const orders: Array<[string, string]> = [
      ['user,movie,rating', '1,10,4\n2,20,5\n'],
      ['movie,user,rating', '10,1,4\n20,2,5\n'],
      ['rating,skip,movie,user', '4,x,10,1\n5,y,20,2\n'],
      ['_,rating,user,item', 'a,4,1,10\nb,5,2,20\n'],
    ];
    for (const [columns, text] of orders) {
      const { matrix, report } = await loadDataset(put(text), { columns: parseColumns(columns) });
      expect([columns, report.format, entries(matrix)]).toEqual([columns, 'ratings-csv', ['1:10=4', '2:20=5']]);
      expect(matrix.scale.implicit).toBeUndefined();
    }
  });

  it('skips a header with other names, and reads interactions without a value column', async () => {
    const { matrix, report } = await loadDataset(put('visitor;thing;when\n5;6;1700000000\n5;6;1700000001\n'), { columns: parseColumns('user,item,timestamp') });
    expect([report.format, entries(matrix), report.duplicates]).toEqual(['interactions', ['5:6=2'], 1]);
  });

  it('reads a weight column as interactions, and a rating column as interactions with --format interactions', async () => {
    const weighted = await loadDataset(put('1,2,7\n'), { columns: parseColumns('user,item,weight') });
    expect([weighted.report.format, entries(weighted.matrix)]).toEqual(['interactions', ['1:2=7']]);
    const forced = await loadDataset(put('1,2,7\n1,2,1\n'), { format: 'interactions', columns: parseColumns('user,item,rating') });
    expect(entries(forced.matrix)).toEqual(['1:2=8']);
  });

  it('refuses columns for a format with fixed columns', async () => {
    await expect(loadDataset(put('1\t2\t3\t4\n', 'u.data'), { columns: parseColumns('user,movie,rating'), format: 'movielens-100k' })).rejects.toThrow(
      'columns apply to the interactions and ratings-csv formats, not to movielens-100k (its columns are fixed)',
    );
  });

  it('reports a row with the wrong number of fields at its line', async () => {
    await refused(loadDataset(put('1,10,4\n2,20\n'), { columns: parseColumns('user,movie,rating') }), 2, 'expected 3 fields, found 2');
  });
});

describe('--scale', () => {
  it('parses MIN..MAX[:STEP], step 1 by default', () => {
    expect(parseRatingScale('1..10')).toEqual({ min: 1, max: 10, step: 1 });
    expect(parseRatingScale('0.5..5:0.5')).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect(parseRatingScale(' 0 .. 100 : 5 ')).toEqual({ min: 0, max: 100, step: 5 });
    expect(parseRatingScale('1..127.5:0.5')).toEqual({ min: 1, max: 127.5, step: 0.5 });
  });

  it('refuses what the codes cannot hold, saying why', () => {
    expect(() => parseRatingScale('1-10')).toThrow('scale "1-10" is not MIN..MAX[:STEP] with non-negative numbers');
    expect(() => parseRatingScale('-1..5')).toThrow('is not MIN..MAX[:STEP]');
    expect(() => parseRatingScale('1..10:0.3')).toThrow('the step 0.3 is not a positive multiple of 0.5');
    expect(() => parseRatingScale('1..10:0')).toThrow('the step 0 is not a positive multiple of 0.5');
    expect(() => parseRatingScale('0.25..5')).toThrow('min and max must be multiples of 0.5');
    expect(() => parseRatingScale('1..200')).toThrow('max 200 is above 127.5');
    expect(() => parseRatingScale('5..5')).toThrow('min 5 must be below max 5');
    expect(() => parseRatingScale('10..1')).toThrow('min 10 must be below max 1');
    expect(() => parseRatingScale('1..10:2')).toThrow('max 10 is not min 1 plus a whole number of steps of 2');
  });

  it('imports a headerless 1–10 CSV, keeping the rule that off-scale ratings are bad rows', async () => {
    const file = put('1,5,10\n2,5,1\n1,7,7\n');
    const { matrix, report } = await loadDataset(file, { columns: parseColumns('user,movie,rating'), scale: parseRatingScale('1..10') });
    expect([report.format, entries(matrix), matrix.scale]).toEqual(['ratings-csv', ['1:5=10', '1:7=7', '2:5=1'], { min: 1, max: 10, step: 1 }]);
    const tenStars = { columns: parseColumns('user,movie,rating'), scale: parseRatingScale('1..10') };
    await refused(loadDataset(put('1,5,10\n2,5,11\n'), tenStars), 2, 'rating "11" is outside 1..10');
    await refused(loadDataset(put('1,5,10\n2,5,2.5\n'), tenStars), 2, 'rating "2.5" is not on the 1..10 scale in steps of 1');
    // Without --scale the 1..5 scale refuses the 10.
    await refused(loadDataset(file, { columns: parseColumns('user,movie,rating') }), 1, 'rating "10" is outside 0.5..5');
  });

  it('applies to the fixed rating formats too, and not to interactions or snapshots', async () => {
    const file = put('1\t2\t9\t881250949\n', 'u.data');
    const { matrix } = await loadDataset(file, { scale: parseRatingScale('1..10') });
    expect([entries(matrix), matrix.scale]).toEqual([['1:2=9'], { min: 1, max: 10, step: 1 }]);
    await expect(loadDataset(put('user,item\n1,2\n'), { scale: parseRatingScale('1..10') })).rejects.toThrow('a scale is for rating data');
    const snap = join(tmp, 'scaled.rsnap');
    writeSnapshot(snap, { matrix, catalog: new MovieCatalog() });
    await expect(loadDataset(snap, { scale: parseRatingScale('1..10') })).rejects.toThrow('a scale does not apply to a snapshot');
  });

  it('reads file-defined splits with the same options', async () => {
    const train = put('1,5,10\n2,5,3\n', 'x.base');
    const { list, scale } = await loadRatingsFile(train, { columns: parseColumns('user,movie,rating'), scale: parseRatingScale('1..10') });
    expect([Array.from(list.ratings.subarray(0, list.length)), scale.max]).toEqual([[20, 6], 10]);
  });
});

describe('detection and separators', () => {
  it('tells the separator from the first line', () => {
    expect(detectSeparator('a::b::c')).toEqual({ delimiter: 58, double: true, whitespace: false });
    expect(detectSeparator('a\tb')).toEqual({ delimiter: 9, double: false, whitespace: false });
    expect(detectSeparator('a;b,c')).toEqual({ delimiter: 59, double: false, whitespace: false });
    expect(detectSeparator('a,b')).toEqual({ delimiter: 44, double: false, whitespace: false });
    expect(detectSeparator('a  b')).toEqual({ delimiter: 32, double: false, whitespace: true });
    expect(detectSeparator('ab')).toBeNull();
  });

  it('tells interactions and other rating CSVs by their header, leaving the known CSVs as they were', () => {
    expect(detectFormat(put('user_id,item_id,timestamp\n1,2,3\n'))).toBe('interactions');
    expect(detectFormat(put('uid;movie;plays\n1;2;3\n'))).toBe('interactions');
    expect(detectFormat(put('user\titem\trating\n1\t2\t3\n'))).toBe('ratings-csv');
    expect(detectFormat(put('userId,movieId,rating\n1,2,3\n'))).toBe('movielens-csv');
    expect(detectFormat(put('User_ID,Rating,Movie_ID\n1,2,3\n'))).toBe('netflix-kaggle');
  });

  it('reads a ratings-csv with a header in another order and separator', async () => {
    const { matrix, report } = await loadDataset(put('rating;movie_id;user_id\n4.5;10;1\n3;11;1\n'));
    expect([report.format, entries(matrix), matrix.scale]).toEqual(['ratings-csv', ['1:10=4.5', '1:11=3'], { min: 0.5, max: 5, step: 0.5 }]);
  });
});

describe('the implicit flag in snapshots and the import cache', () => {
  it('survives a snapshot round trip; rating data stays without it', async () => {
    const { matrix, catalog } = await loadDataset(put('user,item,weight\n1,2,3\n'));
    const file = join(tmp, 'implicit.rsnap');
    writeSnapshot(file, { matrix, catalog });
    const back = readSnapshot(file).matrix;
    expect(back.scale).toEqual({ min: 0.5, max: 127.5, step: 0.5, implicit: true });
    expect(entries(back)).toEqual(['1:2=3']);
    const ratings = await loadDataset(put('1,2,3\n'), { columns: parseColumns('user,movie,rating') });
    writeSnapshot(file, ratings);
    expect(readSnapshot(file).matrix.scale).toEqual({ min: 1, max: 5, step: 1 });
    expect('implicit' in readSnapshot(file).matrix.scale).toBe(false);
  });

  it('keeps the flag through the import cache, keyed by the column mapping and scale', async () => {
    const cacheDir = join(tmp, 'cache');
    const file = put('1,2,3\n1,2,4\n');
    const first = await loadDataset(file, { columns: parseColumns('user,item'.concat(',weight')), cacheDir });
    const again = await loadDataset(file, { columns: parseColumns('user,item,weight'), cacheDir });
    expect([first.report.cache?.used, again.report.cache?.used]).toEqual([false, true]);
    expect([again.matrix.scale.implicit, entries(again.matrix), again.report.capped]).toEqual([true, ['1:2=7'], 0]);
    // Other columns, another cache entry: read as ratings, the last one of the pair wins.
    const ratings = await loadDataset(file, { columns: parseColumns('user,movie,rating'), cacheDir });
    expect([ratings.report.cache?.used, entries(ratings.matrix)]).toEqual([false, ['1:2=4']]);
  });
});
