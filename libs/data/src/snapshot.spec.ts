import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { randomRatingDraws, tempDir } from '@recsys/testing';
import {
  buildRatingMatrix,
  Dataset,
  HALF_STARS_05_TO_5,
  isSnapshotFile,
  MovieCatalog,
  RatingListBuilder,
  RatingMatrix,
  readSnapshot,
  releaseArrays,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  SnapshotError,
  WHOLE_STARS_1_TO_5,
  writeSnapshot,
} from './index';

const dir = tempDir('recsys-snapshot-');

function smallDataset(withDays: boolean): Dataset {
  const b = new RatingListBuilder(4, withDays);
  // user, movie, rating×2, day
  const rows: Array<[number, number, number, number]> = [
    [30, 7, 8, 11000],
    [10, 9, 10, 11001],
    [30, 2, 2, 11002],
    [20, 7, 6, 12000],
    [10, 2, 4, 65535],
    [2_649_429, 17_770, 7, 0],
  ];
  for (const [u, m, r, d] of rows) b.push(u, m, r, d);
  const matrix = buildRatingMatrix(b.finish(), withDays ? WHOLE_STARS_1_TO_5 : HALF_STARS_05_TO_5).matrix;
  const catalog = new MovieCatalog([
    { id: 2, title: 'Amélie — Le Fabuleux Destin, "quoted", 東京物語 🎬', year: 2001, genres: ['Comedy', 'Romance'] },
    { id: 7, title: 'Title, with commas', year: null, genres: [] },
    { id: 9, title: '', year: 1999, genres: ['Romance'] },
    { id: 12345, title: 'Listed but never rated', year: 1950, genres: ['Drama', 'Comedy'] },
  ]);
  return { matrix, catalog };
}

type IntArray = Int32Array | Uint32Array | Uint8Array | Uint16Array;

/** Same element type, length and bytes (a byte comparison keeps the 1M-rating case fast). */
function expectSameArray(name: string, a: IntArray | null, b: IntArray | null): void {
  if (a === null || b === null) {
    expect([name, b]).toEqual([name, a]);
    return;
  }
  expect([name, b.constructor.name, b.length]).toEqual([name, a.constructor.name, a.length]);
  const same = Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  expect([name, same]).toEqual([name, true]);
}

function expectSameMatrix(a: RatingMatrix, b: RatingMatrix): void {
  expect([b.nUsers, b.nMovies, b.nRatings]).toEqual([a.nUsers, a.nMovies, a.nRatings]);
  expect(b.scale).toEqual(a.scale);
  expectSameArray('user ids', a.users.ids, b.users.ids);
  expectSameArray('movie ids', a.movies.ids, b.movies.ids);
  expectSameArray('userPtr', a.userPtr, b.userPtr);
  expectSameArray('userMovies', a.userMovies, b.userMovies);
  expectSameArray('userRatings', a.userRatings, b.userRatings);
  expectSameArray('userDays', a.userDays, b.userDays);
  expectSameArray('moviePtr', a.moviePtr, b.moviePtr);
  expectSameArray('movieUsers', a.movieUsers, b.movieUsers);
  expectSameArray('movieRatings', a.movieRatings, b.movieRatings);
}

function errorOf(fn: () => unknown): SnapshotError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return e as SnapshotError;
  }
  throw new Error('expected a SnapshotError, nothing was thrown');
}

/** Recompute the stored CRC-32 after a deliberate header edit (the container layout of @recsys/core). */
function rewriteChecksum(bytes: Buffer): void {
  let crc = zlib.crc32(bytes.subarray(0, 24));
  crc = zlib.crc32(bytes.subarray(28), crc);
  bytes.writeUInt32LE(crc >>> 0, 24);
}

/** The snapshot's JSON header edited in place: `from` replaced by `to` of the same length. */
function editHeader(bytes: Buffer, from: string, to: string): void {
  expect(to.length).toBe(from.length);
  const headerEnd = 32 + bytes.readUInt32LE(12);
  const at = bytes.subarray(0, headerEnd).indexOf(from, 32, 'utf8');
  expect(at).toBeGreaterThan(0);
  bytes.write(to, at, 'utf8');
}

describe('snapshot round trip', () => {
  it.each([true, false])('restores the matrix and catalog exactly (days: %s)', (withDays) => {
    const data = smallDataset(withDays);
    const file = path.join(dir, `small-${withDays}.snap`);
    writeSnapshot(file, data);
    expect(fs.readFileSync(file).subarray(0, 8).toString('latin1')).toBe(SNAPSHOT_MAGIC);
    expect(fs.readFileSync(file).readUInt32LE(8)).toBe(SNAPSHOT_VERSION);
    expect(isSnapshotFile(file)).toBe(true);
    // No temporary file is left beside the snapshot.
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const back = readSnapshot(file);
    expectSameMatrix(data.matrix, back.matrix);
    expect(back.matrix.userDays !== null).toBe(withDays);
    // Hand-checked: users 10, 20, 30, 2649429; user 10 rated movies 2 and 9 (indices 0 and 2).
    expect(Array.from(back.matrix.users.ids)).toEqual([10, 20, 30, 2_649_429]);
    expect(Array.from(back.matrix.userMovies.subarray(0, 2))).toEqual([0, 2]);
    if (withDays) expect(Array.from(back.matrix.userDays!.subarray(0, 2))).toEqual([65535, 11001]);
    expect(back.catalog.list()).toEqual(data.catalog.list());
    expect(back.catalog.get(7).year).toBeNull();
    expect(back.catalog.get(2).title).toBe('Amélie — Le Fabuleux Destin, "quoted", 東京物語 🎬');
    expect(back.catalog.get(12345).genres).toEqual(['Drama', 'Comedy']);
    // Lookups work on the loaded matrix: user 30 rated movie 7 with 4 stars.
    expect(back.matrix.rating(back.matrix.users.indexOf(30), back.matrix.movies.indexOf(7))).toBe(4);
    expect(back.matrix.rating(back.matrix.users.indexOf(2_649_429), back.matrix.movies.indexOf(17_770))).toBe(3.5);
  });

  it('loads the big arrays as views over one buffer, 8-byte aligned', () => {
    const file = path.join(dir, 'views.snap');
    writeSnapshot(file, smallDataset(true));
    const m = readSnapshot(file).matrix;
    const arrays = [m.users.ids, m.movies.ids, m.userPtr, m.userMovies, m.userRatings, m.userDays!, m.moviePtr, m.movieUsers, m.movieRatings];
    for (const a of arrays) {
      expect(a.buffer).toBe(m.userMovies.buffer);
      expect(a.byteOffset % 8).toBe(0);
    }
    // The file is read whole into one buffer: a shared WebAssembly memory's (whole 64 KiB pages), so that
    // kernels can read the arrays in place.
    const size = fs.statSync(file).size;
    expect(m.userMovies.buffer.byteLength).toBe(Math.ceil(size / 65_536) * 65_536);
  });

  it('round-trips an empty matrix and an empty catalog', () => {
    const file = path.join(dir, 'empty.snap');
    writeSnapshot(file, { matrix: RatingMatrix.empty(), catalog: new MovieCatalog() });
    const back = readSnapshot(file);
    expect(back.matrix.nRatings).toBe(0);
    expect(back.matrix.nUsers).toBe(0);
    expect(back.catalog.size).toBe(0);
  });

  it('replaces an existing snapshot', () => {
    const file = path.join(dir, 'replace.snap');
    writeSnapshot(file, { matrix: RatingMatrix.empty(), catalog: new MovieCatalog() });
    writeSnapshot(file, smallDataset(false));
    expect(readSnapshot(file).matrix.nRatings).toBe(6);
  });

  it('round-trips ~1M random ratings and reports the load speed', () => {
    const ratings = randomRatingDraws({ seed: 7, count: 1_000_000, users: 50_000, movies: 5_000, days: { first: 10_000, span: 3_000 } });
    const matrix = buildRatingMatrix(ratings, WHOLE_STARS_1_TO_5).matrix;
    const catalog = new MovieCatalog(Array.from({ length: 5_000 }, (_, i) => ({ id: i + 1, title: `Movie number ${i + 1}`, year: 1900 + (i % 120), genres: [] })));
    const file = path.join(dir, 'big.snap');
    const t0 = process.hrtime.bigint();
    writeSnapshot(file, { matrix, catalog });
    const t1 = process.hrtime.bigint();
    readSnapshot(file); // warm the page cache
    const runs = 5;
    const t2 = process.hrtime.bigint();
    let back: Dataset | null = null;
    for (let i = 0; i < runs; i++) back = readSnapshot(file);
    const t3 = process.hrtime.bigint();
    const bytes = fs.statSync(file).size;
    const loadSeconds = Number(t3 - t2) / 1e9 / runs;
    console.log(
      `snapshot: ${matrix.nRatings} ratings, ${(bytes / 1e6).toFixed(1)} MB, write ${(Number(t1 - t0) / 1e6).toFixed(1)} ms, ` +
        `load ${(loadSeconds * 1e3).toFixed(2)} ms = ${(bytes / loadSeconds / 1e9).toFixed(2)} GB/s`,
    );
    expectSameMatrix(matrix, back!.matrix);
    expect(back!.catalog.list()).toEqual(catalog.list());
  });
});

describe('snapshot read with separateArrays, and releaseArrays', () => {
  const written = smallDataset(true);
  const file = path.join(dir, 'separate.rsnap');
  writeSnapshot(file, written);

  it('reads the same matrix and catalog, each array in a plain ArrayBuffer of its own', () => {
    const { matrix, catalog } = readSnapshot(file, { separateArrays: true });
    expectSameMatrix(written.matrix, matrix);
    expect(catalog.list()).toEqual(written.catalog.list());
    const arrays = [matrix.userPtr, matrix.userMovies, matrix.userRatings, matrix.userDays!, matrix.moviePtr, matrix.movieUsers, matrix.movieRatings];
    expect(new Set(arrays.map((a) => a.buffer)).size).toBe(arrays.length);
    for (const a of arrays) expect(a.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('releases the by-movie arrays, then the dates, and leaves the ids, pointers and by-user ratings', () => {
    const { matrix } = readSnapshot(file, { separateArrays: true });
    const n = matrix.nRatings;
    const kept = [matrix.userPtr, matrix.userMovies, matrix.userRatings, matrix.moviePtr].map((a) => Array.from(a));
    expect(releaseArrays(matrix, { byMovie: true })).toBe(5 * n);
    expect([matrix.movieUsers.length, matrix.movieRatings.length, matrix.userDays!.length]).toEqual([0, 0, n]);
    expect(releaseArrays(matrix, { days: true })).toBe(2 * n);
    expect(matrix.userDays!.length).toBe(0);
    expect([matrix.userPtr, matrix.userMovies, matrix.userRatings, matrix.moviePtr].map((a) => Array.from(a))).toEqual(kept);
    expect([...matrix.users.ids]).toEqual([...written.matrix.users.ids]);
    // Released already: nothing more to release.
    expect(releaseArrays(matrix, { byMovie: true, days: true })).toBe(0);
  });

  it('leaves a matrix in one shared buffer (the default read) as it is', () => {
    const { matrix } = readSnapshot(file);
    expect(releaseArrays(matrix, { byMovie: true, days: true })).toBe(0);
    expectSameMatrix(written.matrix, matrix);
  });
});

describe('snapshot refusals', () => {
  let good: Buffer;
  beforeAll(() => {
    const file = path.join(dir, 'good.snap');
    writeSnapshot(file, smallDataset(true));
    good = fs.readFileSync(file);
  });

  function writeBytes(name: string, bytes: Uint8Array): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  it('refuses an empty file', () => {
    const file = writeBytes('empty-file.snap', new Uint8Array(0));
    expect(isSnapshotFile(file)).toBe(false);
    const e = errorOf(() => readSnapshot(file));
    expect(e.file).toBe(file);
    expect(e.reason).toMatch(/not a recsys snapshot \(empty file\)/);
  });

  it('refuses a file with the wrong magic', () => {
    const file = writeBytes('csv.snap', Buffer.from('User_ID,Rating,Movie_ID\n1,3,1\n'));
    expect(isSnapshotFile(file)).toBe(false);
    expect(errorOf(() => readSnapshot(file)).reason).toMatch(/^not a recsys snapshot/);
    const bad = Buffer.from(good);
    bad[0] = 'X'.charCodeAt(0);
    expect(errorOf(() => readSnapshot(writeBytes('magic.snap', bad))).reason).toMatch(/^not a recsys snapshot/);
  });

  it('isSnapshotFile is false for a missing file', () => {
    expect(isSnapshotFile(path.join(dir, 'does-not-exist'))).toBe(false);
  });

  it('refuses a newer format version', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(SNAPSHOT_VERSION + 1, 8);
    rewriteChecksum(bad);
    const e = errorOf(() => readSnapshot(writeBytes('v2.snap', bad)));
    expect(e.reason).toBe(`written by a newer recsys: format version ${SNAPSHOT_VERSION + 1}, this build reads up to ${SNAPSHOT_VERSION}`);
  });

  it('refuses a snapshot of the older format version 1, saying so', () => {
    // Version 1 files start with the same magic and version field.
    const v1 = Buffer.alloc(128);
    v1.write(SNAPSHOT_MAGIC, 0, 'latin1');
    v1.writeUInt32LE(1, 8);
    const e = errorOf(() => readSnapshot(writeBytes('v1.snap', v1)));
    expect(e.reason).toBe(`written by an older format version 1, this build reads version ${SNAPSHOT_VERSION}: import the source data again`);
  });

  it('refuses a truncated file, saying expected and actual bytes', () => {
    const cut = good.subarray(0, good.length - 100);
    const e = errorOf(() => readSnapshot(writeBytes('cut.snap', cut)));
    expect(e.reason).toBe(`truncated: expected ${good.length} bytes, found ${good.length - 100}`);
    const headerOnly = good.subarray(0, 40);
    expect(errorOf(() => readSnapshot(writeBytes('cut-header.snap', headerOnly))).reason).toBe(
      `truncated: expected at least ${32 + good.readUInt32LE(12)} bytes (the header), found 40`,
    );
  });

  it('refuses a flipped byte in the body as a checksum mismatch', () => {
    // Flip a byte inside the rating arrays (the middle of the file) and one in the catalog (near the end).
    for (const at of [Math.floor(good.length / 2), good.length - 20]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      expect(errorOf(() => readSnapshot(writeBytes('flip.snap', bad))).reason).toMatch(/^corrupted: checksum mismatch/);
    }
  });

  it('refuses a changed header count even with a valid checksum', () => {
    const bad = Buffer.from(good);
    editHeader(bad, '"users":4', '"users":5'); // one user more than the sections hold
    rewriteChecksum(bad);
    const e = errorOf(() => readSnapshot(writeBytes('counts.snap', bad)));
    expect(e.reason).toMatch(/^inconsistent counts: user ids holds 16 bytes, the header's counts need 20$/);
    // Without rewriting the checksum the same edit is caught as corruption.
    const bad2 = Buffer.from(good);
    editHeader(bad2, '"users":4', '"users":5');
    expect(errorOf(() => readSnapshot(writeBytes('counts2.snap', bad2))).reason).toMatch(/checksum mismatch/);
  });

  it('the error message names the file', () => {
    const file = writeBytes('named.snap', new Uint8Array(0));
    expect(() => readSnapshot(file)).toThrow(`${file}: not a recsys snapshot (empty file)`);
  });
});
