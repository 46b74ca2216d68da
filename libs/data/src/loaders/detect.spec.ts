import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { DataFormatError } from '../errors';
import { writeSnapshot } from '../snapshot';
import { DATA_FORMATS, detectFormat, loadDataset } from './index';

const tmp = tempDir('recsys-detect-');

function put(path: string, content: string | Buffer = ''): string {
  const full = join(tmp, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  return full;
}

const HINT = 'use --format one of netflix-kaggle, netflix-prize, movielens-100k, movielens-dat, movielens-csv, ratings-csv, interactions, snapshot (a delimited file without a header: --columns, e.g. user,movie,rating)';

describe('detectFormat', () => {
  it('lists every format', () => {
    expect(DATA_FORMATS).toEqual(['netflix-kaggle', 'netflix-prize', 'movielens-100k', 'movielens-dat', 'movielens-csv', 'ratings-csv', 'interactions', 'snapshot']);
  });

  it('tells a folder by the files inside it', () => {
    put('kaggle/Netflix_Dataset_Rating.csv', 'User_ID,Rating,Movie_ID\n');
    put('prize/combined_data_1.txt', '1:\n');
    put('prize-set/training_set/mv_0000001.txt', '1:\n');
    put('ml100k/u.data', '1\t2\t3\t4\n');
    put('ml1m/ratings.dat', '1::2::3::4\n');
    put('ml25m/ratings.csv', 'userId,movieId,rating,timestamp\n');
    expect(detectFormat(join(tmp, 'kaggle'))).toBe('netflix-kaggle');
    expect(detectFormat(join(tmp, 'prize'))).toBe('netflix-prize');
    expect(detectFormat(join(tmp, 'prize-set'))).toBe('netflix-prize');
    expect(detectFormat(join(tmp, 'prize-set', 'training_set'))).toBe('netflix-prize');
    expect(detectFormat(join(tmp, 'ml100k'))).toBe('movielens-100k');
    expect(detectFormat(join(tmp, 'ml1m'))).toBe('movielens-dat');
    expect(detectFormat(join(tmp, 'ml25m'))).toBe('movielens-csv');
  });

  it('tells a file by its name', () => {
    for (const [name, format] of [
      ['u.data', 'movielens-100k'],
      ['u1.base', 'movielens-100k'],
      ['u5.test', 'movielens-100k'],
      ['ua.base', 'movielens-100k'],
      ['combined_data_3.txt', 'netflix-prize'],
      ['mv_0017770.txt', 'netflix-prize'],
      ['ratings.dat', 'movielens-dat'],
      ['ratings.csv', 'movielens-csv'],
      ['Netflix_Dataset_Rating.csv', 'netflix-kaggle'],
    ]) {
      expect([name, detectFormat(put(`names/${name}`, 'anything\n'))]).toEqual([name, format]);
    }
  });

  it('tells other files by their first line, and a snapshot by its magic', () => {
    expect(detectFormat(put('c/mine.csv', '\ufeffUser_ID,Movie_ID,Rating\n1,2,3\n'))).toBe('netflix-kaggle');
    expect(detectFormat(put('c/theirs.csv', 'userId,movieId,rating\n1,2,3\n'))).toBe('movielens-csv');
    expect(detectFormat(put('c/train.txt', '17:\n1,2,2005-01-01\n'))).toBe('netflix-prize');
    expect(detectFormat(put('c/train.tsv', '1\t2\t3\t881250949\n'))).toBe('movielens-100k');
    expect(detectFormat(put('c/train.txt2', '1::2::3::4\n'))).toBe('movielens-dat');
    expect(detectFormat(put('c/data.rsnap', Buffer.from('RECSYSNP\x01\x00\x00\x00', 'latin1')))).toBe('snapshot');
  });

  it('refuses what it cannot tell, naming the formats to choose from', () => {
    const check = (path: string, what: string): void => {
      let error: unknown;
      try {
        detectFormat(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).line).toBe(0);
      expect((error as DataFormatError).reason).toBe(`cannot tell the format of ${what}; ${HINT}`);
    };
    mkdirSync(join(tmp, 'empty-folder'));
    check(join(tmp, 'empty-folder'), 'a folder without Netflix_Dataset_Rating.csv, combined_data_*.txt, training_set/, u.data, ratings.dat or ratings.csv');
    check(put('x/notes.txt', 'hello world\n'), 'this file (by its name or first line)');
    check(put('x/empty.txt', ''), 'an empty file');
    expect(() => detectFormat(join(tmp, 'no-such-thing'))).toThrow('no such file or folder');
  });
});

describe('snapshots', () => {
  it('loads a snapshot written from a loaded data set, with a report', async () => {
    const d = join(tmp, 'snap-src');
    put('snap-src/Netflix_Dataset_Rating.csv', 'User_ID,Rating,Movie_ID\n10,5,1\n20,3,1\n10,4,2\n');
    put('snap-src/Netflix_Dataset_Movie.csv', 'Movie_ID,Year,Name\n1,2001,One\n');
    const loaded = await loadDataset(d);
    const snap = join(tmp, 'snap.bin');
    writeSnapshot(snap, loaded);
    const back = await loadDataset(snap);
    expect(back.report).toMatchObject({ format: 'snapshot', files: [snap], ratings: 3, users: 2, movies: 2, untitledMovies: 1 });
    expect([...back.matrix.userRatings]).toEqual([...loaded.matrix.userRatings]);
    expect(back.catalog.get(1).title).toBe('One');
  });
});
