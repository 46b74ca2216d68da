import 'reflect-metadata';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { NextFunction, Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LoadedDataset, loadDataset, loadDefaultDataset, matrixArraysOf, RatingMatrix, releaseMemory } from '@recsys/data';
import { createModel, fingerprintMatrix, RankingModel } from '@recsys/models';
import { ApiConfig, writeTokenFile } from './config';
import { corsAllowlist, corsHeaders } from './http/cors';
import { dashboardRoutes } from './http/dashboard';
import { graphqlPostListener } from './http/graphql-post';
import { graphiqlAssets, graphiqlHeaders, graphiqlPage, ExampleIds } from './http/graphiql';
import { landingPage } from './http/landing';
import { byteSize, complexityLimitPlugin, operationGuard, subscriptionsOverWebSocketPlugin } from './http/limits';
import { serveGraphqlWs } from './http/websocket';
import { maskError, newLogId } from './errors';
import { createLogger, Logger } from './logger';
import { buildApiSchema } from './schema/build-schema';
import { ApiContext, ApiServices, createContext } from './schema/context';
import { SimilarityMetricEnum } from './schema/types';
import { CatalogService } from './services/catalog-service';
import { ModelRecord, ModelRegistry, ModelRole, newModelId, ServingModel, UnusableArtifactError } from './services/model-registry';
import { createApiPubSub } from './services/pubsub';
import { PredictionService } from './services/prediction-service';
import { ApiStore, openStore } from './services/store';
import { Cluster, openCluster } from './services/cluster';
import { ClusterSync } from './services/cluster-sync';
import { SimilarityClosedWhileStarting, SimilarMovies } from './services/similar-movies';
import { shareDataset } from './services/shared-data';
import { trainingDataThrough } from './services/training-data';
import { AlreadyTrainedError, TrainingRunState, TrainingService } from './services/training-service';

/** Below this many ratings the similarity pool is started and warmed before ready (above, after). */
export const SIMILARITY_WARMUP_BEFORE_READY = 5_000_000;

/** On SIGTERM/SIGINT, in-flight requests get this long to finish before their connections are closed. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The baseline that serves while the configured model trains: ALS biases (μ + b_u + b_i) with 3
 * sweeps instead of the kind's 10, which move its RMSE by well under 0.001 and keep it to a few
 * seconds at 100M ratings.
 */
export const STARTUP_BASELINE: Readonly<Record<string, unknown>> = Object.freeze({ solver: 'als', epochs: 3 });

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
  /**
   * What serves at ready: `file` (RECSYS_MODEL), `artifact` (the stored active model), `trained`
   * (the configured kind is baseline, fitted at startup) or `baseline` (fitted at startup while the
   * configured model trains in the background; see {@link RunningApi.configuredModel}).
   */
  modelSource: 'file' | 'artifact' | 'trained' | 'baseline';
  /**
   * What serves recommendation lists at ready: `file` (RECSYS_RANKING_MODEL), `artifact` (the
   * stored active ranking model) or `popular` (fitted at startup, in memory, while the configured
   * ranking kind trains in the background; see {@link RunningApi.configuredRankingModel}).
   */
  rankingSource: 'file' | 'artifact' | 'popular';
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
  /**
   * Resolves when the configured model serves: at ready when a stored model or RECSYS_MODEL
   * serves, else when its background training (begun once the startup baseline serves) has
   * finished; with that run's state (null when none was needed), FAILED when the guard refused it
   * (the baseline keeps serving).
   */
  configuredModel: Promise<TrainingRunState | null>;
  /**
   * Resolves when the configured ranking model serves: at ready when a stored ranking model or
   * RECSYS_RANKING_MODEL serves, else once its background training (after the configured rating
   * model's) has finished, with that run (FAILED when it did not beat popular: popular keeps serving).
   */
  configuredRankingModel: Promise<TrainingRunState | null>;
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
  const bestMovie = t.mostRatedMovie();
  let user = 0;
  while (user < t.nUsers - 1 && t.userCount(user) < 20) user++;
  // A movie the user has not rated, so the example predicts something unknown.
  const movies = t.nMovies > 0 ? t.movies.ids[bestMovie] : 0;
  return { movieId: movies, userId: t.nUsers > 0 ? t.users.ids[user] : 0 };
}

/**
 * The ranking model that serves while the configured one trains: `popular` counted over the data
 * set before ready (one pass over the ratings, 0.27 CPU s at 100M; no epoch), kept in memory
 * only (a restart restores the stored ranking model instead).
 */
async function startupPopular(registry: ModelRegistry, matrix: RatingMatrix): Promise<ServingModel<RankingModel>> {
  const started = performance.now();
  const model = await createModel('popular').fit(matrix);
  const record: ModelRecord = {
    id: newModelId('popular'),
    kind: 'popular',
    role: 'ranking',
    params: {},
    trainedAt: new Date().toISOString(),
    metrics: { trainRmse: NaN, trainMae: NaN, ratings: matrix.nRatings, users: matrix.nUsers, movies: matrix.nMovies, fitSeconds: (performance.now() - started) / 1000 },
    fingerprint: fingerprintMatrix(matrix),
    baseCrc32: registry.baseCrc32,
    ratingsThroughId: 0,
    interactionsThroughId: 0,
    file: '',
    history: [],
    trainingRunId: null,
  };
  return registry.activateInMemory(record, model) as ServingModel<RankingModel>;
}

/**
 * After a swap, once the previous model's similarity pool has closed: one full collection, so
 * that what the previous model held outside the JS heap (its pool's WebAssembly memory, up to
 * 8 B/rating when the pool copied the matrix; its factors) goes now. V8 frees such memory only
 * when it collects the objects owning it, and with the API's small heap (tens of MB) it may not
 * run a full collection for minutes: at 100M ratings the startup baseline's closed pool stayed
 * resident beside the configured model's (steady state 32 instead of ~24 B/rating). One
 * collection (its pause and CPU time are logged, with the resident memory before and after); it
 * runs after the new model is active and its pool serves, never between a retrain's start and
 * its activation.
 */
function releaseRetired(logger: Logger, model: string): void {
  const before = process.memoryUsage.rss();
  const started = performance.now();
  const cpu = process.cpuUsage();
  releaseMemory({ wait: false });
  const { user, system } = process.cpuUsage(cpu);
  logger.info({ model, cpuMs: (user + system) / 1000, ms: performance.now() - started, rssBefore: before, rssAfter: process.memoryUsage.rss() }, 'previous model released');
}

/** similarMovies of `movieId` for every metric through Apollo, in process (see its call in startServer); answers and errors are dropped. */
async function warmSimilarMovies(apollo: ApolloServer<ApiContext>, services: ApiServices, movieId: number): Promise<void> {
  // The pool's metrics (MODEL is the ranking model's own similarity, not the pool's).
  for (const metric of Object.keys(SimilarityMetricEnum).filter((name) => name !== 'MODEL')) {
    await apollo.executeOperation({ query: `{ similarMovies(movieId: ${movieId}, n: 10, metric: ${metric}) { movieId similarity support } }` }, { contextValue: createContext(services, false) });
  }
}

/** A similarity pool that did not start: an error, unless it was closed first (a stop or a newer model), which is logged at info. */
function logPoolStartFailure(logger: Logger, error: unknown, model: string): void {
  if (error instanceof SimilarityClosedWhileStarting) logger.info({ model }, 'similarity pool not started: closed before it was ready (server stopping or a newer model active)');
  else logger.error({ err: error, model }, 'similarity pool failed to start');
}

async function loadData(config: ApiConfig, options: StartOptions): Promise<LoadedDataset> {
  if (options.loadData) return options.loadData();
  if (config.dataPath) return loadDataset(config.dataPath, { format: config.dataFormat, columns: config.dataColumns, scale: config.dataScale, skipInvalid: config.skipInvalid, cacheDir: config.cacheDir });
  return loadDefaultDataset({ cacheDir: config.cacheDir });
}

/**
 * Starts the API: listens at once (so /healthz answers and /readyz says 503 while loading), then
 * loads the data (moved once into shared memory), opens the rating store, and serves the model
 * of RECSYS_MODEL (checked against the data's fingerprint), else the stored active model, else a
 * baseline fitted in a worker thread within seconds while the configured model trains in the
 * background and replaces it when it passes the guard (see {@link RunningApi.configuredModel});
 * starts the similarity pool of the served training matrix and warms it, and reports ready.
 */
export async function startApi(config: ApiConfig, options: StartOptions = {}): Promise<RunningApi> {
  const started = performance.now();
  const logger = options.logger ?? createLogger();
  let services: ApiServices | null = null;
  let examples: ExampleIds = { movieId: 1, userId: 1 };
  let closing = false;
  let training: TrainingService | null = null;
  let store: ApiStore | null = null;
  /** The other replicas over the same store (PostgreSQL), or this process alone (SQLite). */
  let cluster: Cluster | null = null;
  /** The store's location for /readyz (a PostgreSQL URL without its password). */
  let storeLocation: string | null = null;
  let sync: ClusterSync | null = null;
  let similar: SimilarMovies | null = null;
  /** The background run of the configured model (null when it was not needed). */
  let configuredRun: TrainingRunState | null = null;
  /** The background run of the configured ranking model (null when it was not needed, or before it starts). */
  let configuredRankingRun: TrainingRunState | null = null;
  /** The configured ranking model waits for the configured rating model's run before its own starts. */
  let rankingWaiting = false;

  const app = express();
  app.disable('x-powered-by');
  app.use(corsAllowlist(config.corsOrigins));
  // Node's request listener: Express, except for the GraphQL POSTs graphqlPostListener takes (set below).
  let listener: (req: IncomingMessage, res: ServerResponse) => void = app;
  const httpServer: Server = createServer((req, res) => listener(req, res));
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
      // No field has a cache hint, so every answer was `cache-control: no-store`: the header is set
      // once below instead of by Apollo's cache-control plugin, which ran a hook for every field
      // of every answer (21 per recommendation list).
      ApolloServerPluginCacheControlDisabled(),
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
  // The event loop's delays since start (or the last /metrics?reset=1): how long a query may have waited.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let loopSince = Date.now();
  const eventLoop = () => ({ maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, meanMs: loopDelay.count ? loopDelay.mean / 1e6 : 0, samples: loopDelay.count, since: new Date(loopSince).toISOString() });
  app.get('/readyz', (_req, res) => {
    const s = services;
    if (!s) {
      res.status(503).json({ ready: false, status: 'loading data and model' });
      return;
    }
    const model = s.registry.requireActive().record;
    const ranking = s.registry.requireActiveRanking().record;
    const configuredOf = (kind: string, run: TrainingRunState | null, served: string, waiting = false) => ({
      kind,
      status: run === null ? (waiting ? 'QUEUED' : 'SERVING') : run.status === 'SUCCEEDED' ? (served === run.modelId ? 'SERVING' : 'REPLACED') : run.status,
      run: run?.id ?? null,
      error: run?.error ?? null,
    });
    const configured = configuredOf(config.defaultModel.kind, configuredRun, model.id);
    const configuredRanking = configuredOf(config.rankingModel.kind, configuredRankingRun, ranking.id, rankingWaiting);
    const training = [configured, configuredRanking].filter((c) => c.status === 'RUNNING' || c.status === 'QUEUED').map((c) => `; training the configured ${c.kind} model`);
    res.json({
      ready: true,
      status: `serving ${model.kind} and ${ranking.kind}${training.join('')}`,
      data: { ratings: s.catalog.dataset.matrix.nRatings },
      // stored: in the manifest, restored at the next start (the startup baseline and popular are not).
      model: { id: model.id, kind: model.kind, stored: s.registry.record(model.id) !== undefined },
      rankingModel: { id: ranking.id, kind: ranking.kind, stored: s.registry.record(ranking.id) !== undefined },
      configured,
      configuredRanking,
      // For replicas: which store, and whether the other replicas' events arrive (while they do not,
      // this replica still reads the store every second and serves; the log says why).
      store: { location: storeLocation, shared: cluster?.shared ?? false, events: cluster?.shared ? (cluster.listening ? 'listening' : 'reconnecting') : null },
      eventLoop: eventLoop(),
    });
  });
  // Figures for benchmarks and monitoring: resident memory and event-loop delays (?reset=1 starts the delays over).
  app.get('/metrics', (req, res) => {
    const m = process.memoryUsage();
    const body = { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers, eventLoop: eventLoop() };
    if (req.query.reset === '1') {
      loopDelay.reset();
      loopSince = Date.now();
    }
    res.json(body);
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.use(graphiqlAssets());
  app.use(dashboardRoutes());
  // GET /: links to /dashboard, GraphiQL and the probes.
  app.get('/', (req, res) => {
    res.type('html').set(graphiqlHeaders(req.headers.host)).send(landingPage());
  });
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
  const contextOf = async (req: IncomingMessage) => createContext(services!, isAuthorized(authorizationOf(req.headers), config.token), config.guard.operationTimeoutMs);
  const apolloHandler = expressMiddleware(apollo, { context: async ({ req }) => contextOf(req) });
  const parseJson = express.json({ limit: config.bodyLimit });
  const graphqlChain = [
    parseJson,
    (_req: Request, res: Response, next: NextFunction) => {
      if (!services) {
        res.status(503).json({ errors: [{ message: 'the API is starting: data and model are loading', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
        return;
      }
      res.setHeader('cache-control', 'no-store');
      next();
    },
    apolloHandler,
  ];
  // POST answers without an ETag: only GET and HEAD are ever revalidated (If-None-Match → 304), yet
  // express would hash every answer (SHA-1) and turn it into a Buffer first; without, a short answer
  // leaves with its headers in one write. A mounted app of its own (its settings inherit the app's
  // except those an app sets itself).
  const graphqlPost = express();
  graphqlPost.disable('x-powered-by');
  graphqlPost.set('etag', false);
  graphqlPost.post('/', ...graphqlChain);
  app.use('/graphql', graphqlPost);
  app.use('/graphql', ...graphqlChain);
  // Anything else is not found: one short JSON line, never a path of this machine.
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
  });
  /** The answer to an error of the HTTP layer (a body too large or not JSON, a static file not found, a fault). */
  const errorAnswer = (error: Error & { status?: number; type?: string }): { status: number; body: unknown } => {
    if (error.type === 'entity.too.large') {
      return { status: 413, body: { errors: [{ message: `request body larger than the limit of ${config.bodyLimit}`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] } };
    }
    if (error.status === 404) {
      // serve-static's message names the absolute path it looked for: not for clients.
      return { status: 404, body: { errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] } };
    }
    if (error.status && error.status >= 400 && error.status < 500) {
      // body-parser's errors (they carry a `type`) say what was wrong with the body; others only their status.
      const message = typeof error.type === 'string' ? error.message : (STATUS_CODES[error.status] ?? 'bad request').toLowerCase();
      return { status: error.status, body: { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] } };
    }
    const logId = newLogId();
    logger.error({ err: error, logId }, 'unhandled HTTP error');
    return { status: 500, body: { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR', logId } }] } };
  };
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const { status, body } = errorAnswer(error);
    res.status(status).json(body);
  });
  // GraphQL POSTs with a JSON body go from node's listener to Apollo without Express (see
  // graphqlPostListener); the chain above still serves the others, and these before the services are up.
  listener = graphqlPostListener(
    {
      apollo,
      parseBody: parseJson,
      ready: () => services !== null,
      cors: corsHeaders(config.corsOrigins),
      context: contextOf,
      fail: (error, res) => {
        // As Express's final handler does once an answer has begun: the connection is closed.
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // Anything thrown, not only Errors (errorAnswer reads its fields).
        const { status, body } = errorAnswer(error instanceof Error ? error : new Error(String(error)));
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
      },
    },
    app,
  );

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
    // Each replica would generate its own: a client's token would work on one replica only.
    if (config.databaseUrl !== undefined) logger.warn('RECSYS_DATABASE_URL is set but RECSYS_API_TOKEN is not: this replica\'s generated token works on it alone; give every replica the same RECSYS_API_TOKEN');
  }

  let resolveConfigured: (run: TrainingRunState | null) => void = () => {};
  const configuredModel = new Promise<TrainingRunState | null>((resolve) => (resolveConfigured = resolve));
  let resolveConfiguredRanking: (run: TrainingRunState | null) => void = () => {};
  const configuredRankingModel = new Promise<TrainingRunState | null>((resolve) => (resolveConfiguredRanking = resolve));
  const boot = async (): Promise<StartupTimings> => {
    let t = performance.now();
    const lap = () => {
      const now = performance.now();
      const s = (now - t) / 1000;
      t = now;
      return s;
    };
    const loaded = await loadData(config, options);
    const data = lap();
    logger.info({ ...loaded.report, skippedExamples: undefined, duplicateExamples: undefined, seconds: data }, 'data loaded');
    // One copy of the ratings in shared memory, read in place by every training run and similarity pool.
    const dataset = shareDataset(loaded);
    // The data's CRC: computed once for this matrix (fingerprintMatrix remembers it for every later check).
    const baseFingerprint = fingerprintMatrix(dataset.matrix);
    const baseCrc32 = baseFingerprint.crc32;
    if (config.databaseUrl && config.dbPath) logger.warn({ RECSYS_DB: config.dbPath }, 'RECSYS_DB is ignored: RECSYS_DATABASE_URL keeps the store in PostgreSQL');
    const opened = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.dbPath ?? join(config.cacheDir, `ratings-${baseCrc32}.sqlite`), modelDir: config.modelDir, baseCrc32, logger });
    store = opened;
    const ratingStore = lap();
    storeLocation = opened.location;
    logger.info({ store: opened.location, manifest: opened.manifests.location, apiRatings: opened.size, seconds: ratingStore }, 'rating store open');
    const baseArrays = matrixArraysOf(dataset.matrix);
    const registry = await ModelRegistry.open(config.modelDir, baseFingerprint, logger, (through, interactionsThrough) => trainingDataThrough(dataset.matrix, baseArrays, opened, through, interactionsThrough), opened.manifests);
    // One similarity pool per active training matrix: started at each swap, the old one closed.
    const similarity = new SimilarMovies(config.similarity, logger);
    similar = similarity;
    registry.onActivated((activated) => {
      // The model whose pool this swap retires (null: none yet).
      const previous = similarity.stats().modelId;
      similarity
        .activate(activated)
        .then(async () => {
          await similarity.retired();
          if (previous !== null && previous !== activated.id && !closing && registry.active === activated) releaseRetired(logger, activated.id);
        })
        .catch((error: unknown) => logPoolStartFailure(logger, error, activated.id));
    });
    const replicas = await openCluster(config.databaseUrl, baseCrc32, logger);
    cluster = replicas;
    // Before a run takes the API ratings: the rows other replicas stored (folded in once services exist).
    const catchUp = () => (sync ? sync.catchUp() : opened.pull().then(() => undefined));
    const trainer = await TrainingService.open({ registry, store: opened, base: baseArrays, matrix: dataset.matrix, pubsub, logger, nice: config.trainingNice, cluster: replicas, catchUp });
    training = trainer;
    const { kind, params } = config.defaultModel;
    let modelSource: StartupTimings['modelSource'] = 'artifact';
    let serving: ServingModel | null = null;
    let background = false;
    if (config.modelFile) {
      modelSource = 'file';
      const served = await registry.serveFile(config.modelFile, dataset.matrix);
      if (served.role !== 'rating') throw new UnusableArtifactError(`model file ${config.modelFile} holds a ranking model (${served.record.kind}): serve it with --ranking-model-file (RECSYS_RANKING_MODEL)`);
      serving = served as ServingModel;
    } else {
      serving = (await registry.restoreActive('rating')) as ServingModel | null;
    }
    if (!serving) {
      // Serve the biases within seconds (one unchecked fit, off the event loop, kept in memory
      // only), then train the configured model in the background and swap it in when it passes.
      background = kind !== 'baseline';
      modelSource = background ? 'baseline' : 'trained';
      const run = await trainer.start('baseline', background ? STARTUP_BASELINE : params, 'STARTUP', background ? { check: false, persist: false } : {});
      await trainer.waitFor(run);
      if (run.status !== 'SUCCEEDED') throw new Error(`training the startup baseline failed: ${run.error}`);
      serving = registry.active!;
    }
    // The ranking role: RECSYS_RANKING_MODEL, else the stored active ranking model, else popular
    // (one unchecked count, off the event loop, kept in memory only) while the configured kind
    // trains in the background and replaces it when it beats popular on held-out data.
    let rankingSource: StartupTimings['rankingSource'] = 'artifact';
    let ranking = null as ServingModel<RankingModel> | null;
    if (config.rankingModelFile) {
      rankingSource = 'file';
      const served = await registry.serveFile(config.rankingModelFile, dataset.matrix);
      if (served.role !== 'ranking') throw new UnusableArtifactError(`ranking model file ${config.rankingModelFile} holds a ${served.record.kind} model, not a ranking model: serve it with --model-file (RECSYS_MODEL)`);
      ranking = served as ServingModel<RankingModel>;
    } else {
      ranking = (await registry.restoreActive('ranking')) as ServingModel<RankingModel> | null;
    }
    const rankingBackground = ranking === null;
    if (!ranking) {
      rankingSource = 'popular';
      ranking = await startupPopular(registry, dataset.matrix);
    }
    // The served matrix's movie totals, counted now rather than at the first movie query.
    serving.movieRatingTotals();
    const model = lap();
    logger.info({ model: serving.id, kind: serving.record.kind, source: modelSource, file: modelSource === 'baseline' ? null : modelSource === 'file' ? config.modelFile : join(config.modelDir, serving.record.file), seconds: model }, 'model ready');
    logger.info({ model: ranking.id, kind: ranking.record.kind, source: rankingSource }, 'ranking model ready');
    const catalog = new CatalogService(dataset, registry, opened, similarity);
    const predictions = new PredictionService(registry, opened, catalog, replicas);
    examples = exampleIds(catalog);
    // Ready once predictions answer: at 100M the similarity pool takes seconds to start (it has
    // its own copy of the matrix), and similar-movie queries wait for it meanwhile. On small data
    // (the pool answers light queries inline) it is warmed before ready, as before.
    const warmup = similarity.activate(serving).then(() => catalog.similarMovies(examples.movieId, 10, 'jaccard', 0));
    if (dataset.matrix.nRatings < SIMILARITY_WARMUP_BEFORE_READY) await warmup;
    else {
      const servingId = serving.id;
      warmup.catch((error: unknown) => logPoolStartFailure(logger, error, servingId));
    }
    const similarityWarmup = lap();
    services = { catalog, predictions, registry, training: trainer, pubsub, logger };
    // The first similarMovies operation also ran its code on the event loop for the first time
    // (graphql's validation of its enum argument, the cost meter, the resolver: measured at 10M,
    // about 7 ms more main-thread CPU than the next one, and far longer waits on busy cores): one
    // operation per metric, in process, once the pool has started and warmed its kernels.
    const warmServices = services;
    void warmup.then(() => warmSimilarMovies(apollo, warmServices, examples.movieId)).catch(() => undefined);
    // Replicas: follow the others' rows, runs and activations (events, and a poll in case one is
    // missed); catch up at once with what they did while this one started.
    sync = new ClusterSync({ cluster: replicas, store: opened, registry, predictions, training: trainer, logger });
    if (replicas.shared) await sync.on({ type: 'resync' });
    // dataSummary: counted once, in chunks between requests, from ready on (see CatalogService.dataSummary).
    const summaryStarted = performance.now();
    catalog
      .dataSummary()
      .then(() => logger.info({ seconds: (performance.now() - summaryStarted) / 1000 }, 'data summary counted'))
      .catch((error: unknown) => logger.error({ err: error }, 'counting the data summary failed'));
    const timings: StartupTimings = {
      data,
      ratingStore,
      model,
      modelSource,
      rankingSource,
      similarityWarmup,
      total: (performance.now() - started) / 1000,
      sinceProcessStart: performance.now() / 1000,
    };
    const serves = { model: serving.id, kind: serving.record.kind, source: modelSource, rankingModel: ranking.id, rankingKind: ranking.record.kind, rankingSource };
    logger.info({ timings, url, serving: serves, training: { rating: background ? kind : null, ranking: rankingBackground ? config.rankingModel.kind : null } }, 'ready');
    if (!background) resolveConfigured(null);
    if (!rankingBackground) resolveConfiguredRanking(null);
    rankingWaiting = rankingBackground;
    // One run at a time: the configured rating model, then the configured ranking model.
    void (async () => {
      if (background) resolveConfigured(await trainConfigured('rating', kind, params, 'baseline', (run) => (configuredRun = run)));
      if (rankingBackground) {
        resolveConfiguredRanking(
          await trainConfigured('ranking', config.rankingModel.kind, config.rankingModel.params, 'popular', (run) => {
            configuredRankingRun = run;
            rankingWaiting = false;
          }),
        );
        // Not trained here (another replica trains or trained it): no longer waiting either.
        rankingWaiting = false;
      }
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'training the configured models failed');
      resolveConfigured(configuredRun);
      resolveConfiguredRanking(configuredRankingRun);
    });
    return timings;
  };
  /**
   * Trains the configured model of a role in the background (what serves meanwhile is `fallback`,
   * fitted at startup in memory). When the guard refuses it, a checked `fallback` is stored, so
   * that a restart restores it instead of training the refused kind again. Null when closing.
   */
  async function trainConfigured(role: ModelRole, kind: string, params: Record<string, unknown>, fallback: string, started: (run: TrainingRunState) => void): Promise<TrainingRunState | null> {
    if (closing || !training) return null;
    const trainer = training;
    const registry = services?.registry;
    const trainedElsewhere = (model: string) => {
      logger.info({ model, kind: registry?.record(model)?.kind, role }, `another replica trained the ${role} model: it serves here`);
      return null;
    };
    if (cluster?.shared && registry) {
      // Replicas: another one may have trained and activated it while this one started.
      await registry.reload();
      await registry.adoptActive(role);
      const active = registry.activeOf(role);
      if (active && registry.record(active.id)) return trainedElsewhere(active.id);
    }
    let run: TrainingRunState;
    try {
      // unlessActive: the manifest is read again under the training lock, so a model another
      // replica activated after the look above is served here, not trained a second time.
      run = await trainer.start(kind, params, 'STARTUP', cluster?.shared ? { unlessActive: role } : {});
    } catch (error) {
      // Adopted by the service (it serves here): nothing to train.
      if (error instanceof AlreadyTrainedError) return trainedElsewhere(error.modelId);
      if (!(cluster?.shared && error instanceof GraphQLError && error.extensions.code === 'CONFLICT')) throw error;
      // Another replica holds the training lock: it trains, and this one serves its model once activated.
      logger.info({ kind, role, reason: error.message }, `another replica is training; serving ${fallback} until it activates a ${role} model`);
      return null;
    }
    started(run);
    logger.info({ run: run.id, kind, role }, `serving ${fallback}; training the configured ${kind} model in the background (it replaces ${fallback} when it passes the guard)`);
    await trainer.waitFor(run);
    if (run.status === 'SUCCEEDED') {
      logger.info({ run: run.id, model: run.modelId, kind, role }, `the configured ${kind} model now serves`);
    } else if (!closing) {
      logger.warn({ run: run.id, kind, role, error: run.error }, `the configured ${kind} model failed; ${fallback} keeps serving`);
      const stored = await trainer.start(fallback, {}, 'STARTUP');
      await trainer.waitFor(stored);
      if (stored.status !== 'SUCCEEDED') logger.error({ run: stored.id, error: stored.error }, `the stored ${fallback} failed; the startup ${fallback} keeps serving`);
    }
    return run;
  }

  const ready = boot();
  ready.catch((error: unknown) => {
    resolveConfigured(null);
    resolveConfiguredRanking(null);
    if (!closing) logger.fatal({ err: error }, 'startup failed');
  });

  return {
    url,
    port,
    config,
    logger,
    ready,
    configuredModel,
    configuredRankingModel,
    services: () => services,
    close: async () => {
      if (closing) return;
      closing = true;
      sync?.close();
      await training?.close();
      await ready.catch(() => undefined);
      await training?.close();
      await ws.dispose();
      loopDelay.disable();
      // Requests still draining get their similar movies; a baselines fit still running is stopped.
      await Promise.all([apollo.stop(), similar?.close()]);
      await cluster?.close();
      await store?.close();
      services = null;
    },
  };
}
