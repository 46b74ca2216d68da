/**
 * SGD against LibMF on the same ratings, side by side: seconds per epoch of `svd` (solver sgd) at
 * each thread count and of `svdpp`, LibMF's seconds per iteration on the same ratings in the same
 * minute, their ratios, and the peak resident memory per rating of `recsys train` (the CLI path,
 * artifact written). Prints ONE JSON document on stdout; progress on stderr.
 *
 *   npm run bench:sgd -- [--snapshot FILE | --ratings 10000000 --users 200000 --movies 17770]
 *     [--factors 100] [--epochs 3] [--threads 1,2] [--pairs 3] [--lr 0.01] [--reg 0.05]
 *     [--svdpp-threads 2] [--svdpp-factors 100] [--svdpp-epochs 2] [--no-svdpp] [--no-train]
 *     [--dir DIR]
 *
 * - The ratings: `--snapshot` (e.g. /work/data/prize-100m.snap), or a snapshot generated with
 *   `generateSynthetic` into `--dir` (a temporary folder by default). Every rating is trained on
 *   (no hold-out: this measures speed, as LibMF's `mf-train` does).
 * - LibMF (`../shared/reference/libmf/mf-train`, or `$LIBMF_DIR/mf-train`): when present, the
 *   ratings are written once as its text input (`user movie stars`, 0-based dense indices) and
 *   `mf-train -s T -k K -t E -l2 REG -r LR` runs beside ours; it prints one line per iteration
 *   (flushed by `endl`), and the seconds per iteration are the gaps between those lines (the
 *   first gap, which includes its setup after reading, is left out). Missing: said in the JSON
 *   (`libmf.skipped`) and the comparison is skipped.
 * - Side by side: for each thread count, `--pairs` times ours then LibMF, alternating, each a fresh
 *   process; each side's figure is the median over its pairs of the median epoch of the run, the
 *   ratio ours / LibMF is the median of the per-pair ratios (the machine is shared: a pair runs in
 *   the same minute, so its ratio is what the load cancels out of).
 * - Ours: seconds per epoch from the model's progress (`step()` only: the blocked layout is built
 *   before the first epoch and not counted, as LibMF's reading and its grid are not), first epoch
 *   left out when there are more than two.
 * - `svdpp` at `--svdpp-factors` with `--svdpp-threads`, and `svd` at the same factors and
 *   threads in the same minute: the ratio svdpp / svd per epoch (target ≤ 3).
 * - `train`: `recsys train --model svd --factors K --epochs 1 --threads T --out FILE` under
 *   `/usr/bin/time -f %M` (the process's maxRSS): the whole CLI path (snapshot read, the guard's
 *   2 % hold-out, fit, check, artifact written), per rating of the data (target ≤ 20).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRatingMatrix, generateSynthetic, MovieCatalog, RatingMatrix, readSnapshot, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { BenchCli, BenchOption, BenchValues, intListValue, intValue, numberValue, readBenchArgs } from './bench-args';
import { libmfDir, median, runLibmf, writeLibmfText } from './libmf';
import { FitResult, runChild } from './netflix-bench-child';
import { gc } from './svd-bench-child';

interface Args {
  snapshot: string | undefined;
  ratings: number;
  users: number;
  movies: number;
  factors: number;
  epochs: number;
  threads: number[];
  pairs: number;
  lr: number;
  reg: number;
  svdppThreads: number;
  svdppFactors: number;
  svdppEpochs: number;
  svdpp: boolean;
  train: boolean;
  dir: string | undefined;
}

const CLI = {
  name: 'sgd-bench',
  description:
    'svd (sgd) and svdpp seconds per epoch beside LibMF\'s mf-train on the same ratings (alternating, fresh processes), their ratios, and the peak RSS per rating of `recsys train`. ' +
    'Prints one JSON document on stdout; progress on stderr.',
  options: {
    snapshot: { type: 'string', value: 'FILE', description: 'ratings to train on (default: generate --ratings/--users/--movies)' },
    ratings: { type: 'string', value: 'N', default: '10000000', description: 'generated ratings (without --snapshot)' },
    users: { type: 'string', value: 'N', default: '200000', description: 'generated users' },
    movies: { type: 'string', value: 'N', default: '17770', description: 'generated movies' },
    factors: { type: 'string', value: 'K', default: '100', description: 'factors of svd and LibMF' },
    epochs: { type: 'string', value: 'N', default: '3', description: 'epochs (iterations) per run' },
    threads: { type: 'string', value: 'LIST', default: '1,2', description: 'thread counts compared with LibMF' },
    pairs: { type: 'string', value: 'N', default: '3', description: 'ours/LibMF pairs per thread count' },
    lr: { type: 'string', value: 'LR', default: '0.01', description: 'learning rate (both)' },
    reg: { type: 'string', value: 'REG', default: '0.05', description: 'L2 regularisation (both)' },
    'svdpp-threads': { type: 'string', value: 'T', default: '2', description: 'threads of the svdpp run' },
    'svdpp-factors': { type: 'string', value: 'K', default: '100', description: 'factors of the svdpp run (and its svd beside it)' },
    'svdpp-epochs': { type: 'string', value: 'N', default: '2', description: 'epochs of the svdpp run' },
    'no-svdpp': { type: 'boolean', description: 'skip svdpp' },
    'no-train': { type: 'boolean', description: 'skip the `recsys train` memory run' },
    dir: { type: 'string', value: 'DIR', description: 'folder for generated files (default: a temporary folder, removed)' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    snapshot: v.snapshot,
    ratings: intValue('ratings', v.ratings, 1),
    users: intValue('users', v.users, 1),
    movies: intValue('movies', v.movies, 1),
    factors: intValue('factors', v.factors, 1),
    epochs: intValue('epochs', v.epochs, 1),
    threads: intListValue('threads', v.threads),
    pairs: intValue('pairs', v.pairs, 1),
    lr: numberValue('lr', v.lr),
    reg: numberValue('reg', v.reg),
    svdppThreads: intValue('svdpp-threads', v['svdpp-threads'], 1),
    svdppFactors: intValue('svdpp-factors', v['svdpp-factors'], 1),
    svdppEpochs: intValue('svdpp-epochs', v['svdpp-epochs'], 1),
    svdpp: !v['no-svdpp'],
    train: !v['no-train'],
    dir: v.dir,
  };
}

const log = (message: string): void => void process.stderr.write(`${message}\n`);
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The epochs that count: all but the first when there are more than two (its first call runs V8's baseline code). */
function steady(seconds: number[]): number[] {
  return seconds.length > 2 ? seconds.slice(1) : seconds;
}

/** One fit in a fresh process (netflix-bench-child.ts's `fit` job: per-epoch wall and CPU seconds, peak RSS). */
function runFit(job: { snapshot: string; kind: 'svd' | 'svdpp'; params: Record<string, unknown> }): Promise<FitResult> {
  return runChild<FitResult>({ job: 'fit', ...job });
}

// ---------------------------------------------------------------------------------------------
// `recsys train` under /usr/bin/time.

function trainPeak(snapshot: string, out: string, a: Args, threads: number): { peakRssBytes: number; seconds: number; artifactWritten: boolean } | { skipped: string } {
  const cli = resolve(__dirname, '..', '..', '..', 'apps', 'cli', 'dist', 'main.js');
  if (!existsSync('/usr/bin/time')) return { skipped: '/usr/bin/time is missing' };
  const t = performance.now();
  const run = spawnSync(
    '/usr/bin/time',
    ['-f', 'maxrss %M', process.execPath, cli, 'train', '--data', snapshot, '--model', 'svd', '--factors', String(a.factors), '--epochs', '1', '--threads', String(threads), '--lr', String(a.lr), '--reg', String(a.reg), '--out', out, '--json'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - t) / 1000;
  const match = /maxrss (\d+)/.exec(run.stderr ?? '');
  // Exit 1 with "does not beat" is the guard refusing a one-epoch model after the whole path ran
  // (split, fit, check): the memory figure stands; the artifact is then not written.
  const rejected = run.status === 1 && /does not beat/.test(run.stderr ?? '');
  if ((run.status !== 0 && !rejected) || !match) throw new Error(`recsys train failed (${run.status}): ${(run.stderr ?? '').slice(-2000)}`);
  return { peakRssBytes: Number(match[1]) * 1024, seconds, artifactWritten: !rejected };
}

// ---------------------------------------------------------------------------------------------
// Parent.

async function parent(a: Args): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  const dir = a.dir ?? mkdtempSync(join(tmpdir(), 'sgd-bench-'));
  try {
    let snapshot = a.snapshot;
    if (snapshot === undefined) {
      snapshot = join(dir, 'ratings.snap');
      log(`generating ${a.ratings} ratings …`);
      const data = generateSynthetic({ ratings: a.ratings, users: a.users, movies: a.movies, seed: 42, withDates: false });
      writeSnapshot(snapshot, { matrix: buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, catalog: new MovieCatalog() });
    }
    let matrix: RatingMatrix | null = readSnapshot(snapshot).matrix;
    const data = { snapshot, ratings: matrix.nRatings, users: matrix.nUsers, movies: matrix.nMovies, snapshotBytes: statSync(snapshot).size };
    const LIBMF_DIR = libmfDir(resolve(__dirname, '..', '..', '..'));
    const libmfPresent = LIBMF_DIR !== null;
    const text = join(dir, 'libmf-train.txt');
    // A text input newer than the snapshot in --dir is reused (writing 100M lines takes minutes).
    if (libmfPresent && !(existsSync(text) && statSync(text).mtimeMs > statSync(snapshot).mtimeMs)) {
      log(`writing LibMF's text input ${text} …`);
      writeLibmfText(matrix, text);
    }
    matrix = null;
    gc();

    const hyper = { lr: a.lr, lrBias: a.lr, reg: a.reg, regBias: a.reg, initStd: 0.1, seed: 42 };
    const svdJob = (threads: number, factors = a.factors, epochs = a.epochs): { snapshot: string; kind: 'svd'; params: Record<string, unknown> } => ({
      snapshot: snapshot!,
      kind: 'svd',
      params: { ...hyper, solver: 'sgd', factors, epochs, threads },
    });

    const svd: Record<string, unknown>[] = [];
    for (const threads of a.threads) {
      const ours: number[] = [];
      const theirs: number[] = [];
      const ratios: number[] = [];
      const cpuRatios: number[] = [];
      const runs: Record<string, unknown>[] = [];
      for (let pair = 0; pair < a.pairs; pair++) {
        const r = await runFit(svdJob(threads));
        const mine = median(steady(r.secondsPerEpoch));
        ours.push(mine);
        const run: Record<string, unknown> = { secondsPerEpoch: r.secondsPerEpoch.map((s) => round(s)), cpuSecondsPerEpoch: r.cpuSecondsPerEpoch.map((s) => round(s)), trainRmse: r.trainRmse.map((x) => round(x, 4)), load1: round(loadavg()[0], 2) };
        if (libmfPresent) {
          const l = await runLibmf(LIBMF_DIR!, text, join(dir, 'libmf.model'), { threads, factors: a.factors, iterations: a.epochs + 1, reg: a.reg, lr: a.lr });
          log(`  libmf ${threads} threads: ${l.secondsPerIteration.map((g) => g.toFixed(3)).join(', ')} s per iteration (CPU ${l.cpuSecondsPerIteration.map((g) => g.toFixed(2)).join(', ')})`);
          const their = median(l.secondsPerIteration.slice(1));
          theirs.push(their);
          ratios.push(mine / their);
          run.libmfSecondsPerIteration = l.secondsPerIteration.map((s) => round(s));
          run.libmfCpuSecondsPerIteration = l.cpuSecondsPerIteration.map((s) => round(s, 2));
          cpuRatios.push(median(steady(r.cpuSecondsPerEpoch)) / median(l.cpuSecondsPerIteration.slice(1)));
          run.cpuRatio = round(cpuRatios[cpuRatios.length - 1]);
          run.ratio = round(mine / their);
        }
        log(`svd ${threads} threads pair ${pair + 1}: ours ${mine.toFixed(3)} s${libmfPresent ? `, LibMF ${theirs[theirs.length - 1].toFixed(3)} s, ratio ${ratios[ratios.length - 1].toFixed(3)} (CPU ${cpuRatios[cpuRatios.length - 1].toFixed(3)})` : ''}`);
        runs.push(run);
      }
      svd.push({
        threads,
        secondsPerEpoch: round(median(ours)),
        libmfSecondsPerIteration: libmfPresent ? round(median(theirs)) : undefined,
        ratioMedian: libmfPresent ? round(median(ratios)) : undefined,
        cpuRatioMedian: libmfPresent ? round(median(cpuRatios)) : undefined,
        target: '≤ 1.0',
        meetsTarget: libmfPresent ? median(ratios) <= 1 : undefined,
        runs,
      });
    }

    let svdpp: Record<string, unknown> = { skipped: 'disabled by --no-svdpp' };
    if (a.svdpp) {
      const T = a.svdppThreads;
      const k = a.svdppFactors;
      const pp = await runFit({ snapshot, kind: 'svdpp', params: { factors: k, epochs: a.svdppEpochs, threads: T, lr: 0.007, reg: 0.02, initStd: 0.1, seed: 42 } });
      const plain = await runFit(svdJob(T, k, a.svdppEpochs));
      const ppSeconds = median(steady(pp.secondsPerEpoch));
      const svdSeconds = median(steady(plain.secondsPerEpoch));
      log(`svdpp ${T} threads: ${ppSeconds.toFixed(3)} s per epoch, svd ${svdSeconds.toFixed(3)}, ratio ${(ppSeconds / svdSeconds).toFixed(2)}`);
      svdpp = {
        threads: T,
        factors: k,
        secondsPerEpoch: pp.secondsPerEpoch.map((s) => round(s)),
        trainRmse: pp.trainRmse.map((x) => round(x, 4)),
        svdSecondsPerEpoch: plain.secondsPerEpoch.map((s) => round(s)),
        ratioToSvd: round(ppSeconds / svdSeconds),
        target: '≤ 3',
        meetsTarget: ppSeconds / svdSeconds <= 3,
        peakRssBytesPerRating: round(pp.peakRss / pp.ratings, 1),
      };
    }

    let train: Record<string, unknown> = { skipped: 'disabled by --no-train' };
    if (a.train) {
      const T = Math.max(...a.threads);
      log(`recsys train (svd, ${a.factors} factors, 1 epoch, ${T} threads) under /usr/bin/time …`);
      const r = trainPeak(snapshot, join(dir, 'model.rma'), a, T);
      train =
        'skipped' in r
          ? r
          : { command: 'recsys train --model svd --epochs 1', threads: T, seconds: round(r.seconds, 1), artifactWritten: r.artifactWritten, peakRssBytes: r.peakRssBytes, peakBytesPerRating: round(r.peakRssBytes / data.ratings, 1), target: '≤ 20', meetsTarget: r.peakRssBytes / data.ratings <= 20 };
    }

    const result = {
      benchmark: 'sgd',
      machine: { cpu: cpus()[0]?.model ?? 'unknown', parallelism: availableParallelism(), node: process.version, loadAverageAtStart: loadAtStart.map((x) => round(x, 2)) },
      data,
      factors: a.factors,
      epochsPerRun: a.epochs,
      hyper: { lr: a.lr, reg: a.reg },
      libmf: LIBMF_DIR !== null ? { binary: join(LIBMF_DIR, 'mf-train'), note: 'seconds between its iteration lines, the first gap excluded' } : { skipped: 'no mf-train in $LIBMF_DIR or ../shared/reference/libmf' },
      svd,
      svdpp,
      train,
      totalSeconds: round((performance.now() - started) / 1000, 1),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (a.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  parent(readBenchArgs(CLI, argsFrom)).catch((error: unknown) => {
    process.stderr.write(`sgd-bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
