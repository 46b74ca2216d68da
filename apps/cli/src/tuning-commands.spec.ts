import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { buildRatingMatrix, MovieCatalog, RatingListBuilder, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { createModel, MeanModel, saveModel } from '@recsys/models';
import { tempDir } from '@recsys/testing';
import { registerTuningCommands } from './tuning-commands';

/** Runs the commands in-process; returns what they wrote to stdout and through console.log. */
async function run(args: string[]): Promise<{ stdout: string; log: string }> {
  const program = new Command('recsys').exitOverride();
  program.configureOutput({ writeErr: () => undefined });
  registerTuningCommands(program);
  const out: string[] = [];
  const log: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const consoleLog = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    log.push(parts.join(' '));
  });
  try {
    await program.parseAsync(['node', 'recsys', ...args]);
  } finally {
    write.mockRestore();
    consoleLog.mockRestore();
  }
  return { stdout: out.join(''), log: log.join('\n') };
}

// Train: counts m1 3, m2 3, m3 1, m4 1; movie means m1 4, m2 3, m3 4, m4 5; μ = 30/8.
const TRAIN: Array<[number, number, number]> = [
  [1, 1, 5],
  [1, 2, 4],
  [2, 1, 3],
  [2, 3, 4],
  [3, 1, 4],
  [3, 2, 2],
  [3, 4, 5],
  [4, 2, 3],
];
const TEST: Array<[number, number, number]> = [
  [1, 3, 5],
  [1, 4, 2],
  [2, 2, 4],
  [2, 4, 4],
  [4, 4, 5],
  [4, 1, 3],
  [3, 3, 1],
];

function ml100k(rows: Array<[number, number, number]>): string {
  return rows.map(([u, m, r], i) => `${u}\t${m}\t${r}\t${881250949 + i}\n`).join('');
}

const dir = tempDir('tuning-cli-');
const base = path.join(dir, 'u1.base');
const test = path.join(dir, 'u1.test');
beforeAll(() => {
  fs.writeFileSync(base, ml100k(TRAIN));
  fs.writeFileSync(test, ml100k(TEST));
});

describe('recsys tune', () => {
  it('prints every grid point once, best first, each scored as a direct fit scores it', async () => {
    const { stdout } = await run(['tune', '--model', 'baseline', '--grid', '{"regUser":[0.5,15],"regMovie":[0.1,10]}', '--train', base, '--test', test, '--json']);
    const doc = JSON.parse(stdout);
    expect(doc.search).toBe('grid');
    expect(doc.trials).toHaveLength(4);
    const seen = doc.trials.map((t: { params: Record<string, number> }) => `${t.params.regUser}/${t.params.regMovie}`).sort();
    expect(seen).toEqual(['0.5/0.1', '0.5/10', '15/0.1', '15/10']);
    // Independent scoring: the same model fitted on the rows in memory, RMSE by hand.
    const trainList = new RatingListBuilder(TRAIN.length);
    for (const [u, m, r] of TRAIN) trainList.push(u, m, r * 2);
    const matrix = buildRatingMatrix(trainList.finish(), WHOLE_STARS_1_TO_5).matrix;
    for (const t of doc.trials) {
      const model = await createModel('baseline', t.params).fit(matrix);
      const se = TEST.reduce((s, [u, m, r]) => s + (model.predict(u, m).rating - r) ** 2, 0);
      expect(t.meanRmse).toBeCloseTo(Math.sqrt(se / TEST.length), 12);
    }
    for (let i = 1; i < doc.trials.length; i++) expect(doc.trials[i].meanRmse).toBeGreaterThanOrEqual(doc.trials[i - 1].meanRmse);
    expect(doc.best).toEqual(doc.trials[0]);
  });

  it('prints a table of trials, best first', async () => {
    const { log } = await run(['tune', '--model', 'baseline', '--grid', '{"regUser":[0.5,15]}', '--train', base, '--test', test]);
    expect(log).toMatch(/^grid search for baseline on 1 train\/test file pair\(s\): u1/);
    expect(log).toMatch(/rank\s+parameters\s+mean RMSE\s+mean MAE/);
    expect(log).toMatch(/\n\s+1 {2}regUser=/);
    expect(log).toMatch(/\n\s+2 {2}regUser=/);
    expect(log).toMatch(/best: baseline regUser=/);
  });

  it('random search draws --random settings reproducibly for a --seed', async () => {
    const args = ['tune', '--model', 'baseline', '--random', '3', '--seed', '5', '--grid', '{"regUser":{"min":1,"max":20},"regMovie":[1,5,10]}', '--train', base, '--test', test, '--json'];
    const a = JSON.parse((await run(args)).stdout);
    const b = JSON.parse((await run(args)).stdout);
    expect(a.trials).toHaveLength(3);
    expect(a.trials.map((t: { params: unknown }) => t.params)).toEqual(b.trials.map((t: { params: unknown }) => t.params));
    for (const t of a.trials) {
      expect(t.params.regUser).toBeGreaterThanOrEqual(1);
      expect(t.params.regUser).toBeLessThanOrEqual(20);
      expect([1, 5, 10]).toContain(t.params.regMovie);
    }
  });

  it('refuses a range without --random, bad JSON, and a missing fold source', async () => {
    await expect(run(['tune', '--model', 'baseline', '--grid', '{"regUser":{"min":1,"max":2}}', '--train', base, '--test', test])).rejects.toThrow(
      '--grid: parameter "regUser" needs a list of values (ranges like {"min":…,"max":…} need --random N)',
    );
    await expect(run(['tune', '--model', 'baseline', '--grid', '{regUser:[1]}', '--train', base, '--test', test])).rejects.toThrow('--grid is not valid JSON');
    await expect(run(['tune', '--model', 'baseline', '--grid', '{"regUser":[1]}'])).rejects.toThrow('tune needs exactly one of --folds K, --holdout FRACTION, --train FILE --test FILE');
  });
});

describe('recsys rank-evaluate', () => {
  it('reports hand-computed ranking metrics and RMSE/MAE for popular', async () => {
    const { stdout } = await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--top-k', '2', '--json']);
    const doc = JSON.parse(stdout);
    expect(doc.split).toEqual({ name: 'u1', trainRatings: 8, testRatings: 7 });
    const [r] = doc.results;
    expect(r.model).toBe('popular');
    // Lists (by count, unrated): user 1 [3, 4], user 2 [2, 4], user 3 [3], user 4 [1, 3].
    // Relevant (≥ 4): user 1 {3}, user 2 {2, 4}, user 4 {4}; user 3 none (skipped).
    expect(r.ranking.usersEvaluated).toBe(3);
    expect(r.ranking.usersSkipped).toBe(1);
    expect(r.ranking.precision).toBeCloseTo((1 / 2 + 1 + 0) / 3, 12);
    expect(r.ranking.recall).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.ndcg).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.map).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.hitRate).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.coverage).toBe(1);
    // Movie-mean predictions 4, 5, 3, 5, 5, 4, 4 against 5, 2, 4, 4, 5, 3, 1.
    expect(r.rmse).toBeCloseTo(Math.sqrt(22 / 7), 12);
    expect(r.mae).toBeCloseTo(10 / 7, 12);
  });

  it('gives each model only the flags it knows, and refuses a flag no model knows', async () => {
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'svd,popular', '--factors', '3', '--epochs', '2', '--train', base, '--test', test, '--json'])).stdout);
    expect(doc.results.map((r: { model: string }) => r.model)).toEqual(['svd', 'popular']);
    expect(doc.results[0].params.factors).toBe(3);
    expect(doc.results[1].params).toEqual({});
    await expect(run(['rank-evaluate', '--model', 'popular,mean', '--factors', '3', '--train', base, '--test', test])).rejects.toThrow(
      'no model among popular, mean has the parameter(s) factors',
    );
  });

  it('prints a table with the metrics at the cutoff', async () => {
    const { log } = await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--top-k', '2']);
    expect(log).toContain('3 of 4 test users have a relevant rating');
    expect(log).toMatch(/model\s+RMSE\s+MAE\s+P@2\s+R@2\s+NDCG@2\s+MAP@2\s+HR@2\s+coverage/);
    expect(log).toMatch(/popular\s+1\.7728\s+1\.4286\s+0\.5000\s+0\.6667/);
  });

  it('needs one split', async () => {
    await expect(run(['rank-evaluate', '--model', 'popular', '--train', base])).rejects.toThrow('give --train and --test together');
    await expect(run(['rank-evaluate', '--model', 'popular'])).rejects.toThrow('rank-evaluate needs exactly one of');
  });
});

describe('recsys predict-qualifying', () => {
  const QUALIFYING = '2:\n1,2005-01-01\n3,2005-01-02\n1:\n4,2005-01-03\n';

  it('fits the model on --data and writes the submission layout', async () => {
    const qualifying = path.join(dir, 'qualifying-a.txt');
    fs.writeFileSync(qualifying, QUALIFYING);
    const out = path.join(dir, 'a.out');
    const doc = JSON.parse((await run(['predict-qualifying', '--data', base, '--qualifying', qualifying, '--model', 'mean', '--out', out, '--json'])).stdout);
    expect(fs.readFileSync(out, 'latin1')).toBe('2:\n3.75\n3.75\n1:\n3.75\n');
    expect(doc).toMatchObject({ model: 'mean', trainRatings: 8, pairs: 3, movieBlocks: 2 });
  });

  it('reads <data folder>/qualifying.txt by default', async () => {
    const folder = path.join(dir, 'prize');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'u.data'), ml100k(TRAIN));
    fs.writeFileSync(path.join(folder, 'qualifying.txt'), QUALIFYING);
    const out = path.join(dir, 'b.out');
    const { log } = await run(['predict-qualifying', '--data', folder, '--model', 'popular', '--out', out]);
    // popular predicts the movie's mean: movie 2 → 3, movie 1 → 4.
    expect(fs.readFileSync(out, 'latin1')).toBe('2:\n3\n3\n1:\n4\n');
    expect(log).toMatch(/^popular predicted 3 qualifying pairs in 2 movie blocks/);
  });

  it('uses a saved model with --model-file over the data it was trained on (and refuses other data)', async () => {
    const list = new RatingListBuilder(2);
    list.push(1, 1, 9); // 4.5 stars
    list.push(2, 2, 4); // 2
    const artifact = path.join(dir, 'mean.model');
    const matrix = buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
    saveModel(artifact, await new MeanModel().fit(matrix));
    const data = path.join(dir, 'two-ratings.rsnap');
    writeSnapshot(data, { matrix, catalog: new MovieCatalog() });
    const qualifying = path.join(dir, 'qualifying-c.txt');
    fs.writeFileSync(qualifying, QUALIFYING);
    const out = path.join(dir, 'c.out');
    await run(['predict-qualifying', '--data', data, '--model-file', artifact, '--qualifying', qualifying, '--out', out]);
    expect(fs.readFileSync(out, 'latin1')).toBe('2:\n3.25\n3.25\n1:\n3.25\n');
    await expect(run(['predict-qualifying', '--model-file', artifact, '--qualifying', qualifying, '--out', out])).rejects.toThrow(/the model was trained on other data/);
  });

  it('says where the qualifying file should be when it is missing', async () => {
    await expect(run(['predict-qualifying', '--model', 'mean', '--out', path.join(dir, 'd.out')])).rejects.toThrow(
      'predict-qualifying needs --qualifying FILE or --data PRIZE_FOLDER',
    );
    await expect(run(['predict-qualifying', '--data', dir, '--model', 'mean', '--out', path.join(dir, 'd.out')])).rejects.toThrow(
      `no qualifying file at ${path.join(dir, 'qualifying.txt')}`,
    );
  });
});
