import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '@recsys/testing';
import { run } from './testing/run-cli';

const tmp = tempDir('recsys-cli-interactions-');

function put(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('implicit feedback and custom CSVs (issue 11)', () => {
  it('imports a user_id,item_id,timestamp clicks file, summing repeated clicks', async () => {
    const file = put('clicks.csv', 'user_id,item_id,timestamp\n7,100,1700000000\n7,100,1700003600\n7,101,1700007200\n8,100,1700010800\n');
    const r = await run('import', '--data', file, '--no-cache', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'interactions', ratings: 3, users: 2, movies: 2, duplicates: 1, implicit: true, capped: 0, scale: { implicit: true } });
    const text = await run('import', '--data', file, '--no-cache');
    expect(text.stdout).toContain('interactions: 3 interactions, 2 users, 2 movies');
    expect(text.stdout).toContain('summed 1 repeated (user, item) rows into earlier ones');
  });

  it('imports a headerless 1–10 CSV with --columns user,movie,rating --scale 1..10, and refuses it without', async () => {
    const file = put('ten.csv', '1,5,10\n2,5,1\n1,7,7\n');
    const r = await run('import', '--data', file, '--columns', 'user,movie,rating', '--scale', '1..10', '--no-cache', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'ratings-csv', ratings: 3, users: 2, movies: 2, implicit: false, scale: { min: 1, max: 10, step: 1 } });
    const unscaled = await run('import', '--data', file, '--columns', 'user,movie,rating', '--no-cache');
    expect(unscaled.code).toBe(2);
    expect(unscaled.stderr).toContain(`${file}:1: rating "10" is outside 0.5..5`);
    const undetected = await run('import', '--data', file, '--no-cache');
    expect(undetected.code).toBe(2);
    expect(undetected.stderr).toContain('cannot tell the format of this file');
    expect(undetected.stderr).toContain('--columns');
  });

  it('names the line and field of a bad weight, and skips it with --skip-invalid', async () => {
    const file = put('weights.tsv', 'uid\tmovie\tplays\n1\t2\t3\n1\t3\t-2\n');
    const r = await run('import', '--data', file, '--no-cache');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3: weight "-2" is not a number`);
    const s = await run('import', '--data', file, '--no-cache', '--skip-invalid', '--json');
    expect(JSON.parse(s.stdout)).toMatchObject({ ratings: 1, skipped: 1, skippedExamples: [{ line: 3 }] });
  });

  it('exits 2 naming the option and value for a bad --scale or --columns, or columns for a fixed format', async () => {
    const file = put('any.csv', '1,5,10\n');
    const scale = await run('import', '--data', file, '--columns', 'user,movie,rating', '--scale', '1..10:0.3');
    expect(scale.code).toBe(2);
    expect(scale.stderr).toContain('--scale: scale "1..10:0.3": the step 0.3 is not a positive multiple of 0.5');
    const columns = await run('import', '--data', file, '--columns', 'user,film,rating');
    expect(columns.code).toBe(2);
    expect(columns.stderr).toContain('--columns: columns "user,film,rating": "film" is not one of');
    const fixed = await run('import', '--data', file, '--format', 'movielens-100k', '--columns', 'user,movie,rating');
    expect(fixed.code).toBe(2);
    expect(fixed.stderr).toContain('columns apply to the interactions and ratings-csv formats, not to movielens-100k');
  });

  it('takes the same options in the other commands: stats, and evaluate on file pairs', async () => {
    const train = put('ten.base', '1;5;10\n1;6;8\n2;5;2\n2;6;4\n3;5;6\n3;6;6\n');
    const test = put('ten.test', '1;7;9\n2;5;3\n');
    const s = await run('stats', '--data', train, '--columns', 'user,movie,rating', '--scale', '1..10', '--no-cache', '--json');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ ratings: 6, users: 3, movies: 2, meanRating: 6 });
    const e = await run('evaluate', '--model', 'mean', '--train', train, '--test', test, '--columns', 'user,movie,rating', '--scale', '1..10', '--json');
    expect(e.code).toBe(0);
    // The mean model predicts the training mean 6 for both held-out ratings: RMSE √((9−6)² + (3−6)²)/2 = 3.
    expect(e.stdout).toMatch(/"rmse": 3(\.0+)?[,\n]/);
  });
});
