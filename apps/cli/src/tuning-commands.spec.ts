import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { buildRatingMatrix, MovieCatalog, RatingListBuilder, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { BasePredictor, createModel, MeanModel, registerModelKind, saveModel } from '@recsys/models';
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
// A second test file for u1.base: user 1 rates movie 4 five stars (popular lists [3, 4] for user 1: a hit at rank 2).
const test2 = path.join(dir, 'u2.test');
beforeAll(() => {
  fs.writeFileSync(base, ml100k(TRAIN));
  fs.writeFileSync(test, ml100k(TEST));
  fs.writeFileSync(test2, ml100k([[1, 4, 5]]));
});

/**
 * Predicts `value` + `tilt` · movieId: with a tiny tilt its RMSE is the constant's, while the
 * tilt's sign orders its lists by movie id, so RMSE and a ranking objective disagree by design.
 */
class TiltedModel extends BasePredictor {
  readonly kind = 'cli-tilted';
  constructor(readonly params: { value: number; tilt: number }) {
    super();
  }
  protected fitModel(): void {}
  protected estimate(_u: number, m: number): number {
    return this.params.value + this.params.tilt * this.train.movies.ids[m];
  }
}
registerModelKind('cli-tilted', {
  create: (params) => new TiltedModel({ value: Number(params.value ?? 3), tilt: Number(params.tilt ?? 0) }),
  fromArtifact: () => {
    throw new Error('not saved');
  },
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
    expect(log).toMatch(/^grid search for baseline by mean RMSE on 1 train\/test file pair\(s\): u1/);
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
    await expect(run(['tune', '--model', 'baseline', '--grid', '{"regUser":[1]}'])).rejects.toThrow(
      'tune needs exactly one of --folds K, --holdout FRACTION, --per-user-holdout FRACTION, --leave-last N, --train FILE --test FILE',
    );
  });
});

describe('recsys rank-evaluate', () => {
  it('reports hand-computed ranking metrics for popular, and no RMSE/MAE (a RankingModel: its scores are not ratings)', async () => {
    const { stdout } = await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--top-k', '2', '--json']);
    const doc = JSON.parse(stdout);
    expect(doc.folds).toEqual([{ name: 'u1', trainRatings: 8, testRatings: 7 }]);
    const [result] = doc.results;
    expect(result.model).toBe('popular');
    const r = result.folds[0];
    // Lists (by count, unrated): user 1 [3, 4], user 2 [2, 4], user 3 [3], user 4 [1, 3].
    // Relevant (≥ 4): user 1 {3}, user 2 {2, 4}, user 4 {4}; user 3 none (skipped).
    expect(r.ranking.usersEvaluated).toBe(3);
    expect(r.ranking.usersSkipped).toBe(1);
    expect(r.ranking.precision).toBeCloseTo((1 / 2 + 1 + 0) / 3, 12);
    expect(r.ranking.recall).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.ndcg).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.map).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.hitRate).toBeCloseTo(2 / 3, 12);
    // First hits: user 1 at rank 1, user 2 at rank 1, user 4 none.
    expect(r.ranking.mrr).toBeCloseTo(2 / 3, 12);
    expect(r.ranking.coverage).toBe(1);
    // One fold: the mean is the fold, the sd is undefined (null in JSON).
    expect(result.mean.precision).toBe(r.ranking.precision);
    expect(result.sd.precision).toBeNull();
    expect(r.rmse ?? null).toBeNull();
    expect(r.mae ?? null).toBeNull();
  });

  it('gives each model only the flags it knows, and refuses a flag no model knows', async () => {
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'svd,popular', '--factors', '3', '--epochs', '2', '--train', base, '--test', test, '--json'])).stdout);
    expect(doc.results.map((r: { model: string }) => r.model)).toEqual(['svd', 'popular']);
    expect(doc.results[0].params.factors).toBe(3);
    expect(doc.results[0].ranks).toBe(false);
    expect(doc.results[1].params).toEqual({});
    await expect(run(['rank-evaluate', '--model', 'popular,mean', '--factors', '3', '--train', base, '--test', test])).rejects.toThrow(
      'no model among popular, mean has the parameter(s) factors',
    );
  });

  it('prints a table with the metrics at the cutoff', async () => {
    const { log } = await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--top-k', '2']);
    expect(log).toContain('3 of 4 test users have a relevant rating');
    expect(log).toMatch(/model\s+RMSE\s+MAE\s+P@2\s+R@2\s+NDCG@2\s+MAP@2\s+MRR@2\s+HR@2\s+coverage/);
    expect(log).toMatch(/popular\s+-\s+-\s+0\.5000\s+0\.6667/);
  });

  it('needs one split', async () => {
    await expect(run(['rank-evaluate', '--model', 'popular', '--train', base])).rejects.toThrow('rank-evaluate: 1 --train files but 0 --test files; give them in pairs');
    await expect(run(['rank-evaluate', '--model', 'popular'])).rejects.toThrow('rank-evaluate needs exactly one of');
  });
});

describe('recsys tune --objective', () => {
  // Train: users 1..3 rated movie 1, user 4 movies 2..5 (all 3 stars). Test: users 1..3 rate movie 5
  // five stars and movie 2 one star. A constant 3 has RMSE 2, 4.5 has RMSE 2.5; a positive tilt
  // lists [5, 4] (NDCG@2 1), a negative one [2, 3] (NDCG@2 0).
  const tiltBase = path.join(dir, 'tilt.base');
  const tiltTest = path.join(dir, 'tilt.test');
  beforeAll(() => {
    fs.writeFileSync(tiltBase, ml100k([[1, 1, 3], [2, 1, 3], [3, 1, 3], [4, 2, 3], [4, 3, 3], [4, 4, 3], [4, 5, 3]]));
    fs.writeFileSync(tiltTest, ml100k([1, 2, 3].flatMap((u): Array<[number, number, number]> => [[u, 5, 5], [u, 2, 1]])));
  });
  const grid = ['--grid', '{"value":[4.5,3],"tilt":[-1e-9,1e-9]}', '--train', tiltBase, '--test', tiltTest];

  it('ranks by RMSE by default and by NDCG@2 with --objective ndcg@2, where the order flips', async () => {
    const byRmse = JSON.parse((await run(['tune', '--model', 'cli-tilted', ...grid, '--json'])).stdout);
    expect(byRmse.objective).toBe('rmse');
    expect(byRmse.best.params.value).toBe(3);
    expect(byRmse.best.meanObjective).toBeCloseTo(2, 6);
    const byNdcg = JSON.parse((await run(['tune', '--model', 'cli-tilted', ...grid, '--objective', 'ndcg@2', '--json'])).stdout);
    expect(byNdcg.objective).toBe('ndcg@2');
    // The two positive tilts first (NDCG 1; tie kept in run order: value 4.5 ran first), RMSE beside.
    expect(byNdcg.trials.map((t: { params: { value: number; tilt: number }; meanObjective: number }) => [t.params.value, t.params.tilt, t.meanObjective])).toEqual([
      [4.5, 1e-9, 1],
      [3, 1e-9, 1],
      [4.5, -1e-9, 0],
      [3, -1e-9, 0],
    ]);
    expect(byNdcg.best.meanRmse).toBeCloseTo(2.5, 6);
    // MRR@1: only a list that starts with movie 5 counts.
    const byMrr = JSON.parse((await run(['tune', '--model', 'cli-tilted', ...grid, '--objective', 'MRR@1', '--json'])).stdout);
    expect(byMrr.best.params.tilt).toBe(1e-9);
    expect(byMrr.best.meanObjective).toBe(1);
  });

  it('prints the objective beside RMSE and MAE, and names it in the best line', async () => {
    const { log } = await run(['tune', '--model', 'cli-tilted', ...grid, '--objective', 'precision@2']);
    expect(log).toMatch(/^grid search for cli-tilted by mean P@2 on 1 train\/test file pair\(s\)/);
    expect(log).toMatch(/rank\s+parameters\s+mean P@2\s+mean RMSE\s+mean MAE\s+fit s\s+seconds/);
    expect(log).toMatch(/\n\s+1 {2}value=4\.5 tilt=1e-9\s+0\.5000\s+2\.5000/);
    expect(log).toMatch(/best: cli-tilted value=4\.5 tilt=1e-9 → mean P@2 0\.5000/);
  });

  it('refuses an unknown objective naming the known ones, and a cutoff out of range', async () => {
    await expect(run(['tune', '--model', 'cli-tilted', ...grid, '--objective', 'auc'])).rejects.toThrow(
      'unknown objective "auc": use one of rmse, mae, precision@K, recall@K, ndcg@K, map@K, mrr@K, hit@K',
    );
    await expect(run(['tune', '--model', 'cli-tilted', ...grid, '--objective', 'ndcg@0'])).rejects.toThrow('the cutoff K must be an integer in 1..10000, got 0');
  });
});

describe('recsys rank-evaluate protocols', () => {
  it('over several train/test pairs reports each fold and the mean ± sd', async () => {
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--train', base, '--test', test2, '--top-k', '2', '--json'])).stdout);
    expect(doc.folds.map((f: { name: string }) => f.name)).toEqual(['u1', 'u1.base|u2.test']);
    const [r] = doc.results;
    // Fold 1 (hand-computed above): NDCG@2 2/3, MRR 2/3. Fold 2: user 1's one relevant movie 4 at rank 2: NDCG 1/log2 3, MRR 1/2.
    const ndcg2 = 1 / Math.log2(3);
    expect(r.folds[1].ranking.ndcg).toBeCloseTo(ndcg2, 12);
    expect(r.mean.ndcg).toBeCloseTo((2 / 3 + ndcg2) / 2, 12);
    expect(r.sd.ndcg).toBeCloseTo((2 / 3 - ndcg2) / Math.SQRT2, 12);
    expect(r.mean.mrr).toBeCloseTo(7 / 12, 12);
    expect(r.sd.mrr).toBeCloseTo(1 / 6 / Math.SQRT2, 12);
    const { log } = await run(['rank-evaluate', '--model', 'popular', '--train', base, '--test', test, '--train', base, '--test', test2, '--top-k', '2']);
    expect(log).toMatch(/^2 train\/test file pair\(s\): u1, u1\.base\|u2\.test; relevant = rating ≥ 4; figures are mean ± sd over the 2 folds/);
    expect(log).toMatch(/popular\s+-\s+-\s+0\.5000 ± 0\.0000/);
  });

  it('--folds K tests every rating once over K seeded folds of --data', async () => {
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'popular', '--data', base, '--folds', '4', '--seed', '3', '--json'])).stdout);
    expect(doc.folds).toHaveLength(4);
    expect(doc.folds.map((f: { testRatings: number }) => f.testRatings)).toEqual([2, 2, 2, 2]);
    expect(doc.folds.every((f: { trainRatings: number }) => f.trainRatings === 6)).toBe(true);
    expect(doc.evaluation).toBe('4-fold cross-validation (seed 3) over 8 ratings');
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--folds', '1'])).rejects.toThrow('--folds must be an integer of at least 2, got "1"');
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--folds', '-3'])).rejects.toThrow('--folds must be an integer of at least 2, got "-3"');
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--folds', '100'])).rejects.toThrow('kFoldSplits: folds (100) must not exceed the number of ratings (8)');
  });

  it('--per-user-holdout F holds out a share of every user with two ratings or more', async () => {
    // Users 1, 2: 2 ratings → 1 each; user 3: 3 → round(1.5) = 2; user 4: 1 → none.
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'popular', '--data', base, '--per-user-holdout', '0.5', '--json'])).stdout);
    expect(doc.folds).toEqual([{ name: 'per-user holdout 0.5 (seed 42)', trainRatings: 4, testRatings: 4 }]);
    for (const bad of ['0', '1', '-0.2', 'NaN', '1e9', 'half']) {
      await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--per-user-holdout', bad])).rejects.toThrow(
        `--per-user-holdout must be a number strictly between 0 and 1, got "${bad}"`,
      );
    }
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--holdout', '2'])).rejects.toThrow('--holdout must be a number strictly between 0 and 1, got "2"');
  });

  it('--leave-last N holds out each user\u2019s latest ratings by timestamp, a tie going to the later row of the file', async () => {
    const day = 86_400;
    const file = path.join(dir, 'dated.data');
    // User 1: movie 1 on day 3 is the latest. User 2: movies 2 and 1 on day 5, movie 1 later in
    // the file. User 3: one rating, kept. The held-out ratings: (1, 1) 1 star, (2, 1) 5 stars.
    const rows: Array<[number, number, number, number]> = [
      [1, 1, 1, 3 * day],
      [1, 2, 4, 1 * day],
      [2, 2, 1, 5 * day],
      [1, 3, 4, 2 * day],
      [2, 1, 5, 5 * day + 60],
      [2, 3, 2, 4 * day],
      [3, 1, 4, 9 * day],
    ];
    fs.writeFileSync(file, rows.map((r) => r.join('\t')).join('\n') + '\n');
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'popular', '--data', file, '--format', 'movielens-100k', '--leave-last', '1', '--json'])).stdout);
    expect(doc.folds).toEqual([{ name: 'leave-last-1 by date', trainRatings: 5, testRatings: 2 }]);
    const fold = doc.results[0].folds[0].ranking;
    expect([fold.testUsers, fold.usersEvaluated, fold.relevantPairs]).toEqual([2, 1, 1]);
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', file, '--leave-last', '0'])).rejects.toThrow('--leave-last must be a positive integer, got "0"');
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', file, '--format', 'movielens-100k', '--leave-last', '5'])).rejects.toThrow(
      'leaveLastSplit: no user has more than 5 movies (the most is 3): nothing to hold out',
    );
    const undated = path.join(dir, 'Netflix_Dataset_Rating.csv');
    fs.writeFileSync(undated, 'User_ID,Rating,Movie_ID\n1,5,3\n1,4,2\n');
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', undated, '--leave-last', '1'])).rejects.toThrow(
      `--leave-last needs a timestamp per rating, and ${undated} has none; use --per-user-holdout FRACTION instead`,
    );
  });

  it('--leave-last on a user_id,item_id,timestamp clicks file: a re-clicked item leaves with all its clicks, every held-out click is relevant', async () => {
    const clicks = path.join(dir, 'clicks.csv');
    // Days: user 1 clicks 10 (day 0 and day 2) and 11 (day 1); user 2 10, 12, 11 on days 0, 1, 3; user 3 10, 12 on days 0, 4.
    const t0 = 1_699_920_000;
    const rows = [[1, 10, 0], [1, 11, 1], [1, 10, 2], [2, 10, 0], [2, 12, 1], [2, 11, 3], [3, 10, 0], [3, 12, 4]];
    fs.writeFileSync(clicks, 'user_id,item_id,timestamp\n' + rows.map(([u, m, d]) => `${u},${m},${t0 + d * 86_400}`).join('\n') + '\n');
    const doc = JSON.parse((await run(['rank-evaluate', '--model', 'popular', '--data', clicks, '--leave-last', '1', '--top-k', '2', '--json'])).stdout);
    // Held out: user 1's two clicks of 10, user 2's 11, user 3's 12; train (1,11) (2,10) (2,12) (3,10).
    expect(doc.folds).toEqual([{ name: 'leave-last-1 by date', trainRatings: 4, testRatings: 4 }]);
    expect(doc.relevantThreshold).toBe(0.5);
    // popular by train counts (10: 2, then 11, 12): user 1 [10, 12] hit at 1, user 2 [11] hit at 1, user 3 [11, 12] hit at 2.
    const r = doc.results[0].folds[0].ranking;
    expect(r.usersEvaluated).toBe(3);
    expect(r.precision).toBeCloseTo(1 / 2, 12);
    expect(r.mrr).toBeCloseTo((1 + 1 + 1 / 2) / 3, 12);
  });

  it('takes exactly one protocol, and --model-file only with one split', async () => {
    await expect(run(['rank-evaluate', '--model', 'popular', '--data', base, '--folds', '2', '--per-user-holdout', '0.2'])).rejects.toThrow(
      'rank-evaluate needs exactly one of --folds K, --holdout FRACTION, --per-user-holdout FRACTION, --leave-last N, --train FILE --test FILE',
    );
    await expect(run(['rank-evaluate', '--model-file', path.join(dir, 'none.model'), '--data', base, '--folds', '2'])).rejects.toThrow(
      'rank-evaluate: --model-file scores one saved model, so it takes one split, not 2 folds',
    );
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
