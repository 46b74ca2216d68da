/**
 * SVD benchmark: `SvdModel` (the product's model) with the SIMD SGD kernel at 1 and 2 threads and
 * with ALS, on synthetic Netflix-shaped data: seconds per epoch (iteration), test RMSE after the
 * fit against the generator's noise floor, and resident memory per training rating. Prints ONE
 * JSON document on stdout; progress on stderr.
 *
 *   node tools/build-wasm.js && npx tsc -b tools && node --expose-gc tools/dist/bench/svd-bench.js
 *     [--ratings 10000000] [--users 200000] [--movies 17770] [--seed 42] [--factors 100]
 *     [--epochs 20] [--threads 1,2] [--lr 0.01] [--reg 0.05] [--lr-bias LR] [--reg-bias REG]
 *     [--als-iterations 3] [--als-factors 100] [--als-threads 1,2] [--no-als] [--no-sgd]
 *     [--dir DIR] [--keep-files]
 *
 * The parent process generates the data (`generateSynthetic`, no dates), holds out 10 %
 * (`holdoutSplit`) and writes the training matrix as a snapshot (`writeSnapshot`, empty catalog)
 * and the test list as a small binary file into a temporary folder, once. Every configuration
 * (sgd × --threads, als × --als-threads) then runs in a fresh child process (this script with
 * `--child JOB`, under --expose-gc): it reads both files, fits `SvdModel`, and reports its own
 * memory, so nothing of the generator, the split or an earlier run is counted:
 *
 * - `baselineRss`: RSS at the child's start (Node and the loaded libraries, after a GC), reported,
 *   not subtracted;
 * - `dataRss`: after reading the training snapshot and the test list;
 * - `afterLastEpochRss`: when the last epoch ends (training matrix, test list, the trainer's memory);
 * - `peakRss`: `process.resourceUsage().maxRSS`, the high-water mark of the whole fit (trainer
 *   memory while the fitted factors are copied out of it into the model);
 * - `endRss`: after the fit and a GC, with the fitted model held (its factors, biases and the
 *   training matrix it references) and the test list.
 * Each is also given per training rating; the issue's target is ≤ 30 bytes per training rating
 * resident with the model included (`endRss`).
 *
 * SGD: lr 0.01, reg 0.05 for factors and biases alike (best of a few measured settings on this
 * data: test RMSE 0.817; Surprise's lr 0.005, reg 0.02 give 0.828), initStd 0.1. ALS
 * (`solver: 'als'`): reg 12, regBias 5, 1 warm-started Jacobi-preconditioned CG step per row (the model's defaults
 * apart from k and the iterations); its seconds per iteration include the training-RMSE pass.
 * Seconds are wall time per epoch from the model's progress; CPU seconds are of all threads of the
 * child (epoch 1's include the trainer's setup); the 1-minute load average shows how much other
 * work on the machine inflated them. Memory figures do not depend on the load.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildRatingMatrix, generateSynthetic, holdoutSplit, MovieCatalog, RatingMatrix, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { SvdParams } from '@recsys/models';
import { BenchCli, BenchOption, BenchValues, intListValue, intValue, numberValue, readBenchArgs } from './bench-args';
import { child, ChildJob, ChildResult, gc } from './svd-bench-child';
import { writeRatingList } from './rating-list-file';

export interface Args {
  ratings: number;
  users: number;
  movies: number;
  seed: number;
  factors: number;
  epochs: number;
  threads: number[];
  lr: number;
  reg: number;
  lrBias: number | undefined;
  regBias: number | undefined;
  alsIterations: number;
  alsFactors: number;
  alsThreads: number[];
  als: boolean;
  sgd: boolean;
  dir: string | undefined;
  keepFiles: boolean;
}

export const CLI = {
  name: 'svd-bench',
  description:
    'SvdModel with the SIMD SGD kernel and with ALS on synthetic Netflix-shaped data, each configuration in a fresh child process: ' +
    'seconds per epoch, test RMSE against the noise floor, resident memory per training rating. Prints one JSON document on stdout; progress on stderr.',
  options: {
    ratings: { type: 'string', value: 'N', default: '10000000', description: 'synthetic ratings (90 % train, 10 % test)' },
    users: { type: 'string', value: 'N', default: '200000', description: 'users of the generator' },
    movies: { type: 'string', value: 'N', default: '17770', description: 'movies of the generator' },
    seed: { type: 'string', value: 'N', default: '42', description: 'seed of the data, the split and the initial factors' },
    factors: { type: 'string', value: 'K', default: '100', description: 'factors of the SGD runs' },
    epochs: { type: 'string', value: 'N', default: '20', description: 'SGD epochs' },
    threads: { type: 'string', value: 'LIST', default: '1,2', description: 'thread counts of the SGD runs' },
    lr: { type: 'string', value: 'LR', default: '0.01', description: 'SGD learning rate of the factors' },
    reg: { type: 'string', value: 'REG', default: '0.05', description: 'SGD regularisation of the factors' },
    'lr-bias': { type: 'string', value: 'LR', description: 'SGD learning rate of the biases (default: --lr)' },
    'reg-bias': { type: 'string', value: 'REG', description: 'SGD regularisation of the biases (default: --reg)' },
    'als-iterations': { type: 'string', value: 'N', default: '3', description: 'ALS iterations' },
    'als-factors': { type: 'string', value: 'K', default: '100', description: 'factors of the ALS runs' },
    'als-threads': { type: 'string', value: 'LIST', default: '1,2', description: 'thread counts of the ALS runs' },
    'no-als': { type: 'boolean', description: 'skip the ALS runs' },
    'no-sgd': { type: 'boolean', description: 'skip the SGD runs' },
    dir: { type: 'string', value: 'DIR', description: 'folder for the snapshot and the test list (default: a temporary folder)' },
    'keep-files': { type: 'boolean', description: 'keep the snapshot and the test list' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    ratings: intValue('ratings', v.ratings, 1),
    users: intValue('users', v.users, 1),
    movies: intValue('movies', v.movies, 1),
    seed: intValue('seed', v.seed),
    factors: intValue('factors', v.factors, 1),
    epochs: intValue('epochs', v.epochs, 1),
    threads: intListValue('threads', v.threads),
    lr: numberValue('lr', v.lr),
    reg: numberValue('reg', v.reg),
    lrBias: v['lr-bias'] === undefined ? undefined : numberValue('lr-bias', v['lr-bias']),
    regBias: v['reg-bias'] === undefined ? undefined : numberValue('reg-bias', v['reg-bias']),
    alsIterations: intValue('als-iterations', v['als-iterations'], 1),
    alsFactors: intValue('als-factors', v['als-factors'], 1),
    alsThreads: intListValue('als-threads', v['als-threads']),
    als: !v['no-als'],
    sgd: !v['no-sgd'],
    dir: v.dir,
    keepFiles: v['keep-files'],
  };
}


const log = (message: string): void => void process.stderr.write(`${message}\n`);
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number): number => round(bytes / 2 ** 20, 1);

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function runChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(__filename, ['--child', JSON.stringify(job)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | null = null;
    let failure: string | null = null;
    proc.on('message', (message: { type: 'result'; result: ChildResult } | { type: 'error'; message: string }) => {
      if (message.type === 'result') result = message.result;
      else failure = message.message;
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (result !== null && code === 0) resolve(result);
      else reject(new Error(`svd-bench child (${job.params.solver}, ${job.params.threads} threads) failed: ${failure ?? `exit code ${code}, signal ${signal}`}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Parent.

function perRating(bytes: number, ratings: number): number {
  return round(bytes / ratings, 1);
}

function summarise(r: ChildResult, noiseFloorRmse: number): Record<string, unknown> {
  const m = r.memory;
  const n = r.trainRatings;
  const epochSeconds = r.secondsPerEpoch.reduce((a, b) => a + b, 0);
  return {
    threads: r.threads,
    wasmKernel: r.wasmKernel,
    secondsPerEpochMedian: round(median(r.secondsPerEpoch), 3),
    secondsPerEpochMean: round(epochSeconds / Math.max(1, r.secondsPerEpoch.length), 3),
    secondsPerEpoch: r.secondsPerEpoch.map((s) => round(s, 3)),
    cpuSecondsPerEpochMedian: round(median(r.cpuSecondsPerEpoch), 3),
    setupAndCopySeconds: round(r.fitSeconds - epochSeconds, 3),
    fitSeconds: round(r.fitSeconds, 2),
    loadAverageBeforeAfter: r.loadAverageBeforeAfter.map((x) => round(x, 2)),
    trainRmse: r.trainRmse.length <= 5 ? r.trainRmse.map((x) => round(x)) : undefined,
    trainRmseLast: round(r.trainRmse[r.trainRmse.length - 1]),
    testRmse: round(r.testRmse),
    testRmseOverNoiseFloor: round(r.testRmse - noiseFloorRmse),
    memory: {
      baselineRssBytes: m.baselineRss,
      dataRssBytes: m.dataRss,
      afterLastEpochRssBytes: m.afterLastEpochRss,
      peakRssBytes: m.peakRss,
      endRssBytes: m.endRss,
      baselineBytesPerTrainingRating: perRating(m.baselineRss, n),
      dataBytesPerTrainingRating: perRating(m.dataRss, n),
      afterLastEpochBytesPerTrainingRating: perRating(m.afterLastEpochRss, n),
      peakBytesPerTrainingRating: perRating(m.peakRss, n),
      endBytesPerTrainingRating: perRating(m.endRss, n),
      accountedEndBytes: m.trainMatrixBytes + m.testListBytes + m.modelBytes,
      gcExposed: m.gcExposed,
    },
  };
}

async function parent(args: Args): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  log(`generating ${args.ratings} ratings (${args.users} users, ${args.movies} movies, seed ${args.seed}) …`);
  let t = performance.now();
  let data: ReturnType<typeof generateSynthetic> | null = generateSynthetic({ ratings: args.ratings, users: args.users, movies: args.movies, seed: args.seed, withDates: false });
  const generateSeconds = (performance.now() - t) / 1000;
  const { noiseFloorRmse, plantedScoreRmse } = data;
  t = performance.now();
  let full: RatingMatrix | null = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
  data = null;
  let split: ReturnType<typeof holdoutSplit> | null = holdoutSplit(full, { testFraction: 0.1, seed: args.seed });
  full = null;
  const splitSeconds = (performance.now() - t) / 1000;

  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'svd-bench-'));
  const trainPath = join(dir, 'train.snapshot');
  const testPath = join(dir, 'test.list');
  t = performance.now();
  writeSnapshot(trainPath, { matrix: split.train, catalog: new MovieCatalog() });
  writeRatingList(testPath, split.test);
  const writeSeconds = (performance.now() - t) / 1000;
  const trainMatrixBytes = split.train.byteLength;
  const trainSnapshotBytes = statSync(trainPath).size;
  log(`train ${split.train.nRatings} ratings (${split.train.nUsers} users × ${split.train.nMovies} movies, ${mib(trainMatrixBytes)} MiB), test ${split.test.length}; files in ${dir}`);
  split = null;
  gc();

  const common = { seed: args.seed, initStd: 0.1 };
  const sgdParams = (threads: number): Partial<SvdParams> => ({
    ...common,
    solver: 'sgd',
    factors: args.factors,
    epochs: args.epochs,
    lr: args.lr,
    lrBias: args.lrBias ?? args.lr,
    reg: args.reg,
    regBias: args.regBias ?? args.reg,
    threads,
  });
  const alsParams = (threads: number): Partial<SvdParams> => ({ ...common, solver: 'als', factors: args.alsFactors, epochs: args.alsIterations, reg: 12, regBias: 5, threads });
  const sgdRuns: ChildResult[] = [];
  const alsRuns: ChildResult[] = [];
  try {
    for (const threads of args.sgd ? args.threads : []) {
      const r = await runChild({ trainPath, testPath, params: sgdParams(threads) });
      log(`sgd threads ${threads}: median ${median(r.secondsPerEpoch).toFixed(3)} s/epoch, test RMSE ${r.testRmse.toFixed(4)} (noise floor ${noiseFloorRmse.toFixed(4)}), peak ${mib(r.memory.peakRss)} MiB, end ${mib(r.memory.endRss)} MiB (${(r.memory.endRss / r.trainRatings).toFixed(1)} B/rating)`);
      sgdRuns.push(r);
    }
    for (const threads of args.als ? args.alsThreads : []) {
      const r = await runChild({ trainPath, testPath, params: alsParams(threads) });
      log(`als threads ${threads}: median ${median(r.secondsPerEpoch).toFixed(2)} s/iteration, test RMSE ${r.testRmse.toFixed(4)}, peak ${mib(r.memory.peakRss)} MiB, end ${mib(r.memory.endRss)} MiB (${(r.memory.endRss / r.trainRatings).toFixed(1)} B/rating)`);
      alsRuns.push(r);
    }
  } finally {
    if (!args.keepFiles && args.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }

  const first = sgdRuns[0] ?? alsRuns[0];
  const all = [...sgdRuns, ...alsRuns];
  const worstEnd = Math.max(...all.map((r) => r.memory.endRss / r.trainRatings));
  const worstPeak = Math.max(...all.map((r) => r.memory.peakRss / r.trainRatings));
  const sgdHyper = sgdParams(1);
  const result = {
    benchmark: 'svd',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', parallelism: availableParallelism(), totalMemoryBytes: totalmem(), node: process.version, loadAverageAtStart: loadAtStart.map((x) => round(x, 2)) },
    data: {
      ratings: args.ratings,
      users: args.users,
      movies: args.movies,
      seed: args.seed,
      trainRatings: first?.trainRatings,
      testRatings: first?.testRatings,
      trainUsers: first?.trainUsers,
      trainMovies: first?.trainMovies,
      trainMatrixBytes,
      trainSnapshotBytes,
      generateSeconds: round(generateSeconds, 2),
      splitSeconds: round(splitSeconds, 2),
      writeFilesSeconds: round(writeSeconds, 2),
      noiseFloorRmse: round(noiseFloorRmse),
      plantedScoreRmse: round(plantedScoreRmse),
    },
    sgd: {
      model: 'SvdModel solver sgd',
      factors: args.factors,
      epochs: args.epochs,
      hyper: { lr: sgdHyper.lr, reg: sgdHyper.reg, lrBias: sgdHyper.lrBias, regBias: sgdHyper.regBias, initStd: 0.1 },
      runs: sgdRuns.map((r) => summarise(r, noiseFloorRmse)),
      targets: { secondsPerEpoch1Thread: 0.8, secondsPerEpoch2Threads: 0.5 },
    },
    als: args.als
      ? { model: 'SvdModel solver als', factors: args.alsFactors, iterations: args.alsIterations, reg: 12, regBias: 5, runs: alsRuns.map((r) => summarise(r, noiseFloorRmse)) }
      : { skipped: 'disabled by --no-als' },
    memory: {
      worstEndBytesPerTrainingRating: all.length ? round(worstEnd, 1) : undefined,
      worstPeakBytesPerTrainingRating: all.length ? round(worstPeak, 1) : undefined,
      targetBytesPerTrainingRating: 30,
      meetsTarget: all.length ? worstEnd <= 30 : undefined,
      note:
        'each run is a fresh child process that reads the training snapshot and the test list the parent wrote; ' +
        'end = RSS after the fit and a GC with the fitted model held (factors, biases, the training matrix it references) and the test list; ' +
        'peak = the child\'s maxRSS (the trainer\'s memory while the fitted factors are copied into the model); ' +
        'baseline = the child\'s RSS at start (Node and the libraries), included in every figure, not subtracted',
    },
    totalSeconds: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

const argv = process.argv.slice(2);
if (require.main !== module) {
  // Imported (by the specs of the options): run nothing.
} else if (argv[0] === '--child') {
  const job = JSON.parse(argv[1] ?? '{}') as ChildJob;
  child(job).then(
    (result) => process.send!({ type: 'result', result }, () => process.exit(0)),
    (error: unknown) => {
      const message = (error as Error).stack ?? String(error);
      process.stderr.write(`svd-bench child: ${message}\n`);
      if (process.send) process.send({ type: 'error', message }, () => process.exit(1));
      else process.exit(1);
    },
  );
} else {
  parent(readBenchArgs(CLI, argsFrom, argv)).catch((error: unknown) => {
    process.stderr.write(`svd-bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
