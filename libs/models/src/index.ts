// @recsys/models: the verbs first, then the types apps hold, then what evaluation and tools need.
// Specs import relatively; nothing is exported for them alone.
//
// The verbs: createModel(kind, params) builds a model; model.fit(train, options) trains it
// (per-epoch progress, validation and early stopping for the latent models); model.predict,
// model.predictMany and model.recommend answer by external ids; LatentModel.foldInUser folds a new
// user in (predictForFactors, recommendForFactors); saveModel / loadModel write and read the
// versioned artifact; modelKinds lists what createModel knows.
export { createModel, loadModel, loadModelArtifact, modelKinds, registerModelKind, restoreModel, saveModel } from './model-kinds';
export { writeQualifyingPredictions } from './qualifying';

// The types apps use.
export { BasePredictor } from './predictor';
export type { FallbackReason, FitOptions, IdPairs, Prediction, Predictor, Recommendation, TrainingProgress } from './predictor';
export { LatentModel } from './latent/latent-model';
export { isRankingModel, knownInteractions, RankingModel } from './ranking/ranking-model';
export { FactorRankingModel } from './ranking/factor-ranking-model';
export type { RankingFactors } from './ranking/factor-ranking-model';
export { IALS_DEFAULTS, IalsModel, ialsParams } from './ranking/ials-model';
export type { IalsConfidence, IalsParams } from './ranking/ials-model';
export type { Interaction, InteractionViewParams, ModelNeighbour, RankingContribution, RankingUser } from './ranking/ranking-model';
export type { FoldInOptions, LatentFitOptions } from './latent/latent-model';
export type { Contribution, FittedLatentState, FoldedUser, PredictionDetail } from './latent/latent-serving';
export { BiasedRidge } from './latent/fold-in';
export { fingerprintMatrix, readModelArtifact, sameFingerprint } from './artifact';
export type { ArtifactContent, DataFingerprint } from './artifact';
export * from './param-bounds';
export { parameterInfo, PARAM_CHOICES } from './param-info';
export type { ParameterInfo } from './param-info';

// Model parameters and their defaults (LibMF's parameter struct; createModel fills the gaps).
export { BASELINE_DEFAULTS } from './latent/baseline-model';
export type { BaselineParams, BaselineSolver } from './latent/baseline-model';
export { SVD_DEFAULTS, SvdModel } from './latent/svd-model';
export type { SvdParams, SvdSolver } from './latent/svd-model';
export { SVDPP_DEFAULTS } from './latent/svdpp-model';
export type { SvdppParams } from './latent/svdpp-model';
export { BPR_DEFAULTS, BprModel } from './ranking/bpr-model';
export type { BprParams, BprProgress } from './ranking/bpr-model';
export { KNN_BASELINE_DEFAULTS } from './neighbourhood/knn-baseline';
export type { KnnBaselineParams } from './neighbourhood/knn-baseline';
export { setBackendLogger } from './backend';
export type { Backend } from './backend';

// For evaluation, the tools and tests outside the lib.
export { MeanModel } from './neighbourhood/mean-model';
export { mostPopularModel } from './ranking/popular-model';
export { EASE_DEFAULTS, EaseModel, easeModel } from './ranking/ease-model';
export type { EaseFitTimings, EaseParams, EaseWeighting } from './ranking/ease-model';
export { ALS_WASM_PATH } from './latent/als/wasm';

// Spark interop: a Spark ML ALSModel (model.save(DIR)) imported as the `spark-als` kind.
export { trainableModelKinds, modelKindImportedBy } from './model-kinds';
export { SPARK_ALS_DEFAULTS, SPARK_ALS_MAX_RANK, SparkAlsModel } from './latent/spark-als-model';
export type { SparkAlsFactors, SparkAlsMatch, SparkAlsParams } from './latent/spark-als-model';
export { importSparkAlsModel, readSparkAlsModel } from './latent/spark/read-spark-als';
export type { SparkAlsImport, SparkAlsMetadata, SparkModelFolder } from './latent/spark/read-spark-als';
