/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Why a prediction fell back from the model to a baseline. */
export type FallbackReason =
  | 'NO_NEIGHBOURS'
  | 'UNKNOWN_MOVIE'
  | 'UNKNOWN_USER'
  | 'UNKNOWN_USER_AND_MOVIE';

/** Rating models (latent-factor, they fold in new ratings; role RATING): baseline μ+b_u+b_i, svd, svdpp. Ranking models (they fold in ratings and interactions; role RANKING): popular, ease, ials, bpr. A kind this build does not register yet is refused by retrain with BAD_USER_INPUT. */
export type ModelKind =
  | 'BASELINE'
  | 'BPR'
  | 'EASE'
  | 'IALS'
  | 'POPULAR'
  | 'SVD'
  | 'SVDPP';

/** RATING: serves prediction, predictions and explanations. RANKING: serves recommendations and similarMovies(metric: MODEL). One model of each role is active, each swapped on its own. */
export type ModelRole =
  | 'RANKING'
  | 'RATING';

/** Every field optional: an omitted kind is the active rating model's, omitted parameters are the kind's defaults. */
export type RetrainInput = {
  /** Default: the active rating model's kind. A ranking kind (popular, ease, ials, bpr) is activated in the ranking role. */
  kind?: ModelKind | null | undefined;
  /** Model parameters, e.g. {"factors": 32, "epochs": 30}; every one not given is the kind's default (never the last run's), and the run reports the full set it used. Values outside these bounds are refused with BAD_USER_INPUT before anything runs. baseline: epochs: an integer in 1..1000 (ALS iterations, SGD epochs or L-BFGS iterations); regUser: a number with 0 < regUser ≤ 1000 (also the fold-in λ); regMovie: a number in 0..1000; lr: a number with 0 < lr ≤ 1 (used by the sgd solver); reg: a number in 0..1000. svd: factors: an integer in 0..1000; epochs: an integer in 1..1000 (SGD epochs, ALS or L-BFGS iterations); lr: a number in 0..1 (the sgd solver needs lr > 0; unused by als and lbfgs); lrBias: a number in 0..1 (the sgd solver needs lrBias > 0; unused by als and lbfgs); reg: a number in 0..1000 (the als solver needs reg > 0); regBias: a number in 0..1000 (the als solver needs regBias > 0); initStd: a number with 0 < initStd ≤ 1; seed: an integer in 0..4294967295; threads: an integer in 1..cores (os.availableParallelism()). svdpp: factors: an integer in 0..1000; epochs: an integer in 1..1000; lr: a number with 0 < lr ≤ 1; lrBias: a number with 0 < lrBias ≤ 1; reg: a number in 0..1000; regBias: a number in 0..1000; initStd: a number with 0 < initStd ≤ 1; seed: an integer in 0..4294967295; foldInReg: a number with 0 < foldInReg ≤ 1000; threads: an integer in 1..cores (os.availableParallelism()). popular: no parameters. ease: lambda: a number with 0 < lambda ≤ 1e9 (G = XᵀX + λI must be positive definite); minWeight: a number in 0..127.5 (stored values are at most 127.5); maxItems: an integer in 1..32000 (items² × 4 B of memory; 32,000 items: 4.1 GB, the WebAssembly limit); threads: an integer in 1..cores (os.availableParallelism()). ials: factors: an integer in 1..1000; epochs: an integer in 1..1000; reg: a number with 0 < reg ≤ 1000 (base λ of every row, also the fold-in λ); regFrequency: a number in 0..100 (ν of λ_u = reg·(1 + ν·n_u)); alpha: a number in 0..1e4 (confidence c = 1 + alpha·w (linear) or 1 + alpha·log(1 + w/epsilon)); epsilon: a number with 0 < epsilon ≤ 1e6 (log confidence only); cgSteps: an integer in 1..100; minWeight: a number in 0..127.5 (entries of weight < minWeight are not positives); initStd: a number with 0 < initStd ≤ 1; seed: an integer in 0..4294967295; threads: an integer in 1..cores (os.availableParallelism()). bpr: factors: an integer in 1..1000; epochs: an integer in 1..1000; lr: a number with 0 < lr ≤ 1; regUser: a number in 0..1000; regItem: a number in 0..1000; regBias: a number in 0..1000; negativeSampling: a number in 0..2 (β of negatives ∝ popularity^β; 0 uniform); minWeight: a number in 0..1000; seed: an integer in 0..4294967295; threads: an integer in 1..cores (os.availableParallelism()); initStd: a number with 0 < initStd ≤ 1; foldInReg: a number with 0 < foldInReg ≤ 1000; foldInAlpha: a number in 0..1e6. */
  parameters?: Record<string, unknown> | null | undefined;
  /** Worker threads of the SGD kernel (svd only): an integer in 1..cores (os.availableParallelism()). */
  threads?: number | null | undefined;
};

/** Item–item similarity over common raters (libs/similarity): jaccard |U_m∩U_n|/|U_m∪U_n|, cosine, pearson, or Koren's shrunk pearson-baseline; or MODEL: the active ranking model's own item–item similarity from its weights or factors (popular: the co-occurrence count |U_m∩U_n|, "people who watched this also watched"). */
export type SimilarityMetric =
  | 'COSINE'
  | 'JACCARD'
  | 'MODEL'
  | 'PEARSON'
  | 'PEARSON_BASELINE';

/** QUEUED, then RUNNING in a worker thread, then SUCCEEDED (the model beat its reference on held-out ratings and now serves) or FAILED (the fit diverged, the model did not beat its reference, or the run broke: `error` says why, and the active model keeps serving). */
export type TrainingStatus =
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type SimilarMoviesQueryVariables = Exact<{
  movieId: number;
  n?: number;
  metric?: SimilarityMetric;
  minSupport?: number;
}>;


export type SimilarMoviesQuery = { movie: { id: number, title: string, year: number | null, ratingCount: number }, similarMovies: Array<{ movieId: number, similarity: number, support: number, movie: { title: string, year: number | null, ratingCount: number } }> };

export type PredictionQueryVariables = Exact<{
  userId: number;
  movieId: number;
  model?: string | number | null | undefined;
}>;


export type PredictionQuery = { prediction: { userId: number, movieId: number, rating: number, unclipped: number, baseline: number, isFallback: boolean, fallbackReason: FallbackReason | null, modelId: string, movie: { title: string, year: number | null } | null } };

export type RecommendationsQueryVariables = Exact<{
  userId: number;
  n?: number;
  excludeRated?: boolean;
  model?: string | number | null | undefined;
}>;


export type RecommendationsQuery = { recommendations: Array<{ rank: number, movieId: number, score: number, movie: { title: string, year: number | null } }> };

export type ActiveModelQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveModelQuery = { activeModel: { id: string, kind: ModelKind, parameters: Record<string, unknown>, trainedAt: string } };

export type ActiveModelsQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveModelsQuery = { activeModels: { rating: { id: string, kind: ModelKind, role: ModelRole, parameters: Record<string, unknown>, trainedAt: string }, ranking: { id: string, kind: ModelKind, role: ModelRole, parameters: Record<string, unknown>, trainedAt: string } } };

export type RetrainMutationVariables = Exact<{
  input?: RetrainInput;
}>;


export type RetrainMutation = { retrain: { id: string, status: TrainingStatus, kind: ModelKind, role: ModelRole, parameters: Record<string, unknown>, queuedAt: string } };

export type TrainingRunQueryVariables = Exact<{
  id: string | number;
}>;


export type TrainingRunQuery = { trainingRun: { id: string, status: TrainingStatus, kind: ModelKind, epoch: number, totalEpochs: number | null, error: string | null, heldOutRmse: number | null, referenceKind: string | null, referenceRmse: number | null, heldOutNdcg: number | null, referenceNdcg: number | null, role: ModelRole, modelId: string | null, startedAt: string | null, finishedAt: string | null, epochs: Array<{ epoch: number, epochs: number, trainRmse: number | null, seconds: number }> } };

export type RateMovieMutationVariables = Exact<{
  userId: number;
  movieId: number;
  rating: number;
}>;


export type RateMovieMutation = { rateMovie: { userId: number, movieId: number, rating: number } };

export type InteractMutationVariables = Exact<{
  userId: number;
  movieId: number;
  weight?: number;
}>;


export type InteractMutation = { interact: { userId: number, movieId: number, weight: number, at: string } };


export const SimilarMoviesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SimilarMovies"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"n"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"metric"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SimilarityMetric"}}},"defaultValue":{"kind":"EnumValue","value":"JACCARD"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"minSupport"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"0"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"movie"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"year"}},{"kind":"Field","name":{"kind":"Name","value":"ratingCount"}}]}},{"kind":"Field","name":{"kind":"Name","value":"similarMovies"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"movieId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}}},{"kind":"Argument","name":{"kind":"Name","value":"n"},"value":{"kind":"Variable","name":{"kind":"Name","value":"n"}}},{"kind":"Argument","name":{"kind":"Name","value":"metric"},"value":{"kind":"Variable","name":{"kind":"Name","value":"metric"}}},{"kind":"Argument","name":{"kind":"Name","value":"minSupport"},"value":{"kind":"Variable","name":{"kind":"Name","value":"minSupport"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"movieId"}},{"kind":"Field","name":{"kind":"Name","value":"similarity"}},{"kind":"Field","name":{"kind":"Name","value":"support"}},{"kind":"Field","name":{"kind":"Name","value":"movie"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"year"}},{"kind":"Field","name":{"kind":"Name","value":"ratingCount"}}]}}]}}]}}]} as unknown as DocumentNode<SimilarMoviesQuery, SimilarMoviesQueryVariables>;
export const PredictionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Prediction"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"model"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"prediction"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"movieId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}}},{"kind":"Argument","name":{"kind":"Name","value":"model"},"value":{"kind":"Variable","name":{"kind":"Name","value":"model"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"movieId"}},{"kind":"Field","name":{"kind":"Name","value":"rating"}},{"kind":"Field","name":{"kind":"Name","value":"unclipped"}},{"kind":"Field","name":{"kind":"Name","value":"baseline"}},{"kind":"Field","name":{"kind":"Name","value":"isFallback"}},{"kind":"Field","name":{"kind":"Name","value":"fallbackReason"}},{"kind":"Field","name":{"kind":"Name","value":"modelId"}},{"kind":"Field","name":{"kind":"Name","value":"movie"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"year"}}]}}]}}]}}]} as unknown as DocumentNode<PredictionQuery, PredictionQueryVariables>;
export const RecommendationsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Recommendations"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"n"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"excludeRated"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}},"defaultValue":{"kind":"BooleanValue","value":true}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"model"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"recommendations"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"n"},"value":{"kind":"Variable","name":{"kind":"Name","value":"n"}}},{"kind":"Argument","name":{"kind":"Name","value":"excludeRated"},"value":{"kind":"Variable","name":{"kind":"Name","value":"excludeRated"}}},{"kind":"Argument","name":{"kind":"Name","value":"model"},"value":{"kind":"Variable","name":{"kind":"Name","value":"model"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rank"}},{"kind":"Field","name":{"kind":"Name","value":"movieId"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"movie"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"year"}}]}}]}}]}}]} as unknown as DocumentNode<RecommendationsQuery, RecommendationsQueryVariables>;
export const ActiveModelDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ActiveModel"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activeModel"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"trainedAt"}}]}}]}}]} as unknown as DocumentNode<ActiveModelQuery, ActiveModelQueryVariables>;
export const ActiveModelsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ActiveModels"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activeModels"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rating"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"trainedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"ranking"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"trainedAt"}}]}}]}}]}}]} as unknown as DocumentNode<ActiveModelsQuery, ActiveModelsQueryVariables>;
export const RetrainDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Retrain"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RetrainInput"}}},"defaultValue":{"kind":"ObjectValue","fields":[]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retrain"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"parameters"}},{"kind":"Field","name":{"kind":"Name","value":"queuedAt"}}]}}]}}]} as unknown as DocumentNode<RetrainMutation, RetrainMutationVariables>;
export const TrainingRunDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TrainingRun"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"trainingRun"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"epoch"}},{"kind":"Field","name":{"kind":"Name","value":"totalEpochs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"heldOutRmse"}},{"kind":"Field","name":{"kind":"Name","value":"referenceKind"}},{"kind":"Field","name":{"kind":"Name","value":"referenceRmse"}},{"kind":"Field","name":{"kind":"Name","value":"heldOutNdcg"}},{"kind":"Field","name":{"kind":"Name","value":"referenceNdcg"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"modelId"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"epochs"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"epoch"}},{"kind":"Field","name":{"kind":"Name","value":"epochs"}},{"kind":"Field","name":{"kind":"Name","value":"trainRmse"}},{"kind":"Field","name":{"kind":"Name","value":"seconds"}}]}}]}}]}}]} as unknown as DocumentNode<TrainingRunQuery, TrainingRunQueryVariables>;
export const RateMovieDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RateMovie"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"rating"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Float"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rateMovie"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"movieId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}}},{"kind":"Argument","name":{"kind":"Name","value":"rating"},"value":{"kind":"Variable","name":{"kind":"Name","value":"rating"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"movieId"}},{"kind":"Field","name":{"kind":"Name","value":"rating"}}]}}]}}]} as unknown as DocumentNode<RateMovieMutation, RateMovieMutationVariables>;
export const InteractDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Interact"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"weight"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Float"}}},"defaultValue":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"interact"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"movieId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"movieId"}}},{"kind":"Argument","name":{"kind":"Name","value":"weight"},"value":{"kind":"Variable","name":{"kind":"Name","value":"weight"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"movieId"}},{"kind":"Field","name":{"kind":"Name","value":"weight"}},{"kind":"Field","name":{"kind":"Name","value":"at"}}]}}]}}]} as unknown as DocumentNode<InteractMutation, InteractMutationVariables>;