// Test support (used by the *.spec.ts files): a server in-process on an ephemeral port over a
// small synthetic data set, a temporary cache directory, and a GraphQL-over-HTTP helper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRatingMatrix, builtDatasetReport, generateSynthetic, LoadedDataset, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { ApiConfig, resolveConfig } from '../config';
import { createLogger } from '../logger';
import { RunningApi, startApi, StartOptions } from '../server';

export const TEST_TOKEN = 'test-token-0123456789';

/**
 * ~20k ratings, 500 users, 300 movies (seed 7): big enough for similarities, small enough to train
 * in ~0.1 s. One planted factor and noise 0.5, so that the models the specs train beat the
 * baseline on the guard's 400 held-out ratings by a wide margin (svd 10 epochs: RMSE 0.76 of the
 * baseline's; svdpp 0.67): with the generator's defaults (10 factors, noise 0.8) they won by
 * 0.1–0.3 %, and any change in the random draws (the held-out split, the SGD order) flipped them.
 */
export function smallDataset(ratings = 20_000): LoadedDataset {
  const data = generateSynthetic({ ratings, users: 500, movies: 300, seed: 7, factors: 1, noise: 0.5 });
  const dataset = { matrix: buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog };
  return { ...dataset, report: builtDatasetReport(dataset, 'synthetic') };
}

/** A configuration for tests: port 0 on loopback, a temp cache dir, a fixed token, svd with 10 epochs, training at nice 0. */
export function testConfig(cacheDir: string, overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    ...resolveConfig([], { RECSYS_CACHE_DIR: cacheDir, RECSYS_API_TOKEN: TEST_TOKEN }),
    port: 0,
    host: '127.0.0.1',
    defaultModel: { kind: 'svd', params: { epochs: 10 } },
    // The specs check lists against popular's independently known answer (the most-rated movies
    // the user has not rated); those about ials (the served default) or the other kinds ask for them.
    rankingModel: { kind: 'popular', params: {} },
    // The specs wait for trainings on a machine that may be busy with other work: at the server's priority.
    trainingNice: 0,
    ...overrides,
  };
}

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }> | undefined;
}

export interface TestApi {
  api: RunningApi;
  dir: string;
  dataset: LoadedDataset;
  /** POST a GraphQL request; `token: null` sends no Authorization header. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: { token?: string | null }): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export async function gqlRequest<T>(url: string, query: string, variables: Record<string, unknown> = {}, token: string | null = TEST_TOKEN): Promise<GqlResult<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T | null; errors?: GqlResult['errors'] };
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

/** Starts a server over `dataset` (default {@link smallDataset}) and waits until it is ready. */
export async function startTestApi(
  options: { dataset?: LoadedDataset; config?: Partial<ApiConfig>; start?: StartOptions; dir?: string; /** Return once the startup baseline serves, without waiting for the configured model. */ keepBaseline?: boolean } = {},
): Promise<TestApi> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'recsys-api-test-'));
  const dataset = options.dataset ?? smallDataset();
  const api = await startApi(testConfig(dir, options.config), { loadData: async () => dataset, logger: createLogger('silent'), ...options.start });
  await api.ready;
  // The specs start from the configured models (trained in the background after a baseline and popular served first).
  if (!options.keepBaseline) await Promise.all([api.configuredModel, api.configuredRankingModel]);
  return {
    api,
    dir,
    dataset,
    gql: (query, variables, o = {}) => gqlRequest(api.url, query, variables, o.token === undefined ? TEST_TOKEN : o.token),
    close: async () => {
      await api.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
