import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { RatingMatrix } from '../rating-matrix';
import * as snapshot from '../snapshot';
import { LoadOptions } from './options';
import { loadDataset } from './load';

const tmp = tempDir('recsys-import-cache-');

let seq = 0;
function prizeFolder(): string {
  const d = join(tmp, `data${seq++}`);
  mkdirSync(d);
  writeFileSync(join(d, 'combined_data_1.txt'), '1:\n10,3,2005-01-01\n11,4,2005-01-02\n2:\n10,5,2005-02-01\n');
  writeFileSync(join(d, 'movie_titles.csv'), '1,2001,One\n2,NULL,Two, with a comma\n');
  return d;
}

function rows(m: RatingMatrix): number[][] {
  const out: number[][] = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) out.push([m.users.ids[u], m.movies.ids[m.userMovies[k]], m.userRatings[k] / 2, m.userDays![k]]);
  }
  return out;
}

function options(cacheDir: string, warnings: string[]): LoadOptions {
  return { cacheDir, onWarning: (w) => warnings.push(w) };
}

describe('import cache (LoadOptions.cacheDir)', () => {
  it('writes a snapshot on the first import and reads it on the next, with the same data and report', async () => {
    const data = prizeFolder();
    const cacheDir = join(tmp, `cache${seq++}`);
    const warnings: string[] = [];
    const ratings = join(data, 'combined_data_1.txt');
    utimesSync(ratings, 1_700_000_000, 1_700_000_000);
    const first = await loadDataset(data, options(cacheDir, warnings));
    expect(first.report.cache).toEqual({ path: expect.stringContaining(cacheDir), used: false, written: true });
    expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^import-data\d+-[0-9a-f]{16}\.rsnap$/)]);

    // Garbage of the same size and mtime: the key is unchanged, so the text must not be read.
    writeFileSync(ratings, 'x'.repeat(statSync(ratings).size));
    utimesSync(ratings, 1_700_000_000, 1_700_000_000);
    const second = await loadDataset(data, options(cacheDir, warnings));
    expect(second.report.cache).toEqual({ path: first.report.cache!.path, used: true, written: false });
    expect(rows(second.matrix)).toEqual([
      [10, 1, 3, 12784],
      [10, 2, 5, 12815],
      [11, 1, 4, 12785],
    ]);
    expect(rows(second.matrix)).toEqual(rows(first.matrix));
    expect(second.catalog.get(2)?.title).toBe('Two, with a comma');
    const { seconds: _a, cache: _c, ...kept } = second.report;
    const { seconds: _b, cache: _d, ...read } = first.report;
    expect(kept).toEqual(read);
    expect(warnings).toEqual([]);
  });

  it('re-parses when a file changes size or modification time, and rewrites the same cache file', async () => {
    const data = prizeFolder();
    const cacheDir = join(tmp, `cache${seq++}`);
    const warnings: string[] = [];
    const first = await loadDataset(data, options(cacheDir, warnings));
    const ratings = join(data, 'combined_data_1.txt');

    appendFileSync(ratings, '12,1,2005-03-01\n');
    const grown = await loadDataset(data, options(cacheDir, warnings));
    expect(grown.report.cache).toMatchObject({ used: false, written: true });
    expect(grown.matrix.nRatings).toBe(4);
    expect(warnings).toEqual([expect.stringContaining('stale')]);

    const again = await loadDataset(data, options(cacheDir, warnings));
    expect(again.report.cache).toMatchObject({ used: true });
    expect(again.matrix.nRatings).toBe(4);

    // Same size, new mtime: the titles file this time.
    const titles = join(data, 'movie_titles.csv');
    const t = statSync(titles).mtime;
    utimesSync(titles, t, new Date(t.getTime() + 5000));
    const touched = await loadDataset(data, options(cacheDir, warnings));
    expect(touched.report.cache).toMatchObject({ used: false, written: true });
    expect(warnings.length).toBe(2);
    expect(readdirSync(cacheDir)).toEqual([first.report.cache!.path.slice(cacheDir.length + 1)]);
  });

  it('ignores a corrupt cache file with a warning and rewrites it', async () => {
    const data = prizeFolder();
    const cacheDir = join(tmp, `cache${seq++}`);
    const warnings: string[] = [];
    const first = await loadDataset(data, options(cacheDir, warnings));
    const path = first.report.cache!.path;
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(path, bytes);

    const second = await loadDataset(data, options(cacheDir, warnings));
    expect(second.report.cache).toMatchObject({ used: false, written: true, warning: expect.stringContaining('checksum') });
    expect(warnings).toEqual([expect.stringContaining(path)]);
    expect(rows(second.matrix)).toEqual(rows(first.matrix));

    writeFileSync(path, 'not a snapshot');
    const third = await loadDataset(data, options(cacheDir, warnings));
    expect(third.report.cache).toMatchObject({ used: false, written: true });
    expect(warnings.length).toBe(2);

    const fourth = await loadDataset(data, options(cacheDir, warnings));
    expect(fourth.report.cache).toMatchObject({ used: true });
    expect(warnings.length).toBe(2);
  });

  it('ignores a cache file holding another import (stale key) with a warning', async () => {
    const a = prizeFolder();
    const cacheDir = join(tmp, `cache${seq++}`);
    const warnings: string[] = [];
    const first = await loadDataset(a, options(cacheDir, warnings));
    // Another source's snapshot, with its own key, where this one's belongs.
    const b = prizeFolder();
    appendFileSync(join(b, 'combined_data_1.txt'), '13,2,2005-04-01\n');
    const other = await loadDataset(b, options(join(tmp, `cache${seq++}`), []));
    writeFileSync(first.report.cache!.path, readFileSync(other.report.cache!.path));
    const second = await loadDataset(a, options(cacheDir, warnings));
    expect(second.report.cache).toMatchObject({ used: false, written: true });
    expect(second.matrix.nRatings).toBe(3);
    expect(warnings).toEqual([expect.stringContaining('stale')]);
  });

  it('leaves no temporary file behind (writeSnapshot writes path.tmp-<pid>, then renames it)', async () => {
    const data = prizeFolder();
    const cacheDir = join(tmp, `cache${seq++}`);
    const first = await loadDataset(data, { cacheDir });
    expect(readdirSync(cacheDir)).toEqual([first.report.cache!.path.slice(cacheDir.length + 1)]);
    expect(snapshot.readSnapshot(first.report.cache!.path).matrix.nRatings).toBe(3);
  });

  it('is not used without cacheDir', async () => {
    const data = prizeFolder();
    const r = await loadDataset(data);
    expect(r.report.cache).toBeUndefined();
  });
});
