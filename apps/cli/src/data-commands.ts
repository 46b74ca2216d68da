import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  buildRatingMatrix,
  datasetStats,
  generateSynthetic,
  HALF_STARS_05_TO_5,
  WHOLE_STARS_1_TO_5,
  writeNetflixKaggle,
  writeNetflixPrize,
  writeSnapshot,
} from '@recsys/data';
import { openDataset, withDataOptions, DataSourceOptions } from './data-source';
import { UsageError } from './errors';
import { int, printJson, table } from './output';
import { nonNegativeInt, positiveInt } from './parse';

export function registerDataCommands(program: Command): void {
  program
    .command('generate')
    .description('generate a deterministic synthetic Netflix-shaped data set (the embedded default data comes from this)')
    .requiredOption('--out <path>', 'output folder (kaggle, prize) or file (snapshot)')
    .option('--ratings <n>', 'number of ratings (1e3 to 1e8)', positiveInt('--ratings'), 1_000_000)
    .option('--users <n>', 'number of users (default: ratings / 200)', positiveInt('--users'))
    .option('--movies <n>', 'number of movies (default: scaled from ratings, at most 17,770)', positiveInt('--movies'))
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 42)
    .addOption(new Option('--layout <layout>', 'what to write').choices(['kaggle', 'prize', 'prize-per-movie', 'snapshot']).default('kaggle'))
    .addOption(new Option('--scale <scale>', 'whole stars 1-5, or half stars 0.5-5 (snapshot layout only)').choices(['whole-stars', 'half-stars']).default('whole-stars'))
    .option('--json', 'print one JSON document on stdout')
    .action(async (o: { out: string; ratings: number; users?: number; movies?: number; seed: number; layout: string; scale: string; json?: boolean }) => {
      const started = performance.now();
      const halfStars = o.scale === 'half-stars';
      if (halfStars && o.layout !== 'snapshot') {
        throw new UsageError(`--scale half-stars needs --layout snapshot: the Netflix ${o.layout === 'kaggle' ? 'Kaggle' : 'Prize'} layout holds whole stars 1-5 only`);
      }
      const data = generateSynthetic({ ratings: o.ratings, users: o.users, movies: o.movies, seed: o.seed, halfStars });
      let files: string[];
      let bytes: number;
      if (o.layout === 'kaggle') {
        ({ files, bytes } = await writeNetflixKaggle(o.out, data));
      } else if (o.layout === 'snapshot') {
        writeSnapshot(o.out, { matrix: buildRatingMatrix(data.list, halfStars ? HALF_STARS_05_TO_5 : WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog });
        files = [o.out];
        bytes = statSync(o.out).size;
      } else {
        ({ files, bytes } = await writeNetflixPrize(o.out, data, { layout: o.layout === 'prize' ? 'combined' : 'per-movie' }));
      }
      const result = {
        layout: o.layout,
        ratings: data.list.length,
        users: new Set(data.list.users).size,
        movies: data.catalog.size,
        seed: o.seed,
        scale: o.scale,
        noiseFloorRmse: data.noiseFloorRmse,
        files,
        bytes,
        seconds: (performance.now() - started) / 1000,
      };
      if (o.json) printJson(result);
      else {
        console.log(`generated ${int(result.ratings)} ratings by ${int(result.users)} users of ${int(result.movies)} movies (seed ${o.seed}) in ${result.seconds.toFixed(2)} s`);
        console.log(`noise floor RMSE ${result.noiseFloorRmse.toFixed(4)}; wrote ${int(bytes)} bytes:`);
        for (const f of files) console.log(`  ${f}`);
      }
    });

  withDataOptions(
    program
      .command('import')
      .description('read and check a data set; with --out, write it as a snapshot for fast loading')
      .option('--out <file>', 'write a snapshot file')
      .option('--json', 'print one JSON document on stdout'),
  ).action(async (o: DataSourceOptions & { out?: string; json?: boolean }) => {
    const dataset = await openDataset(o);
    const r = dataset.report;
    const implicit = dataset.matrix.scale.implicit === true;
    let snapshot: { path: string; bytes: number; seconds: number } | undefined;
    if (o.out) {
      const t = performance.now();
      writeSnapshot(o.out, dataset);
      snapshot = { path: o.out, bytes: statSync(o.out).size, seconds: (performance.now() - t) / 1000 };
    }
    const result = {
      format: r.format,
      files: r.files,
      ratings: r.ratings,
      users: r.users,
      movies: r.movies,
      catalogMovies: dataset.catalog.size,
      skipped: r.skipped,
      skippedExamples: r.skippedExamples,
      duplicates: r.duplicates,
      duplicateExamples: r.duplicateExamples,
      // Implicit feedback: the values are interaction weights (repeated pairs summed, sums above 127.5 capped).
      implicit,
      scale: dataset.matrix.scale,
      capped: r.capped ?? 0,
      untitledMovies: r.untitledMovies,
      bytes: r.bytes,
      seconds: r.seconds,
      // A cache hit read a snapshot, not the text: no parse rate.
      megabytesPerSecond: r.seconds > 0 && !r.cache?.used ? r.bytes / 1e6 / r.seconds : null,
      // Read from the import cache (the files unchanged since it was written).
      cached: r.cache?.used ?? false,
      cache: r.cache ?? null,
      snapshot,
    };
    if (o.json) return printJson(result);
    const noun = implicit ? 'interactions' : 'ratings';
    const s = dataset.matrix.scale;
    console.log(`${r.format}: ${int(r.ratings)} ${noun}, ${int(r.users)} users, ${int(r.movies)} movies (${int(dataset.catalog.size)} titles) in ${r.seconds.toFixed(2)} s`);
    console.log(implicit ? 'implicit feedback: values are interaction weights' : `rating scale ${s.min}..${s.max} in steps of ${s.step}`);
    if (r.skipped) {
      console.log(`skipped ${int(r.skipped)} malformed rows, first ones:`);
      for (const e of r.skippedExamples) console.log(`  ${e.file}:${e.line}: ${e.reason}`);
    }
    if (r.duplicates && implicit) console.log(`summed ${int(r.duplicates)} repeated (user, item) rows into earlier ones`);
    else if (r.duplicates) console.log(`replaced ${int(r.duplicates)} duplicate ratings (the last rating of a user for a movie wins)`);
    if (r.capped) console.log(`capped ${int(r.capped)} weights above 127.5 (the largest stored weight)`);
    if (r.untitledMovies) console.log(`${int(r.untitledMovies)} rated movies are not in the titles file (titled "Movie <id>")`);
    if (r.cache?.used) console.log(`read from the import cache ${r.cache.path} (the files are unchanged)`);
    else if (r.cache?.written) console.log(`cached as ${r.cache.path}`);
    if (snapshot) console.log(`wrote snapshot ${snapshot.path} (${int(snapshot.bytes)} bytes) in ${snapshot.seconds.toFixed(2)} s`);
  });

  withDataOptions(
    program
      .command('stats')
      .description('counts, rating histogram, density and the most-rated movies')
      .option('--top <n>', 'how many most-rated movies to list', positiveInt('--top'), 10)
      .option('--json', 'print one JSON document on stdout'),
  ).action(async (o: DataSourceOptions & { top: number; json?: boolean }) => {
    const dataset = await openDataset(o);
    const s = datasetStats(dataset, { top: o.top });
    if (o.json) return printJson({ source: dataset.report.files, format: dataset.report.format, ...s });
    const implicit = dataset.matrix.scale.implicit === true;
    console.log(`${int(s.ratings)} ${implicit ? 'interactions (implicit feedback: values are weights)' : 'ratings'} by ${int(s.users)} users of ${int(s.movies)} movies (${int(s.catalogMovies)} in the catalog)`);
    console.log(`density ${(s.density * 100).toFixed(4)} %, mean rating ${s.meanRating.toFixed(4)}, MSE of the mean ${s.mseOfMean.toFixed(6)}`);
    console.log(`ratings per user: min ${s.ratingsPerUser.min}, median ${s.ratingsPerUser.median}, mean ${s.ratingsPerUser.mean.toFixed(1)}, max ${int(s.ratingsPerUser.max)}`);
    console.log(`ratings per movie: min ${s.ratingsPerMovie.min}, median ${s.ratingsPerMovie.median}, mean ${s.ratingsPerMovie.mean.toFixed(1)}, max ${int(s.ratingsPerMovie.max)}`);
    if (s.hasDates) console.log(`dates ${s.firstDate} .. ${s.lastDate}`);
    console.log('\nrating histogram');
    const maxCount = Math.max(...s.histogram.map((h) => h.count));
    console.log(table(['rating', 'count', 'share', ''], s.histogram.map((h) => [h.rating.toFixed(1), int(h.count), `${((h.count / s.ratings) * 100).toFixed(1)} %`, '#'.repeat(Math.round((h.count / maxCount) * 40))])));
    console.log(`\nmost-rated movies`);
    console.log(table(['id', 'title', 'year', 'ratings', 'mean'], s.mostRated.map((m) => [m.id, m.title, m.year ?? '', int(m.ratings), m.meanRating.toFixed(3)])));
  });
}
