/**
 * The measurements behind `ease`'s defaults: P@10, NDCG@10 and coverage (rankingMetrics, k 10,
 * relevant: held-out ratings ≥ 4, candidates: movies the user did not rate in training) for each
 * λ × minWeight on each set. One JSON line per (set, λ, minWeight) on stdout.
 *
 *   npx tsc -b tools && node tools/dist/bench/ease-sweep.js [--data /work/shared/data]
 *     [--sets ml100k,kaggle,generated] [--lambdas 100,200,300,400,500,700] [--min-weights 0,3,4]
 *
 * Sets: `ml100k`, MovieLens 100k folds u1–u5 (uN.base / uN.test; mean and u1 reported);
 * `kaggle`, the Netflix Kaggle sample (99,999 ratings, 8 movies), 0.2 holdout seed 42;
 * `generated`, generateSynthetic({ ratings: 2e6, users: 50,000, movies: 3,000, seed: 42 }), 0.2
 * holdout seed 42.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRatingMatrix, fileSplit, generateSynthetic, holdoutSplit, loadDataset, RatingList, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel } from '@recsys/models';
import { RankingMetrics, rankingMetrics } from '@recsys/evaluation';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/data' },
    sets: { type: 'string', default: 'ml100k,kaggle,generated' },
    lambdas: { type: 'string', default: '100,200,300,400,500,700' },
    'min-weights': { type: 'string', default: '0,3,4' },
  },
});

const list = (name: string, text: string): number[] =>
  text.split(',').map((x) => {
    const v = Number(x);
    if (!Number.isFinite(v)) throw new RangeError(`ease-sweep: --${name} must be numbers separated by commas, got ${JSON.stringify(text)}`);
    return v;
  });

async function folds(set: string): Promise<Array<{ train: RatingMatrix; test: RatingList }>> {
  if (set === 'ml100k') {
    const out = [];
    for (let i = 1; i <= 5; i++) out.push(await fileSplit(join(values.data!, 'movielens-100k', `u${i}.base`), join(values.data!, 'movielens-100k', `u${i}.test`)));
    return out;
  }
  if (set === 'kaggle') return [holdoutSplit((await loadDataset(join(values.data!, 'netflix-kaggle-sample'))).matrix, { testFraction: 0.2, seed: 42 })];
  if (set === 'generated') {
    const matrix = buildRatingMatrix(generateSynthetic({ ratings: 2_000_000, users: 50_000, movies: 3000, seed: 42, withDates: false }).list, WHOLE_STARS_1_TO_5).matrix;
    return [holdoutSplit(matrix, { testFraction: 0.2, seed: 42 })];
  }
  throw new RangeError(`ease-sweep: unknown set ${JSON.stringify(set)} (known: ml100k, kaggle, generated)`);
}

async function main(): Promise<void> {
  for (const set of values.sets!.split(',')) {
    const splits = await folds(set);
    for (const minWeight of list('min-weights', values['min-weights']!)) {
      for (const lambda of list('lambdas', values.lambdas!)) {
        const rows: RankingMetrics[] = [];
        for (const { train, test } of splits) {
          const model = await createModel('ease', { lambda, minWeight, threads: 2 }).fit(train);
          rows.push(rankingMetrics(model, train, test, { k: 10, relevantThreshold: 4 }));
        }
        const mean = (f: (r: RankingMetrics) => number): number => Number((rows.reduce((s, r) => s + f(r), 0) / rows.length).toFixed(4));
        const first = rows[0];
        process.stdout.write(
          `${JSON.stringify({ set, lambda, minWeight, folds: rows.length, precision: mean((r) => r.precision), ndcg: mean((r) => r.ndcg), coverage: mean((r) => r.coverage), first: { precision: Number(first.precision.toFixed(4)), ndcg: Number(first.ndcg.toFixed(4)) } })}\n`,
        );
      }
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ease-sweep: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
