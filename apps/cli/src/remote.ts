import { UsageError } from './errors';
import { Command, Option } from 'commander';
import { ModelKind, RecsysClient, SimilarityMetric as GqlMetric } from '@recsys/client';
import { int, printJson, table } from './output';
import { modelParams, ModelFlags } from './model-options';
import { externalId, finiteNumber } from './parse';

/** Options every command that can ask a running server takes. */
export interface ServerOptions {
  server?: string;
  token?: string;
}

export function withServerOption(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'ask a running recsys GraphQL server (e.g. http://localhost:4000) instead of reading data here', process.env.RECSYS_SERVER)
    .option('--token <token>', 'bearer token for mutations (default RECSYS_API_TOKEN)', process.env.RECSYS_API_TOKEN);
}

function client(o: ServerOptions): RecsysClient {
  return new RecsysClient(o.server!, { token: o.token });
}

function metricOf(metric: string): GqlMetric {
  return metric.toUpperCase().replace('-', '_') as GqlMetric;
}

export async function remoteSimilar(o: ServerOptions & { movie: number; n: number; metric: string; minSupport?: number; json?: boolean }): Promise<void> {
  const data = await client(o).similarMovies(o.movie, { n: o.n, metric: metricOf(o.metric), minSupport: o.minSupport });
  if (o.json) return printJson({ server: o.server, movie: data.movie, metric: o.metric, similar: data.similarMovies });
  const m = data.movie;
  console.log(`movies most similar to ${m.id} ${m.title}${m.year ? ` (${m.year})` : ''}, ${int(m.ratingCount)} ratings, by ${o.metric} (from ${o.server}):`);
  console.log(table(['id', 'title', 'year', 'similarity', 'common raters'], data.similarMovies.map((s) => [s.movieId, s.movie.title, s.movie.year ?? '', s.similarity.toFixed(6), int(s.support)])));
}

export async function remotePredict(o: ServerOptions & { user: number; movie: number; json?: boolean }): Promise<void> {
  const p = await client(o).prediction(o.user, o.movie);
  if (o.json) return printJson({ server: o.server, ...p });
  const why = p.isFallback ? ` (fallback: ${p.fallbackReason?.toLowerCase().replace(/_/g, '-')})` : '';
  console.log(`model ${p.modelId} predicts user ${o.user} rates ${o.movie} ${p.movie?.title ?? ''} ${p.rating.toFixed(4)}${why}`);
}

export async function remoteRecommend(o: ServerOptions & { user: number; n: number; includeRated?: boolean; json?: boolean }): Promise<void> {
  const recs = await client(o).recommendations(o.user, { n: o.n, excludeRated: !o.includeRated });
  if (o.json) return printJson({ server: o.server, user: o.user, recommendations: recs });
  console.log(table(['rank', 'id', 'title', 'year', 'score'], recs.map((r) => [r.rank, r.movieId, r.movie.title, r.movie.year ?? '', r.score.toFixed(4)])));
}

/** `retrain`: only through a server (locally, `train` fits a model). */
export function registerRetrainCommand(program: Command): void {
  withServerOption(
    program
      .command('retrain')
      .description('ask a running server to retrain its model (needs --server and the bearer token); --wait follows the run to the end')
      .addOption(new Option('--model <kind>', 'model kind (default: the active rating model\'s); a ranking kind replaces the ranking model').choices(['baseline', 'svd', 'svdpp', 'popular', 'ease', 'ials', 'bpr']))
      .option('--params <json>', 'model parameters as JSON')
      .option('--threads <n>', 'worker threads', (v) => Number(v))
      .option('--wait', 'poll the training run until it SUCCEEDED or FAILED')
      .option('--json', 'print one JSON document on stdout'),
  ).action(async (o: ServerOptions & { model?: string; params?: string; threads?: number; wait?: boolean; json?: boolean }) => {
    if (!o.server) throw new UsageError('retrain needs --server URL (or RECSYS_SERVER): it retrains a running server; use `train` to fit a model here');
    const c = client(o);
    const parameters = o.params ? modelParams({ model: o.model ?? 'svd', params: o.params } as ModelFlags) : undefined;
    const run = await c.retrain({ kind: o.model ? (o.model.toUpperCase() as ModelKind) : undefined, parameters, threads: o.threads });
    if (!o.wait) {
      if (o.json) return printJson(run);
      console.log(`training run ${run.id} ${run.status} (${run.kind}); poll it with the trainingRun query`);
      return;
    }
    let lastEpoch = -1;
    const final = await c.waitForTrainingRun(run.id, {
      onUpdate: (r) => {
        if (!o.json && r.epoch !== lastEpoch && r.epochs.length > 0) {
          lastEpoch = r.epoch;
          const e = r.epochs[r.epochs.length - 1];
          process.stderr.write(`epoch ${e.epoch}/${e.epochs}${e.trainRmse != null ? ` train RMSE ${e.trainRmse.toFixed(4)}` : ''}\n`);
        }
      },
    });
    if (o.json) return printJson(final);
    if (final.status === 'FAILED') throw new Error(`training run ${final.id} failed: ${final.error}`);
    const guard =
      final.heldOutRmse != null && final.referenceRmse != null
        ? ` (held-out RMSE ${final.heldOutRmse.toFixed(4)}, beating ${final.referenceKind}'s ${final.referenceRmse.toFixed(4)})`
        : final.heldOutNdcg != null
          ? ` (held-out NDCG@10 ${final.heldOutNdcg.toFixed(4)}${final.referenceNdcg != null ? `, beating ${final.referenceKind}'s ${final.referenceNdcg.toFixed(4)}` : ''})`
          : '';
    console.log(`training run ${final.id} SUCCEEDED: model ${final.modelId} is now the active ${final.role.toLowerCase()} model${guard}`);
  });
}

/**
 * `interact`: only through a server (an interaction lives in the server's store). The server
 * validates the weight (0 < weight ≤ 100; one pair's sum ≤ 127.5) as it does for HTTP and
 * WebSocket; here only that it is a number.
 */
export function registerInteractCommand(program: Command): void {
  withServerOption(
    program
      .command('interact')
      .description('record that a user interacted with a movie (a view, click or play) on a running server (needs --server and the bearer token); the user\'s recommendations reflect it at once')
      .requiredOption('--user <id>', 'user id', externalId('--user'))
      .requiredOption('--movie <id>', 'movie id', externalId('--movie'))
      .option('--weight <w>', 'weight of the interaction, 0 < w ≤ 100 (default 1)', finiteNumber('--weight'))
      .option('--json', 'print one JSON document on stdout'),
  ).action(async (o: ServerOptions & { user: number; movie: number; weight?: number; json?: boolean }) => {
    if (!o.server) throw new UsageError('interact needs --server URL (or RECSYS_SERVER): interactions are stored by a running server');
    const row = await client(o).interact(o.user, o.movie, o.weight);
    if (o.json) return printJson({ server: o.server, ...row });
    console.log(`user ${row.userId} interacted with movie ${row.movieId} (weight ${row.weight}) at ${row.at}`);
  });
}
