import { GraphQLError } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root, Subscription, SubscriptionHandlerData } from 'type-graphql';
import type { ComplexityEstimatorArgs } from 'graphql-query-complexity';
import { SimilarityMetric } from '@recsys/similarity';
import { createModel, isRankingModel, modelKindImportedBy, modelKinds, parameterInfo } from '@recsys/models';
import { apiError, badInput, checkId, cutText, notFound, SHOWN_VALUE_CHARS, unauthenticated } from '../errors';
import { apiRating, MODEL_METRIC, MovieView, RatingView, UserView } from '../services/catalog-service';
import type { PredictionView } from '../services/prediction-service';
import { TRAINING_RUN_TOPIC, TrainingRunState } from '../services/training-service';
import { ApiContext, toModelInfo, toTrainingRun } from './context';
import { Connection, ModelInfoConnection, MovieConnection, pageOfKeyed, pageOfSortedIds, RatingConnection, TrainingRunConnection, UserConnection } from './connections';
import {
  ActiveModels,
  DataSummary,
  ExplanationArgs,
  InteractArgs,
  InteractionRecord,
  ModelInfo,
  ModelKindInfo,
  Movie,
  MoviesArgs,
  PageArgs,
  Prediction,
  PredictionArgs,
  PredictionFactor,
  PredictionsArgs,
  RateMovieArgs,
  Rating,
  Recommendation,
  RecommendationArgs,
  RecommendationsArgs,
  RetrainInput,
  SimilarArgs,
  SimilarMovie,
  SimilarMoviesArgs,
  TrainingRun,
  User,
  UserPredictionArgs,
  TRAINABLE_KINDS,
  VALID_KINDS,
  ValueCount,
} from './types';

/**
 * Estimated cost of a list field: `base` for the work of the field itself plus its page or
 * top-n size (argument `sizeArg`, default `fallback`) times the cost of each item's selection.
 */
function listCost(sizeArg: string, fallback: number, base = 1) {
  return ({ args, childComplexity }: ComplexityEstimatorArgs): number => {
    const size = typeof args[sizeArg] === 'number' ? (args[sizeArg] as number) : fallback;
    return base + Math.max(1, size) * Math.max(1, childComplexity);
  };
}

const MAX_PAIRS = 1000;

/** A metric argument as the catalog takes it (MODEL: the active ranking model's similarity). */
function metricOf(metric: string): SimilarityMetric | typeof MODEL_METRIC {
  return metric as SimilarityMetric | typeof MODEL_METRIC;
}

function toPrediction(p: PredictionView): Prediction {
  return { ...p, isFallback: p.fallbackReason !== null };
}

async function movieOrNull(ctx: ApiContext, movieId: number): Promise<MovieView | null> {
  return ctx.loaders.movie.load(movieId);
}

@Resolver()
export class QueryResolver {
  @Query(() => Float, {
    description:
      'Always 1. Answers through the whole stack (HTTP, limits, type-graphql) without touching data or models: a liveness probe, and the ceiling tools/bench/api-bench.ts compares prediction queries with.',
  })
  ping(): number {
    return 1;
  }

  @Query(() => Movie, { description: 'A movie by id; NOT_FOUND when unknown.' })
  async movie(@Arg('id', () => Int) id: number, @Ctx() ctx: ApiContext): Promise<MovieView> {
    checkId('id', id);
    const movie = await movieOrNull(ctx, id);
    if (!movie) throw notFound('movie', id);
    return movie;
  }

  @Query(() => MovieConnection, { description: 'Movies by id, optionally those whose title contains `search`.', complexity: listCost('first', 20) })
  movies(@Args() { search, first, after }: MoviesArgs, @Ctx() ctx: ApiContext): Promise<Connection<Promise<MovieView | null>>> {
    return ctx.budget.run(() => {
      const { ids, titles } = ctx.services.catalog.allMovies();
      let keys: ArrayLike<number> = ids;
      if (search) {
        const needle = search.toLowerCase();
        keys = ids.filter((_, i) => titles[i].includes(needle));
      }
      return pageOfSortedIds('movie', keys, first, after, (id) => ctx.loaders.movie.load(id));
    });
  }

  @Query(() => User, { description: 'A user by id; NOT_FOUND when the user has no ratings.' })
  async user(@Arg('id', () => Int) id: number, @Ctx() ctx: ApiContext): Promise<UserView> {
    checkId('id', id);
    const user = await ctx.loaders.user.load(id);
    if (!user) throw notFound('user', id);
    return user;
  }

  @Query(() => UserConnection, { description: 'Users by id.', complexity: listCost('first', 20) })
  users(@Args() { first, after }: PageArgs, @Ctx() ctx: ApiContext): Connection<Promise<UserView | null>> {
    return pageOfSortedIds('user', ctx.services.catalog.allUsers(), first, after, (id) => ctx.loaders.user.load(id));
  }

  @Query(() => [SimilarMovie], {
    description: 'The n movies most similar to a movie (metric MODEL: by the active ranking model); NOT_FOUND for an unknown movie.',
    complexity: listCost('n', 10, 20),
  })
  async similarMovies(@Args() { movieId, n, metric, minSupport }: SimilarMoviesArgs, @Ctx() ctx: ApiContext): Promise<SimilarMovie[]> {
    checkId('movieId', movieId);
    return ctx.budget.wait((signal) => ctx.services.catalog.similarMovies(movieId, n, metricOf(metric), minSupport, signal));
  }

  @Query(() => Prediction, { description: 'A predicted rating; unknown users or movies give a fallback (isFallback, fallbackReason), not an error.', complexity: 5 })
  async prediction(@Args() { userId, movieId, model }: PredictionArgs, @Ctx() ctx: ApiContext): Promise<Prediction> {
    checkId('userId', userId);
    checkId('movieId', movieId);
    const { predictions } = ctx.services;
    return toPrediction(predictions.predict(await predictions.model(model), userId, movieId));
  }

  @Query(() => [Prediction], { description: 'Predictions for a batch of (user, movie) pairs (at most 1000).', complexity: ({ args, childComplexity }) => 1 + (Array.isArray(args.pairs) ? args.pairs.length : 1) * Math.max(1, childComplexity) })
  async predictions(@Args() { pairs, model }: PredictionsArgs, @Ctx() ctx: ApiContext): Promise<Prediction[]> {
    if (pairs.length < 1 || pairs.length > MAX_PAIRS) throw badInput('pairs', `${pairs.length} pairs`, `must hold 1..${MAX_PAIRS} pairs`);
    pairs.forEach((p, i) => {
      checkId(`pairs[${i}].userId`, p.userId);
      checkId(`pairs[${i}].movieId`, p.movieId);
    });
    const { predictions } = ctx.services;
    const serving = await predictions.model(model);
    return ctx.budget.run(() => pairs.map((p) => toPrediction(predictions.predict(serving, p.userId, p.movieId))));
  }

  @Query(() => [Recommendation], {
    description: 'The n movies the active ranking model (or the model named) scores highest for a user, after fold-in of their newer ratings and interactions; NOT_FOUND for an unknown user.',
    complexity: listCost('n', 10, 10),
  })
  async recommendations(@Args() { userId, n, excludeRated, model }: RecommendationsArgs, @Ctx() ctx: ApiContext): Promise<Recommendation[]> {
    checkId('userId', userId);
    const { catalog, predictions } = ctx.services;
    if (!catalog.userExists(userId)) throw notFound('user', userId);
    const serving = await predictions.listModel(model);
    return ctx.budget.run(() => predictions.recommend(serving, userId, n, excludeRated));
  }

  @Query(() => ModelInfo, { description: 'The active rating model (predictions and explanations); activeModels shows both roles.' })
  activeModel(@Ctx() ctx: ApiContext): ModelInfo {
    return toModelInfo(ctx.services.registry.requireActive().record);
  }

  @Query(() => ActiveModels, { description: 'The active rating model and the active ranking model.' })
  activeModels(@Ctx() ctx: ApiContext): ActiveModels {
    const { registry } = ctx.services;
    return { rating: toModelInfo(registry.requireActive().record), ranking: toModelInfo(registry.requireActiveRanking().record) };
  }

  @Query(() => ModelInfoConnection, { description: 'Models trained on the loaded data, newest first.', complexity: listCost('first', 20) })
  models(@Args() { first, after }: PageArgs, @Ctx() ctx: ApiContext): Connection<ModelInfo> {
    const infos = ctx.services.registry.records().map(toModelInfo);
    return pageOfKeyed('model', infos, (m) => m.id, first, after);
  }

  @Query(() => DataSummary, { description: 'Counts and distributions of the loaded training data (the data set the server started on; API ratings are not in it).' })
  dataSummary(@Ctx() ctx: ApiContext): Promise<DataSummary> {
    return ctx.services.catalog.dataSummary();
  }

  @Query(() => [ModelKindInfo], { description: 'Every kind retrain takes, with its parameters, defaults and bounds (the same bounds retrain enforces).' })
  modelKinds(): ModelKindInfo[] {
    return modelKindInfos();
  }

  @Query(() => TrainingRun, { description: 'A training run by id (poll it for progress; stored runs of earlier server processes too); NOT_FOUND when unknown.' })
  trainingRun(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): TrainingRun {
    const run = ctx.services.training.get(id);
    if (!run) throw notFound('trainingRun', id);
    return toTrainingRun(run);
  }

  @Query(() => TrainingRunConnection, {
    description:
      'Training runs, newest first, with their epochs: kept in the store beside the API ratings, so they survive a restart (a run that was QUEUED or RUNNING when the server stopped is FAILED with error "the server stopped during the run").',
    complexity: listCost('first', 20),
  })
  trainingRuns(@Args() { first, after }: PageArgs, @Ctx() ctx: ApiContext): Connection<TrainingRun> {
    // The page first, then its runs only as TrainingRun (each copies its epochs): not every stored run per query.
    const runs = pageOfKeyed('run', ctx.services.training.list(), (r) => r.id, first, after);
    return { ...runs, edges: runs.edges.map((e) => ({ ...e, node: toTrainingRun(e.node) })) };
  }
}

@Resolver()
export class MutationResolver {
  @Mutation(() => TrainingRun, {
    description:
      'Trains a model in a worker thread on the data plus every API rating (and, for a ranking kind, every API interaction); returns the QUEUED run at once. A rating kind replaces the active rating model, a ranking kind the active ranking model (it must beat popular\'s NDCG@10 on the held-out slice; the other role is untouched). Parameters not given are the kind\'s defaults; values outside their bounds (see RetrainInput.parameters) are refused with BAD_USER_INPUT. It is fitted once, on all but a held-out 2 % of the data, and must beat its reference kind on that slice; then that very model replaces the active one (over every rating: users and movies seen only in the slice get the biases); a fit that diverges or loses to its reference ends FAILED with the reason and the active model keeps serving. One run at a time (CONFLICT otherwise). Needs the bearer token.',
  })
  async retrain(@Arg('input', () => RetrainInput, { nullable: true, defaultValue: {} }) input: RetrainInput, @Ctx() ctx: ApiContext): Promise<TrainingRun> {
    if (!ctx.authenticated) throw unauthenticated();
    const { registry, training } = ctx.services;
    const active = registry.requireActive().record;
    const kind = input.kind ?? active.kind;
    if (!VALID_KINDS.includes(kind)) throw badInput('input.kind', kind, `must be one of ${VALID_KINDS.join(', ')}`);
    const importedBy = modelKindImportedBy(kind);
    if (importedBy !== null) throw badInput('input.kind', kind, `is imported, not trained here (${importedBy}); retrain one of ${TRAINABLE_KINDS.filter((k) => modelKinds().includes(k)).join(', ')}`);
    if (!modelKinds().includes(kind)) throw badInput('input.kind', kind, `is not in this build yet (it knows ${VALID_KINDS.filter((k) => modelKinds().includes(k)).join(', ')})`);
    // Omitted parameters are the kind's defaults (createModel fills them in), never the active
    // model's: a value given once (threads: 10000) must not stick to later runs.
    const params: Record<string, unknown> = { ...(input.parameters ?? {}) };
    if (input.threads != null) {
      if (kind !== 'svd') throw badInput('input.threads', input.threads, 'applies to the svd model only');
      params.threads = input.threads;
    }
    // The model kinds refuse values outside PARAM_BOUNDS (RangeError) before anything is queued.
    try {
      return toTrainingRun(await training.start(kind, params, 'API'));
    } catch (error) {
      // The models' messages repeat the refused value or name (a huge string, a deep object): cut.
      if (error instanceof RangeError) throw apiError('BAD_USER_INPUT', `input.parameters: ${cutText(error.message, 2 * SHOWN_VALUE_CHARS)}`, { argument: 'input.parameters' });
      throw error;
    }
  }

  @Mutation(() => Rating, {
    description:
      'Stores a rating durably (SQLite: WAL, fsynced; PostgreSQL with RECSYS_DATABASE_URL: committed) before returning and folds the user into both active models at once (their predictions and their list reflect it); the next retrain includes it. New users are allowed; the movie must exist. Needs the bearer token.',
  })
  async rateMovie(@Args() { userId, movieId, rating }: RateMovieArgs, @Ctx() ctx: ApiContext): Promise<RatingView> {
    if (!ctx.authenticated) throw unauthenticated();
    checkId('userId', userId);
    checkId('movieId', movieId);
    const row = await ctx.services.predictions.rate(userId, movieId, rating);
    ctx.loaders.user.clear(userId);
    ctx.loaders.movie.clear(movieId);
    return apiRating(row);
  }

  @Mutation(() => InteractionRecord, {
    description:
      'Stores an interaction (a view, click or play; weight default 1, 0 < weight ≤ 100, a user\'s interactions with one movie add up to at most 127.5) durably before returning and folds the user into the active ranking model at once: their next recommendations reflect it. Rating models never see interactions; the next retrain of a ranking kind includes it. New users are allowed; the movie must exist. A refused input stores nothing. Needs the bearer token.',
  })
  async interact(@Args() { userId, movieId, weight }: InteractArgs, @Ctx() ctx: ApiContext): Promise<InteractionRecord> {
    if (!ctx.authenticated) throw unauthenticated();
    checkId('userId', userId);
    checkId('movieId', movieId);
    const row = await ctx.services.predictions.interact(userId, movieId, weight);
    ctx.loaders.user.clear(userId);
    return { userId: row.userId, movieId: row.movieId, weight: row.weight, at: row.at };
  }
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => TrainingRun, {
    description: 'Every status change and finished epoch of training runs (of one run when `id` is given).',
    topics: TRAINING_RUN_TOPIC,
    filter: ({ payload, args }: SubscriptionHandlerData<TrainingRunState, { id?: string | null }>) => !args.id || payload.id === args.id,
  })
  trainingRunUpdated(@Root() run: TrainingRunState, @Arg('id', () => ID, { nullable: true }) _id?: string): TrainingRun {
    return toTrainingRun(run);
  }
}

/** What each kind is, in a line (its parameters come from the models' tables: see parameterInfo). */
const KIND_DESCRIPTIONS: Readonly<Record<string, string>> = {
  baseline: 'μ + b_u + b_i: user and movie biases (ALS by default); the reference svd and svdpp must beat.',
  svd: 'Biased matrix factorisation μ + b_u + b_i + p_u·q_i (Funk SVD; SGD by default, or ALS, L-BFGS).',
  svdpp: 'SVD++: svd plus implicit factors of the movies the user rated.',
  popular: 'Most-rated movies first (the same list for everyone); the reference ranking kinds must beat.',
  ease: 'EASE (Steck 2019): a dense item–item weight matrix B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹.',
  ials: 'Implicit ALS (Hu, Koren, Volinsky 2008) with conjugate-gradient row solves.',
  bpr: 'Bayesian personalised ranking (Rendle et al. 2009): SGD on sampled (user, positive, negative) triples.',
};

/** Every kind of the ModelKind enum this build registers, with its role and parameters (the tables retrain validates with). */
function modelKindInfos(): ModelKindInfo[] {
  const built = modelKinds();
  return TRAINABLE_KINDS.filter((kind) => built.includes(kind)).map((kind) => ({
    kind,
    role: isRankingModel(createModel(kind)) ? 'ranking' : 'rating',
    description: KIND_DESCRIPTIONS[kind] ?? kind,
    parameters: parameterInfo(kind).map((p) => ({ ...p, default: p.default === null ? null : JSON.stringify(p.default) })),
  }));
}

@Resolver(() => Movie)
export class MovieResolver {
  @FieldResolver(() => [ValueCount], { description: 'Its ratings in the training data per value of the scale (as DataSummary.ratingHistogram).' })
  ratingHistogram(@Root() movie: MovieView, @Ctx() ctx: ApiContext): ValueCount[] | Promise<ValueCount[]> {
    const { catalog } = ctx.services;
    // Counting is a pass over the movie's ratings (232,944 for Netflix's most rated): in the
    // operation's time budget and slices of the event loop; once counted it is kept.
    return catalog.countedRatingHistogram(movie.id) ?? ctx.budget.run(() => catalog.movieRatingHistogram(movie.id));
  }

  @FieldResolver(() => [SimilarMovie], { description: 'The n most similar movies (metric MODEL: by the active ranking model).', complexity: listCost('n', 10, 20) })
  async similar(@Root() movie: MovieView, @Args() { n, metric, minSupport }: SimilarArgs, @Ctx() ctx: ApiContext): Promise<SimilarMovie[]> {
    return ctx.budget.wait((signal) => ctx.services.catalog.similarMovies(movie.id, n, metricOf(metric), minSupport, signal));
  }

  @FieldResolver(() => RatingConnection, { description: 'Ratings of this movie by user id.', complexity: listCost('first', 20) })
  ratings(@Root() movie: MovieView, @Args() { first, after }: PageArgs, @Ctx() ctx: ApiContext): Promise<Connection<RatingView>> {
    return ctx.budget.run(() => {
      const ratings = ctx.services.catalog.movieRatings(movie.id);
      const byUser = new Map(ratings.map((r) => [r.userId, r]));
      return pageOfSortedIds('movie-rating', Int32Array.from(ratings, (r) => r.userId), first, after, (id) => byUser.get(id)!);
    });
  }
}

@Resolver(() => User)
export class UserResolver {
  @FieldResolver(() => RatingConnection, { description: 'Ratings of this user by movie id (data set and API ratings).', complexity: listCost('first', 20) })
  ratings(@Root() user: UserView, @Args() { first, after }: PageArgs, @Ctx() ctx: ApiContext): Promise<Connection<RatingView>> {
    return ctx.budget.run(() => {
      const ratings = ctx.services.catalog.userRatings(user.id);
      const byMovie = new Map(ratings.map((r) => [r.movieId, r]));
      return pageOfSortedIds('user-rating', Int32Array.from(ratings, (r) => r.movieId), first, after, (id) => byMovie.get(id)!);
    });
  }

  @FieldResolver(() => [Recommendation], { description: 'The n movies the active ranking model (or the model named) scores highest for this user.', complexity: listCost('n', 10, 10) })
  async recommendations(@Root() user: UserView, @Args() { n, excludeRated, model }: RecommendationArgs, @Ctx() ctx: ApiContext): Promise<Recommendation[]> {
    const { predictions } = ctx.services;
    const serving = await predictions.listModel(model);
    return ctx.budget.run(() => predictions.recommend(serving, user.id, n, excludeRated));
  }

  @FieldResolver(() => Prediction, { description: 'This user\'s predicted rating of a movie.', complexity: 5 })
  async prediction(@Root() user: UserView, @Args() { movieId, model }: UserPredictionArgs, @Ctx() ctx: ApiContext): Promise<Prediction> {
    checkId('movieId', movieId);
    const { predictions } = ctx.services;
    return toPrediction(predictions.predict(await predictions.model(model), user.id, movieId));
  }
}

async function requireMovie(ctx: ApiContext, movieId: number): Promise<MovieView> {
  const movie = await ctx.loaders.movie.load(movieId);
  if (!movie) throw new GraphQLError(`movie ${movieId} vanished from the data`);
  return movie;
}

@Resolver(() => Rating)
export class RatingResolver {
  @FieldResolver(() => User)
  async user(@Root() rating: RatingView, @Ctx() ctx: ApiContext): Promise<UserView> {
    const user = await ctx.loaders.user.load(rating.userId);
    if (!user) throw new GraphQLError(`user ${rating.userId} vanished from the data`);
    return user;
  }

  @FieldResolver(() => Movie)
  movie(@Root() rating: RatingView, @Ctx() ctx: ApiContext): Promise<MovieView> {
    return requireMovie(ctx, rating.movieId);
  }

  @FieldResolver(() => Prediction, { description: 'The active model\'s prediction for this pair (after fold-in of API ratings).', complexity: 5 })
  prediction(@Root() rating: RatingView, @Ctx() ctx: ApiContext): Prediction {
    const { predictions } = ctx.services;
    return toPrediction(predictions.predict(predictions.active, rating.userId, rating.movieId));
  }
}

@Resolver(() => SimilarMovie)
export class SimilarMovieResolver {
  @FieldResolver(() => Movie)
  movie(@Root() similar: SimilarMovie, @Ctx() ctx: ApiContext): Promise<MovieView> {
    return requireMovie(ctx, similar.movieId);
  }
}

@Resolver(() => Recommendation)
export class RecommendationResolver {
  @FieldResolver(() => Movie)
  movie(@Root() rec: Recommendation, @Ctx() ctx: ApiContext): Promise<MovieView> {
    return requireMovie(ctx, rec.movieId);
  }

  @FieldResolver(() => [PredictionFactor], {
    description:
      "The user's movies that weigh most in this score, largest |contribution| first (the ranking model's additive explanation; empty for popular, whose score does not depend on the user). `rating` is the user's rating or interaction weight of that movie.",
    complexity: listCost('n', 5, 10),
  })
  async explanation(@Root() rec: Recommendation, @Args() { n }: ExplanationArgs, @Ctx() ctx: ApiContext): Promise<PredictionFactor[]> {
    const { predictions } = ctx.services;
    const serving = await predictions.listModel(rec.modelId);
    return ctx.budget.run(() => predictions.explainRecommendation(serving, rec.userId, rec.movieId, n));
  }
}

@Resolver(() => PredictionFactor)
export class PredictionFactorResolver {
  @FieldResolver(() => Movie)
  movie(@Root() factor: PredictionFactor, @Ctx() ctx: ApiContext): Promise<MovieView> {
    return requireMovie(ctx, factor.movieId);
  }
}

@Resolver(() => Prediction)
export class PredictionResolver {
  @FieldResolver(() => User, { nullable: true, description: 'Null for an unknown user.' })
  user(@Root() p: Prediction, @Ctx() ctx: ApiContext): Promise<UserView | null> {
    return ctx.loaders.user.load(p.userId);
  }

  @FieldResolver(() => Movie, { nullable: true, description: 'Null for an unknown movie.' })
  movie(@Root() p: Prediction, @Ctx() ctx: ApiContext): Promise<MovieView | null> {
    return ctx.loaders.movie.load(p.movieId);
  }

  @FieldResolver(() => ModelInfo, { description: 'The model that predicted.' })
  model(@Root() p: Prediction, @Ctx() ctx: ApiContext): ModelInfo {
    const record = ctx.services.registry.servedRecord(p.modelId);
    if (!record) throw notFound('model', p.modelId);
    return toModelInfo(record);
  }

  @FieldResolver(() => [PredictionFactor], {
    description:
      'The user\'s rated movies that weigh most in this prediction, largest |contribution| first (empty for fallbacks). See PredictionFactor for the definition.',
    complexity: listCost('n', 5, 10),
  })
  async explanation(@Root() p: Prediction, @Args() { n }: ExplanationArgs, @Ctx() ctx: ApiContext): Promise<PredictionFactor[]> {
    if (p.fallbackReason !== null) return [];
    const { predictions } = ctx.services;
    const serving = await predictions.model(p.modelId);
    return ctx.budget.run(() => predictions.explain(serving, p.userId, p.movieId, n));
  }
}

@Resolver(() => ModelInfo)
export class ModelInfoResolver {
  @FieldResolver(() => Boolean, { description: 'Whether this model serves requests now (as the active model of its role).' })
  active(@Root() m: ModelInfo, @Ctx() ctx: ApiContext): boolean {
    const { registry } = ctx.services;
    return registry.active?.id === m.id || registry.activeRanking?.id === m.id;
  }
}

@Resolver(() => TrainingRun)
export class TrainingRunResolver {
  @FieldResolver(() => ModelInfo, { nullable: true, description: 'The model it produced (once SUCCEEDED).' })
  model(@Root() run: TrainingRun, @Ctx() ctx: ApiContext): ModelInfo | null {
    const record = run.modelId ? ctx.services.registry.servedRecord(run.modelId) : undefined;
    return record ? toModelInfo(record) : null;
  }
}

export const RESOLVERS = [
  QueryResolver,
  MutationResolver,
  SubscriptionResolver,
  MovieResolver,
  UserResolver,
  RatingResolver,
  SimilarMovieResolver,
  RecommendationResolver,
  PredictionFactorResolver,
  PredictionResolver,
  ModelInfoResolver,
  TrainingRunResolver,
] as const;

