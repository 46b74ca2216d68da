import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ColumnRole, DATA_FORMATS, DataFormat, defaultCacheDir, loadOptionsConflict, parseColumns, parseRatingScale, RatingScale } from '@recsys/data';
import { createModel, isRankingModel } from '@recsys/models';
import { GuardLimits, guardLimitsFromEnv, intFromEnv } from './http/limits';
import { maskDatabaseUrl } from './services/store-support';
import { TRAINING_NICE } from './services/training-job';
import type { SimilarMoviesOptions } from './services/similar-movies';

/** Model kinds the API trains and serves: the latent-factor models, which can fold in new ratings. */
export const API_MODEL_KINDS = ['baseline', 'svd', 'svdpp'] as const;
export type ApiModelKind = (typeof API_MODEL_KINDS)[number];

/**
 * Ranking kinds the API trains and serves for recommendation lists (see RankingModel of
 * @recsys/models). A kind this build does not register yet is refused where it is asked for.
 */
export const API_RANKING_KINDS = ['popular', 'ease', 'ials', 'bpr'] as const;
export type ApiRankingKind = (typeof API_RANKING_KINDS)[number];

/**
 * The ranking kind trained when no stored ranking model fits the data: the one that measures best
 * on the default data (1M ratings; `recsys rank-evaluate --model popular,ease,ials,bpr
 * --per-user-holdout 0.2`, NDCG@10: ials 0.226, ease 0.214, bpr 0.205, popular 0.065; fits 1.3,
 * 1.0 and 28.7 s). On MovieLens 100k u1–u5 `ease` leads (0.406 against 0.394): see the README.
 */
export const DEFAULT_RANKING_KIND: ApiRankingKind = 'ials';

/** Everything the server reads from its environment and command line, defaults filled in. */
export interface ApiConfig {
  /** `PORT` / `--port`, default 4000 (0 picks a free port). */
  port: number;
  /** `HOST` / `--host`, default 127.0.0.1 (loopback only; containers set `HOST=0.0.0.0`). */
  host: string;
  /** `RECSYS_DATA` / `--data`: a snapshot, ratings file or data folder; absent: the embedded synthetic set. */
  dataPath?: string;
  /** `RECSYS_DATA_FORMAT` / `--format`: force the data format. */
  dataFormat?: DataFormat;
  /** `RECSYS_DATA_COLUMNS` / `--columns`: what each column of a delimited data file holds (see `parseColumns`). */
  dataColumns?: ColumnRole[];
  /** `RECSYS_DATA_SCALE` / `--scale`: the rating scale of rating data on another scale (`MIN..MAX[:STEP]`). */
  dataScale?: RatingScale;
  /** `--skip-invalid`: skip malformed rows instead of refusing the data. */
  skipInvalid: boolean;
  /** `RECSYS_CACHE_DIR`, default `.cache/` at the repository root. */
  cacheDir: string;
  /** `RECSYS_MODEL_DIR`, default `<cacheDir>/models`: model artifacts and their manifest. */
  modelDir: string;
  /** `RECSYS_DB`: the SQLite file of ratings given through the API; default `<cacheDir>/ratings-<data crc32>.sqlite`. */
  dbPath?: string;
  /**
   * `RECSYS_DATABASE_URL` / `--database-url`: `postgres://…` or `postgresql://…`: the store (API
   * ratings, interactions, training runs, the model manifest) lives in PostgreSQL, shared by
   * replicas; RECSYS_DB is then ignored (the server logs so). Absent: SQLite and manifest.json.
   */
  databaseUrl?: string;
  /** `RECSYS_API_TOKEN`: bearer token of the mutations; generated when unset (see tokenFile). */
  token: string;
  tokenGenerated: boolean;
  /** Where a generated token is written (mode 0600; the log names the file, never the token): `<cacheDir>/api-token`. */
  tokenFile: string;
  /** `RECSYS_CORS_ORIGINS`: origins whose browser pages may call the API (see {@link corsOrigins}); default none. */
  corsOrigins: readonly string[];
  /**
   * The model trained when no artifact fits the data (after a baseline that serves meanwhile):
   * `RECSYS_MODEL_KIND` (default `svd`) with `RECSYS_MODEL_PARAMS` (a JSON object; the kind's
   * defaults for the rest).
   */
  defaultModel: { kind: ApiModelKind; params: Record<string, unknown> };
  /**
   * The ranking model trained when no stored ranking model fits the data (after `popular`, which
   * serves meanwhile): `RECSYS_RANKING_MODEL_KIND` (default {@link DEFAULT_RANKING_KIND}) with
   * `RECSYS_RANKING_MODEL_PARAMS` (a JSON object; the kind's defaults for the rest).
   */
  rankingModel: { kind: ApiRankingKind; params: Record<string, unknown> };
  /** `RECSYS_MODEL` / `--model-file`: an artifact written by `recsys train --out FILE`, served over the data (refused unless trained on it). */
  modelFile?: string;
  /** `RECSYS_RANKING_MODEL` / `--ranking-model-file`: the same for the ranking role (a ranking model's artifact). */
  rankingModelFile?: string;
  /** Largest accepted request body (express body-parser syntax). Default `100kb`. */
  bodyLimit: string;
  /** Deepest accepted selection nesting: `RECSYS_MAX_DEPTH`, default 12. */
  maxDepth: number;
  /** Largest accepted estimated query cost (see http/limits.ts): `RECSYS_MAX_COMPLEXITY`, default 20,000. */
  maxComplexity: number;
  /**
   * Similar-movie queries: pool threads and the heaviest query run on the event loop (defaults in
   * SimilarMoviesOptions); `RECSYS_SIMILARITY_NARROW_INDICES` (1, the default, or 0) sets `narrowMovieIndices`.
   */
  similarity: SimilarMoviesOptions;
  /** `RECSYS_TRAINING_NICE`: nice value (0..19) of the training threads, below the event loop; default {@link TRAINING_NICE}. */
  trainingNice: number;
  /** The other limits of every transport (aliases, tokens, directives, subscriptions per socket, time budget): `RECSYS_MAX_*` (http/limits.ts). */
  guard: GuardLimits;
}

/** A bad flag, value or variable: the server prints one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The server's command-line flags (util.parseArgs, strict: an unknown flag is an error). */
const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  format: { type: 'string' },
  columns: { type: 'string' },
  scale: { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  'model-file': { type: 'string' },
  'ranking-model-file': { type: 'string' },
  'database-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What `--help` prints: every flag and variable with its default. */
export function usage(): string {
  return `Usage: node apps/api/dist/main.js [options]   (npm start -- [options])

Serves the recommender's GraphQL API (GraphiQL in a browser at /graphql).

Options:
  --port <n>          port, 0 for any free one (env PORT; default 4000)
  --host <address>    interface to listen on (env HOST; default 127.0.0.1, loopback only;
                      a container sets HOST=0.0.0.0)
  --data <path>       snapshot, ratings file or data folder to serve (env RECSYS_DATA;
                      default: the embedded synthetic data)
  --format <format>   force the data format (env RECSYS_DATA_FORMAT): ${DATA_FORMATS.join(', ')}
  --columns <list>    what each column of a delimited data file holds, in order, e.g.
                      user,movie,rating or user,item,timestamp (names user, movie/item,
                      rating/weight, timestamp, skip/_), for a file without a header or with
                      other column names (env RECSYS_DATA_COLUMNS)
  --scale <MIN..MAX[:STEP]>  rating scale of rating data on another scale, e.g. 1..10
                      (env RECSYS_DATA_SCALE; default: the format's)
  --skip-invalid      skip malformed rows instead of refusing the data
  --model-file <file> serve this model artifact (written by \`recsys train --out FILE\` on the
                      same data; refused, naming both data fingerprints, when trained on other
                      data) instead of the stored or a newly trained one (env RECSYS_MODEL)
  --ranking-model-file <file>
                      the same for the ranking model that serves recommendation lists and
                      similarMovies(metric: MODEL) (env RECSYS_RANKING_MODEL)
  --database-url <postgres://user:password@host:port/database>
                      keep the store in PostgreSQL, shared by every replica: API ratings and
                      interactions, training runs with their epochs, the model manifest and
                      evaluations (env RECSYS_DATABASE_URL; the schema is migrated at start;
                      default: SQLite, see RECSYS_DB, and <model dir>/manifest.json)
  -h, --help          print this help and exit

Environment:
  RECSYS_API_TOKEN      bearer token of retrain and rateMovie (default: generated at start and
                        written to <cache>/api-token, mode 0600; the log names the file)
  RECSYS_CORS_ORIGINS   comma-separated origins allowed to call the API from a browser page,
                        e.g. https://app.example.com,http://localhost:5173 (default: none)
  RECSYS_CACHE_DIR      default data snapshot, models, rating store (default .cache/)
  RECSYS_MODEL_DIR      model artifacts and manifest.json (default <cache>/models)
  RECSYS_DB             SQLite file of the API ratings (default <cache>/ratings-<data crc32>.sqlite);
                        ignored, with a log line, when RECSYS_DATABASE_URL is set
  RECSYS_DATABASE_URL   see --database-url
  RECSYS_MODEL_KIND     model trained when no stored model fits the data: ${API_MODEL_KINDS.join(', ')}
                        (default svd); a baseline serves within seconds while it trains in the
                        background, and it replaces the baseline when it passes the guard
  RECSYS_MODEL_PARAMS   its parameters as a JSON object, e.g. {"factors":100,"epochs":20}
                        (default: the kind's defaults)
  RECSYS_RANKING_MODEL_KIND
                        ranking model trained when no stored one fits the data: ${API_RANKING_KINDS.join(', ')}
                        (default ${DEFAULT_RANKING_KIND}); popular serves within seconds while it trains,
                        and it replaces popular when it beats popular's NDCG@10 on held-out data
  RECSYS_RANKING_MODEL_PARAMS
                        its parameters as a JSON object (default: the kind's defaults)
  RECSYS_LOG_LEVEL      pino log level (default info)
  RECSYS_TRAINING_NICE  nice value 0..19 of the training threads, so that queries never wait
                        for their time slices (default ${TRAINING_NICE}; 0: the server's priority)
  RECSYS_SIMILARITY_NARROW_INDICES
                        1 (default): the similarity pool keeps a u16 copy of the movie indices
                        (2 B/rating, up to 65,536 movies) for faster similar-movie queries; 0: none
`;
}

/** The flags of `argv` (after the script name); throws ConfigError for an unknown flag, a missing value or a stray argument. */
export function parseFlags(argv: readonly string[]): {
  port?: string;
  host?: string;
  data?: string;
  format?: string;
  columns?: string;
  scale?: string;
  'skip-invalid'?: boolean;
  'model-file'?: string;
  'ranking-model-file'?: string;
  'database-url'?: string;
  help?: boolean;
} {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
}

/**
 * The origins `RECSYS_CORS_ORIGINS` allows (comma-separated, each `scheme://host[:port]`,
 * normalised as `new URL(o).origin`, e.g. `https://app.example.com`); empty when unset. One
 * parser for both the HTTP CORS answers and the WebSocket Origin check. An entry that is not an
 * origin (a path, `*`, no scheme) is a ConfigError: an allowlist names its origins.
 */
export function corsOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const text = env.RECSYS_CORS_ORIGINS ?? '';
  const origins: string[] = [];
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {
      url = null;
    }
    const plain = url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    if (!plain || /^[a-z]+:\/\/[^/]+\/.+/i.test(entry)) {
      throw new ConfigError(`RECSYS_CORS_ORIGINS: "${entry}" is not an origin (http(s)://host[:port], nothing after it)`);
    }
    if (!origins.includes(url!.origin)) origins.push(url!.origin);
  }
  return origins;
}

/** The configured model from `RECSYS_MODEL_KIND` and `RECSYS_MODEL_PARAMS` (see {@link ApiConfig.defaultModel}); parameters are checked by createModel. */
export function defaultModelFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig['defaultModel'] {
  return modelFromEnv(env, 'RECSYS_MODEL', API_MODEL_KINDS, 'svd', false);
}

/**
 * The configured ranking model from `RECSYS_RANKING_MODEL_KIND` and `RECSYS_RANKING_MODEL_PARAMS`
 * (see {@link ApiConfig.rankingModel}); a kind this build does not register yet is refused,
 * naming the kinds it knows.
 */
export function rankingModelFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig['rankingModel'] {
  return modelFromEnv(env, 'RECSYS_RANKING_MODEL', API_RANKING_KINDS, DEFAULT_RANKING_KIND, true);
}

/** `<prefix>_KIND` (one of `kinds`, default `fallback`; a ranking kind when `ranking`) and `<prefix>_PARAMS` (a JSON object), checked by createModel. */
function modelFromEnv<K extends string>(env: NodeJS.ProcessEnv, prefix: string, kinds: readonly K[], fallback: K, ranking: boolean): { kind: K; params: Record<string, unknown> } {
  const kind = env[`${prefix}_KIND`] || fallback;
  if (!kinds.includes(kind as K)) throw new ConfigError(`${prefix}_KIND must be one of ${kinds.join(', ')}, got "${kind}"`);
  let params: Record<string, unknown> = {};
  const text = env[`${prefix}_PARAMS`];
  if (text) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${prefix}_PARAMS is not JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${prefix}_PARAMS must be a JSON object, e.g. {"factors":100,"epochs":20}`);
    params = parsed as Record<string, unknown>;
  }
  let model: ReturnType<typeof createModel>;
  try {
    model = createModel(kind, params);
  } catch (error) {
    throw new ConfigError(`${/unknown model kind/.test((error as Error).message) ? `${prefix}_KIND` : `${prefix}_PARAMS`}: ${(error as Error).message}`);
  }
  if (isRankingModel(model) !== ranking) throw new ConfigError(`${prefix}_KIND: ${kind} is not a ${ranking ? 'ranking' : 'rating'} model`);
  return { kind: kind as K, params };
}

/** A data setting from its flag, else its variable, parsed; a parse error is a ConfigError naming where the value came from. */
function dataSetting<T>(flag: string | undefined, flagName: string, variable: string | undefined, variableName: string, parse: (text: string) => T): T | undefined {
  const text = flag ?? (variable || undefined);
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (error) {
    throw new ConfigError(`${flag !== undefined ? flagName : variableName}: ${(error as Error).message}`);
  }
}

/** Writes a generated token to `file` readable by its owner only (0600), atomically. */
export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * The PostgreSQL URL of `--database-url` (else RECSYS_DATABASE_URL), or undefined when neither is
 * set; a ConfigError for one that is not a `postgres:` or `postgresql:` URL (the message shows it
 * without its password).
 */
export function databaseUrlSetting(flag: string | undefined, variable: string | undefined): string | undefined {
  const text = flag ?? (variable || undefined);
  if (text === undefined) return undefined;
  const name = flag !== undefined ? '--database-url' : 'RECSYS_DATABASE_URL';
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Shown below without its password.
  }
  if (url === null || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw new ConfigError(`${name} must be a PostgreSQL URL postgres://user:password@host:port/database (or postgresql://…), got "${maskDatabaseUrl(text)}"`);
  }
  return text;
}

/**
 * The configuration from `argv` (after the script name) and `env`, with the defaults above.
 * Throws ConfigError for an unknown flag, a bad value or a bad variable (the server exits 2);
 * `--help` is the caller's to handle (see {@link parseFlags}).
 */
export function resolveConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const flags = parseFlags(argv);
  const portText = flags.port ?? env.PORT ?? '4000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigError(`PORT must be an integer in 0..65535, got "${portText}"`);
  const host = flags.host ?? (env.HOST || '127.0.0.1');
  const format = flags.format ?? (env.RECSYS_DATA_FORMAT || undefined);
  if (format !== undefined && !DATA_FORMATS.includes(format as DataFormat)) {
    throw new ConfigError(`${flags.format !== undefined ? '--format' : 'RECSYS_DATA_FORMAT'} must be one of ${DATA_FORMATS.join(', ')}, got "${format}"`);
  }
  const dataColumns = dataSetting(flags.columns, '--columns', env.RECSYS_DATA_COLUMNS, 'RECSYS_DATA_COLUMNS', parseColumns);
  const dataScale = dataSetting(flags.scale, '--scale', env.RECSYS_DATA_SCALE, 'RECSYS_DATA_SCALE', parseRatingScale);
  const conflict = loadOptionsConflict({ format: format as DataFormat | undefined, columns: dataColumns, scale: dataScale });
  if (conflict !== null) throw new ConfigError(`data settings: ${conflict}`);
  const databaseUrl = databaseUrlSetting(flags['database-url'], env.RECSYS_DATABASE_URL);
  const cacheDir = env.RECSYS_CACHE_DIR ?? defaultCacheDir();
  const token = env.RECSYS_API_TOKEN;
  return {
    port,
    host,
    dataPath: flags.data ?? (env.RECSYS_DATA || undefined),
    dataFormat: format as DataFormat | undefined,
    ...(dataColumns ? { dataColumns } : {}),
    ...(dataScale ? { dataScale } : {}),
    skipInvalid: flags['skip-invalid'] === true,
    cacheDir,
    modelDir: env.RECSYS_MODEL_DIR ?? join(cacheDir, 'models'),
    dbPath: env.RECSYS_DB || undefined,
    ...(databaseUrl ? { databaseUrl } : {}),
    token: token || randomBytes(18).toString('base64url'),
    tokenGenerated: !token,
    tokenFile: join(cacheDir, 'api-token'),
    corsOrigins: corsOrigins(env),
    defaultModel: defaultModelFromEnv(env),
    rankingModel: rankingModelFromEnv(env),
    modelFile: flags['model-file'] ?? (env.RECSYS_MODEL || undefined),
    rankingModelFile: flags['ranking-model-file'] ?? (env.RECSYS_RANKING_MODEL || undefined),
    bodyLimit: '100kb',
    maxDepth: intFromEnv(env, 'RECSYS_MAX_DEPTH', 12, 1),
    maxComplexity: intFromEnv(env, 'RECSYS_MAX_COMPLEXITY', 20_000, 1),
    similarity: { narrowMovieIndices: intFromEnv(env, 'RECSYS_SIMILARITY_NARROW_INDICES', 1, 0, 1) === 1 },
    trainingNice: intFromEnv(env, 'RECSYS_TRAINING_NICE', TRAINING_NICE, 0, 19),
    guard: guardLimitsFromEnv(env),
  };
}
