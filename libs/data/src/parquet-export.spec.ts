// The Parquet export read back by an independent reader: DuckDB (@duckdb/node-api, a
// devDependency), the way a Spark job's `spark.read.parquet` would see the columns.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from '@recsys/testing';
import { buildRatingMatrix } from './build-matrix';
import { WHOLE_STARS_1_TO_5 } from './rating-scale';
import { RatingMatrix } from './rating-matrix';
import { generateSynthetic } from './synthetic';
import { writeRatingsParquet } from './parquet-export';

const tmp = tempDir('recsys-parquet-export-');
let duck: DuckDBInstance;
let db: DuckDBConnection;

beforeAll(async () => {
  duck = await DuckDBInstance.create(':memory:');
  db = await duck.connect();
});
afterAll(() => {
  db.closeSync();
  duck.closeSync();
});

async function rows(sql: string): Promise<unknown[][]> {
  return (await db.runAndReadAll(sql)).getRows() as unknown[][];
}

/** The matrix's ratings as "user,movie,rating,day" lines sorted, by a plain loop over its by-user arrays. */
function expectedLines(m: RatingMatrix): string[] {
  const out: string[] = [];
  for (let u = 0; u < m.nUsers; u++) {
    for (let p = m.userPtr[u]; p < m.userPtr[u + 1]; p++) {
      out.push(`${m.users.ids[u]},${m.movies.ids[m.userMovies[p]]},${m.userRatings[p] / 2},${m.userDays ? m.userDays[p] : 'null'}`);
    }
  }
  return out.sort();
}

describe('writeRatingsParquet', () => {
  const data = generateSynthetic({ ratings: 20_000, users: 400, movies: 150, seed: 5 });
  const matrix = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;

  it('writes user int, movie int, rating double, date date in row groups, every rating as it is', async () => {
    expect(matrix.userDays).not.toBeNull();
    const file = join(tmp, 'ratings.parquet');
    const report = await writeRatingsParquet(file, matrix, { rowGroupSize: 3_000 });
    expect(report).toMatchObject({ rows: matrix.nRatings, rowGroups: Math.ceil(matrix.nRatings / 3_000), dates: true });
    const types = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(types.map((r) => `${r[0]}:${r[1]}`)).toEqual(['user:INTEGER', 'movie:INTEGER', 'rating:DOUBLE', 'date:DATE']);
    const groups = await rows(`SELECT count(DISTINCT row_group_id)::INTEGER FROM parquet_metadata('${file}')`);
    expect(groups[0][0]).toBe(report.rowGroups);
    const read = await rows(`SELECT user, movie, rating, (date - DATE '1970-01-01')::INTEGER FROM read_parquet('${file}')`);
    expect(read.map((r) => r.join(',')).sort()).toEqual(expectedLines(matrix));
  });

  it('writes a null date for data without dates', async () => {
    const noDates = buildRatingMatrix({ ...data.list, days: null }, WHOLE_STARS_1_TO_5).matrix;
    const file = join(tmp, 'no-dates.parquet');
    expect((await writeRatingsParquet(file, noDates)).dates).toBe(false);
    const [[n, dated, sum]] = await rows(`SELECT count(*)::INTEGER, count(date)::INTEGER, sum(rating) FROM read_parquet('${file}')`);
    expect([n, dated]).toEqual([noDates.nRatings, 0]);
    let expected = 0;
    for (let k = 0; k < noDates.nRatings; k++) expected += noDates.userRatings[k] / 2;
    expect(sum).toBeCloseTo(expected, 6);
  });

  it('leaves nothing behind and the target untouched when the file cannot be put in place', async () => {
    const dir = join(tmp, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep'), 'x');
    await expect(writeRatingsParquet(dir, matrix)).rejects.toThrow();
    expect(readdirSync(tmp).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('x');
    await expect(writeRatingsParquet(join(tmp, 'no-such-dir', 'r.parquet'), matrix)).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(tmp, 'no-such-dir'))).toBe(false);
    await expect(writeRatingsParquet(join(tmp, 'x.parquet'), matrix, { rowGroupSize: 0 })).rejects.toThrow(/rowGroupSize must be an integer ≥ 1, got 0/);
  });
});
