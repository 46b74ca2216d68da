// export --format parquet and import-model --format spark-als from the shell: exit codes, what is
// written and what is not (the fixtures are those of libs/models/test/fixtures/spark-als).
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '@recsys/data';
import { loadModel } from '@recsys/models';
import { tempDir } from '@recsys/testing';
import { run } from './testing/run-cli';

const FIXTURES = join(__dirname, '../../../libs/models/test/fixtures/spark-als');
const RATINGS = join(FIXTURES, 'ratings.csv');
const tmp = tempDir('recsys-cli-spark-');

describe('recsys import-model --format spark-als', () => {
  it('writes a spark-als artifact that predicts the fixture\'s dot products, reporting skipped ids', async () => {
    const out = join(tmp, 'spark.rmodel');
    // The fixture's factors are not fitted to its ratings (see the next test): --no-check.
    const r = await run('import-model', '--format', 'spark-als', join(FIXTURES, 'model'), '--data', RATINGS, '--out', out, '--reg-param', '0.05', '--no-check', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ kind: 'spark-als', rank: 3, usersSkipped: 1, moviesSkipped: 1, dataUsersWithoutFactors: 1, dataMoviesWithoutFactors: 1, regParam: { value: 0.05, from: 'option' }, check: null });
    const model = await loadModel(out, (await loadDataset(RATINGS)).matrix);
    expect(model.params).toEqual({ regParam: 0.05 });
    const factors = JSON.parse(readFileSync(join(FIXTURES, 'factors.json'), 'utf8'));
    const [u, i] = [factors.users[2], factors.items[3]];
    expect(model.predict(u.id, i.id).unclipped).toBeCloseTo(u.features.reduce((s: number, v: number, f: number) => s + v * i.features[f], 0), 6);
    const text = await run('import-model', '--format', 'spark-als', join(FIXTURES, 'model'), '--data', RATINGS, '--out', out, '--no-check');
    expect(text.stdout).toMatch(/users: 5 with factors, 1 ids of the model not in the data skipped, 1 of the data without factors/);
    expect(text.stdout).toMatch(/check: skipped \(--no-check\)/);
  });

  it('refuses (exit 1, nothing written) a model that fits its data worse than baseline: the fixture\'s factors were not fitted to its ratings', async () => {
    const out = join(tmp, 'unchecked.rmodel');
    const r = await run('import-model', '--format', 'spark-als', join(FIXTURES, 'model'), '--data', RATINGS, '--out', out);
    expect(r.code).toBe(1);
    // Both figures, computed here independently: the fixture's dot products (clamped to the scale)
    // and baseline's fit, on all 30 ratings.
    const m = /does not beat baseline on 30 sampled ratings of the data \(RMSE (\d\.\d{4}) against (\d\.\d{4}), both fitted on every rating\): not written/.exec(r.stderr);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(Number(m![2]));
    const factors = JSON.parse(readFileSync(join(FIXTURES, 'factors.json'), 'utf8')) as { users: Array<{ id: number; features: number[] }>; items: Array<{ id: number; features: number[] }> };
    const lines = readFileSync(RATINGS, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const mean = lines.reduce((s, [, , r]) => s + r, 0) / lines.length;
    let se = 0;
    for (const [user, movie, rating] of lines) {
      const u = factors.users.find((x) => x.id === user);
      const i = factors.items.find((x) => x.id === movie);
      const dot = u && i ? u.features.reduce((s, v, f) => s + v * i.features[f], 0) : mean;
      const clamped = Math.min(5, Math.max(1, dot));
      se += (clamped - rating) ** 2;
    }
    expect(Number(m![1])).toBeCloseTo(Math.sqrt(se / lines.length), 3);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a hostile model with exit 2, writing nothing and leaving an earlier --out as it was', async () => {
    const dir = join(tmp, 'bad');
    cpSync(join(FIXTURES, 'model'), dir, { recursive: true });
    writeFileSync(join(dir, 'metadata', 'part-00000'), '{"class":"org.apache.spark.ml.recommendation.ALSModel","rank":4}\n');
    const fresh = join(tmp, 'fresh.rmodel');
    const r = await run('import-model', '--format', 'spark-als', dir, '--data', RATINGS, '--out', fresh);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/userFactors\/part-00000-.*\.parquet: row 0 \(id 7\): features has 3 values, the metadata's rank is 4/);
    expect(existsSync(fresh)).toBe(false);
    const earlier = join(tmp, 'earlier.rmodel');
    writeFileSync(earlier, 'an earlier artifact');
    expect((await run('import-model', '--format', 'spark-als', dir, '--data', RATINGS, '--out', earlier)).code).toBe(2);
    expect(readFileSync(earlier, 'utf8')).toBe('an earlier artifact');
    rmSync(dir, { recursive: true });
    expect((await run('import-model', '--format', 'spark-als', dir, '--data', RATINGS, '--out', fresh)).code).toBe(2);
    expect((await run('import-model', '--format', 'parquet', join(FIXTURES, 'model'), '--data', RATINGS, '--out', fresh)).code).toBe(2);
    expect(existsSync(fresh)).toBe(false);
  });

  it('train refuses spark-als as a usage error naming the kinds it trains', async () => {
    const r = await run('train', '--model', 'spark-als', '--data', RATINGS, '--out', join(tmp, 'x.rmodel'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spark-als models are not trained here: recsys import-model --format spark-als DIR .*; kinds trained here: baseline, .*svd/);
  });
});

describe('recsys export --format parquet', () => {
  it('writes the ratings of a data source (its format given with --data-format) and reports the rows', async () => {
    const out = join(tmp, 'ratings.parquet');
    const r = await run('export', '--format', 'parquet', '--data', RATINGS, '--data-format', 'movielens-csv', '--out', out, '--row-group', '7', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'parquet', rows: 30, rowGroups: 5, dates: false });
    expect(readFileSync(out).subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect((await run('export', '--data', RATINGS, '--out', out)).code).toBe(2);
    expect((await run('export', '--format', 'csv', '--data', RATINGS, '--out', out)).code).toBe(2);
  });
});
