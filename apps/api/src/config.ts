import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DATA_FORMATS, DataFormat, defaultCacheDir } from '@recsys/data';
import { GuardLimits, guardLimitsFromEnv, intFromEnv } from './http/limits';
import type { SimilarMoviesOptions } from './services/similar-movies';

/** Model kinds the API trains and serves: the latent-factor models, which can fold in new ratings. */
export const API_MODEL_KINDS = ['baseline', 'svd', 'svdpp'] as const;
export type ApiModelKind = (typeof API_MODEL_KINDS)[number];

/** Everything the server reads from its environment and command line, defaults filled in. */
export interface ApiConfig {
  /** `PORT`, default 4000 (0 picks a free port). */
  port: number;
  /** `HOST`, default all interfaces. */
  host: string;
  /** `RECSYS_DATA` / `--data`: a snapshot, ratings file or data folder; absent: the embedded synthetic set. */
  dataPath?: string;
  /** `--format`: force the data format. */
  dataFormat?: DataFormat;
  /** `--skip-invalid`: skip malformed rows instead of refusing the data. */
  skipInvalid: boolean;
  /** `RECSYS_CACHE_DIR`, default `.cache/` at the repository root. */
  cacheDir: string;
  /** `RECSYS_MODEL_DIR`, default `<cacheDir>/models`: model artifacts and their manifest. */
  modelDir: string;
  /** `RECSYS_DB`: the SQLite file of ratings given through the API; default `<cacheDir>/ratings-<data crc32>.sqlite`. */
  dbPath?: string;
  /** `RECSYS_API_TOKEN`: bearer token of the mutations; generated (and logged) when unset. */
  token: string;
  tokenGenerated: boolean;
  /** The model trained when no artifact fits the data: `svd` with its defaults unless overridden. */
  defaultModel: { kind: ApiModelKind; params: Record<string, unknown> };
  /** Largest accepted request body (express body-parser syntax). Default `100kb`. */
  bodyLimit: string;
  /** Deepest accepted selection nesting: `RECSYS_MAX_DEPTH`, default 12. */
  maxDepth: number;
  /** Largest accepted estimated query cost (see http/limits.ts): `RECSYS_MAX_COMPLEXITY`, default 20,000. */
  maxComplexity: number;
  /** Similar-movie queries: pool threads and the heaviest query run on the event loop (defaults in SimilarMoviesOptions). */
  similarity: SimilarMoviesOptions;
  /** The other limits of every transport (aliases, tokens, directives, subscriptions per socket, time budget): `RECSYS_MAX_*` (http/limits.ts). */
  guard: GuardLimits;
  /** `RECSYS_CORS_ORIGINS`: origins allowed besides the server's own (see {@link corsOrigins}). */
  corsOrigins: readonly string[];
}

/**
 * The origins in `RECSYS_CORS_ORIGINS` (comma-separated, e.g. `https://a.example,http://localhost:5173`),
 * each checked and normalised to `scheme://host[:port]`. Unset or empty: none, so only same-origin
 * pages and clients that send no Origin (curl, the CLI, servers) are accepted.
 */
export function corsOrigins(value: string | undefined): string[] {
  const origins: string[] = [];
  for (const item of (value ?? '').split(',')) {
    const text = item.trim();
    if (text === '') continue;
    let origin: string;
    try {
      origin = new URL(text).origin;
    } catch {
      origin = 'null';
    }
    if (origin === 'null' || origin !== text.replace(/\/$/, '').toLowerCase()) throw new Error(`RECSYS_CORS_ORIGINS must hold origins like https://app.example:8443 (scheme, host, optional port), got "${text}"`);
    origins.push(origin);
  }
  return origins;
}

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
    return value;
  }
  const prefixed = argv.find((a) => a.startsWith(`${name}=`));
  return prefixed?.slice(name.length + 1);
}

/** The configuration from `argv` (after the script name) and `env`, with the defaults above. */
export function resolveConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const portText = option(argv, '--port') ?? env.PORT ?? '4000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer in 0..65535, got "${portText}"`);
  const format = option(argv, '--format');
  if (format !== undefined && !DATA_FORMATS.includes(format as DataFormat)) {
    throw new Error(`--format must be one of ${DATA_FORMATS.join(', ')}, got "${format}"`);
  }
  const cacheDir = env.RECSYS_CACHE_DIR ?? defaultCacheDir();
  const token = env.RECSYS_API_TOKEN;
  return {
    port,
    host: env.HOST ?? '::',
    dataPath: option(argv, '--data') ?? (env.RECSYS_DATA || undefined),
    dataFormat: format as DataFormat | undefined,
    skipInvalid: argv.includes('--skip-invalid'),
    cacheDir,
    modelDir: env.RECSYS_MODEL_DIR ?? join(cacheDir, 'models'),
    dbPath: env.RECSYS_DB || undefined,
    token: token || randomBytes(18).toString('base64url'),
    tokenGenerated: !token,
    defaultModel: { kind: 'svd', params: {} },
    bodyLimit: '100kb',
    maxDepth: intFromEnv(env, 'RECSYS_MAX_DEPTH', 12, 1),
    maxComplexity: intFromEnv(env, 'RECSYS_MAX_COMPLEXITY', 20_000, 1),
    similarity: {},
    guard: guardLimitsFromEnv(env),
    corsOrigins: corsOrigins(env.RECSYS_CORS_ORIGINS),
  };
}
