import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  ActiveModelDocument,
  ActiveModelsDocument,
  InteractDocument,
  PredictionDocument,
  RateMovieDocument,
  RecommendationsDocument,
  RetrainDocument,
  RetrainInput,
  SimilarityMetric,
  SimilarMoviesDocument,
  TrainingRunDocument,
} from './generated/graphql';

/** One GraphQL error as the server sent it (`extensions.code`: BAD_USER_INPUT, NOT_FOUND, …). */
export interface GraphQLErrorEntry {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/** The server answered with errors (or not with GraphQL at all). */
export class RecsysClientError extends Error {
  override readonly name = 'RecsysClientError';
  constructor(
    message: string,
    /** `extensions.code` of the first error, e.g. NOT_FOUND; `HTTP_<status>` for a non-GraphQL answer. */
    readonly code: string,
    readonly errors: GraphQLErrorEntry[] = [],
  ) {
    super(message);
  }
}

export interface RecsysClientOptions {
  /** Bearer token for retrain and rateMovie (the server's RECSYS_API_TOKEN). */
  token?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
}

/**
 * A typed client of the recsys GraphQL API. Every method sends one operation from
 * `src/operations/*.graphql`; the result and variables types are generated from the server's
 * schema by graphql-codegen, so a schema change that breaks an operation fails the build.
 */
export class RecsysClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly options: RecsysClientOptions = {},
  ) {
    // Accept the server's base URL or its /graphql endpoint.
    this.url = url.replace(/\/+$/, '').endsWith('/graphql') ? url.replace(/\/+$/, '') : `${url.replace(/\/+$/, '')}/graphql`;
  }

  /** Runs any typed document and returns its data, or throws RecsysClientError. */
  async request<TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: print(document), variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new RecsysClientError(`cannot reach ${this.url}: ${(err as Error).message}`, 'NETWORK');
    }
    const text = await response.text();
    let body: { data?: TResult | null; errors?: GraphQLErrorEntry[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new RecsysClientError(`${this.url} answered HTTP ${response.status} with no GraphQL result: ${text.slice(0, 200)}`, `HTTP_${response.status}`);
    }
    if (body.errors && body.errors.length > 0) {
      const first = body.errors[0];
      throw new RecsysClientError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR', body.errors);
    }
    if (body.data == null) throw new RecsysClientError(`${this.url} answered HTTP ${response.status} without data`, `HTTP_${response.status}`);
    return body.data;
  }

  similarMovies(movieId: number, options: { n?: number; metric?: SimilarityMetric; minSupport?: number } = {}) {
    return this.request(SimilarMoviesDocument, { movieId, n: options.n, metric: options.metric, minSupport: options.minSupport });
  }

  async prediction(userId: number, movieId: number, model?: string) {
    return (await this.request(PredictionDocument, { userId, movieId, model })).prediction;
  }

  async recommendations(userId: number, options: { n?: number; excludeRated?: boolean; model?: string } = {}) {
    return (await this.request(RecommendationsDocument, { userId, n: options.n, excludeRated: options.excludeRated, model: options.model })).recommendations;
  }

  /** The active rating model (predictions); {@link activeModels} gives both roles. */
  async activeModel() {
    return (await this.request(ActiveModelDocument, {})).activeModel;
  }

  /** The active rating model and the active ranking model. */
  async activeModels() {
    return (await this.request(ActiveModelsDocument, {})).activeModels;
  }

  async retrain(input: RetrainInput = {}) {
    return (await this.request(RetrainDocument, { input })).retrain;
  }

  async trainingRun(id: string) {
    return (await this.request(TrainingRunDocument, { id })).trainingRun;
  }

  async rateMovie(userId: number, movieId: number, rating: number) {
    return (await this.request(RateMovieDocument, { userId, movieId, rating })).rateMovie;
  }

  /** Records an interaction (default weight 1): the user's recommendations reflect it at once. */
  async interact(userId: number, movieId: number, weight?: number) {
    return (await this.request(InteractDocument, { userId, movieId, weight })).interact;
  }

  /** Polls a training run until it SUCCEEDED or FAILED (every `intervalMs`, default 250 ms). */
  async waitForTrainingRun(id: string, options: { intervalMs?: number; timeoutMs?: number; onUpdate?: (run: Awaited<ReturnType<RecsysClient['trainingRun']>>) => void } = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const run = await this.trainingRun(id);
      options.onUpdate?.(run);
      if (run.status === 'SUCCEEDED' || run.status === 'FAILED') return run;
      if (Date.now() > deadline) throw new RecsysClientError(`training run ${id} did not finish in time (status ${run.status})`, 'TIMEOUT');
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  }
}
