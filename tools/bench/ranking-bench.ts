/**
 * Speed and memory of the ranking models (`npm run bench:ranking`), each run in a fresh process
 * (netflix-bench-child.ts) so that its time and peak memory are its own. Prints ONE JSON document
 * on stdout (progress on stderr). For each --data snapshot (default: a generated set of 10M
 * interactions, 200,000 users and 17,770 movies, made when missing; pass
 * `--data /work/data/prize-100m.snap` or a list for 100M):
 *
 * - `ials`, `bpr`: seconds per epoch from onProgress (median of the epochs after the first, which
 *   carries the setup), CPU seconds per epoch, peak RSS, at --factors (64) and each of --threads
 *   (1, 2), beside an SGD `svd` epoch at the same factors, data and threads run just before
 *   (ratio; target: an `ials` epoch ≤ 2 × the svd epoch; `bpr` has no target, its ratio is shown);
 * - `ease`: the model's `lastFitTimings` (Gram build and inverse seconds, total, its own peak
 *   bytes) and the process's peak RSS; target: total under 10 minutes on this machine.
 *
 * A kind this build does not register is reported as skipped with createModel's message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createModel } from '@recsys/models';
import { BenchCli, BenchOption, BenchValues, choiceListValue, intListValue, intValue, readBenchArgs } from './bench-args';
import { median } from './libmf';
import { steadyEpochs } from './netflix-bench';
import { Target, target } from './netflix-targets';
import { FitResult, runChild } from './netflix-bench-child';

const REPO = resolve(__dirname, '..', '..', '..');
const CLI_MAIN = join(REPO, 'apps', 'cli', 'dist', 'main.js');

const KINDS = ['ease', 'ials', 'bpr'] as const;
type Kind = (typeof KINDS)[number];

export const CLI = {
  name: 'ranking-bench',
  description:
    'Ranking models at scale: ials and bpr seconds per epoch beside an SGD svd epoch (same factors, data, threads), ease Gram and inverse ' +
    'seconds and peak memory, each run in its own process. Prints one JSON document on stdout; progress on stderr.',
  options: {
    kinds: { type: 'string', value: 'LIST', default: KINDS.join(','), description: `kinds to measure (${KINDS.join(', ')})` },
    data: { type: 'string', value: 'LIST', description: 'snapshots to run on, comma-separated (default: the generated 10M set in --dir, made when missing)' },
    dir: { type: 'string', value: 'DIR', default: join(tmpdir(), 'recsys-ranking'), description: 'work folder for the generated snapshot' },
    factors: { type: 'string', value: 'N', default: '64', description: 'factors of ials, bpr and the svd yardstick' },
    threads: { type: 'string', value: 'LIST', default: '1,2', description: 'threads of the ials, bpr and svd runs' },
    epochs: { type: 'string', value: 'N', default: '3', description: 'epochs of each ials, bpr and svd run (≥ 2: the first carries the setup)' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export interface Args {
  kinds: Kind[];
  data: string[] | undefined;
  dir: string;
  factors: number;
  threads: number[];
  epochs: number;
}

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return {
    kinds: choiceListValue('kinds', v.kinds, KINDS),
    data: v.data === undefined ? undefined : v.data.split(',').map((p) => resolve(p.trim())),
    dir: resolve(v.dir),
    factors: intValue('factors', v.factors, 1),
    threads: intListValue('threads', v.threads, 1),
    epochs: intValue('epochs', v.epochs, 2),
  };
}

const log = (message: string): void => void process.stderr.write(`[ranking-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** The generated 10M snapshot in `dir`, made by `recsys generate` when missing. */
function generated10m(dir: string): string {
  const file = join(dir, 'generated-10m.snap');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  log(`generating 10,000,000 interactions (200,000 users, 17,770 movies) into ${file}`);
  execFileSync(
    process.execPath,
    [CLI_MAIN, 'generate', '--layout', 'snapshot', '--ratings', '10000000', '--users', '200000', '--movies', '17770', '--seed', '42', '--out', file],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return file;
}

/** createModel's message when `kind` cannot be made in this build (not registered yet), else null. */
function unavailable(kind: string, params: Record<string, unknown>): string | null {
  try {
    createModel(kind, params);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

interface EpochRun {
  kind: string;
  params: Record<string, unknown>;
  ratings: number;
  secondsPerEpoch: number[];
  medianSecondsPerEpoch: number;
  medianCpuSecondsPerEpoch: number;
  peakRss: number;
  lastProgress: FitResult['lastProgress'];
  loadAverageBeforeAfter: [number, number];
}

async function epochRun(snapshot: string, kind: string, params: Record<string, unknown>): Promise<EpochRun> {
  log(`${kind} ${JSON.stringify(params)} on ${snapshot}`);
  const fit = await runChild<FitResult>({ job: 'fit', snapshot, kind, params });
  const steady = fit.cpuSecondsPerEpoch.length > 1 ? fit.cpuSecondsPerEpoch.slice(1) : fit.cpuSecondsPerEpoch;
  const run = {
    kind,
    params,
    ratings: fit.ratings,
    secondsPerEpoch: fit.secondsPerEpoch,
    medianSecondsPerEpoch: median(steadyEpochs(fit)),
    medianCpuSecondsPerEpoch: median(steady),
    peakRss: fit.peakRss,
    lastProgress: fit.lastProgress,
    loadAverageBeforeAfter: fit.loadAverageBeforeAfter,
  };
  log(`${kind}: ${run.medianSecondsPerEpoch.toFixed(2)} s per epoch (${run.medianCpuSecondsPerEpoch.toFixed(2)} CPU-s), peak RSS ${(run.peakRss / 2 ** 20).toFixed(0)} MiB`);
  return run;
}

export async function rankingBench(args: Args): Promise<Record<string, unknown>> {
  const started = performance.now();
  const snapshots = args.data ?? [generated10m(args.dir)];
  const targets: Target[] = [];
  const skipped: Record<string, string> = {};
  const kinds = args.kinds.filter((kind) => {
    const why = unavailable(kind, {});
    if (why !== null) {
      skipped[kind] = why;
      log(`${kind}: skipped: ${why}`);
    }
    return why === null;
  });
  const runs: Array<Record<string, unknown>> = [];
  for (const snapshot of snapshots) {
    const epochKinds = kinds.filter((k) => k !== 'ease');
    for (const threads of epochKinds.length > 0 ? args.threads : []) {
      const common = { factors: args.factors, epochs: args.epochs, threads };
      const svd = await epochRun(snapshot, 'svd', { solver: 'sgd', ...common });
      for (const kind of epochKinds) {
        const run = await epochRun(snapshot, kind, common);
        const ratio = run.medianSecondsPerEpoch / svd.medianSecondsPerEpoch;
        const cpuRatio = run.medianCpuSecondsPerEpoch / svd.medianCpuSecondsPerEpoch;
        runs.push({ snapshot, kind, threads, factors: args.factors, run, svd, ratio, cpuRatio });
        const what = `${kind} epoch ÷ svd SGD epoch, ${args.factors} factors, ${threads} thread(s), ${snapshot}`;
        if (kind === 'ials') targets.push(target(what, ratio, '<=', 2, '×'));
        else targets.push({ what, value: ratio, target: 'none (shown beside the ials target)', met: null });
      }
    }
    if (kinds.includes('ease')) {
      log(`ease on ${snapshot}`);
      const fit = await runChild<FitResult>({ job: 'fit', snapshot, kind: 'ease', params: {} });
      const timings = fit.lastFitTimings;
      runs.push({ snapshot, kind: 'ease', ratings: fit.ratings, fitSeconds: fit.fitSeconds, lastFitTimings: timings, peakRss: fit.peakRss, loadAverageBeforeAfter: fit.loadAverageBeforeAfter });
      targets.push(target(`ease fit (Gram + inverse) on ${snapshot}, ${availableParallelism()} cores`, timings?.totalSeconds ?? fit.fitSeconds, '<=', 600, 's'));
    }
  }
  return {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, loadAverageAtStart: loadavg()[0] },
    snapshots,
    skipped,
    runs,
    targets,
    seconds: (performance.now() - started) / 1000,
  };
}

if (require.main === module) {
  const args = readBenchArgs(CLI, argsFrom);
  rankingBench(args).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`ranking-bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
