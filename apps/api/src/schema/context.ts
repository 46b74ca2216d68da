import DataLoader from 'dataloader';
import type { Logger } from '../logger';
import type { CatalogService, MovieView, UserView } from '../services/catalog-service';
import { ModelRecord, ModelRegistry, recordRole } from '../services/model-registry';
import type { ApiPubSub } from '../services/pubsub';
import type { PredictionService } from '../services/prediction-service';
import type { TrainingRunState, TrainingService } from '../services/training-service';
import { OperationBudget } from './budget';
import type { ModelInfo, TrainingRun } from './types';

/** The long-lived services of a running server. */
export interface ApiServices {
  /** Movies, users, their ratings and similar movies. */
  catalog: CatalogService;
  /** Predictions, recommendations, explanations, new ratings and interactions. */
  predictions: PredictionService;
  /** The trained models and the two active ones (rating and ranking). */
  registry: ModelRegistry;
  training: TrainingService;
  /** The schema's publish/subscribe (training runs). */
  pubsub: ApiPubSub;
  logger: Logger;
}

/** Per-request context: the services, whether the caller sent the API token, its time budget, and the DataLoaders. */
export interface ApiContext {
  services: ApiServices;
  authenticated: boolean;
  /** The operation's time budget and share of the event loop (heavy resolver work goes through it). */
  budget: OperationBudget;
  loaders: {
    movie: DataLoader<number, MovieView | null>;
    user: DataLoader<number, UserView | null>;
  };
}

/**
 * A fresh context. The loaders batch the movies and users that one request's lists ask for
 * (SimilarMovie.movie, Recommendation.movie, Rating.user …) into one lookup each and cache them
 * for the request, so a list of n items costs one batch instead of n lookups (N+1). `timeoutMs`:
 * the operation's time budget (none for subscriptions, which live as long as their socket).
 */
export function createContext(services: ApiServices, authenticated: boolean, timeoutMs = Infinity): ApiContext {
  const { catalog } = services;
  return {
    services,
    authenticated,
    budget: new OperationBudget(timeoutMs),
    loaders: {
      movie: new DataLoader<number, MovieView | null>(async (ids) => catalog.movies(ids)),
      user: new DataLoader<number, UserView | null>(async (ids) => catalog.users(ids)),
    },
  };
}

export function toModelInfo(r: ModelRecord): ModelInfo {
  return {
    id: r.id,
    kind: r.kind,
    role: recordRole(r),
    parameters: r.params,
    trainedAt: r.trainedAt,
    // NaN: not measured (see ModelMetrics), which GraphQL says as null.
    metrics: {
      heldOutRmse: null,
      heldOutRatings: null,
      referenceKind: null,
      referenceRmse: null,
      heldOutNdcg: null,
      referenceNdcg: null,
      heldOutUsers: null,
      ...r.metrics,
      heldOutMae: finiteOrNull(r.metrics.heldOutMae),
      trainRmse: finiteOrNull(r.metrics.trainRmse),
      trainMae: finiteOrNull(r.metrics.trainMae),
      fitSeconds: finiteOrNull(r.metrics.fitSeconds),
    },
    dataFingerprint: r.fingerprint,
    ratingsThroughId: r.ratingsThroughId,
    interactionsThroughId: r.interactionsThroughId ?? 0,
    history: r.history,
    trainingRunId: r.trainingRunId,
  };
}

export function toTrainingRun(s: TrainingRunState): TrainingRun {
  return {
    id: s.id,
    status: s.status,
    trigger: s.trigger,
    kind: s.kind,
    role: s.role,
    parameters: s.params,
    totalEpochs: s.totalEpochs,
    epoch: s.epochs.length,
    epochs: s.epochs.slice(),
    apiRatings: s.apiRatings,
    apiInteractions: s.apiInteractions,
    error: s.error,
    heldOutRmse: s.guard?.heldOutRmse ?? null,
    heldOutMae: s.guard?.heldOutMae ?? null,
    heldOutRatings: s.guard?.heldOutRatings ?? null,
    referenceKind: s.guard?.referenceKind ?? null,
    referenceRmse: s.guard?.referenceRmse ?? null,
    heldOutNdcg: s.guard?.heldOutNdcg ?? null,
    referenceNdcg: s.guard?.referenceNdcg ?? null,
    modelId: s.modelId,
    queuedAt: s.queuedAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
  };
}

/** `x` when it is a finite number; null for NaN (a figure not measured) and anything else. */
function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
