/**
 * Size of a model artifact against the factors and biases it must hold: since format version 2
 * an artifact refers to its training ratings by fingerprint instead of embedding them, so it
 * should be factors-sized (issue 8: at most 1.2× on the 10M generated set). Fits `svd` for one
 * epoch per factor count on synthetic Netflix-shaped data, saves it, and prints one JSON document.
 *
 *   npm run bench:artifact -- [--ratings 10000000] [--users 200000] [--movies 17770] [--factors 16,100]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRatingMatrix, generateSynthetic, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel, saveModel } from '@recsys/models';
import { BenchCli, BenchOption, BenchValues, intListValue, intValue, readBenchArgs } from './bench-args';

interface Args {
  ratings: number;
  users: number;
  movies: number;
  factors: number[];
}

const CLI = {
  name: 'artifact-bench',
  description: 'Model artifact size against its factors and biases (svd, one epoch per factor count). Prints one JSON document on stdout.',
  options: {
    ratings: { type: 'string', value: 'N', default: '10000000', description: 'synthetic ratings' },
    users: { type: 'string', value: 'N', default: '200000', description: 'users of the generator' },
    movies: { type: 'string', value: 'N', default: '17770', description: 'movies of the generator' },
    factors: { type: 'string', value: 'LIST', default: '16,100', description: 'factor counts to save' },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  return { ratings: intValue('ratings', v.ratings, 1), users: intValue('users', v.users, 1), movies: intValue('movies', v.movies, 1), factors: intListValue('factors', v.factors) };
}

async function main(args: Args): Promise<void> {
  const data = generateSynthetic({ ratings: args.ratings, users: args.users, movies: args.movies, seed: 42 });
  const matrix = buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix;
  const dir = mkdtempSync(join(tmpdir(), 'artifact-bench-'));
  const results = [];
  try {
    for (const factors of args.factors) {
      const model = await createModel('svd', { factors, epochs: 1 }).fit(matrix);
      const file = join(dir, `svd-${factors}.rmodel`);
      saveModel(file, model);
      // b_u and b_i as f64, P and Q as f32.
      const factorsAndBiasesBytes = (matrix.nUsers + matrix.nMovies) * (factors * 4 + 8);
      const artifactBytes = statSync(file).size;
      results.push({ factors, artifactBytes, factorsAndBiasesBytes, ratio: Math.round((artifactBytes / factorsAndBiasesBytes) * 1e4) / 1e4 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ ratings: matrix.nRatings, users: matrix.nUsers, movies: matrix.nMovies, results }, null, 2) + '\n');
}

main(readBenchArgs(CLI, argsFrom, process.argv.slice(2))).catch((error: unknown) => {
  process.stderr.write(`artifact-bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
