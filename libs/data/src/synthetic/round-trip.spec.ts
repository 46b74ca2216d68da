import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { loadDataset, readProbe, readQualifying } from '../loaders';
import { LoadedDataset } from '../dataset';
import { generateSynthetic, SyntheticData } from './generate';
import { writeNetflixKaggle, writeNetflixPrize } from './write';

/** Every generated rating must come back with the same stars (and day, when `withDays`), and nothing else. */
function expectSameRatings(data: SyntheticData, loaded: LoadedDataset, withDays: boolean): void {
  const back = loaded.matrix.toList();
  expect(back.length).toBe(data.list.length);
  const byPair = new Map<number, number>();
  for (let k = 0; k < back.length; k++) {
    byPair.set(back.users[k] * 20_000 + back.movies[k], withDays ? back.ratings[k] * 65_536 + back.days![k] : back.ratings[k]);
  }
  let mismatches = 0;
  for (let k = 0; k < data.list.length; k++) {
    const want = withDays ? data.list.ratings[k] * 65_536 + data.list.days![k] : data.list.ratings[k];
    if (byPair.get(data.list.users[k] * 20_000 + data.list.movies[k]) !== want) mismatches++;
  }
  expect(mismatches).toBe(0);
  expect(loaded.report.duplicates).toBe(0);
  expect(loaded.report.skipped).toBe(0);
  expect(loaded.report.untitledMovies).toBe(0);
}

function expectSameCatalog(data: SyntheticData, loaded: LoadedDataset): void {
  const want = data.catalog.list().map((m) => [m.id, m.year, m.title]);
  const got = loaded.catalog.list().map((m) => [m.id, m.year, m.title]);
  expect(got).toEqual(want);
}

describe('synthetic data round trip through the loaders', () => {
  // Generating and writing thousands of files: allow for a busy machine.
  jest.setTimeout(60_000);
  const data = generateSynthetic({ ratings: 5000, seed: 21 });
  const dir = tempDir('recsys-roundtrip-', { each: true });

  it('has titles with commas, quotes and latin1 letters to exercise', () => {
    const titles = data.catalog.list().map((m) => m.title);
    expect(titles.some((t) => t.includes(','))).toBe(true);
    expect(titles.some((t) => t.includes('"'))).toBe(true);
    expect(titles.some((t) => /[\u00c0-\u00ff]/.test(t))).toBe(true);
  });

  it('Netflix Kaggle layout (both column orders)', async () => {
    for (const columnOrder of ['user,rating,movie', 'user,movie,rating'] as const) {
      const sub = join(dir, columnOrder.replace(/,/g, '-'));
      await writeNetflixKaggle(sub, data, { columnOrder });
      const loaded = await loadDataset(sub);
      expect(loaded.report.format).toBe('netflix-kaggle');
      expectSameRatings(data, loaded, false);
      expectSameCatalog(data, loaded);
    }
  });

  it('Netflix Prize layout, combined files', async () => {
    const written = await writeNetflixPrize(dir, data);
    const loaded = await loadDataset(dir);
    expect(loaded.report.format).toBe('netflix-prize');
    expectSameRatings(data, loaded, true);
    expectSameCatalog(data, loaded);
    const probe = await readProbe(join(dir, 'probe.txt'));
    expect(probe.length).toBe(written.probe);
    for (let k = 0; k < probe.length; k++) {
      const u = loaded.matrix.users.indexOf(probe.users[k]);
      const m = loaded.matrix.movies.indexOf(probe.movies[k]);
      expect(Number.isNaN(loaded.matrix.rating(u, m))).toBe(false);
    }
    const qualifying = await readQualifying(join(dir, 'qualifying.txt'));
    expect(qualifying.length).toBe(written.qualifying);
    expect(qualifying.days).not.toBeNull();
    for (let k = 0; k < qualifying.length; k++) {
      const u = loaded.matrix.users.indexOf(qualifying.users[k]);
      const m = loaded.matrix.movies.indexOf(qualifying.movies[k]);
      expect(Number.isNaN(loaded.matrix.rating(u, m))).toBe(true);
    }
  });

  it('Netflix Prize layout, one file per movie', async () => {
    await writeNetflixPrize(dir, data, { layout: 'per-movie' });
    const loaded = await loadDataset(dir);
    expect(loaded.report.format).toBe('netflix-prize');
    expectSameRatings(data, loaded, true);
    expectSameCatalog(data, loaded);
  });
});
