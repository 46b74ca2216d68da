import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { DataFormatError } from '../errors';
import { buildRatingMatrix } from '../build-matrix';
import { RatingList } from '../rating-matrix';
import { ChunkReader, lineAlignedCuts } from './byte-reader';
import { LoadContext } from './context';
import { loadDataset, loadRatingsFile } from './index';
import { readPlanRatings } from './load';
import { planNetflixKaggle } from './netflix-kaggle';

const tmp = tempDir('recsys-parallel-rows-');

let seq = 0;
function folder(): string {
  const d = join(tmp, `d${seq++}`);
  mkdirSync(d);
  return d;
}

/** Deterministic rows `user,rating,movie` (Kaggle order), movie-major like the real file. */
function rows(count: number, seed = 1): string[] {
  let s = seed;
  const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
  const out: string[] = [];
  for (let k = 0; k < count; k++) out.push(`${100000 + rnd(900000)},${1 + rnd(5)},${1 + Math.floor(k / 50)}`);
  return out;
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

/** Rows of a list of parts as plain triples, in order. */
function triples(parts: readonly RatingList[]): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const p of parts) for (let k = 0; k < p.length; k++) out.push([p.users[k], p.movies[k], p.ratings[k]]);
  return out;
}

/** Same length and bytes (a fast comparison for arrays of 650,000 entries). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Read a Kaggle file through readPlanRatings, split on two threads (minBytes 0) or not (Infinity). */
async function read(file: string, minBytes: number, skipInvalid: boolean, chunkBytes?: number) {
  const plan = planNetflixKaggle(file);
  const progress: number[] = [];
  const ctx = new LoadContext({ skipInvalid, threads: 2, onProgress: (done) => progress.push(done) }, plan.ratingFiles, chunkBytes);
  ctx.parallelMinBytes = minBytes;
  const { parts } = await readPlanRatings(ctx, plan);
  return { parts, ctx, progress };
}

describe('lineAlignedCuts', () => {
  it('cuts just after the first newline at or after the middle', async () => {
    const f = join(folder(), 'lines.txt');
    const text = 'aaaa\nbb\ncccccc\nd\neeeeeeee\n';
    writeFileSync(f, text);
    const cuts = await lineAlignedCuts(f, text.length, 2);
    // middle byte 13 - 1 = 12 is inside "cccccc\n" (bytes 8..14): the cut is byte 15, the start of "d".
    expect(cuts).toEqual([0, 15, text.length]);
    expect(text[cuts[1] - 1]).toBe('\n');
  });

  it('does not cut when no newline follows the middle', async () => {
    const f = join(folder(), 'one-line.txt');
    writeFileSync(f, 'a\nbbbbbbbbbbbbbbbbbbbbbb');
    expect(await lineAlignedCuts(f, 24, 2)).toEqual([0, 24]);
  });
});

describe('ChunkReader over a byte range', () => {
  it('hands over exactly the lines of the range, and drops a BOM only at byte 0', async () => {
    const f = join(folder(), 'range.txt');
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    writeFileSync(f, Buffer.concat([bom, Buffer.from('a,1\nbb,2\nccc,3\nd,4')]));
    const linesOf = async (from: number, to: number, chunk: number): Promise<string[]> => {
      const lines: string[] = [];
      const bytes = await new ChunkReader(chunk).forEachChunk(f, (buf, s, e) => lines.push(...buf.toString('latin1', s, e - 1).split('\n')), undefined, from, to);
      expect(bytes).toBe(to === Infinity ? 21 - from : to - from);
      return lines;
    };
    for (const chunk of [2, 5, 64]) {
      expect(await linesOf(0, 12, chunk)).toEqual(['a,1', 'bb,2']);
      expect(await linesOf(12, Infinity, chunk)).toEqual(['ccc,3', 'd,4']);
    }
  });
});

describe('reading one file on two threads', () => {
  const count = 4000;
  const header = 'User_ID,Rating,Movie_ID';

  /**
   * A Kaggle file whose rows at the given 0-based row indices relative to the cut (row -1 ends the
   * first range, row 0 starts the second) are replaced by bad rows of the same length, so that
   * the cut stays where it was. Returns the file and the 1-based line numbers of the bad rows.
   */
  async function withBadRows(offsets: number[]): Promise<{ file: string; cut: number; badLines: number[]; lines: string[] }> {
    const lines = [header, ...rows(count)];
    const file = join(folder(), 'Netflix_Dataset_Rating.csv');
    const text = (): string => lines.join('\r\n') + '\r\n';
    writeFileSync(file, text());
    const size = statSync(file).size;
    const [, cut] = await lineAlignedCuts(file, size, 2);
    // Index of the line that starts at the cut: count the bytes of the lines before it.
    let at = 0;
    let first = 0;
    while (at < cut) at += lines[first++].length + 2;
    expect(at).toBe(cut);
    const badLines: number[] = [];
    for (const o of offsets) {
      const i = first + o;
      lines[i] = `x${lines[i].slice(1)}`; // same length: a letter in the user id
      badLines.push(i + 1);
    }
    writeFileSync(file, text());
    expect(statSync(file).size).toBe(size);
    return { file, cut, badLines, lines };
  }

  it('gives the rows, skipped rows and exact line numbers of a one-thread read', async () => {
    const { file, badLines, lines } = await withBadRows([-2, -1, 0, 3]);
    const one = await read(file, Infinity, true);
    const two = await read(file, 0, true);
    expect(one.parts).toHaveLength(1);
    expect(two.parts).toHaveLength(2); // the second thread's rows are a part of their own
    expect(two.parts[0].length).toBeGreaterThan(count / 3);
    expect(two.parts[1].length).toBeGreaterThan(count / 3);
    expect(triples(two.parts)).toEqual(triples(one.parts));
    expect(triples(two.parts)).toHaveLength(count - 4);

    const expected = badLines.map((line) => ({
      file,
      line,
      reason: `user id "${lines[line - 1].split(',')[0]}" is not a non-negative integer`,
    }));
    expect(two.ctx.issues.examples).toEqual(expected);
    expect(one.ctx.issues.examples).toEqual(expected);
    expect(two.ctx.issues.skipped).toBe(4);

    const size = statSync(file).size;
    expect([two.ctx.files, two.ctx.bytes]).toEqual([[file], size]);
    expect(two.progress[two.progress.length - 1]).toBe(size);
    for (let i = 1; i < two.progress.length; i++) expect(two.progress[i]).toBeGreaterThan(two.progress[i - 1]);
  });

  it('gives the same with tiny reads on both threads', async () => {
    const { file } = await withBadRows([-1, 0]);
    expect(triples((await read(file, 0, true, 7)).parts)).toEqual(triples((await read(file, Infinity, true)).parts));
  });

  it('throws for the first bad row in file order, with its line in the file', async () => {
    const later = await withBadRows([5]);
    expect(await failure(read(later.file, 0, false))).toMatchObject({ file: later.file, line: later.badLines[0] });
    const both = await withBadRows([-1, 0]);
    const e = await failure(read(both.file, 0, false));
    expect([e.line, e.reason]).toEqual([both.badLines[0], `user id "${both.lines[both.badLines[0] - 1].split(',')[0]}" is not a non-negative integer`]);
  });

  it('says the file has no usable row when every row of both ranges is skipped', async () => {
    const file = join(folder(), 'Netflix_Dataset_Rating.csv');
    writeFileSync(file, `${header}\n` + Array.from({ length: 300 }, (_, i) => `${i},9,1\n`).join(''));
    expect(await failure(read(file, 0, true))).toMatchObject({ line: 0, reason: 'no ratings: all 300 rows were malformed and skipped' });
  });

  it('loads a 9 MB file on two threads into the matrix of a one-thread read', async () => {
    const d = folder();
    const file = join(d, 'Netflix_Dataset_Rating.csv');
    const body = rows(650_000, 7);
    body[400_000] = body[3]; // a duplicate across the threads' ranges: the later row wins
    writeFileSync(file, `${header}\n${body.join('\n')}\n`);
    expect(statSync(file).size).toBeGreaterThan(8 << 20);
    const loaded = await loadDataset(d);
    const one = await read(file, Infinity, false);
    const expected = buildRatingMatrix(one.parts, loaded.matrix.scale);
    expect(loaded.report.duplicates).toBe(expected.duplicates);
    expect(loaded.report.bytes).toBe(statSync(file).size);
    for (const key of ['userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings'] as const) {
      expect(sameBytes(loaded.matrix[key], expected.matrix[key])).toBe(true);
    }
    expect(sameBytes(loaded.matrix.users.ids, expected.matrix.users.ids)).toBe(true);
    const asFile = await loadRatingsFile(file);
    const [only] = one.parts;
    expect(asFile.list.length).toBe(only.length);
    for (const key of ['users', 'movies', 'ratings'] as const) {
      expect(sameBytes(asFile.list[key], only[key].subarray(0, only.length))).toBe(true);
    }
  }, 60_000);
});
