import 'reflect-metadata';
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { describeBounds, formatBound, modelKindImportedBy, PARAM_BOUNDS } from '@recsys/models';

/**
 * Epochs a list of epochs is costed at (a run of the default svd has 20, of the bounds up to
 * 1000): the cost meter sees the query, not the store, and without a size per list a query of 30
 * aliases × 100 runs × their epochs cost about 12,000 (under the limit of 20,000) while it built
 * 3 million objects from runs stored with 1000 epochs (measured: 0.7 s of event loop per alias).
 */
export const EPOCH_LIST_COST = 100;

function epochListCost({ childComplexity }: { childComplexity: number }): number {
  return 1 + EPOCH_LIST_COST * Math.max(1, childComplexity);
}

export enum SimilarityMetricEnum {
  JACCARD = 'jaccard',
  COSINE = 'cosine',
  PEARSON = 'pearson',
  PEARSON_BASELINE = 'pearson-baseline',
  MODEL = 'model',
}
registerEnumType(SimilarityMetricEnum, {
  name: 'SimilarityMetric',
  description:
    'Item–item similarity over common raters (libs/similarity): jaccard |U_m∩U_n|/|U_m∪U_n|, cosine, pearson, or Koren\'s shrunk pearson-baseline; or MODEL: the active ranking model\'s own item–item similarity from its weights or factors (popular: the co-occurrence count |U_m∩U_n|, "people who watched this also watched").',
});

export enum FallbackReasonEnum {
  UNKNOWN_USER = 'unknown-user',
  UNKNOWN_MOVIE = 'unknown-movie',
  UNKNOWN_USER_AND_MOVIE = 'unknown-user-and-movie',
  NO_NEIGHBOURS = 'no-neighbours',
}
registerEnumType(FallbackReasonEnum, { name: 'FallbackReason', description: 'Why a prediction fell back from the model to a baseline.' });

export enum ModelKindEnum {
  BASELINE = 'baseline',
  SVD = 'svd',
  SVDPP = 'svdpp',
  POPULAR = 'popular',
  EASE = 'ease',
  IALS = 'ials',
  BPR = 'bpr',
  SPARK_ALS = 'spark-als',
}
registerEnumType(ModelKindEnum, {
  name: 'ModelKind',
  description:
    'Rating models (latent-factor, they fold in new ratings; role RATING): baseline μ+b_u+b_i, svd, svdpp, and spark-als (x_u·y_i, trained by Spark ML ALS and imported with `recsys import-model --format spark-als`: served from RECSYS_MODEL, never retrained here). Ranking models (they fold in ratings and interactions; role RANKING): popular, ease, ials, bpr. A kind this build does not register yet, or an imported kind, is refused by retrain with BAD_USER_INPUT.',
});

export enum ModelRoleEnum {
  RATING = 'rating',
  RANKING = 'ranking',
}
registerEnumType(ModelRoleEnum, {
  name: 'ModelRole',
  description: 'RATING: serves prediction, predictions and explanations. RANKING: serves recommendations and similarMovies(metric: MODEL). One model of each role is active, each swapped on its own.',
});

export enum TrainingStatusEnum {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(TrainingStatusEnum, {
  name: 'TrainingStatus',
  description:
    'QUEUED, then RUNNING in a worker thread, then SUCCEEDED (the model beat its reference on held-out ratings and now serves) or FAILED (the fit diverged, the model did not beat its reference, or the run broke: `error` says why, and the active model keeps serving).',
});

export enum TrainingTriggerEnum {
  STARTUP = 'STARTUP',
  API = 'API',
}
registerEnumType(TrainingTriggerEnum, { name: 'TrainingTrigger', description: 'STARTUP: no stored model fitted the data; API: the retrain mutation.' });

export enum RatingSourceEnum {
  DATA = 'DATA',
  API = 'API',
}
registerEnumType(RatingSourceEnum, { name: 'RatingSource', description: 'DATA: from the loaded data set; API: given through rateMovie.' });

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;
  @Field()
  hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true })
  startCursor!: string | null;
  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType({ description: 'A movie of the catalog or the ratings.' })
export class Movie {
  @Field(() => Int)
  id!: number;
  @Field()
  title!: string;
  @Field(() => Int, { nullable: true, description: 'Year of release; null when unknown.' })
  year!: number | null;
  @Field(() => [String])
  genres!: readonly string[];
  @Field(() => Int, { description: 'Ratings in the active model\'s training data plus API ratings given since.' })
  ratingCount!: number;
  @Field(() => Float, { nullable: true })
  meanRating!: number | null;
}

@ObjectType({ description: 'A user: anyone with ratings in the data or given through rateMovie.' })
export class User {
  @Field(() => Int)
  id!: number;
  @Field(() => Int)
  ratingCount!: number;
  @Field(() => Float, { nullable: true })
  meanRating!: number | null;
}

@ObjectType({ description: 'One rating of a movie by a user.' })
export class Rating {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { description: 'In stars.' })
  rating!: number;
  @Field(() => String, { nullable: true, description: 'Day of the rating (YYYY-MM-DD) when known.' })
  date!: string | null;
  @Field(() => RatingSourceEnum)
  source!: 'DATA' | 'API';
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it was given through the API.' })
  ratedAt!: string | null;
}

@ObjectType({ description: 'A movie similar to another, with the similarity and the number of common raters.' })
export class SimilarMovie {
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float)
  similarity!: number;
  @Field(() => Int, { description: 'Common raters of the two movies.' })
  support!: number;
}

@ObjectType()
export class ValueCount {
  @Field(() => Float)
  value!: number;
  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class DegreeCount {
  @Field(() => Int)
  ratings!: number;
  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class MonthCount {
  @Field()
  month!: string;
  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class DataSummary {
  @Field(() => Int)
  users!: number;
  @Field(() => Int)
  movies!: number;
  @Field(() => Int)
  ratings!: number;
  @Field(() => Float)
  scaleMin!: number;
  @Field(() => Float)
  scaleMax!: number;
  @Field(() => Float)
  scaleStep!: number;
  @Field()
  implicit!: boolean;
  @Field(() => Float)
  meanRating!: number;
  @Field(() => [ValueCount], { description: 'Count of ratings per value of the scale, ascending by value (all values of the scale, zeros included).' })
  ratingHistogram!: ValueCount[];
  @Field(() => [DegreeCount], { description: 'For each k with at least one user having exactly k ratings: k and that number of users, ascending by k (the long tail; log–log).' })
  ratingsPerUser!: DegreeCount[];
  @Field(() => [DegreeCount], { description: 'The same per movie.' })
  ratingsPerMovie!: DegreeCount[];
  @Field(() => [MonthCount], { description: "Ratings per calendar month 'YYYY-MM', ascending; empty when the data has no dates." })
  ratingsByMonth!: MonthCount[];
}

@ObjectType()
export class ModelParameterInfo {
  @Field()
  name!: string;
  @Field()
  description!: string;
  @Field({ description: "'integer', 'number' or 'string'" })
  type!: string;
  @Field(() => String, { nullable: true, description: 'The default as JSON text, e.g. \'100\' or \'"sgd"\'; null when the default depends on the machine (threads).' })
  default!: string | null;
  @Field(() => Float, { nullable: true })
  min!: number | null;
  @Field(() => Float, { nullable: true })
  max!: number | null;
  @Field()
  minExclusive!: boolean;
  @Field()
  maxExclusive!: boolean;
  @Field(() => [String], { nullable: true, description: 'Allowed values of a string parameter; null otherwise.' })
  choices!: string[] | null;
}

@ObjectType()
export class ModelKindInfo {
  @Field(() => ModelKindEnum)
  kind!: string;
  @Field(() => ModelRoleEnum)
  role!: string;
  @Field()
  description!: string;
  @Field(() => [ModelParameterInfo])
  parameters!: ModelParameterInfo[];
}

@ObjectType({ description: 'A recommended movie and its score: a ranking model\'s raw score (popular: the movie\'s rating count; not a rating), or a rating model\'s predicted rating clipped to the scale when a rating model is named.' })
export class Recommendation {
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float)
  score!: number;
  @Field(() => Int, { description: '1 for the best.' })
  rank!: number;
  /** Whose list it is and by which model (not in the schema: what `explanation` needs). */
  userId!: number;
  modelId!: string;
}

@ObjectType({
  description:
    'A rated movie weighing in a prediction: contribution is its additive share c_j of b_u + p_u·q_i when the user\'s [p_u, b_u] is refitted from their ratings by ridge regression (fold-in), c_j = ([q_i;1]ᵀ W [q_j;1])·(r_uj − μ − b_j), W the inverse of the fold-in\'s normal matrix.',
})
export class PredictionFactor {
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { description: 'The user\'s rating of this movie.' })
  rating!: number;
  @Field(() => Float)
  contribution!: number;
  @Field(() => Float, { nullable: true, description: 'Cosine of the two movies\' factor vectors (null for the baseline model).' })
  factorSimilarity!: number | null;
}

@ObjectType({ description: 'A predicted rating.' })
export class Prediction {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { description: 'Clipped to the rating scale.' })
  rating!: number;
  @Field(() => Float, { description: 'The model\'s estimate before clipping.' })
  unclipped!: number;
  @Field(() => Float, { description: 'μ + b_u + b_i (the known parts).' })
  baseline!: number;
  @Field()
  isFallback!: boolean;
  @Field(() => FallbackReasonEnum, { nullable: true })
  fallbackReason!: string | null;
  @Field({ description: 'True when the user\'s factors were refitted with ratings given through rateMovie since the model was trained.' })
  foldedIn!: boolean;
  @Field(() => ID)
  modelId!: string;
}

@ObjectType({ description: 'Counts and CRC-32 of a training matrix.' })
export class DataFingerprint {
  @Field(() => Int)
  users!: number;
  @Field(() => Int)
  movies!: number;
  @Field(() => Int)
  ratings!: number;
  @Field()
  crc32!: string;
}

@ObjectType({ description: 'Progress of one epoch (or iteration).' })
export class EpochProgress {
  @Field(() => Int)
  epoch!: number;
  @Field(() => Int)
  epochs!: number;
  @Field(() => Float, { nullable: true, description: 'RMSE on the training ratings after the epoch.' })
  trainRmse?: number;
  @Field(() => Float, { nullable: true, description: 'RMSE on the held-out slice after the epoch (the epochs of a training run are those of its guard fit).' })
  validationRmse?: number;
  @Field(() => Float)
  seconds!: number;
}

@ObjectType({ description: 'Accuracy on the training ratings (not held out) and the size of the training data.' })
export class ModelMetrics {
  @Field(() => Float, { nullable: true, description: 'RMSE on the held-out slice (a seeded 2 % of the training data) of the guard fit, which had to beat referenceRmse. Null for models trained before the guard existed.' })
  heldOutRmse?: number | null;
  @Field(() => Float, { nullable: true, description: 'MAE on the held-out slice of the guard fit (rating models).' })
  heldOutMae?: number | null;
  @Field(() => Int, { nullable: true, description: 'Ratings in the held-out slice.' })
  heldOutRatings?: number | null;
  @Field(() => String, { nullable: true, description: 'The kind the model had to beat on the held-out slice: baseline for svd and svdpp, mean for baseline.' })
  referenceKind?: string | null;
  @Field(() => Float, { nullable: true, description: 'RMSE of referenceKind (fitted with its defaults on the same ratings) on the held-out slice.' })
  referenceRmse?: number | null;
  @Field(() => Float, { nullable: true, description: 'Ranking models: NDCG@10 on the held-out slice (relevant: held-out value in the top quarter of the scale, ≥ 4 stars on 1..5), which had to beat referenceNdcg.' })
  heldOutNdcg?: number | null;
  @Field(() => Float, { nullable: true, description: 'Ranking models: NDCG@10 of popular on the same slice (null for popular itself).' })
  referenceNdcg?: number | null;
  @Field(() => Int, { nullable: true, description: 'Ranking models: held-out users whose lists were scored (a seeded sample of at most 5,000).' })
  heldOutUsers?: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'Training RMSE of the last epoch, on the ratings the model was fitted on (all but the guard\'s held-out slice). Null when not measured: a model served from a file (RECSYS_MODEL).',
  })
  trainRmse?: number | null;
  @Field(() => Float, { nullable: true, description: 'MAE on the training ratings; null when not measured (training runs since issue 10 report the RMSE only: no extra pass over every rating before the model serves).' })
  trainMae?: number | null;
  @Field(() => Int)
  ratings!: number;
  @Field(() => Int)
  users!: number;
  @Field(() => Int)
  movies!: number;
  @Field(() => Float, { nullable: true, description: 'Wall time of the fit; null for a model served from a file.' })
  fitSeconds?: number | null;
}

@ObjectType({ description: 'A trained model.' })
export class ModelInfo {
  @Field(() => ID)
  id!: string;
  @Field(() => ModelKindEnum)
  kind!: string;
  @Field(() => ModelRoleEnum, { description: 'What it serves: RATING (predictions) or RANKING (recommendation lists).' })
  role!: string;
  @Field(() => GraphQLJSONObject, { description: 'All parameters, defaults filled in.' })
  parameters!: Record<string, unknown>;
  @Field(() => GraphQLDateTime)
  trainedAt!: string;
  @Field(() => ModelMetrics)
  metrics!: ModelMetrics;
  @Field(() => DataFingerprint)
  dataFingerprint!: DataFingerprint;
  @Field(() => Int, { description: 'API ratings with row ids up to this are in the training data.' })
  ratingsThroughId!: number;
  @Field(() => Int, { description: 'Ranking models: API interactions with row ids up to this are in the training data (0 for rating models, which never see interactions).' })
  interactionsThroughId!: number;
  @Field(() => [EpochProgress], { complexity: epochListCost })
  history!: EpochProgress[];
  @Field(() => ID, { nullable: true })
  trainingRunId!: string | null;
}

@ObjectType({ description: 'A (re)training of a model, run in a worker thread.' })
export class TrainingRun {
  @Field(() => ID)
  id!: string;
  @Field(() => TrainingStatusEnum)
  status!: string;
  @Field(() => TrainingTriggerEnum)
  trigger!: string;
  @Field(() => ModelKindEnum)
  kind!: string;
  @Field(() => ModelRoleEnum, { description: 'The role its model takes when it succeeds.' })
  role!: string;
  @Field(() => GraphQLJSONObject, { description: 'Every parameter the run uses: those given, the kind\'s defaults for the rest.' })
  parameters!: Record<string, unknown>;
  @Field(() => Int, { nullable: true })
  totalEpochs!: number | null;
  @Field(() => Int, { description: 'Epochs finished so far.' })
  epoch!: number;
  @Field(() => [EpochProgress], { description: 'Every finished epoch with its training RMSE.', complexity: epochListCost })
  epochs!: EpochProgress[];
  @Field(() => Int, { description: 'Ratings given through rateMovie included in the training data.' })
  apiRatings!: number;
  @Field(() => Int, { description: 'Interactions given through interact included in the training data (ranking kinds only).' })
  apiInteractions!: number;
  @Field(() => String, { nullable: true, description: 'Why the run FAILED (e.g. the fit diverged at an epoch, or the model did not beat its reference on held-out ratings).' })
  error!: string | null;
  @Field(() => Float, { nullable: true, description: 'RMSE of the guard fit on the held-out slice (a seeded 2 % of the training data); null until measured.' })
  heldOutRmse!: number | null;
  @Field(() => Float, { nullable: true })
  heldOutMae!: number | null;
  @Field(() => Int, { nullable: true, description: 'Ratings in the held-out slice.' })
  heldOutRatings!: number | null;
  @Field(() => String, { nullable: true, description: 'The kind the model had to beat on the held-out slice: baseline for svd and svdpp, mean for baseline.' })
  referenceKind!: string | null;
  @Field(() => Float, { nullable: true, description: 'RMSE of referenceKind on the same slice: the run FAILED unless heldOutRmse is lower.' })
  referenceRmse!: number | null;
  @Field(() => Float, { nullable: true, description: 'Ranking kinds: NDCG@10 of the guard fit on the held-out slice; null until measured.' })
  heldOutNdcg!: number | null;
  @Field(() => Float, { nullable: true, description: 'Ranking kinds: NDCG@10 of popular on the same slice: the run FAILED unless heldOutNdcg is higher (null for popular itself).' })
  referenceNdcg!: number | null;
  @Field(() => ID, { nullable: true, description: 'Id of the model it produced (once SUCCEEDED).' })
  modelId!: string | null;
  @Field(() => GraphQLDateTime)
  queuedAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true })
  startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType({ description: 'The two active models, each swapped on its own.' })
export class ActiveModels {
  @Field(() => ModelInfo, { description: 'Serves prediction, predictions and explanations.' })
  rating!: ModelInfo;
  @Field(() => ModelInfo, { description: 'Serves recommendations (Query and User) and similarMovies(metric: MODEL).' })
  ranking!: ModelInfo;
}

@ObjectType({ description: 'An interaction given through interact (a view, click or play).' })
export class InteractionRecord {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { description: 'Its weight; the user\'s interactions with one movie add up.' })
  weight!: number;
  @Field(() => GraphQLDateTime, { description: 'When it was stored.' })
  at!: string;
}

// ---- arguments and inputs ----------------------------------------------------------------------

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: '1..100' })
  @IsInt()
  @Min(1)
  @Max(100)
  first!: number;
  @Field(() => String, { nullable: true, description: 'Cursor of the last edge of the previous page.' })
  after?: string | null;
}

@ArgsType()
export class MoviesArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the title.' })
  search?: string | null;
}

@ArgsType()
export class SimilarArgs {
  @Field(() => Int, { defaultValue: 10, description: '1..100' })
  @IsInt()
  @Min(1)
  @Max(100)
  n!: number;
  @Field(() => SimilarityMetricEnum, { defaultValue: SimilarityMetricEnum.JACCARD })
  metric!: SimilarityMetricEnum;
  @Field(() => Int, { defaultValue: 0, description: 'Least number of common raters for a movie to count.' })
  @IsInt()
  @Min(0)
  minSupport!: number;
}

@ArgsType()
export class SimilarMoviesArgs extends SimilarArgs {
  @Field(() => Int)
  movieId!: number;
}

@ArgsType()
export class RecommendationArgs {
  @Field(() => Int, { defaultValue: 10, description: '1..100' })
  @IsInt()
  @Min(1)
  @Max(100)
  n!: number;
  @Field({ defaultValue: true, description: 'Skip movies the user has rated or interacted with.' })
  excludeRated!: boolean;
  @Field(() => ID, { nullable: true, description: 'A model id from `models` (of either role); default the active ranking model.' })
  model?: string | null;
}

@ArgsType()
export class RecommendationsArgs extends RecommendationArgs {
  @Field(() => Int)
  userId!: number;
}

@ArgsType()
export class UserPredictionArgs {
  @Field(() => Int)
  movieId!: number;
  @Field(() => ID, { nullable: true, description: 'A model id from `models`; default the active model.' })
  model?: string | null;
}

@ArgsType()
export class PredictionArgs extends UserPredictionArgs {
  @Field(() => Int)
  userId!: number;
}

@InputType({ description: 'A (user, movie) pair to predict.' })
export class PredictionPairInput {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
}

@ArgsType()
export class PredictionsArgs {
  @Field(() => [PredictionPairInput], { description: '1..1000 pairs.' })
  pairs!: PredictionPairInput[];
  @Field(() => ID, { nullable: true })
  model?: string | null;
}

@ArgsType()
export class ExplanationArgs {
  @Field(() => Int, { defaultValue: 5, description: '1..100' })
  @IsInt()
  @Min(1)
  @Max(100)
  n!: number;
}

/** The bounds of each kind's parameters as the retrain input's description says them (from PARAM_BOUNDS of @recsys/models). */
function retrainBounds(): string {
  return Object.values(ModelKindEnum)
    .filter((kind) => modelKindImportedBy(kind) === null)
    .map((kind) => `${kind}: ${PARAM_BOUNDS[kind] ? describeBounds(PARAM_BOUNDS[kind]) || 'no parameters' : 'not in this build yet'}`)
    .join('. ');
}

@InputType({ description: 'Every field optional: an omitted kind is the active rating model\'s, omitted parameters are the kind\'s defaults.' })
export class RetrainInput {
  @Field(() => ModelKindEnum, { nullable: true, description: 'Default: the active rating model\'s kind. A ranking kind (popular, ease, ials, bpr) is activated in the ranking role.' })
  kind?: ModelKindEnum | null;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Model parameters, e.g. {"factors": 32, "epochs": 30}; every one not given is the kind\'s default (never the last run\'s), and the run reports the full set it used. ' +
      `Values outside these bounds are refused with BAD_USER_INPUT before anything runs. ${retrainBounds()}.`,
  })
  parameters?: Record<string, unknown> | null;
  @Field(() => Int, { nullable: true, description: `Worker threads of the SGD kernel (svd only): ${formatBound('threads', PARAM_BOUNDS.svd.threads)}.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  threads?: number | null;
}

@ArgsType()
export class RateMovieArgs {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { description: 'On the data set\'s rating scale (1..5 whole stars for Netflix-shaped data).' })
  rating!: number;
}

@ArgsType()
export class InteractArgs {
  @Field(() => Int)
  userId!: number;
  @Field(() => Int)
  movieId!: number;
  @Field(() => Float, { defaultValue: 1, description: 'A finite number with 0 < weight ≤ 100 (e.g. 1 per view, or a play count); one user\'s interactions with one movie add up to at most 127.5.' })
  weight!: number;
}

export const VALID_KINDS: readonly string[] = Object.values(ModelKindEnum);

/** The kinds retrain trains: every kind of the enum but those imported from elsewhere (spark-als). */
export const TRAINABLE_KINDS: readonly string[] = VALID_KINDS.filter((kind) => modelKindImportedBy(kind) === null);
