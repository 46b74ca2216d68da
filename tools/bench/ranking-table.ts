/**
 * The ranking table of issue 11: models × P@k / NDCG@k / coverage on the MovieLens 100k
 * canonical folds, with the protocol — train on `uN.base`, relevant = the `uN.test`
 * ratings ≥ 4, candidates = the movies the user did not rate in training, k = 10 — each figure
 * the unweighted mean over the folds (the sample sd beside it in the JSON). Prints ONE JSON
 * document on stdout (with the markdown table in its `markdown` field), or with --markdown only
 * the table; progress on stderr.
 *
 *   npm run -s bench:ranking-table -- --models popular,svd,ease,ials,bpr [--folds 1,2,3,4,5]
 *     [--data-dir ../shared/data] [--k 10] [--threshold 4] [--params '{"ease":{"lambda":500}}'] [--markdown]
 *
 * Each model kind is fitted with its defaults (merged under --params for that kind) on each fold;
 * a kind that is not registered is refused by createModel with its message, before any data is read.
 */
import { join } from 'node:path';
import { fileSplit } from '@recsys/data';
import { createModel } from '@recsys/models';
import { EvaluationFold, RankingEvaluation, rankingEvaluate } from '@recsys/evaluation';
import { BenchUsageError, BenchValues, intListValue, intValue, numberValue, readBenchArgs } from './bench-args';

export const CLI = {
  name: 'ranking-table',
  description:
    'Models × P@k / NDCG@k / coverage (and R, MAP, MRR, hit rate) on MovieLens 100k folds uN.base / uN.test: relevant = test ratings ≥ threshold, ' +
    'candidates = movies not rated in training; mean ± sd over the folds. Prints one JSON document (with a markdown table), or the table with --markdown.',
  options: {
    models: { type: 'string', value: 'LIST', default: 'popular,svd', description: 'model kinds, comma-separated' },
    folds: { type: 'string', value: 'LIST', default: '1,2,3,4,5', description: 'fold numbers N of uN.base / uN.test' },
    'data-dir': { type: 'string', value: 'DIR', default: '../shared/data', description: 'folder holding movielens-100k/' },
    k: { type: 'string', value: 'N', default: '10', description: 'length of each list (the cutoff k)' },
    threshold: { type: 'string', value: 'STARS', default: '4', description: 'a test rating is relevant when at least this' },
    params: { type: 'string', value: 'JSON', description: 'parameters per kind, e.g. \'{"ease":{"lambda":500}}\'' },
    markdown: { type: 'boolean', description: 'print only the markdown table' },
  },
} as const;

export interface Args {
  models: string[];
  folds: number[];
  dataDir: string;
  k: number;
  threshold: number;
  params: Record<string, Record<string, unknown>>;
  markdown: boolean;
}

function paramsValue(text: string | undefined): Record<string, Record<string, unknown>> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BenchUsageError(`--params is not valid JSON: ${(error as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(value) || !Object.values(value).every(isObject)) {
    throw new BenchUsageError(`--params must be a JSON object of kind → parameters object, e.g. '{"ease":{"lambda":500}}', got ${text}`);
  }
  return value as Record<string, Record<string, unknown>>;
}

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  const models = v.models.split(',').map((m) => m.trim());
  if (models.some((m) => m === '')) throw new BenchUsageError(`--models takes model kinds separated by commas, got "${v.models}"`);
  const folds = intListValue('folds', v.folds, 1);
  const params = paramsValue(v.params);
  const unused = Object.keys(params).filter((kind) => !models.includes(kind));
  if (unused.length > 0) throw new BenchUsageError(`--params names kind(s) not in --models: ${unused.join(', ')}`);
  const threshold = numberValue('threshold', v.threshold);
  return { models, folds, dataDir: v['data-dir'], k: intValue('k', v.k, 1), threshold, params, markdown: v.markdown };
}

/** One row of the table: a model's figures, mean and sd over the folds. */
export interface TableRow {
  model: string;
  params: Readonly<Record<string, unknown>>;
  ranks: boolean;
  mean: RankingEvaluation['mean'];
  sd: RankingEvaluation['sd'];
  /** Per fold: name, P@k, NDCG@k, coverage. */
  folds: Array<{ name: string; precision: number; ndcg: number; coverage: number }>;
}

export function tableRow(r: RankingEvaluation): TableRow {
  return {
    model: r.model,
    params: r.params,
    ranks: r.ranks,
    mean: r.mean,
    sd: r.sd,
    folds: r.folds.map((f) => ({ name: f.name, precision: f.ranking.precision, ndcg: f.ranking.ndcg, coverage: f.ranking.coverage })),
  };
}

/** The markdown table: one row per model, P@k / NDCG@k / coverage as the mean over the folds (3 decimals). */
export function markdownTable(rows: readonly TableRow[], k: number): string {
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(3));
  return [`| model | P@${k} | NDCG@${k} | coverage |`, '|---|---|---|---|', ...rows.map((r) => `| \`${r.model}\` | ${f(r.mean.precision)} | ${f(r.mean.ndcg)} | ${f(r.mean.coverage)} |`)].join('\n');
}

async function main(args: Args): Promise<void> {
  // Every kind and its parameters are checked before any data is read.
  for (const kind of args.models) createModel(kind, args.params[kind] ?? {});
  const dir = join(args.dataDir, 'movielens-100k');
  const folds: EvaluationFold[] = [];
  for (const n of args.folds) folds.push(await fileSplit(join(dir, `u${n}.base`), join(dir, `u${n}.test`)));
  const rows: TableRow[] = [];
  for (const kind of args.models) {
    const started = process.cpuUsage();
    const r = await rankingEvaluate(() => createModel(kind, args.params[kind] ?? {}), folds, {
      k: args.k,
      relevantThreshold: args.threshold,
      onFold: (f, i) => process.stderr.write(`${kind} ${f.name} (${i + 1}/${folds.length}): P@${args.k} ${f.ranking.precision.toFixed(4)} NDCG@${args.k} ${f.ranking.ndcg.toFixed(4)}\n`),
    });
    const cpu = process.cpuUsage(started);
    process.stderr.write(`${kind}: mean P@${args.k} ${r.mean.precision!.toFixed(4)} NDCG@${args.k} ${r.mean.ndcg!.toFixed(4)} (${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s)\n`);
    rows.push(tableRow(r));
  }
  const markdown = markdownTable(rows, args.k);
  if (args.markdown) {
    process.stdout.write(`${markdown}\n`);
    return;
  }
  const protocol = {
    data: 'MovieLens 100k canonical folds',
    folds: folds.map((f) => f.name),
    train: 'uN.base',
    relevant: `uN.test ratings ≥ ${args.threshold}`,
    candidates: 'movies the user did not rate in training',
    k: args.k,
    figures: 'unweighted mean over the folds (sd: sample standard deviation over the folds)',
  };
  process.stdout.write(`${JSON.stringify({ protocol, rows, markdown }, null, 2)}\n`);
}

if (require.main === module) {
  main(readBenchArgs(CLI, argsFrom)).catch((error: unknown) => {
    process.stderr.write(`ranking-table: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof RangeError ? 2 : 1);
  });
}
