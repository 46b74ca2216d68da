import 'reflect-metadata';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { NextFunction, Request, Response } from 'express';
import { LoadedDataset, loadDataset, loadDefaultDataset, matrixArraysOf } from '@recsys/data';
import { fingerprintMatrix } from '@recsys/models';
import { ApiConfig, writeTokenFile } from './config';
import { corsAllowlist } from './http/cors';
import { graphiqlAssets, graphiqlHeaders, graphiqlPage, ExampleIds } from './http/graphiql';
import { byteSize, complexityLimitPlugin, operationGuard, subscriptionsOverWebSocketPlugin } from './http/limits';
import { serveGraphqlWs } from './http/websocket';
import { maskError, newLogId } from './errors';
import { createLogger, Logger } from './logger';
import { buildApiSchema } from './schema/build-schema';
import { ApiContext, ApiServices, createContext } from './schema/context';
import { CatalogService } from './services/catalog-service';
import { ModelRegistry } from './services/model-registry';
import { createApiPubSub } from './services/pubsub';
import { PredictionService } from './services/prediction-service';
import { RatingStore } from './services/rating-store';
import { SimilarMovies } from './services/similar-movies';
import { trainingDataThrough } from './services/training-data';
import { TrainingService } from './services/training-service';

/** On SIGTERM/SIGINT, in-flight requests get this long to finish before their connections are closed. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface StartOptions {
  /** Loads the data instead of `config.dataPath` or the embedded default (tests pass a small set). */
  loadData?: () => Promise<LoadedDataset>;
  logger?: Logger;
}

/** Seconds each startup step took. */
export interface StartupTimings {
  data: number;
  ratingStore: number;
  model: number;
  modelSource: 'artifact' | 'trained';
  similarityWarmup: number;
  /** From startApi to ready. */
  total: number;
  /** From the process start (node's time origin) to ready. */
  sinceProcessStart: number;
}

export interface RunningApi {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  port: number;
  config: ApiConfig;
  logger: Logger;
  /** Resolves when data and model are loaded (/readyz turns 200); rejects when startup failed. */
  ready: Promise<StartupTimings>;
  /** The services once ready (null before). */
  services(): ApiServices | null;
  /** Stops a running training, closes subscriptions, drains HTTP, closes the database. */
  close(): Promise<void>;
}

/** Whether an Authorization header carries the API token (constant-time comparison). */
export function isAuthorized(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const given = createHash('sha256').update(match[1]).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

function authorizationOf(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  return Array.isArray(h) ? h[0] : h;
}

function exampleIds(catalog: CatalogService): ExampleIds {
  const t = catalog.active.train;
  let bestMovie = 0;
  for (let m = 1; m < t.nMovies; m++) if (t.movieCount(m) > t.movieCount(bestMovie)) bestMovie = m;
  let user = 0;
  while (user < t.nUsers - 1 && t.userCount(user) < 20) user++;
  // A movie the user has not rated, so the example predicts something unknown.
  const movies = t.nMovies > 0 ? t.movies.ids[bestMovie] : 0;
  return { movieId: movies, userId: t.nUsers > 0 ? t.users.ids[user] : 0 };
}

async function loadData(config: ApiConfig, options: StartOptions): Promise<LoadedDataset> {
  if (options.loadData) return options.loadData();
  if (config.dataPath) return loadDataset(config.dataPath, { format: config.dataFormat, skipInvalid: config.skipInvalid, cacheDir: config.cacheDir });
  return loadDefaultDataset({ cacheDir: config.cacheDir });
}

/**
 * Starts the API: listens at once (so /healthz answers and /readyz says 503 while loading), then
 * loads the data, opens the rating store, restores the stored model or trains the default one in
 * a worker thread, starts the similarity pool of its training matrix (large data only) and warms
 * it, and reports ready.
 */
export async function startApi(config: ApiConfig, options: StartOptions = {}): Promise<RunningApi> {
  const started = performance.now();
  const logger = options.logger ?? createLogger();
  let services: ApiServices | null = null;
  let examples: ExampleIds = { movieId: 1, userId: 1 };
  let closing = false;
  let training: TrainingService | null = null;
  let store: RatingStore | null = null;
  let similar: SimilarMovies | null = null;

  const app = express();
  app.disable('x-powered-by');
  app.use(corsAllowlist(config.corsOrigins));
  const httpServer: Server = createServer(app);
  // One publish/subscribe per server: the schema's subscriptions read it, training publishes to it.
  const pubsub = createApiPubSub();
  const schema = await buildApiSchema(pubsub);
  // One guard for both transports: the same parse limit, validation rules and cost meter.
  const guard = operationGuard(schema, { maxDepth: config.maxDepth, maxComplexity: config.maxComplexity, limits: config.guard });

  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts handles SIGTERM/SIGINT (drain, close the store, exit 0): Apollo's own handler would
    // stop the server and re-send the signal, which main would take for a second one.
    stopOnTerminationSignals: false,
    parseOptions: guard.parseOptions,
    validationRules: guard.validationRules,
    formatError: (formatted, error) => maskError(formatted, error, logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: SHUTDOWN_GRACE_MS }),
      ApolloServerPluginLandingPageDisabled(),
      subscriptionsOverWebSocketPlugin(),
      complexityLimitPlugin(guard.cost),
    ],
  });
  await apollo.start();

  const ws = serveGraphqlWs(httpServer, '/graphql', {
    schema,
    guard,
    maxPayload: byteSize(config.bodyLimit),
    allowedOrigins: config.corsOrigins,
    logger,
    accepting: () => services !== null,
    context: (request, operation) =>
      createContext(services!, isAuthorized(authorizationOf(request.headers), config.token), operation === 'subscription' ? Infinity : config.guard.operationTimeoutMs),
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: process.uptime() });
  });
  app.get('/readyz', (_req, res) => {
    const s = services;
    if (!s) {
      res.status(503).json({ ready: false, status: 'loading data and model' });
      return;
    }
    const model = s.registry.requireActive().record;
    res.json({ ready: true, data: { ratings: s.catalog.dataset.matrix.nRatings }, model: { id: model.id, kind: model.kind } });
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.use(graphiqlAssets());
  app.get('/graphql', (req, res, next) => {
    // Browsers ask for text/html first; API clients (curl sends */*) get the API.
    if (req.query.query !== undefined || req.accepts(['application/json', 'text/html']) !== 'text/html') {
      next();
      return;
    }
    if (!services) {
      res.status(503).type('text/plain').send('recsys API: still loading data and model; reload in a moment');
      return;
    }
    res.type('html').set(graphiqlHeaders(req.headers.host)).send(graphiqlPage(examples));
  });
  const apolloHandler = expressMiddleware(apollo, {
    context: async ({ req }) => createContext(services!, isAuthorized(authorizationOf(req.headers), config.token), config.guard.operationTimeoutMs),
  });
  app.use(
    '/graphql',
    express.json({ limit: config.bodyLimit }),
    (_req: Request, res: Response, next: NextFunction) => {
      if (!services) {
        res.status(503).json({ errors: [{ message: 'the API is starting: data and model are loading', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
        return;
      }
      next();
    },
    apolloHandler,
  );
  // Anything else is not found: one short JSON line, never a path of this machine.
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
  });
  app.use((error: Error & { status?: number; type?: string; limit?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error.type === 'entity.too.large') {
      res.status(413).json({ errors: [{ message: `request body larger than the limit of ${config.bodyLimit}`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      return;
    }
    if (error.status === 404) {
      // serve-static's message names the absolute path it looked for: not for clients.
      res.status(404).json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    if (error.status && error.status >= 400 && error.status < 500) {
      // body-parser's errors (they carry a `type`) say what was wrong with the body; others only their status.
      const message = typeof error.type === 'string' ? error.message : (STATUS_CODES[error.status] ?? 'bad request').toLowerCase();
      res.status(error.status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    const logId = newLogId();
    logger.error({ err: error, logId }, 'unhandled HTTP error');
    res.status(500).json({ errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR', logId } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/graphql`;
  logger.info({ host: config.host, port, url, seconds: (performance.now() - started) / 1000 }, 'listening; loading data and model');
  if (config.tokenGenerated) {
    // The token goes to a file only its owner can read; the log names the file, never the token.
    writeTokenFile(config.tokenFile, config.token);
    logger.warn(
      { tokenFile: config.tokenFile },
      'RECSYS_API_TOKEN is unset: generated a token for retrain and rateMovie and wrote it to tokenFile (mode 0600); send "Authorization: Bearer <its content>"',
    );
  }

  const boot = async (): Promise<StartupTimings> => {
    let t = performance.now();
    const lap = () => {
      const now = performance.now();
      const s = (now - t) / 1000;
      t = now;
      return s;
    };
    const dataset = await loadData(config, options);
    const data = lap();
    logger.info({ ...dataset.report, skippedExamples: undefined, duplicateExamples: undefined, seconds: data }, 'data loaded');
    const baseFingerprint = fingerprintMatrix(dataset.matrix);
    const baseCrc32 = baseFingerprint.crc32;
    store = new RatingStore(config.dbPath ?? join(config.cacheDir, `ratings-${baseCrc32}.sqlite`));
    const ratingStore = lap();
    logger.info({ file: store.path, apiRatings: store.size, seconds: ratingStore }, 'rating store open');
    const baseArrays = matrixArraysOf(dataset.matrix);
    const registry = new ModelRegistry(config.modelDir, baseFingerprint, logger, (through) => trainingDataThrough(dataset.matrix, baseArrays, store!, through));
    // One similarity pool per active training matrix: started at each swap, the old one closed.
    const similarity = new SimilarMovies(config.similarity, logger);
    similar = similarity;
    registry.onActivated((activated) => {
      similarity.activate(activated).catch((error: unknown) => logger.error({ err: error, model: activated.id }, 'similarity pool failed to start'));
    });
    training = new TrainingService({ registry, store, base: baseArrays, pubsub, logger });
    let modelSource: StartupTimings['modelSource'] = 'artifact';
    let serving = await registry.restoreActive();
    if (!serving) {
      modelSource = 'trained';
      const { kind, params } = config.defaultModel;
      let run = training.start(kind, params, 'STARTUP');
      await training.waitFor(run);
      // The guard may refuse the default kind on data it does not suit: serve the biases rather than nothing.
      if (run.status === 'FAILED' && kind !== 'baseline' && !closing) {
        logger.warn({ kind, error: run.error }, 'the default model did not pass the guard; training baseline instead');
        run = training.start('baseline', {}, 'STARTUP');
        await training.waitFor(run);
      }
      if (run.status !== 'SUCCEEDED') throw new Error(`training the default ${run.kind} model failed: ${run.error}`);
      serving = registry.active!;
    }
    const model = lap();
    logger.info({ model: serving.id, kind: serving.record.kind, source: modelSource, file: join(config.modelDir, serving.record.file), seconds: model }, 'model ready');
    await similarity.activate(serving);
    const catalog = new CatalogService(dataset, registry, store, similarity);
    const predictions = new PredictionService(registry, store, catalog);
    examples = exampleIds(catalog);
    await catalog.similarMovies(examples.movieId, 10, 'jaccard', 0);
    const similarityWarmup = lap();
    services = { catalog, predictions, registry, training, pubsub, logger };
    const timings: StartupTimings = {
      data,
      ratingStore,
      model,
      modelSource,
      similarityWarmup,
      total: (performance.now() - started) / 1000,
      sinceProcessStart: performance.now() / 1000,
    };
    logger.info({ timings, url }, 'ready');
    return timings;
  };
  const ready = boot();
  ready.catch((error: unknown) => {
    if (!closing) logger.fatal({ err: error }, 'startup failed');
  });

  return {
    url,
    port,
    config,
    logger,
    ready,
    services: () => services,
    close: async () => {
      if (closing) return;
      closing = true;
      await training?.close();
      await ready.catch(() => undefined);
      await training?.close();
      await ws.dispose();
      // Requests still draining get their similar movies; a baselines fit still running is stopped.
      await Promise.all([apollo.stop(), similar?.close()]);
      store?.close();
      services = null;
    },
  };
}
