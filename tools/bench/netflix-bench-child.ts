// One step of netflix-bench.ts in a fresh process, so that its time and memory are its own:
//   node --expose-gc tools/dist/bench/netflix-bench-child.js '<job as JSON>'
// prints the result as one JSON line on stdout; progress on stderr.
import { loadavg } from 'node:os';
import { readSnapshot } from '@recsys/data';
import { createModel, TrainingProgress } from '@recsys/models';
import { writeLibmfText } from './libmf';

export type ChildJob =
  | { job: 'load'; snapshot: string }
  | { job: 'libmf-text'; snapshot: string; out: string }
  | { job: 'fit'; snapshot: string; kind: string; params: Record<string, unknown> };

export interface LoadResult {
  seconds: number;
  bytes: number;
  ratings: number;
  users: number;
  movies: number;
  rss: number;
  peakRss: number;
  /** External id and rating count of the most-rated movie (the similarMovies probe). */
  mostRatedMovie: { id: number; ratings: number };
}

export interface FitResult {
  kind: string;
  params: Record<string, unknown>;
  ratings: number;
  loadSeconds: number;
  /** From `fit` called to resolved (setup, every epoch, copying the result out). */
  fitSeconds: number;
  secondsPerEpoch: number[];
  /** CPU seconds of all threads of the process per epoch: about threads × seconds when every thread works. */
  cpuSecondsPerEpoch: number[];
  trainRmse: number[];
  rssAfterLoad: number;
  peakRss: number;
  loadAverageBeforeAfter: [number, number];
}

const log = (message: string): void => void process.stderr.write(`${message}\n`);

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function fit(job: Extract<ChildJob, { job: 'fit' }>): Promise<FitResult> {
  const t0 = performance.now();
  const matrix = readSnapshot(job.snapshot).matrix;
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = process.memoryUsage.rss();
  const model = createModel(job.kind, job.params);
  const secondsPerEpoch: number[] = [];
  const cpuSecondsPerEpoch: number[] = [];
  const trainRmse: number[] = [];
  const loadBefore = loadavg()[0];
  let cpuMark = process.cpuUsage();
  const started = performance.now();
  await model.fit(matrix, {
    onProgress: (p: TrainingProgress) => {
      const used = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      secondsPerEpoch.push(p.seconds);
      cpuSecondsPerEpoch.push((used.user + used.system) / 1e6);
      trainRmse.push(p.trainRmse ?? NaN);
      log(`  ${job.kind} ${JSON.stringify(job.params)} epoch ${p.epoch}/${p.epochs}: ${p.seconds.toFixed(3)} s, train RMSE ${(p.trainRmse ?? NaN).toFixed(4)}`);
    },
  });
  return {
    kind: job.kind,
    params: job.params,
    ratings: matrix.nRatings,
    loadSeconds,
    fitSeconds: (performance.now() - started) / 1000,
    secondsPerEpoch,
    cpuSecondsPerEpoch,
    trainRmse,
    rssAfterLoad,
    peakRss: peakRss(),
    loadAverageBeforeAfter: [loadBefore, loadavg()[0]],
  };
}

async function run(job: ChildJob): Promise<unknown> {
  if (job.job === 'fit') return fit(job);
  const t0 = performance.now();
  const { matrix } = readSnapshot(job.snapshot);
  if (job.job === 'libmf-text') {
    writeLibmfText(matrix, job.out);
    return { seconds: (performance.now() - t0) / 1000, ratings: matrix.nRatings };
  }
  let best = 0;
  for (let m = 1; m < matrix.nMovies; m++) if (matrix.movieCount(m) > matrix.movieCount(best)) best = m;
  const result: LoadResult = {
    mostRatedMovie: { id: matrix.movies.ids[best], ratings: matrix.movieCount(best) },
    seconds: (performance.now() - t0) / 1000,
    bytes: matrix.byteLength,
    ratings: matrix.nRatings,
    users: matrix.nUsers,
    movies: matrix.nMovies,
    rss: process.memoryUsage.rss(),
    peakRss: peakRss(),
  };
  return result;
}

if (require.main === module) {
  run(JSON.parse(process.argv[2]) as ChildJob).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      // Worker threads of a trainer may still be closing: the result is out, so end here.
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
