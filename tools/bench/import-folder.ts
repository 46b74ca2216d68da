/**
 * The `--data DIR` mode of data-bench: imports an existing data folder or file (e.g. the 100M
 * Netflix Prize folder) through `loadDataset`, each run in a fresh child process (no
 * --expose-gc, as the CLI runs), which reports its own peak RSS (`process.resourceUsage().maxRSS`).
 *
 * 1. import: parse and build with an empty cache folder (`cacheDir`), so that the run also
 *    writes the import cache (the report's seconds exclude that write);
 * 2. cached restart: the same import again, now read from the cache.
 *
 * Prints its part of the JSON document: bytes, ratings, seconds, MB/s, threads, peak RSS and
 * bytes per rating, the cached restart's seconds, and the load average around each run (the
 * machine may be shared: figures under load are slower, memory is not affected).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@recsys/data';

export interface ImportJob {
  readonly data: string;
  readonly threads: number;
  readonly cacheDir: string;
}

export interface ImportRun {
  readonly seconds: number;
  readonly wallSeconds: number;
  readonly bytes: number;
  readonly ratings: number;
  readonly users: number;
  readonly movies: number;
  readonly format: string;
  readonly cacheUsed: boolean;
  readonly cacheWritten: boolean;
  readonly maxRssBytes: number;
  readonly loadAverage: readonly number[];
}

/** Child side: one import, its report and its own peak RSS, sent to the parent. */
export async function importChild(job: ImportJob): Promise<void> {
  const started = performance.now();
  const { report } = await loadDataset(job.data, { threads: job.threads, cacheDir: job.cacheDir });
  const run: ImportRun = {
    seconds: report.seconds,
    wallSeconds: (performance.now() - started) / 1000,
    bytes: report.bytes,
    ratings: report.ratings,
    users: report.users,
    movies: report.movies,
    format: report.format,
    cacheUsed: report.cache?.used ?? false,
    cacheWritten: report.cache?.written ?? false,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    loadAverage: loadavg(),
  };
  process.send!(run);
}

function runChild(script: string, job: ImportJob): Promise<ImportRun> {
  return new Promise((resolve, reject) => {
    const proc = fork(script, ['--import-child', JSON.stringify(job)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ImportRun | null = null;
    proc.on('message', (m: ImportRun) => (result = m));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (result !== null && code === 0) resolve(result);
      else reject(new Error(`import child failed: exit code ${code}, signal ${signal}`));
    });
  });
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Parent side: the import, then the cached restart, each in a child of `script`. */
export async function benchImportFolder(script: string, data: string, threads: number | undefined, log: (m: string) => void): Promise<object> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'recsys-import-bench-'));
  const t = threads ?? availableParallelism();
  try {
    log(`importing ${data} on ${t} threads (fresh process; writes the import cache)`);
    const loadBefore = loadavg();
    const first = await runChild(script, { data, threads: t, cacheDir });
    log(`restarting from the import cache (fresh process)`);
    const cached = await runChild(script, { data, threads: t, cacheDir });
    if (!cached.cacheUsed) throw new Error('the second import did not use the cache');
    const MB = 1e6;
    return {
      benchmark: 'data-import',
      data,
      format: first.format,
      threads: t,
      bytes: first.bytes,
      ratings: first.ratings,
      users: first.users,
      movies: first.movies,
      import: {
        seconds: round(first.seconds),
        mbPerSecond: round(first.bytes / MB / first.seconds, 1),
        targetMbPerSecond: 250,
        wallSecondsWithCacheWrite: round(first.wallSeconds),
        peakRssBytes: first.maxRssBytes,
        peakRssBytesPerRating: round(first.maxRssBytes / first.ratings, 2),
        targetPeakBytesPerRating: 16,
        cacheWritten: first.cacheWritten,
      },
      cachedRestart: {
        seconds: round(cached.seconds),
        peakRssBytes: cached.maxRssBytes,
        peakRssBytesPerRating: round(cached.maxRssBytes / cached.ratings, 2),
        cacheUsed: cached.cacheUsed,
      },
      loadAverage: { before: loadBefore.map((x) => round(x, 2)), afterImport: first.loadAverage.map((x) => round(x, 2)), afterRestart: cached.loadAverage.map((x) => round(x, 2)) },
      cores: availableParallelism(),
      node: process.version,
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
