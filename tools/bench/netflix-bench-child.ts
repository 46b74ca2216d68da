// One step of netflix-bench.ts in a fresh process, so that its time and memory are its own:
//   node --expose-gc tools/dist/bench/netflix-bench-child.js '<job as JSON>'
// prints the result as one JSON line on stdout; progress on stderr.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { compileWasmOptimizedEagerly } from '@recsys/core';
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
  /** The last progress report as the model gave it (ranking kinds add e.g. `loss`, `auc`). */
  lastProgress: TrainingProgress | null;
  /** The model's `lastFitTimings` after the fit, when it has them (`ease`: Gram and inverse seconds, peak bytes). */
  lastFitTimings: Record<string, number> | null;
}

const log = (message: string): void => void process.stderr.write(`${message}\n`);

const RSS_HOOK = join(__dirname, 'peak-rss-hook.js');

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
  let lastProgress: TrainingProgress | null = null;
  const started = performance.now();
  await model.fit(matrix, {
    onProgress: (p: TrainingProgress) => {
      lastProgress = p;
      const used = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      secondsPerEpoch.push(p.seconds);
      cpuSecondsPerEpoch.push((used.user + used.system) / 1e6);
      trainRmse.push(p.trainRmse ?? NaN);
      log(`  ${job.kind} ${JSON.stringify(job.params)} epoch ${p.epoch}/${p.epochs}: ${p.seconds.toFixed(3)} s, ${fitMeasure(p)}`);
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
    lastProgress,
    lastFitTimings: (model as { lastFitTimings?: Record<string, number> }).lastFitTimings ?? null,
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
  const best = matrix.mostRatedMovie();
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

/** A command in a child process whose stdout is one JSON document; stderr passes through. */
export function runJson<T>(args: string[], options: { env?: NodeJS.ProcessEnv; peakRssFile?: string } = {}): Promise<{ result: T; wallSeconds: number; peakRss: number | null }> {
  const env = { ...process.env, ...options.env };
  if (options.peakRssFile) {
    env.RECSYS_PEAK_RSS_FILE = options.peakRssFile;
    rmSync(options.peakRssFile, { force: true });
  }
  const nodeArgs = options.peakRssFile ? ['--require', RSS_HOOK, ...args] : args;
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, nodeArgs, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`node ${args.join(' ')} exited with ${code}`));
        return;
      }
      let peakRss: number | null = null;
      if (options.peakRssFile && existsSync(options.peakRssFile)) peakRss = (JSON.parse(readFileSync(options.peakRssFile, 'utf8')) as { peakRss: number }).peakRss;
      try {
        resolvePromise({ result: JSON.parse(out) as T, wallSeconds, peakRss });
      } catch {
        reject(new Error(`node ${args.join(' ')} printed no JSON document: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** One job in a fresh `node --expose-gc` process running this module; resolves to its result. */
export function runChild<T>(job: ChildJob): Promise<T> {
  return runJson<T>(['--expose-gc', __filename, JSON.stringify(job)]).then((r) => r.result);
}

if (require.main === module) {
  // As the CLI does (see compileWasmOptimizedEagerly): the fits here stand for `recsys train`.
  compileWasmOptimizedEagerly();
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

/** What an epoch reports besides its seconds: training RMSE (rating models), else the ranking kinds' loss (and bpr's sampled AUC). */
function fitMeasure(p: TrainingProgress & { loss?: number; auc?: number }): string {
  if (p.trainRmse !== undefined) return `train RMSE ${p.trainRmse.toFixed(4)}`;
  const loss = p.trainLoss ?? p.loss;
  if (loss === undefined) return 'no training measure';
  return `training loss ${loss.toPrecision(5)}${p.auc === undefined ? '' : `, sampled AUC ${p.auc.toFixed(4)}`}`;
}
