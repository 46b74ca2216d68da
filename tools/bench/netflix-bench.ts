/**
 * The whole Netflix Prize on one machine (`npm run bench:netflix`): from the text files to a
 * serving API, at the Prize's size (100,000,000 ratings, 480,189 users, 17,770 movies), every step
 * in a fresh process so that its time and peak memory are its own. Prints ONE JSON document on
 * stdout (progress on stderr):
 *
 * 1. data: the Prize-layout folder made by `recsys generate --layout prize` (reused when the
 *    folder already holds it, or given with --data);
 * 2. import: `recsys import --data DIR --out SNAPSHOT --json`: MB/s of the text and peak resident
 *    bytes per rating; then a restart's import from the same folder (reusing the cached snapshot);
 * 3. snapshot: loading the snapshot;
 * 4. sgd: LibMF (`../shared/reference/libmf`, a yardstick only; skipped, saying so, when absent)
 *    and our `svd` SGD on the same ratings, side by side in the same minute, 100 factors, at each
 *    of --threads: seconds per epoch and their ratio;
 * 5. als, svdpp, baseline: seconds per iteration/epoch (ALS against the SGD epoch at the same
 *    factors and threads, svdpp against `svd` at svdpp's factors);
 * 6. train: `recsys train --out` with peak resident bytes per rating, artifact writing included;
 * 7. api: `npm start`'s process (serving-bench.ts): on the snapshot with the configured model trained
 *    in the background, query latencies (similarMovies of the most-rated movie for every metric) and
 *    a retrain under load; on the Prize folder with a cold import cache; serving step 6's artifact.
 *
 * Each figure is given beside its target of issue 10 in `targets`, and all of them as the README's
 * table in `markdown`. `--table-from RESULT.json` prints an earlier result's table and measures
 * nothing (`npm run bench:netflix` builds first; `node tools/dist/bench/netflix-bench.js` does not).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchCli, BenchOption, BenchValues, choiceListValue, intListValue, intValue, readBenchArgs } from './bench-args';
import { libmfDir, LibmfRun, median, runLibmf } from './libmf';
import { FitResult, LoadResult, runChild, runJson } from './netflix-bench-child';
import { SERVING_BENCH_DEFAULTS, servingBench, ServingBenchResult } from './serving-bench';
import { hugePagesSetting } from './huge-pages';
import { pageCacheResidency } from './page-cache';
import { NetflixResultForTable, Target, target, targetsMarkdown } from './netflix-targets';

const REPO = resolve(__dirname, '..', '..', '..');
const CLI_MAIN = join(REPO, 'apps', 'cli', 'dist', 'main.js');

const STEPS = ['import', 'sgd', 'als', 'svdpp', 'baseline', 'train', 'api'] as const;
type Step = (typeof STEPS)[number];

export const CLI = {
  name: 'netflix-bench',
  description:
    'The Netflix Prize end to end at 100M ratings on this machine: generate (or reuse) the Prize-layout folder, import it, load the snapshot, ' +
    'train each kind for a few epochs (SGD side by side with LibMF when ../shared/reference/libmf is present), write an artifact, and start ' +
    'the API on it with query latencies and a retrain under load. Prints one JSON document on stdout; progress on stderr.',
  options: {
    dir: { type: 'string', value: 'DIR', default: join(tmpdir(), 'recsys-netflix'), description: 'work folder: the generated Prize folder, the snapshot, LibMF text, artifacts (reused between runs)' },
    data: { type: 'string', value: 'DIR', description: 'an existing Prize-layout folder to import instead of generating one into --dir' },
    ratings: { type: 'string', value: 'N', default: '100000000', description: 'ratings to generate' },
    users: { type: 'string', value: 'N', default: '480189', description: 'users to generate' },
    movies: { type: 'string', value: 'N', default: '17770', description: 'movies to generate' },
    epochs: { type: 'string', value: 'N', default: '3', description: 'epochs (iterations) of each training run (≥ 2: the first of LibMF carries its reading)' },
    threads: { type: 'string', value: 'LIST', default: '2,1', description: 'threads of the side-by-side SGD runs' },
    'train-epochs': { type: 'string', value: 'N', default: '12', description: 'epochs of the `recsys train` run (enough for svd to beat baseline, which its guard demands before it writes)' },
    pairs: { type: 'string', value: 'N', default: '1', description: 'side-by-side SGD pairs (LibMF then ours) at each thread count; the ratio is the median' },
    skip: { type: 'string', value: 'LIST', description: `steps to leave out (${STEPS.join(', ')})` },
    'table-from': { type: 'string', value: 'FILE', description: "print the markdown table of targets of an earlier run's JSON, and run nothing" },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export interface Args {
  dir: string;
  data: string | undefined;
  ratings: number;
  users: number;
  movies: number;
  epochs: number;
  threads: number[];
  trainEpochs: number;
  pairs: number;
  skip: Step[];
  tableFrom: string | undefined;
}

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    dir: resolve(v.dir),
    data: v.data === undefined ? undefined : resolve(v.data),
    ratings: intValue('ratings', v.ratings, 1000),
    users: intValue('users', v.users, 1),
    movies: intValue('movies', v.movies, 1),
    epochs: intValue('epochs', v.epochs, 2),
    threads: intListValue('threads', v.threads, 1),
    trainEpochs: intValue('train-epochs', v['train-epochs'], 1),
    pairs: intValue('pairs', v.pairs, 1),
    skip: v.skip === undefined ? [] : choiceListValue('skip', v.skip, STEPS),
    tableFrom: v['table-from'] === undefined ? undefined : resolve(v['table-from']),
  };
}

const log = (message: string): void => void process.stderr.write(`[netflix-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function hasPrizeFiles(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => /^combined_data_\d+\.txt$/i.test(f));
}

/** The Prize folder: --data, or the one generated into --dir (generated when missing or made with other options). */
async function ensureData(args: Args): Promise<{ dir: string; generatedSeconds: number | null; reused: boolean }> {
  if (args.data !== undefined) {
    if (!hasPrizeFiles(args.data)) throw new Error(`--data ${args.data}: no combined_data_*.txt in this folder`);
    return { dir: args.data, generatedSeconds: null, reused: true };
  }
  const dir = join(args.dir, 'prize');
  const marker = join(args.dir, 'prize.json');
  const wanted = JSON.stringify({ ratings: args.ratings, users: args.users, movies: args.movies, seed: 42 });
  if (hasPrizeFiles(dir) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return { dir, generatedSeconds: null, reused: true };
  rmSync(dir, { recursive: true, force: true });
  rmSync(marker, { force: true });
  mkdirSync(args.dir, { recursive: true });
  log(`generating ${args.ratings.toLocaleString('en')} ratings in the Prize layout into ${dir}`);
  const started = performance.now();
  execFileSync(
    process.execPath,
    [CLI_MAIN, 'generate', '--layout', 'prize', '--ratings', String(args.ratings), '--users', String(args.users), '--movies', String(args.movies), '--seed', '42', '--out', dir],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  writeFileSync(marker, wanted);
  return { dir, generatedSeconds: (performance.now() - started) / 1000, reused: false };
}

interface ImportJson {
  ratings: number;
  bytes: number;
  seconds: number;
  megabytesPerSecond: number;
  [key: string]: unknown;
}

async function importStep(args: Args, prizeDir: string, snapshot: string) {
  const rssFile = join(args.dir, 'peak-rss.json');
  const cache = join(args.dir, 'cache');
  rmSync(cache, { recursive: true, force: true });
  // How much of the input the page cache still holds (see page-cache.ts): context for the MB/s.
  const inputPageCache = pageCacheResidency(readdirSync(prizeDir).map((f) => join(prizeDir, f)));
  if (inputPageCache) log(`import: ${(inputPageCache.share * 100).toFixed(0)} % of the Prize folder's bytes in the page cache before the import`);
  log('import: parsing the Prize folder (cold: no cached snapshot)');
  const cold = await runJson<ImportJson>([CLI_MAIN, 'import', '--data', prizeDir, '--out', snapshot, '--json'], { peakRssFile: rssFile, env: { RECSYS_CACHE_DIR: cache } });
  log(`import: ${cold.result.megabytesPerSecond.toFixed(1)} MB/s, peak ${(cold.peakRss! / cold.result.ratings).toFixed(1)} B/rating`);
  log('import: again, as a restart would (same files, same cache folder)');
  const restart = await runJson<ImportJson>([CLI_MAIN, 'import', '--data', prizeDir, '--json'], { peakRssFile: rssFile, env: { RECSYS_CACHE_DIR: cache } });
  return {
    bytes: cold.result.bytes,
    ratings: cold.result.ratings,
    seconds: cold.result.seconds,
    megabytesPerSecond: cold.result.megabytesPerSecond,
    wallSeconds: cold.wallSeconds,
    peakRss: cold.peakRss,
    peakBytesPerRating: cold.peakRss === null ? null : cold.peakRss / cold.result.ratings,
    restart: { seconds: restart.result.seconds, wallSeconds: restart.wallSeconds, cached: restart.result.cached ?? null, peakRss: restart.peakRss },
    inputPageCache,
    threads: availableParallelism(),
  };
}

interface SgdPair {
  threads: number;
  libmf: LibmfRun | null;
  ours: FitResult;
  oursMedianSecondsPerEpoch: number;
  ratio: number | null;
}

/** Epochs after the first: the first carries the trainer's setup (layout, workers, shuffles). */
export function steadyEpochs(fit: FitResult): number[] {
  return fit.secondsPerEpoch.length > 1 ? fit.secondsPerEpoch.slice(1) : fit.secondsPerEpoch;
}

/** A short hash of the names, sizes and modification times of a Prize folder's training files. */
function dataKey(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => /^combined_data_\d+\.txt$/i.test(f))
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f}:${st.size}:${Math.floor(st.mtimeMs)}`;
    });
  return createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
}

async function sgdStep(args: Args, prizeDir: string, snapshot: string, libmf: string | null) {
  let text: string | null = null;
  if (libmf !== null) {
    // Keyed by the Prize files it comes from (not the snapshot, which each run's import rewrites).
    text = join(args.dir, `libmf-${dataKey(prizeDir)}.txt`);
    if (!existsSync(text)) {
      for (const f of readdirSync(args.dir)) if (/^libmf-.*\.txt$/.test(f)) rmSync(join(args.dir, f));
      log(`sgd: writing the snapshot's ratings as LibMF text (${text})`);
      await runChild({ job: 'libmf-text', snapshot, out: text });
    }
  } else {
    log('sgd: ../shared/reference/libmf is absent: the LibMF comparison is skipped');
  }
  const pairs: SgdPair[] = [];
  const factors = 100;
  for (const threads of args.threads) {
    for (let pair = 0; pair < args.pairs; pair++) {
      let run: LibmfRun | null = null;
      if (libmf !== null && text !== null) {
        log(`sgd: LibMF, ${threads} thread(s), ${factors} factors, ${args.epochs} iterations`);
        run = await runLibmf(libmf, text, join(args.dir, 'libmf.model'), { threads, factors, iterations: args.epochs, reg: 0.05, lr: 0.01 });
        log(`sgd: LibMF ${run.medianSecondsPerIteration.toFixed(2)} s per iteration`);
      }
      log(`sgd: ours, ${threads} thread(s)`);
      const ours = await runChild<FitResult>({ job: 'fit', snapshot, kind: 'svd', params: { factors, epochs: args.epochs, threads } });
      const oursMedian = median(steadyEpochs(ours));
      pairs.push({ threads, libmf: run, ours, oursMedianSecondsPerEpoch: oursMedian, ratio: run === null ? null : oursMedian / run.medianSecondsPerIteration });
    }
  }
  const byThreads = args.threads.map((threads) => {
    const mine = pairs.filter((p) => p.threads === threads);
    const ratios = mine.map((p) => p.ratio).filter((r): r is number => r !== null);
    return {
      threads,
      oursSecondsPerEpoch: median(mine.map((p) => p.oursMedianSecondsPerEpoch)),
      libmfSecondsPerIteration: ratios.length === 0 ? null : median(mine.map((p) => p.libmf!.medianSecondsPerIteration)),
      ratio: ratios.length === 0 ? null : median(ratios),
    };
  });
  return { factors, libmf: libmf !== null, pairs, byThreads };
}

async function fitStep(snapshot: string, kind: string, params: Record<string, unknown>) {
  log(`${kind}: ${JSON.stringify(params)}`);
  const fit = await runChild<FitResult>({ job: 'fit', snapshot, kind, params });
  return { ...fit, medianSecondsPerEpoch: median(steadyEpochs(fit)) };
}

async function trainStep(args: Args, snapshot: string, threads: number) {
  const out = join(args.dir, 'models', 'svd-100.model');
  mkdirSync(join(args.dir, 'models'), { recursive: true });
  log('train: recsys train --model svd --factors 100 with --out (artifact writing included in the peak)');
  const run = await runJson<Record<string, unknown>>(
    [CLI_MAIN, 'train', '--data', snapshot, '--model', 'svd', '--factors', '100', '--epochs', String(args.trainEpochs), '--threads', String(threads), '--out', out, '--json'],
    { peakRssFile: join(args.dir, 'peak-rss.json') },
  );
  const ratings = (run.result.data as { ratings?: number } | undefined)?.ratings ?? args.ratings;
  return { wallSeconds: run.wallSeconds, peakRss: run.peakRss, peakBytesPerRating: run.peakRss === null ? null : run.peakRss / ratings, artifact: out, artifactBytes: existsSync(out) ? statSync(out).size : null };
}

/**
 * The API as `npm start` runs it (serving-bench.ts): on the snapshot with the configured model
 * (100 factors) trained in the background, latencies and a retrain under load; on the Prize folder
 * with a cold import cache (startup only); and serving the CLI's artifact through RECSYS_MODEL.
 */
async function apiStep(prizeDir: string, snapshot: string, mostRatedMovie: number, train: { artifact: string } | undefined) {
  log('api: on the snapshot, configured svd (100 factors) trained in the background, then latencies and a retrain under load');
  const onSnapshot = await servingBench({ ...SERVING_BENCH_DEFAULTS, data: snapshot, similarMovieId: mostRatedMovie });
  log('api: on the Prize folder with an empty import cache (startup only)');
  const prizeFolder = await servingBench({ ...SERVING_BENCH_DEFAULTS, data: prizeDir, startupOnly: true });
  let cliModel: ServingBenchResult | null = null;
  if (train !== undefined && existsSync(train.artifact)) {
    log('api: serving the artifact of recsys train through RECSYS_MODEL (startup only)');
    cliModel = await servingBench({ ...SERVING_BENCH_DEFAULTS, data: snapshot, startupOnly: true, env: { RECSYS_MODEL: train.artifact } });
  }
  return { snapshot: onSnapshot, prizeFolder, cliModel };
}

export async function netflixBench(args: Args): Promise<Record<string, unknown>> {
  const started = performance.now();
  mkdirSync(args.dir, { recursive: true });
  const skip = new Set<Step>(args.skip);
  const threads = availableParallelism();
  const out: Record<string, unknown> = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, loadAverageAtStart: loadavg()[0], hugePages: hugePagesSetting() },
  };
  const data = await ensureData(args);
  out.data = { dir: data.dir, reused: data.reused, generatedSeconds: data.generatedSeconds };
  const snapshot = join(args.dir, 'prize.snap');
  const targets: Target[] = [];

  if (!skip.has('import') || !existsSync(snapshot)) {
    const imp = await importStep(args, data.dir, snapshot);
    out.import = imp;
    targets.push(target('import MB/s (Prize layout, all threads)', imp.megabytesPerSecond, '>=', 250, 'MB/s'));
    targets.push(target('import peak bytes per rating', imp.peakBytesPerRating, '<=', 16, 'B'));
  }
  log('snapshot: loading');
  const load = await runChild<LoadResult>({ job: 'load', snapshot });
  out.snapshot = { ...load, residentBytesPerRating: load.rss / load.ratings };
  const libmf = libmfDir(REPO);
  let sgdTwo: number | null = null;
  if (!skip.has('sgd')) {
    const sgd = await sgdStep(args, data.dir, snapshot, libmf);
    out.sgd = sgd;
    for (const t of sgd.byThreads) targets.push(target(`svd SGD epoch ÷ LibMF iteration, ${t.threads} thread(s), 100 factors`, t.ratio, '<=', 1, '×'));
    sgdTwo = sgd.byThreads.find((t) => t.threads === threads)?.oursSecondsPerEpoch ?? null;
  }
  if (!skip.has('als')) {
    const als = await fitStep(snapshot, 'svd', { solver: 'als', factors: 100, epochs: args.epochs });
    out.als = als;
    if (sgdTwo === null) {
      const sgd = await fitStep(snapshot, 'svd', { factors: 100, epochs: args.epochs, threads });
      sgdTwo = sgd.medianSecondsPerEpoch;
    }
    targets.push(target(`svd ALS iteration ÷ SGD epoch, 100 factors, ${threads} threads`, als.medianSecondsPerEpoch / sgdTwo, '<=', 3, '×'));
    targets.push(target('ALS CPU seconds ÷ wall seconds per iteration (threads used)', median(als.cpuSecondsPerEpoch.slice(1)) / als.medianSecondsPerEpoch, '>=', threads * 0.8, 'threads'));
  }
  if (!skip.has('svdpp')) {
    const svdpp = await fitStep(snapshot, 'svdpp', { epochs: args.epochs, threads });
    const factors = (svdpp.params.factors as number | undefined) ?? 16;
    const svd = await fitStep(snapshot, 'svd', { factors, epochs: args.epochs, threads });
    out.svdpp = { svdpp, svd, ratio: svdpp.medianSecondsPerEpoch / svd.medianSecondsPerEpoch };
    targets.push(target(`svdpp epoch ÷ svd epoch, ${factors} factors, ${threads} threads`, svdpp.medianSecondsPerEpoch / svd.medianSecondsPerEpoch, '<=', 3, '×'));
    targets.push(target('svdpp final training RMSE is finite', Number.isFinite(svdpp.trainRmse[svdpp.trainRmse.length - 1]) ? 1 : 0, '>=', 1, ''));
  }
  if (!skip.has('baseline')) out.baseline = await fitStep(snapshot, 'baseline', {});
  if (!skip.has('train')) {
    const train = await trainStep(args, snapshot, threads);
    out.train = train;
    targets.push(target('recsys train peak bytes per rating (artifact writing included)', train.peakBytesPerRating, '<=', 20, 'B'));
  }
  if (!skip.has('api')) {
    const api = await apiStep(data.dir, snapshot, load.mostRatedMovie.id, out.train as { artifact: string } | undefined);
    out.api = api;
    const s = api.snapshot;
    targets.push(target('API ready (prediction answered) after the data is loaded', s.startup.readyAfterDataSeconds, '<=', 20, 's'));
    if (api.prizeFolder) targets.push(target('API on the Prize folder (cold import cache): first prediction after process start', api.prizeFolder.startup.readySeconds, '<=', 60, 's'));
    if (api.cliModel) targets.push(target('API serving a CLI artifact (RECSYS_MODEL): first prediction after the data is loaded', api.cliModel.startup.readyAfterDataSeconds, '<=', 20, 's'));
    targets.push(target('retrain mutation answered', s.retrain.mutationMs, '<=', 50, 'ms'));
    targets.push(target('retrain: last epoch to new model active', s.retrain.lastEpochToActiveSeconds, '<=', 10, 's'));
    targets.push(
      target(
        `retrain: largest event-loop stall from start to activation (the bench's sleeping thread overslept at most ${s.retrain.witnessMaxLatenessMs} ms meanwhile)`,
        s.retrain.maxEventLoopStallMs,
        '<=',
        50,
        'ms',
      ),
    );
    targets.push(target('retrain: peak RSS ÷ steady RSS', s.retrain.peakOverSteady, '<=', 1.5, '×'));
    targets.push(target('retrain: RSS after ÷ steady RSS', s.retrain.rssAfterBytes / s.steady.rssBytes, '<=', 1.05, '×'));
    targets.push(target('steady RSS serving a 100-factor model, bytes per rating', s.steady.bytesPerRating, '<=', 24, 'B'));
    targets.push(target(`prediction p99 (${s.latency.prediction.requests} queries, ${SERVING_BENCH_DEFAULTS.connections} connections)`, s.latency.prediction.p99Ms, '<=', 10, 'ms'));
    targets.push(target(`recommendations(n: 10) p99 (${SERVING_BENCH_DEFAULTS.connections} connections)`, s.latency.recommendations.p99Ms, '<=', 20, 'ms'));
    targets.push(target(`prediction p99, one connection (${s.latency.oneClient.prediction.requests} queries)`, s.latency.oneClient.prediction.p99Ms, '<=', 10, 'ms'));
    targets.push(target(`recommendations(n: 10) p99, one connection (${s.latency.oneClient.recommendations.requests} queries)`, s.latency.oneClient.recommendations.p99Ms, '<=', 20, 'ms'));
    for (const [metric, l] of Object.entries(s.latency.similarMovies ?? {})) {
      targets.push(target(`similarMovies ${metric} p99 on the most-rated movie (${load.mostRatedMovie.ratings} raters), one query at a time`, l.p99Ms, '<=', 50, 'ms'));
    }
  }
  out.targets = targets;
  out.seconds = (performance.now() - started) / 1000;
  // Only when a step measured something (a run with every step skipped has no targets).
  if (targets.length > 0) out.markdown = targetsMarkdown(out as NetflixResultForTable);
  return out;
}

/** The markdown table of an earlier run's JSON (`--table-from`); errors name the file. */
export function tableFrom(file: string): string {
  // An error's message whatever realm made it (jest's sandbox fails `instanceof Error` for fs errors).
  const messageOf = (error: unknown): string => (typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : String(error));
  try {
    const result: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new Error('not a bench:netflix result (a JSON object)');
    return targetsMarkdown(result as NetflixResultForTable);
  } catch (error) {
    throw new Error(`--table-from ${file}: ${messageOf(error)}`);
  }
}

if (require.main === module) {
  const args = readBenchArgs(CLI, argsFrom);
  if (args.tableFrom !== undefined) {
    try {
      process.stdout.write(`${tableFrom(args.tableFrom)}\n`);
    } catch (error) {
      process.stderr.write(`netflix-bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
    process.exit(0);
  }
  netflixBench(args).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`netflix-bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
