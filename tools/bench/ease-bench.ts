/**
 * EASE benchmark: one fit of the `ease` model (Gram build and inverse in the WebAssembly SIMD
 * kernel) on a snapshot or on generated Netflix-shaped data. Prints ONE JSON document on stdout;
 * progress on stderr.
 *
 *   node tools/build-wasm.js && npx tsc -b tools && node tools/dist/bench/ease-bench.js
 *     [--snapshot FILE | --ratings 10000000 --users 200000 --movies 17770 --seed 42]
 *     [--threads 2] [--lambda L] [--min-weight W]
 *
 * Output: items, users, interactions (after the minWeight view), Σ_u n_u² over them (the Gram
 * build's work is half of it), the model's lastFitTimings (gramSeconds,
 * inverseSeconds, totalSeconds, their CPU seconds, peakBytes of the kernel memory), CPU seconds of the fit (all threads of the process), peakRss
 * (`process.resourceUsage().maxRSS`: the data, the kernel memory and B), the load average before
 * and after (the machine is shared: wall seconds grow with it, CPU seconds much less), threads.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildRatingMatrix, generateSynthetic, RatingMatrix, readSnapshot, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel, EaseModel } from '@recsys/models';

const { values } = parseArgs({
  options: {
    snapshot: { type: 'string' },
    ratings: { type: 'string', default: '10000000' },
    users: { type: 'string', default: '200000' },
    movies: { type: 'string', default: '17770' },
    seed: { type: 'string', default: '42' },
    threads: { type: 'string', default: '2' },
    lambda: { type: 'string' },
    'min-weight': { type: 'string' },
  },
});

const num = (name: string, text: string): number => {
  const v = Number(text);
  if (!Number.isFinite(v)) throw new RangeError(`ease-bench: --${name} must be a number, got ${JSON.stringify(text)}`);
  return v;
};

async function main(): Promise<void> {
  const log = (text: string): boolean => process.stderr.write(`ease-bench: ${text}\n`);
  let matrix: RatingMatrix;
  let data: string;
  if (values.snapshot !== undefined) {
    matrix = readSnapshot(values.snapshot).matrix;
    data = `snapshot ${values.snapshot}`;
  } else {
    const options = { ratings: num('ratings', values.ratings!), users: num('users', values.users!), movies: num('movies', values.movies!), seed: num('seed', values.seed!), withDates: false };
    matrix = buildRatingMatrix(generateSynthetic(options).list, WHOLE_STARS_1_TO_5).matrix;
    data = `generateSynthetic(${JSON.stringify(options)})`;
  }
  const params: Record<string, unknown> = { threads: num('threads', values.threads!) };
  if (values.lambda !== undefined) params.lambda = num('lambda', values.lambda);
  if (values['min-weight'] !== undefined) params.minWeight = num('min-weight', values['min-weight']);
  log(`${data}: ${matrix.nUsers} users, ${matrix.nMovies} items, ${matrix.nRatings} ratings; fitting ease ${JSON.stringify(params)}`);
  const loadBefore = loadavg()[0];
  const cpu = process.cpuUsage();
  const model = (await createModel('ease', params).fit(matrix, { onProgress: (p) => log(`${p.seconds.toFixed(1)} s: ${p.phase}`) })) as EaseModel;
  const used = process.cpuUsage(cpu);
  const t = model.lastFitTimings!;
  // Interactions after the minWeight view and Σ_u n_u² over them (the Gram build adds half of it).
  let interactions = 0;
  let sumSquares = 0;
  const minCode = 2 * model.params.minWeight;
  for (let u = 0; u < matrix.nUsers; u++) {
    let count = 0;
    for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) if (matrix.userRatings[k] >= minCode) count++;
    interactions += count;
    sumSquares += count * count;
  }
  const out = {
    data,
    items: matrix.nMovies,
    users: matrix.nUsers,
    ratings: matrix.nRatings,
    interactions,
    sumInteractionsPerUserSquared: sumSquares,
    params: model.params,
    threads: model.params.threads,
    gramSeconds: t.gramSeconds,
    inverseSeconds: t.inverseSeconds,
    totalSeconds: t.totalSeconds,
    gramCpuSeconds: t.gramCpuSeconds,
    inverseCpuSeconds: t.inverseCpuSeconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakBytes: t.peakBytes,
    matrixBytes: matrix.nMovies * matrix.nMovies * 4,
    peakRss: process.resourceUsage().maxRSS * 1024,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`ease-bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
