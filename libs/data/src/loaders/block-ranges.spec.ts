import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { BuildThreadPool, buildFromMovieRuns } from '../build-from-runs';
import { buildRatingMatrix } from '../build-matrix';
import { DataFormatError } from '../errors';
import { MovieRunsBuilder, sharedRunRows } from '../movie-runs';
import { RatingListBuilder, RatingMatrix } from '../rating-matrix';
import { WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { blockAlignedCut, blockRanges } from './block-ranges';
import { LoadContext } from './context';
import { readPlanRuns } from './load';
import { planNetflixPrize } from './netflix-prize';

const tmp = tempDir('recsys-block-ranges-');

let seq = 0;
function folder(files: Record<string, string>): string {
  const d = join(tmp, `d${seq++}`);
  mkdirSync(d);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}

/** A deterministic Prize training file: movies `first..first+movies-1`, each a block of `perMovie` rows. */
function prizeText(first: number, movies: number, perMovie: number, seed: number): string {
  let s = seed;
  const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
  const lines: string[] = [];
  for (let m = first; m < first + movies; m++) {
    lines.push(`${m}:`);
    for (let k = 0; k < perMovie; k++) lines.push(`${1 + rnd(400)},${1 + rnd(5)},200${rnd(6)}-0${1 + rnd(9)}-1${rnd(10)}`);
  }
  return lines.join('\n') + '\n';
}

/** Read a Prize folder's ratings on `threads` threads (every file big enough to split) and build the matrix. */
async function load(dir: string, threads: number, skipInvalid = false) {
  const plan = planNetflixPrize(dir);
  const ctx = new LoadContext({ threads, skipInvalid }, plan.ratingFiles, 64);
  ctx.parallelMinBytes = 1;
  const { parts, scale } = await readPlanRuns(ctx, plan);
  const nParts = parts.length;
  // The parse's buffer of users, when every part (the workers' too) is a view of one.
  const usersBuffer = parts.every((p) => p.users.buffer === parts[0].users.buffer) ? parts[0].users.buffer : null;
  return { ...(await buildFromMovieRuns(parts, scale, threads)), ctx, nParts, usersBuffer };
}

const ARRAYS = ['userPtr', 'userMovies', 'userRatings', 'userDays', 'moviePtr', 'movieUsers', 'movieRatings'] as const;

function expectSameMatrix(a: RatingMatrix, b: RatingMatrix): void {
  expect(Array.from(a.users.ids)).toEqual(Array.from(b.users.ids));
  expect(Array.from(a.movies.ids)).toEqual(Array.from(b.movies.ids));
  for (const k of ARRAYS) expect([k, Array.from(a[k] ?? [])]).toEqual([k, Array.from(b[k] ?? [])]);
}

describe('blockAlignedCut', () => {
  const text = '1:\n10,3,2005-01-01\n11,4,2005-01-02\n22:\n12,5,2005-01-03\n';
  const dir = folder({ 'combined_data_1.txt': text });
  const file = join(dir, 'combined_data_1.txt');
  const second = text.indexOf('22:');

  it('moves a cut inside a block to the start of the next MovieID: line', async () => {
    for (let at = 1; at <= second; at++) expect([at, await blockAlignedCut(file, at, text.length)]).toEqual([at, second]);
    expect(await blockAlignedCut(file, 0, text.length)).toBe(0);
  });

  it('finds none after the last block', async () => {
    expect(await blockAlignedCut(file, second + 1, text.length)).toBe(-1);
  });

  it('knows MovieID: lines ending in \\r\\n and blocks longer than its read window', async () => {
    const rows = Array.from({ length: 30000 }, (_, k) => `${k + 1},3,2005-01-01\r\n`).join('');
    const big = `1:\r\n${rows}2:\r\n7,1,2005-01-01\r\n`;
    const d = folder({ 'combined_data_1.txt': big });
    expect(await blockAlignedCut(join(d, 'combined_data_1.txt'), 10, big.length)).toBe(big.indexOf('2:\r\n'));
  });

  it('cuts the files into ranges of whole blocks, a file of 0 bytes in the range of the bytes after it', async () => {
    const d = folder({ 'combined_data_1.txt': text, 'combined_data_2.txt': '', 'combined_data_3.txt': text });
    const files = [1, 2, 3].map((i) => join(d, `combined_data_${i}.txt`));
    const sizes = files.map((f) => statSync(f).size);
    const ranges = await blockRanges(files, sizes, 2);
    expect(ranges).toEqual([
      [{ file: files[0], from: 0, to: text.length, last: true }],
      [
        { file: files[1], from: 0, to: 0, last: true },
        { file: files[2], from: 0, to: text.length, last: true },
      ],
    ]);
    const three = await blockRanges([files[0]], [sizes[0]], 3);
    expect(three).toEqual([
      [{ file: files[0], from: 0, to: second, last: false }],
      [{ file: files[0], from: second, to: text.length, last: true }],
    ]);
  });
});

describe('Prize files read on several threads', () => {
  const dir = folder({
    'combined_data_1.txt': prizeText(1, 40, 37, 3),
    'combined_data_2.txt': prizeText(41, 25, 53, 4),
    // Movie 5 again (a block far from its first one) and duplicates of earlier pairs.
    'combined_data_3.txt': prizeText(5, 1, 60, 3) + prizeText(66, 10, 20, 5),
  });

  it('gives the same matrix on 1, 2, 3 and 5 threads, and the same as a RatingList through buildRatingMatrix', async () => {
    const one = await load(dir, 1);
    expect(one.nParts).toBe(1);
    // Reference: every row as a plain list, in file order, built the old way.
    const list = new RatingListBuilder(1024, true);
    let movie = -1;
    for (const f of [1, 2, 3]) {
      const text = readFileSync(join(dir, `combined_data_${f}.txt`), 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        if (line.endsWith(':')) movie = Number(line.slice(0, -1));
        else {
          const [u, r, date] = line.split(',');
          list.push(Number(u), movie, Number(r) * 2, Date.parse(`${date}T00:00:00Z`) / 86400000);
        }
      }
    }
    const reference = buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5);
    expect(one.duplicates).toBeGreaterThan(0);
    expect(one.duplicates).toBe(reference.duplicates);
    expect(one.duplicateExamples).toEqual(reference.duplicateExamples);
    expectSameMatrix(one.matrix, reference.matrix);
    for (const threads of [2, 3, 5]) {
      const many = await load(dir, threads);
      expect(many.nParts).toBeGreaterThan(1);
      expect(many.nParts).toBeLessThanOrEqual(threads);
      expect(many.duplicates).toBe(one.duplicates);
      expect(many.duplicateExamples).toEqual(one.duplicateExamples);
      expectSameMatrix(many.matrix, one.matrix);
      expect(many.ctx.files).toEqual(planNetflixPrize(dir).ratingFiles);
      expect(many.ctx.bytes).toBe(one.ctx.bytes);
      // The ranges were parsed into one buffer per field (the workers' parts too), which the
      // build can reuse for the rows (see 'of one buffer per field' below).
      expect(many.usersBuffer).not.toBeNull();
    }
  });

  it('names the file and its own line of an error in a later range', async () => {
    const text = prizeText(1, 30, 40, 9);
    const lines = text.split('\n');
    // A bad rating on line 1000 (in the second half of the file), a block spanning a cut around it.
    lines[999] = lines[999].replace(/,\d,/, ',9,');
    const d = folder({ 'combined_data_1.txt': lines.join('\n') });
    for (const threads of [1, 2, 4]) {
      const e = load(d, threads);
      await expect(e).rejects.toBeInstanceOf(DataFormatError);
      await expect(e).rejects.toMatchObject({ file: join(d, 'combined_data_1.txt'), line: 1000, reason: 'rating "9" is outside 1..5' });
    }
  });

  it('throws the first error in file order, and shifts skipped examples to their own lines', async () => {
    const a = prizeText(1, 20, 30, 1).split('\n');
    const b = prizeText(21, 20, 30, 2).split('\n');
    a[500] = 'x,1,2005-01-01';
    b[100] = '7,3';
    b[550] = '8,3,2005-02-30';
    const d = folder({ 'combined_data_1.txt': a.join('\n'), 'combined_data_2.txt': b.join('\n') });
    const f1 = join(d, 'combined_data_1.txt');
    const f2 = join(d, 'combined_data_2.txt');
    for (const threads of [1, 2, 3, 4]) {
      await expect(load(d, threads)).rejects.toMatchObject({ file: f1, line: 501 });
      const skipping = await load(d, threads, true);
      expect(skipping.ctx.issues.skipped).toBe(3);
      expect(skipping.ctx.issues.examples.map((x) => [x.file, x.line])).toEqual([
        [f1, 501],
        [f2, 101],
        [f2, 551],
      ]);
      expect(skipping.matrix.nRatings + skipping.duplicates).toBe(40 * 30 - 3);
    }
  });

  it('says which file has no rows, in file order, on any number of threads', async () => {
    const d = folder({ 'combined_data_1.txt': prizeText(1, 10, 30, 1), 'combined_data_2.txt': '5:\n', 'combined_data_3.txt': prizeText(20, 10, 30, 1) });
    for (const threads of [1, 3]) {
      await expect(load(d, threads)).rejects.toMatchObject({ file: join(d, 'combined_data_2.txt'), line: 0, reason: 'no ratings: the file has no rows' });
    }
  });
});

describe('buildFromMovieRuns', () => {
  it('matches buildRatingMatrix on runs out of movie order with duplicates, and empties its parts', async () => {
    let s = 11;
    const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
    const parts = [new MovieRunsBuilder(16, true), new MovieRunsBuilder(16, true)];
    const list = new RatingListBuilder(16, true);
    for (let run = 0; run < 300; run++) {
      const movie = 1 + rnd(40);
      const part = parts[run < 170 ? 0 : 1];
      for (let k = rnd(30); k >= 0; k--) {
        const user = 1000 + rnd(60);
        const code = 2 * (1 + rnd(5));
        const day = rnd(20000);
        part.push(user, movie, code, day);
        list.push(user, movie, code, day);
      }
    }
    const runs = parts.map((p) => p.view());
    const got = await buildFromMovieRuns(runs, WHOLE_STARS_1_TO_5);
    expect(runs).toEqual([]);
    const want = buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5);
    expect(got.duplicates).toBeGreaterThan(0);
    expect(got.duplicates).toBe(want.duplicates);
    expect(got.duplicateExamples).toEqual(want.duplicateExamples);
    expectSameMatrix(got.matrix, want.matrix);
  });

  /** Parts in shared memory (as a threaded import makes them) and the same rows as one RatingList. */
  function sharedRuns(seed: number, repeats: boolean, parts = [new MovieRunsBuilder(16, true, true), new MovieRunsBuilder(16, true, true), new MovieRunsBuilder(16, true, true)]) {
    let s = seed;
    const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
    const list = new RatingListBuilder(16, true);
    for (let run = 0; run < 400; run++) {
      // Movies out of order and split over runs in different parts.
      const movie = 3 + 2 * rnd(50);
      const part = parts[run < 150 ? 0 : run < 260 ? 1 : 2];
      // Without repeats, a user id stands for one (user, movie) pair at most: ids of different runs differ.
      for (let k = rnd(40); k >= 0; k--) {
        const user = repeats ? 7 + rnd(90) : 5 + run * 64 + k;
        const code = 2 * (1 + rnd(5));
        const day = rnd(30000);
        part.push(user, movie, code, day);
        list.push(user, movie, code, day);
      }
    }
    return { runs: parts.map((p) => p.view()), want: buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5) };
  }

  it.each([1, 2, 3, 5])('builds the same matrix from shared parts on %i threads, repeated (user, movie) pairs or not', async (threads) => {
    for (const repeats of [false, true]) {
      const { runs, want } = sharedRuns(threads * 7 + (repeats ? 1 : 0), repeats);
      const got = await buildFromMovieRuns(runs, WHOLE_STARS_1_TO_5, threads, 0);
      expect(runs).toEqual([]);
      expect(got.duplicates).toBe(want.duplicates);
      if (repeats) expect(got.duplicates).toBeGreaterThan(0);
      else expect(got.duplicates).toBe(0);
      expect(got.duplicateExamples).toEqual(want.duplicateExamples);
      expectSameMatrix(got.matrix, want.matrix);
    }
  });

  it.each([
    [1, 'every part fits its view', [4000, 3000, 4000]],
    [2, 'every part fits its view', [4000, 3000, 4000]],
    [3, 'the second part outgrows its view', [4000, 100, 4000]],
  ] as const)('on %i threads, %s of one buffer per field: the same matrix, over that buffer when nothing outgrew it', async (threads, _what, capacities) => {
    for (const repeats of [false, true]) {
      const views = sharedRunRows(capacities, true, true);
      const users = views[0].users.buffer;
      const ratings = views[0].ratings.buffer;
      const { runs, want } = sharedRuns(threads * 5 + (repeats ? 1 : 0), repeats, views.map((v) => new MovieRunsBuilder(0, true, true, v)));
      const fits = runs.every((r) => r.users.buffer === users);
      expect(fits).toBe(capacities[1] > 100);
      const got = await buildFromMovieRuns(runs, WHOLE_STARS_1_TO_5, threads, 0);
      expect(got.duplicates).toBe(want.duplicates);
      expect(got.duplicateExamples).toEqual(want.duplicateExamples);
      expectSameMatrix(got.matrix, want.matrix);
      // The rows' movies and ratings are the parse's buffers, reused, unless a part moved out of
      // them (or, on one thread, repeats were dropped: the rows are then trimmed copies).
      const reused = fits && !(repeats && threads === 1);
      expect(got.matrix.userMovies.buffer === users).toBe(reused);
      expect(got.matrix.userRatings.buffer === ratings).toBe(reused);
    }
  });

  it('uses the threads a pool started ahead, as many as it needs, and builds the same matrix', async () => {
    const pool = new BuildThreadPool(3);
    try {
      const { runs, want } = sharedRuns(41, true);
      const got = await buildFromMovieRuns(runs, WHOLE_STARS_1_TO_5, 3, 0, pool);
      expectSameMatrix(got.matrix, want.matrix);
      expect(got.duplicates).toBe(want.duplicates);
      // Two of the three were taken (and stopped by the build); one is left to stop.
      const left = pool.take(3);
      expect(left).toHaveLength(1);
      await Promise.all(left.map((t) => t.stop()));
    } finally {
      await pool.stop();
    }
  });

  it('takes ids too sparse for a table through buildRatingMatrix', async () => {
    const p = new MovieRunsBuilder(16, false);
    p.push(2_000_000_000, 7, 8, 0);
    p.push(5, 7, 2, 0);
    p.push(5, 1_900_000_000, 10, 0);
    const got = (await buildFromMovieRuns([p.view()], WHOLE_STARS_1_TO_5)).matrix;
    expect(Array.from(got.users.ids)).toEqual([5, 2_000_000_000]);
    expect(Array.from(got.movies.ids)).toEqual([7, 1_900_000_000]);
    expect(got.rating(0, 1)).toBe(5);
    expect(got.rating(1, 0)).toBe(4);
  });
});
