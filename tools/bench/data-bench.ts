/**
 * Data benchmark: generate N synthetic ratings (default 10,000,000) in the Netflix Kaggle layout in a
 * temp folder, then time `wc -l` on the rating file (the floor for reading it), the import through
 * `loadDataset`, the resident size of the matrix, and a snapshot write and load.
 *
 *   npm run bench:data                      # node --expose-gc tools/dist/bench/data-bench.js
 *   node --expose-gc tools/dist/bench/data-bench.js --ratings 1000000 [--keep]   (--help: the options)
 *
 * Prints ONE JSON document on stdout; progress goes to stderr. Targets: import ≥ 200 MB/s,
 * ≤ 12 bytes per rating resident, snapshot load ≥ 1 GB/s.
 *
 * With `--data DIR` (a data folder or file, e.g. the 100M Netflix Prize folder) it imports that
 * instead, in fresh child processes, and reports MB/s, threads, peak RSS per rating and the
 * cached restart (see import-folder.ts): `npm run bench:data -- --data /path/prize-100m`.
 * Targets there: ≥ 250 MB/s on 2 threads, peak ≤ 16 bytes per rating.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, loadDataset, readSnapshot, writeNetflixKaggle, writeSnapshot } from '@recsys/data';
import { BenchCli, BenchOption, BenchValues, intValue, readBenchArgs } from './bench-args';
import { benchImportFolder, importChild, ImportJob } from './import-folder';

export const CLI = {
  name: 'data-bench',
  description:
    'Generates N synthetic ratings in the Netflix Kaggle layout in a temp folder, then times `wc -l`, the import through loadDataset, ' +
    'the resident size of the matrix, and a snapshot write and load. Prints one JSON document on stdout; progress on stderr.',
  options: {
    ratings: { type: 'string', value: 'N', default: '10000000', description: 'ratings to generate (at least 1000)' },
    keep: { type: 'boolean', description: 'keep the generated files (their folder is reported as tempDir)' },
    data: { type: 'string', value: 'PATH', description: 'import this data folder or file instead (fresh child processes: import, then the cached restart)' },
    threads: { type: 'string', value: 'N', description: 'threads for --data (default: every core)' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export interface Args {
  ratings: number;
  keep: boolean;
  data?: string;
  threads?: number;
}

export function argsFrom(values: BenchValues<typeof CLI.options>): Args {
  return {
    ratings: intValue('ratings', values.ratings, 1000),
    keep: values.keep,
    data: values.data,
    threads: values.threads === undefined ? undefined : intValue('threads', values.threads, 1),
  };
}

function log(message: string): void {
  process.stderr.write(`[data-bench] ${message}\n`);
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

/** Read a file once through a 8 MiB buffer so that it sits in the page cache. */
function warmRead(path: string): void {
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const { ratings, keep, data: dataPath, threads } = readBenchArgs(CLI, argsFrom);
  if (dataPath !== undefined) {
    const result = await benchImportFolder(__filename, dataPath, threads, log);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'recsys-data-bench-'));
  const ratingFile = join(dir, 'Netflix_Dataset_Rating.csv');
  const snapshotFile = join(dir, 'bench.rsnap');
  try {
    log(`generating ${ratings} ratings`);
    let t = process.hrtime.bigint();
    let data: ReturnType<typeof generateSynthetic> | null = generateSynthetic({ ratings, withDates: false });
    const generateSeconds = seconds(t);
    const options = data.options;
    const noiseFloorRmse = data.noiseFloorRmse;

    log(`writing the Kaggle layout to ${dir}`);
    t = process.hrtime.bigint();
    const written = await writeNetflixKaggle(dir, data);
    const writeSeconds = seconds(t);
    data = null;
    const fileBytes = statSync(ratingFile).size;

    log('wc -l (after a warm read)');
    warmRead(ratingFile);
    t = process.hrtime.bigint();
    const wcOut = execFileSync('wc', ['-l', ratingFile], { encoding: 'utf8' });
    const wcSeconds = seconds(t);
    const wcLines = Number(wcOut.trim().split(/\s+/)[0]);

    log('importing with loadDataset (3 runs, from the page cache; the resident size is taken on the first)');
    warmRead(ratingFile);
    gc();
    const rssBefore = process.memoryUsage().rss;
    t = process.hrtime.bigint();
    const loaded = await loadDataset(dir);
    const importTimes = [seconds(t)];
    gc();
    const rssAfter = process.memoryUsage().rss;
    const matrix = loaded.matrix;
    for (let run = 1; run < 3; run++) {
      gc();
      t = process.hrtime.bigint();
      const again = await loadDataset(dir);
      importTimes.push(seconds(t));
      if (again.matrix.nRatings !== matrix.nRatings) throw new Error('the imports disagree');
    }
    const importSeconds = Math.min(...importTimes);

    log('writing a snapshot');
    t = process.hrtime.bigint();
    writeSnapshot(snapshotFile, loaded);
    const snapshotWriteSeconds = seconds(t);
    const snapshotBytes = statSync(snapshotFile).size;

    log('loading the snapshot (3 runs, from the page cache)');
    const loadTimes: number[] = [];
    for (let run = 0; run < 3; run++) {
      gc();
      t = process.hrtime.bigint();
      const back = readSnapshot(snapshotFile);
      loadTimes.push(seconds(t));
      if (back.matrix.nRatings !== matrix.nRatings) throw new Error('snapshot round trip lost ratings');
    }
    const snapshotLoadSeconds = Math.min(...loadTimes);

    const MB = 1e6;
    const result = {
      benchmark: 'data',
      ratings,
      users: options.users,
      movies: options.movies,
      noiseFloorRmse: round(noiseFloorRmse, 4),
      generate: { seconds: round(generateSeconds), ratingsPerSecond: Math.round(ratings / generateSeconds) },
      writeKaggle: { seconds: round(writeSeconds), bytes: written.bytes, mbPerSecond: round(written.bytes / MB / writeSeconds, 1) },
      ratingFile: { path: 'Netflix_Dataset_Rating.csv', bytes: fileBytes, bytesPerRating: round(fileBytes / ratings, 2) },
      wcL: { seconds: round(wcSeconds), lines: wcLines, mbPerSecond: round(fileBytes / MB / wcSeconds, 1) },
      import: {
        seconds: round(importSeconds),
        runs: importTimes.map((x) => round(x)),
        bytes: loaded.report.bytes,
        mbPerSecond: round(loaded.report.bytes / MB / importSeconds, 1),
        ratingFileMbPerSecond: round(fileBytes / MB / importSeconds, 1),
        targetMbPerSecond: 200,
        ratingsLoaded: matrix.nRatings,
        vsWcL: round(importSeconds / wcSeconds, 1),
      },
      memory: {
        matrixBytes: matrix.byteLength,
        bytesPerRating: round(matrix.byteLength / matrix.nRatings, 2),
        targetBytesPerRating: 12,
        rssDeltaBytes: rssAfter - rssBefore,
        rssDeltaBytesPerRating: round((rssAfter - rssBefore) / matrix.nRatings, 2),
        gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
      },
      snapshotWrite: { seconds: round(snapshotWriteSeconds), bytes: snapshotBytes, mbPerSecond: round(snapshotBytes / MB / snapshotWriteSeconds, 1) },
      snapshotLoad: {
        seconds: round(snapshotLoadSeconds, 4),
        runs: loadTimes.map((s) => round(s, 4)),
        gbPerSecond: round(snapshotBytes / 1e9 / snapshotLoadSeconds, 2),
        targetGbPerSecond: 1,
      },
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      tempDir: keep ? dir : undefined,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === '--import-child') {
  importChild(JSON.parse(process.argv[3]) as ImportJob).catch((error: unknown) => {
    process.stderr.write(`[data-bench] import failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`[data-bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
