import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DataFormat, writeRatingsParquet } from '@recsys/data';
import { checkImportedModel, ImportedModelRejectedError } from '@recsys/evaluation';
import { importSparkAlsModel, saveModel } from '@recsys/models';
import { openDataset, withDataOptions, DataSourceOptions } from './data-source';
import { RunFailedError, UsageError } from './errors';
import { int, printJson } from './output';
import { numberIn, positiveInt } from './parse';
import { Progress } from './progress';

type DataFlags = Omit<DataSourceOptions, 'format'> & { dataFormat?: DataFormat };

/** The data-source options of a command whose --format names its output (the data's is --data-format). */
function dataSource(o: DataFlags): DataSourceOptions {
  return { ...o, format: o.dataFormat };
}

/**
 * The Spark interop: `export --format parquet` (ratings for a Spark job) and `import-model
 * --format spark-als DIR` (a Spark ML ALSModel saved with model.save(DIR), served as `spark-als`).
 */
export function registerSparkCommands(program: Command): void {
  withDataOptions(
    program
      .command('export')
      .description(
        'write the ratings of any data source as Parquet for a Spark job: columns user (int), movie (int), rating (double), date (date: days since 1970-01-01; null when the data has no dates), streamed in row groups',
      )
      .addOption(new Option('--format <format>', 'what to write').choices(['parquet']).makeOptionMandatory())
      .requiredOption('--out <file>', 'the Parquet file to write (replaced whole, or left untouched on failure)')
      .option('--row-group <rows>', 'rows per row group (memory the export adds is proportional to it)', positiveInt('--row-group'), 1 << 20)
      .option('--json', 'print one JSON document on stdout'),
    { formatFlag: '--data-format' },
  ).action(async (o: DataFlags & { format: 'parquet'; out: string; rowGroup: number; json?: boolean }) => {
    const dataset = await openDataset(dataSource(o));
    const progress = new Progress(`writing ${o.out}`);
    const t = performance.now();
    let report;
    try {
      report = await writeRatingsParquet(o.out, dataset.matrix, { rowGroupSize: o.rowGroup, onProgress: progress.update });
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - t) / 1000;
    const result = { format: 'parquet', ...report, seconds, megabytesPerSecond: report.bytes / 1e6 / seconds, rowsPerSecond: report.rows / seconds, source: dataset.report.files };
    if (o.json) return printJson(result);
    console.log(`wrote ${int(report.rows)} ratings in ${int(report.rowGroups)} row groups to ${o.out} (${int(report.bytes)} bytes) in ${seconds.toFixed(2)} s`);
    console.log(`columns user int, movie int, rating double, date date${report.dates ? '' : ' (all null: the data has no dates)'}`);
  });

  withDataOptions(
    program
      .command('import-model')
      .description(
        'make a model trained elsewhere servable: --format spark-als reads a Spark ML ALSModel saved with model.save(DIR) (metadata/, userFactors/, itemFactors/) and writes a spark-als artifact over --data (the ratings it was trained from), for RECSYS_MODEL=FILE',
      )
      .argument('<dir>', 'the folder ALSModel.save wrote')
      .addOption(new Option('--format <format>', 'what DIR holds').choices(['spark-als']).makeOptionMandatory())
      .requiredOption('--out <file>', 'the model artifact to write (nothing is written when the import fails)')
      .option('--reg-param <lambda>', "fold-in λ: Spark's regParam the model was trained with (default: the metadata's paramMap.regParam, else Spark's default 0.1)", numberIn('--reg-param', 0, 1000))
      .option('--no-check', 'write it without the check that it fits the data (up to 1M sampled ratings) better than baseline')
      .option('--json', 'print one JSON document on stdout'),
    { formatFlag: '--data-format' },
  ).action(async (dir: string, o: DataFlags & { format: 'spark-als'; out: string; regParam?: number; check: boolean; json?: boolean }) => {
    if (!existsSync(dir)) throw new UsageError(`${dir}: no such folder (the DIR of ALSModel.save(DIR))`);
    const dataset = await openDataset(dataSource(o));
    const t = performance.now();
    const imported = await importSparkAlsModel(dir, dataset.matrix, { regParam: o.regParam });
    // A model is written only if it beats the baseline: here in-sample (Spark trained on every
    // rating), which still refuses a model of other data, other ids or another scale.
    let check: Awaited<ReturnType<typeof checkImportedModel>> | null = null;
    if (o.check) {
      try {
        check = await checkImportedModel(imported.model, dataset.matrix);
      } catch (error) {
        if (error instanceof ImportedModelRejectedError) throw new RunFailedError(`${error.message} (--no-check writes it anyway)`);
        throw error;
      }
    }
    saveModel(o.out, imported.model);
    const { metadata: m, match, regParam } = imported;
    const result = {
      format: 'spark-als',
      dir,
      out: o.out,
      kind: imported.model.kind,
      rank: m.rank,
      sparkVersion: m.sparkVersion,
      uid: m.uid,
      userCol: m.userCol,
      itemCol: m.itemCol,
      regParam,
      userFiles: imported.users.files,
      itemFiles: imported.items.files,
      ...match,
      check,
      seconds: (performance.now() - t) / 1000,
    };
    if (o.json) return printJson(result);
    console.log(`imported a Spark ${m.sparkVersion} ALSModel of rank ${m.rank} (${m.uid}) as spark-als; wrote ${o.out}`);
    console.log(`users: ${int(match.usersMatched)} with factors, ${int(match.usersSkipped)} ids of the model not in the data skipped, ${int(match.dataUsersWithoutFactors)} of the data without factors (they fall back to the mean)`);
    console.log(`movies: ${int(match.moviesMatched)} with factors, ${int(match.moviesSkipped)} ids of the model not in the data skipped, ${int(match.dataMoviesWithoutFactors)} of the data without factors (they fall back to the mean)`);
    if (check) console.log(`check: RMSE ${check.rmse.toFixed(4)} against baseline's ${check.reference.rmse.toFixed(4)} on ${int(check.sampled)} sampled ratings of the data (both fitted on every rating)`);
    else console.log('check: skipped (--no-check)');
    console.log(`fold-in λ (regParam) ${regParam.value} (${regParam.from === 'option' ? '--reg-param' : regParam.from === 'metadata' ? "the metadata's paramMap" : "Spark's default; pass --reg-param to match the training"})`);
  });
}
