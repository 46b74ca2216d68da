import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DATA_FORMATS, DataFormat, defaultCacheDir } from '@recsys/data';
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
  /** Deepest accepted selection nesting. Default 12. */
  maxDepth: number;
  /** Largest accepted estimated query cost (see complexity.ts). Default 20,000. */
  maxComplexity: number;
  /** Similar-movie queries: pool threads and the heaviest query run on the event loop (defaults in SimilarMoviesOptions). */
  similarity: SimilarMoviesOptions;
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
    maxDepth: 12,
    maxComplexity: 20_000,
    similarity: {},
  };
}
