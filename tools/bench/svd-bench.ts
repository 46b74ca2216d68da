/**
 * SVD benchmark: the SIMD SGD kernel's seconds per epoch at 1 and 2 threads, test RMSE after 20
 * epochs against the generator's noise floor, ALS seconds per iteration, peak and resident
 * memory, on synthetic Netflix-shaped data. Prints ONE JSON document on stdout; progress on stderr.
 *
 *   node tools/build-wasm.js && npx tsc -b tools && node --expose-gc tools/dist/bench/svd-bench.js
 *     [--ratings 10000000] [--users 200000] [--movies 17770] [--seed 42] [--factors 100]
 *     [--epochs 20] [--threads 1,2] [--lr 0.01] [--reg 0.05] [--lr-bias LR] [--reg-bias REG]
 *     [--als-iterations 3] [--als-factors 100] [--als-threads 1,2] [--als-cg-steps 3] [--no-als] [--no-sgd]
 *
 * Data: `generateSynthetic` (no dates), 10 % held out by `holdoutSplit`. Every thread count
 * trains its own model from the same seed for all epochs; "resident" is the process RSS right
 * after the last epoch (the training matrix, the held-out list and the trainer's memory with the
 * factors alive), divided by the training ratings. lr 0.01, reg 0.05 (biases alike) were the best of
 * a few measured settings here (test RMSE 0.817; Surprise's lr 0.005, reg 0.02 give 0.828).
 * Seconds are wall time per epoch; `cpuSecondsPerEpochMedian` (all threads of the process) and
 * the 1-minute load average show how much other work on the machine inflated them.
 *
 * ALS (`createAlsTrainer`, the trainer behind `svd --solver als`; reg 12, regBias 5 as its
 * defaults): for each of --als-threads a trainer from the same seed runs --als-iterations
 * iterations; per iteration wall and CPU seconds (the training RMSE is computed inside the
 * movie half step, so it is included), then the test RMSE of the final state.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { buildRatingMatrix, generateSynthetic, holdoutSplit, RatingList, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createAlsTrainer, createSgdTrainer, initialFactors, SgdTrainerState } from '@recsys/models';

interface Args {
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
  alsCgSteps: number;
  als: boolean;
  sgd: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    ratings: 10_000_000,
    users: 200_000,
    movies: 17_770,
    seed: 42,
    factors: 100,
    epochs: 20,
    threads: [1, 2],
    lr: 0.01,
    reg: 0.05,
    lrBias: undefined,
    regBias: undefined,
    alsIterations: 3,
    alsFactors: 100,
    alsThreads: [1, 2],
    alsCgSteps: 3,
    als: true,
    sgd: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-als') {
      args.als = false;
      continue;
    }
    if (flag === '--no-sgd') {
      args.sgd = false;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`svd-bench: ${flag} needs a value`);
    const num = (): number => {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`svd-bench: ${flag} must be a number, got ${value}`);
      return n;
    };
    switch (flag) {
      case '--ratings': args.ratings = num(); break;
      case '--users': args.users = num(); break;
      case '--movies': args.movies = num(); break;
      case '--seed': args.seed = num(); break;
      case '--factors': args.factors = num(); break;
      case '--epochs': args.epochs = num(); break;
      case '--threads': args.threads = value.split(',').map(Number); break;
      case '--lr': args.lr = num(); break;
      case '--reg': args.reg = num(); break;
      case '--lr-bias': args.lrBias = num(); break;
      case '--reg-bias': args.regBias = num(); break;
      case '--als-iterations': args.alsIterations = num(); break;
      case '--als-factors': args.alsFactors = num(); break;
      case '--als-threads': args.alsThreads = value.split(',').map(Number); break;
      case '--als-cg-steps': args.alsCgSteps = num(); break;
      default: throw new Error(`svd-bench: unknown flag ${flag}`);
    }
  }
  return args;
}

const log = (message: string): void => void process.stderr.write(`${message}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** RMSE of clipped predictions μ + b_u + b_i + p_u·q_i on held-out ratings (unknown ids: the known terms only). */
function testRmse(train: RatingMatrix, state: SgdTrainerState, test: RatingList, k: number): number {
  let sse = 0;
  for (let j = 0; j < test.length; j++) {
    const u = train.users.indexOf(test.users[j]);
    const m = train.movies.indexOf(test.movies[j]);
    let prediction = state.globalMean;
    if (u >= 0) prediction += state.userBias[u];
    if (m >= 0) prediction += state.movieBias[m];
    if (u >= 0 && m >= 0) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += state.userFactors[u * k + f] * state.movieFactors[m * k + f];
      prediction += dot;
    }
    const e = test.ratings[j] * 0.5 - Math.min(5, Math.max(1, prediction));
    sse += e * e;
  }
  return Math.sqrt(sse / test.length);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  log(`generating ${args.ratings} ratings (${args.users} users, ${args.movies} movies, seed ${args.seed}) …`);
  let t = performance.now();
  let data: ReturnType<typeof generateSynthetic> | null = generateSynthetic({
    ratings: args.ratings,
    users: args.users,
    movies: args.movies,
    seed: args.seed,
    withDates: false,
  });
  const generateSeconds = (performance.now() - t) / 1000;
  const noiseFloorRmse = data.noiseFloorRmse;
  const plantedScoreRmse = data.plantedScoreRmse;
  t = performance.now();
  let full: RatingMatrix | null = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
  data = null;
  const split = holdoutSplit(full, { testFraction: 0.1, seed: args.seed });
  full = null;
  const train = split.train;
  const test = split.test;
  const splitSeconds = (performance.now() - t) / 1000;
  gc();
  const rssData = process.memoryUsage().rss;
  log(`train ${train.nRatings} ratings (${train.nUsers} users × ${train.nMovies} movies), test ${test.length}; RSS ${mib(rssData)} MiB`);

  const hyper = { lr: args.lr, reg: args.reg, lrBias: args.lrBias, regBias: args.regBias };
  const sgd: Array<Record<string, unknown>> = [];
  let residentTraining = 0;
  let trainerBytes = 0;
  for (const threads of args.sgd ? args.threads : []) {
    t = performance.now();
    const trainer = await createSgdTrainer(train, { factors: args.factors, threads, seed: args.seed });
    const setupSeconds = (performance.now() - t) / 1000;
    trainerBytes = trainer.memoryBytes;
    const seconds: number[] = [];
    const cpuSeconds: number[] = [];
    const trainRmse: number[] = [];
    const loadBefore = loadavg()[0];
    for (let e = 0; e < args.epochs; e++) {
      const cpu = process.cpuUsage();
      const r = await trainer.epoch(hyper);
      const used = process.cpuUsage(cpu);
      cpuSeconds.push((used.user + used.system) / 1e6);
      seconds.push(r.seconds);
      trainRmse.push(r.trainRmse);
      log(`  sgd threads ${threads} epoch ${e + 1}/${args.epochs}: ${r.seconds.toFixed(3)} s, train RMSE ${r.trainRmse.toFixed(4)}`);
    }
    gc();
    const rss = process.memoryUsage().rss;
    residentTraining = Math.max(residentTraining, rss);
    const state = trainer.state();
    await trainer.dispose();
    const rmse = testRmse(train, state, test, args.factors);
    log(`sgd threads ${threads}: median ${median(seconds).toFixed(3)} s/epoch, test RMSE ${rmse.toFixed(4)} (noise floor ${noiseFloorRmse.toFixed(4)})`);
    sgd.push({
      threads,
      blocks: trainer.blocks,
      setupSeconds: round(setupSeconds, 3),
      secondsPerEpochMedian: round(median(seconds), 3),
      secondsPerEpochMean: round(seconds.reduce((a, b) => a + b, 0) / seconds.length, 3),
      secondsPerEpoch: seconds.map((s) => round(s, 3)),
      cpuSecondsPerEpochMedian: round(median(cpuSeconds), 3),
      loadAverageBeforeAfter: [round(loadBefore, 2), round(loadavg()[0], 2)],
      trainRmseLastEpoch: round(trainRmse[trainRmse.length - 1]),
      testRmse: round(rmse),
      testRmseOverNoiseFloor: round(rmse - noiseFloorRmse),
      residentBytesAfterTraining: rss,
    });
  }

  let als: Record<string, unknown>;
  if (!args.als) als = { skipped: 'disabled by --no-als' };
  else {
    const runs: Array<Record<string, unknown>> = [];
    const k = args.alsFactors;
    for (const threads of args.alsThreads) {
      const { P, Q } = initialFactors(train.nUsers, train.nMovies, k, args.seed, 0.1, 0);
      t = performance.now();
      const trainer = await createAlsTrainer(train, { factors: k, reg: 12, regBias: 5, threads, cgSteps: args.alsCgSteps, userFactors: P, movieFactors: Q });
      const setupSeconds = (performance.now() - t) / 1000;
      const seconds: number[] = [];
      const cpuSeconds: number[] = [];
      const trainRmse: number[] = [];
      const loadBefore = loadavg()[0];
      try {
        for (let i = 0; i < args.alsIterations; i++) {
          const cpu = process.cpuUsage();
          t = performance.now();
          trainRmse.push(await trainer.iteration());
          seconds.push((performance.now() - t) / 1000);
          const used = process.cpuUsage(cpu);
          cpuSeconds.push((used.user + used.system) / 1e6);
          log(`  als threads ${threads} iteration ${i + 1}/${args.alsIterations}: ${seconds[i].toFixed(2)} s (CPU ${cpuSeconds[i].toFixed(2)} s), train RMSE ${trainRmse[i].toFixed(4)}`);
        }
        const loadAfter = loadavg()[0];
        const s = trainer.state();
        const rmse = testRmse(train, { globalMean: train.globalMean(), userBias: Float32Array.from(s.userBias), movieBias: Float32Array.from(s.movieBias), userFactors: s.userFactors, movieFactors: s.movieFactors }, test, k);
        runs.push({
          threads,
          solver: trainer.solver,
          wasm: trainer.wasm,
          setupSeconds: round(setupSeconds, 3),
          secondsPerIteration: seconds.map((x) => round(x, 3)),
          secondsPerIterationMedian: round(median(seconds), 3),
          cpuSecondsPerIteration: cpuSeconds.map((x) => round(x, 3)),
          cpuSecondsPerIterationMedian: round(median(cpuSeconds), 3),
          loadAverageBeforeAfter: [round(loadBefore, 2), round(loadAfter, 2)],
          trainRmse: trainRmse.map((x) => round(x)),
          testRmse: round(rmse),
          memoryBytes: trainer.memoryBytes,
        });
      } finally {
        await trainer.dispose();
      }
    }
    als = {
      factors: k,
      iterations: args.alsIterations,
      reg: 12,
      regBias: 5,
      cgSteps: args.alsCgSteps,
      runs,
      note: 'seconds per iteration include the training-RMSE pass (fused into the movie half step); CPU seconds are of all threads of the process',
    };
  }

  const peak = process.resourceUsage().maxRSS * 1024;
  const result = {
    benchmark: 'svd',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', parallelism: availableParallelism(), totalMemoryBytes: totalmem(), node: process.version },
    data: {
      ratings: args.ratings,
      users: args.users,
      movies: args.movies,
      seed: args.seed,
      trainRatings: train.nRatings,
      testRatings: test.length,
      trainUsers: train.nUsers,
      trainMovies: train.nMovies,
      generateSeconds: round(generateSeconds, 2),
      splitSeconds: round(splitSeconds, 2),
      noiseFloorRmse: round(noiseFloorRmse),
      plantedScoreRmse: round(plantedScoreRmse),
    },
    sgd: {
      factors: args.factors,
      epochs: args.epochs,
      hyper: { lr: args.lr, reg: args.reg, lrBias: args.lrBias ?? args.lr, regBias: args.regBias ?? args.reg },
      runs: sgd,
      targets: { secondsPerEpoch1Thread: 0.8, secondsPerEpoch2Threads: 0.5 },
    },
    als,
    memory: {
      peakRssBytes: peak,
      peakBytesPerTrainingRating: round(peak / train.nRatings, 1),
      residentWhileTrainingBytes: residentTraining,
      residentBytesPerTrainingRating: round(residentTraining / train.nRatings, 1),
      residentDataOnlyBytes: rssData,
      trainMatrixBytes: train.byteLength,
      trainerMemoryBytes: trainerBytes,
      testListBytes: test.users.byteLength + test.movies.byteLength + test.ratings.byteLength,
      accountedBytesPerTrainingRating: round((train.byteLength + trainerBytes) / train.nRatings, 1),
      targetBytesPerTrainingRating: 30,
      note:
        'peak includes generating the data and splitting it (the generator list, the full matrix and the split coexist); ' +
        'resident is the RSS after the last epoch (training matrix, test list, trainer memory with the factors, the runtime, and heap the allocator kept from the data generation); ' +
        'accounted is training matrix + trainer memory (blocked ratings, factors, biases) per training rating',
    },
    totalSeconds: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`svd-bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
