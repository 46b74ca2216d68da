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
 * With `--clicks` it also writes the same rows as two implicit-feedback files of the same shape,
 * `user_id,item_id,clicks` (the rating as the click count) and `user_id,item_id,timestamp`, movie
 * by movie as the Kaggle file (so that only the parsing differs), and
 * imports each and the ratings CSV by turns (3 runs each, from the page cache; best wall and
 * CPU seconds), to compare their MB/s with the ratings CSV's (`clicks` in the JSON).
 *
 * With `--data DIR` (a data folder or file, e.g. the 100M Netflix Prize folder) it imports that
 * instead, in fresh child processes, and reports MB/s, threads, peak RSS per rating and the
 * cached restart (see import-folder.ts): `npm run bench:data -- --data /path/prize-100m`.
 * Targets there: ≥ 250 MB/s on 2 threads, peak ≤ 16 bytes per rating.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, loadDataset, RatingList, readSnapshot, writeNetflixKaggle, writeSnapshot } from '@recsys/data';
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
    clicks: { type: 'boolean', description: 'also import the same rows as user_id,item_id,clicks and user_id,item_id,timestamp interactions files' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export interface Args {
  ratings: number;
  keep: boolean;
  data?: string;
  threads?: number;
  clicks: boolean;
}

export function argsFrom(values: BenchValues<typeof CLI.options>): Args {
  return {
    ratings: intValue('ratings', values.ratings, 1000),
    keep: values.keep,
    data: values.data,
    threads: values.threads === undefined ? undefined : intValue('threads', values.threads, 1),
    clicks: values.clicks,
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

/**
 * The rows of `list` as an interactions file with a `user_id,item_id,clicks` header (the rating
 * as the count) or `user_id,item_id,timestamp` (deterministic Unix seconds in 2020–2021).
 */
function writeClicks(path: string, list: RatingList, column: 'clicks' | 'timestamp'): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    const write = (text: string): void => {
      bytes += writeSync(fd, text);
    };
    write(`user_id,item_id,${column}\n`);
    // Movie by movie, as the Kaggle file is written (a stable counting sort by movie id), so that
    // both files cost the same to build into a matrix and only the parsing differs.
    let maxMovie = 0;
    for (let k = 0; k < list.length; k++) if (list.movies[k] > maxMovie) maxMovie = list.movies[k];
    const next = new Uint32Array(maxMovie + 2);
    for (let k = 0; k < list.length; k++) next[list.movies[k] + 1]++;
    for (let m = 0; m <= maxMovie; m++) next[m + 1] += next[m];
    const order = new Uint32Array(list.length);
    for (let k = 0; k < list.length; k++) order[next[list.movies[k]]++] = k;
    const batch = 100_000;
    for (let from = 0; from < list.length; from += batch) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(list.length, from + batch); i++) {
        const k = order[i];
        const value = column === 'clicks' ? list.ratings[k] / 2 : 1_577_836_800 + ((k * 7919) % 63_072_000);
        lines.push(`${list.users[k]},${list.movies[k]},${value}\n`);
      }
      write(lines.join(''));
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Import each file 3 times from the page cache, the files taking turns (so that the load of a
 * shared machine falls on all of them alike); per file the best wall and CPU seconds (the CPU
 * time of the process: every reading thread) and the MB/s of each.
 */
async function timeImports(files: Record<string, string>): Promise<Record<string, Record<string, unknown>>> {
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const out: Record<string, Record<string, unknown>> = {};
  for (const path of Object.values(files)) warmRead(path);
  for (let run = 0; run < 3; run++) {
    for (const [name, path] of Object.entries(files)) {
      gc();
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      const loaded = await loadDataset(path);
      (wall[name] ??= []).push(seconds(t));
      const used = process.cpuUsage(c);
      (cpu[name] ??= []).push((used.user + used.system) / 1e6);
      out[name] = { format: loaded.report.format, bytes: statSync(path).size, rowsLoaded: loaded.matrix.nRatings };
    }
  }
  for (const name of Object.keys(files)) {
    const bytes = out[name].bytes as number;
    const bestWall = Math.min(...wall[name]);
    const bestCpu = Math.min(...cpu[name]);
    Object.assign(out[name], {
      wallSeconds: round(bestWall),
      wallRuns: wall[name].map((x) => round(x)),
      mbPerSecond: round(bytes / 1e6 / bestWall, 1),
      cpuSeconds: round(bestCpu),
      mbPerCpuSecond: round(bytes / 1e6 / bestCpu, 1),
    });
  }
  return out;
}

async function main(): Promise<void> {
  const { ratings, keep, data: dataPath, threads, clicks } = readBenchArgs(CLI, argsFrom);
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
    const clickFiles = { clicks: join(dir, 'clicks.csv'), timestamp: join(dir, 'clicks-timestamp.csv') };
    if (clicks) {
      log('writing the same rows as user_id,item_id,clicks and user_id,item_id,timestamp files');
      writeClicks(clickFiles.clicks, data.list, 'clicks');
      writeClicks(clickFiles.timestamp, data.list, 'timestamp');
    }
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

    let clicksResult: Record<string, unknown> | undefined;
    if (clicks) {
      log('importing the ratings CSV and the interactions files by turns (3 runs each, from the page cache)');
      const timed = await timeImports({ ratingsCsv: ratingFile, clicksWeighted: clickFiles.clicks, clicksTimestamped: clickFiles.timestamp });
      const ratio = (name: string, key: string): number => round((timed[name][key] as number) / (timed.ratingsCsv[key] as number), 2);
      clicksResult = {
        ...timed,
        vsRatingsCsv: {
          weightedMbPerSecond: ratio('clicksWeighted', 'mbPerSecond'),
          weightedMbPerCpuSecond: ratio('clicksWeighted', 'mbPerCpuSecond'),
          timestampedMbPerSecond: ratio('clicksTimestamped', 'mbPerSecond'),
          timestampedMbPerCpuSecond: ratio('clicksTimestamped', 'mbPerCpuSecond'),
        },
      };
    }

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
      ...(clicksResult ? { clicks: clicksResult } : {}),
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
