// The child of svd-bench.ts: one configuration in a fresh process, reporting its own time,
// accuracy and memory (see svd-bench.ts for what each figure means).
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { RatingMatrix, readSnapshot } from '@recsys/data';
import { ALS_WASM_PATH, SvdModel, SvdParams, TrainingProgress } from '@recsys/models';
import { readRatingList } from './rating-list-file';

const log = (message: string): void => void process.stderr.write(`${message}\n`);

/** Two full collections (the second frees what the first's finalizers released); a no-op without --expose-gc. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

export interface ChildJob {
  trainPath: string;
  testPath: string;
  params: Partial<SvdParams>;
}

export interface ChildResult {
  solver: string;
  threads: number;
  wasmKernel: boolean;
  fitSeconds: number;
  secondsPerEpoch: number[];
  cpuSecondsPerEpoch: number[];
  trainRmse: number[];
  testRmse: number;
  loadAverageBeforeAfter: [number, number];
  trainRatings: number;
  testRatings: number;
  trainUsers: number;
  trainMovies: number;
  memory: {
    gcExposed: boolean;
    baselineRss: number;
    dataRss: number;
    afterLastEpochRss: number;
    peakRss: number;
    endRss: number;
    trainMatrixBytes: number;
    testListBytes: number;
    modelBytes: number;
  };
}

export async function child(job: ChildJob): Promise<ChildResult> {
  gc();
  const baselineRss = process.memoryUsage.rss();
  const train: RatingMatrix = readSnapshot(job.trainPath).matrix;
  const test = readRatingList(job.testPath);
  gc();
  const dataRss = process.memoryUsage.rss();

  const model = new SvdModel(job.params);
  const p = model.params;
  const seconds: number[] = [];
  const cpuSeconds: number[] = [];
  const trainRmse: number[] = [];
  let afterLastEpochRss = 0;
  let cpuMark = process.cpuUsage();
  const loadBefore = loadavg()[0];
  const started = performance.now();
  await model.fit(train, {
    onProgress: (progress: TrainingProgress) => {
      const used = process.cpuUsage(cpuMark);
      cpuSeconds.push((used.user + used.system) / 1e6);
      seconds.push(progress.seconds);
      trainRmse.push(progress.trainRmse ?? NaN);
      if (progress.epoch === progress.epochs) afterLastEpochRss = process.memoryUsage.rss();
      log(`  ${p.solver} threads ${p.threads} epoch ${progress.epoch}/${progress.epochs}: ${progress.seconds.toFixed(3)} s, train RMSE ${(progress.trainRmse ?? NaN).toFixed(4)}`);
      cpuMark = process.cpuUsage();
    },
  });
  const fitSeconds = (performance.now() - started) / 1000;
  const loadAfter = loadavg()[0];
  gc();
  const endRss = process.memoryUsage.rss();
  const peakRss = process.resourceUsage().maxRSS * 1024;

  const predictions = model.predictMany(test);
  let sse = 0;
  for (let j = 0; j < test.length; j++) {
    const e = predictions[j] - test.ratings[j] * 0.5;
    sse += e * e;
  }
  const k = model.factorCount;
  return {
    solver: p.solver,
    threads: p.threads,
    wasmKernel: existsSync(p.solver === 'als' ? ALS_WASM_PATH : join(dirname(ALS_WASM_PATH), 'sgd.wasm')),
    fitSeconds,
    secondsPerEpoch: seconds,
    cpuSecondsPerEpoch: cpuSeconds,
    trainRmse,
    testRmse: Math.sqrt(sse / test.length),
    loadAverageBeforeAfter: [loadBefore, loadAfter],
    trainRatings: train.nRatings,
    testRatings: test.length,
    trainUsers: train.nUsers,
    trainMovies: train.nMovies,
    memory: {
      gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
      baselineRss,
      dataRss,
      afterLastEpochRss,
      peakRss,
      endRss,
      trainMatrixBytes: train.byteLength,
      testListBytes: test.users.byteLength + test.movies.byteLength + test.ratings.byteLength,
      // f32 factors, f64 biases (LatentModel's layout)
      modelBytes: (train.nUsers + train.nMovies) * (4 * k + 8),
    },
  };
}

/** Runs one configuration in a child process (this script, --child) and resolves to its report. */
