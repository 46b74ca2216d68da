/**
 * dataSummary benchmark: the API's `dataSummary` (counts, rating histogram, ratings per user and
 * per movie, ratings per month) over a data set, counted in one go (`dataSummarySync`: how long
 * it would block) and as the server counts it (`dataSummary`: in chunks with a turn of the event
 * loop between them), with the longest event-loop stall seen meanwhile (a 1 ms timer's largest
 * lateness, and perf_hooks' event-loop delay at 1 ms resolution).
 *
 *   npm run bench:summary                                   # the default data (1M ratings)
 *   node tools/dist/bench/summary-bench.js --ratings 10000000 [--snapshot FILE]
 *
 * With --ratings N it generates N synthetic ratings (with dates) and writes them to a snapshot
 * (--snapshot FILE, default a temp file), then loads that snapshot as the server would. Prints
 * ONE JSON document on stdout; progress on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildRatingMatrix, dataSummary, dataSummarySync, generateSynthetic, loadDefaultDataset, readSnapshot, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import type { RatingMatrix } from '@recsys/data';
import { BenchCli, BenchOption, BenchValues, intValue, readBenchArgs } from './bench-args';

export const CLI = {
  name: 'summary-bench',
  description:
    'Times dataSummary over the default data or N generated ratings (via a snapshot): in one go, and in chunks as the API counts it, with the longest event-loop stall meanwhile. Prints one JSON document on stdout.',
  options: {
    ratings: { type: 'string', value: 'N', default: '0', description: 'generate N synthetic ratings (0: the default data set)' },
    snapshot: { type: 'string', value: 'FILE', description: 'with --ratings: where to write the snapshot (default: a temp file, removed after)' },
    runs: { type: 'string', value: 'N', default: '3', description: 'runs of each way (the best is reported)' },
    from: { type: 'string', value: 'FILE', description: 'time an existing snapshot instead (e.g. the 100M Prize set), read only' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

interface Args {
  ratings: number;
  snapshot?: string;
  runs: number;
  from?: string;
}

function argsFrom(values: BenchValues<typeof CLI.options>): Args {
  return { ratings: intValue('ratings', values.ratings, 0), snapshot: values.snapshot, runs: intValue('runs', values.runs, 1), from: values.from };
}

const log = (line: string) => process.stderr.write(`[summary-bench] ${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

async function loadMatrix(args: Args): Promise<{ matrix: RatingMatrix; source: string }> {
  if (args.from) return { matrix: readSnapshot(args.from).matrix, source: `snapshot ${args.from}` };
  if (args.ratings === 0) return { matrix: (await loadDefaultDataset()).matrix, source: 'default data' };
  const dir = args.snapshot ? null : mkdtempSync(join(tmpdir(), 'summary-bench-'));
  const file = args.snapshot ?? join(dir!, 'synthetic.rsnap');
  try {
    log(`generating ${args.ratings.toLocaleString('en-US')} ratings`);
    const data = generateSynthetic({ ratings: args.ratings, seed: 1 });
    writeSnapshot(file, { matrix: buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog });
    log(`snapshot written: ${file}`);
    return { matrix: readSnapshot(file).matrix, source: `synthetic snapshot (${args.ratings} ratings)` };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function chunked(matrix: RatingMatrix): Promise<{ seconds: number; maxStallMs: number; loopDelayMaxMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxStall = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last - 1);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  maxStall = 0;
  delay.enable();
  const started = performance.now();
  await dataSummary(matrix);
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 5));
  delay.disable();
  clearInterval(ticker);
  return { seconds, maxStallMs: maxStall, loopDelayMaxMs: delay.max / 1e6 };
}

async function main(): Promise<void> {
  const args = readBenchArgs(CLI, argsFrom);
  const { matrix, source } = await loadMatrix(args);
  log(`${source}: ${matrix.nRatings} ratings, ${matrix.nUsers} users, ${matrix.nMovies} movies; dates: ${matrix.userDays !== null}`);
  const sync: number[] = [];
  const runs: Array<{ seconds: number; maxStallMs: number; loopDelayMaxMs: number }> = [];
  let months = 0;
  for (let i = 0; i < args.runs; i++) {
    const started = performance.now();
    months = dataSummarySync(matrix).ratingsByMonth.length;
    sync.push((performance.now() - started) / 1000);
    runs.push(await chunked(matrix));
  }
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  process.stdout.write(
    `${JSON.stringify(
      {
        source,
        ratings: matrix.nRatings,
        users: matrix.nUsers,
        movies: matrix.nMovies,
        months,
        oneGoSeconds: round(Math.min(...sync), 4),
        chunked: { seconds: round(best.seconds, 4), maxStallMs: round(Math.max(...runs.map((r) => r.maxStallMs)), 1), loopDelayMaxMs: round(Math.max(...runs.map((r) => r.loopDelayMaxMs)), 1) },
        node: process.version,
        cpus: cpus().length,
      },
      null,
      2,
    )}\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`[summary-bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
