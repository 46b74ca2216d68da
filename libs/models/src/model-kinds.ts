import { RatingMatrix } from '@recsys/data';
import { ArtifactContent, ArtifactError, ARTIFACT_VERSION, DataFingerprint, fingerprintMatrix, ModelArtifact, readModelArtifact, TrainingSource, trainingMatrixFor, writeModelArtifact } from './artifact';
import { BaselineModel, BaselineParams } from './latent/baseline-model';
import { JaccardCfModel } from './neighbourhood/jaccard-cf';
import { KnnBaselineModel, KnnBaselineParams, KNN_BASELINE_DEFAULTS } from './neighbourhood/knn-baseline';
import { MeanModel } from './neighbourhood/mean-model';
import { MostPopularModel } from './ranking/popular-model';
import { BprModel, BprParams } from './ranking/bpr-model';
import { EaseModel, EaseParams } from './ranking/ease-model';
import { IalsModel } from './ranking/ials-model';
import type { Predictor } from './predictor';
import { deserializeNeighbourIndex, NeighbourIndex, serializeNeighbourIndex } from '@recsys/similarity';
import { SvdModel, SvdParams } from './latent/svd-model';
import { SvdppModel, SvdppParams } from './latent/svdpp-model';
import { SparkAlsModel } from './latent/spark-als-model';

/** How the registry builds, saves and loads models of one kind. */
export interface ModelKind {
  /** A new, unfitted model with `params` (missing ones take the kind's defaults). */
  create(params: Record<string, unknown>): Predictor;
  /** The fitted model stored in an artifact of this kind, over its training matrix (see trainingMatrixFor). */
  fromArtifact(artifact: ModelArtifact, train: RatingMatrix): Predictor | Promise<Predictor>;
  /** The artifact content of a fitted model; when absent the model's own `toArtifact()` is used. */
  toArtifact?(model: Predictor): ArtifactContent;
  /**
   * How models of this kind come to be when they are not trained here (e.g. `spark-als`: imported
   * with `recsys import-model`); absent for the kinds `fit` trains (see {@link trainableModelKinds}).
   */
  importedBy?: string;
}

/** A model that can describe itself as an artifact. */
export interface PersistableModel extends Predictor {
  toArtifact(): ArtifactContent;
}

const kinds = new Map<string, ModelKind>();

/** Registers (or replaces) the factory, saver and loader of a model kind. */
export function registerModelKind(kind: string, entry: ModelKind): void {
  kinds.set(kind, entry);
}

/** The kinds registered so far, sorted. */
export function modelKinds(): string[] {
  return [...kinds.keys()].sort();
}

/** The kinds that `fit` trains (every registered kind but the imported ones, e.g. `spark-als`), sorted. */
export function trainableModelKinds(): string[] {
  return modelKinds().filter((kind) => kinds.get(kind)!.importedBy === undefined);
}

/** How models of `kind` are made when they are imported rather than trained (null for trainable and unknown kinds). */
export function modelKindImportedBy(kind: string): string | null {
  return kinds.get(kind)?.importedBy ?? null;
}

/**
 * A new, unfitted model of `kind` with `params` (unknown kinds and parameters are refused with an
 * error naming them; missing parameters take the kind's documented defaults).
 */
export function createModel(kind: string, params: Record<string, unknown> = {}): Predictor {
  const entry = kinds.get(kind);
  if (!entry) throw new RangeError(`unknown model kind "${kind}" (known: ${modelKinds().join(', ')})`);
  return entry.create(params);
}

function hasToArtifact(model: Predictor): model is PersistableModel {
  return typeof (model as Partial<PersistableModel>).toArtifact === 'function';
}

/** Section of an artifact that holds a serialised neighbour index (see `saveModel`). */
const NEIGHBOUR_SECTION = 'neighbourIndex';

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** The movies' top-K neighbours, stored beside the model (answers similar-movie queries in O(1)). */
  neighbourIndex?: NeighbourIndex;
  /**
   * The data the training ratings were drawn from and the seeded slice held out of it (as
   * `fitChecked` or a validation split does), so that a loader given that data rebuilds the
   * training ratings; default: the model's training ratings themselves, nothing held out. `data`
   * may be given as its fingerprint (taken before a fit that consumed the matrix).
   */
  source?: { data: RatingMatrix | DataFingerprint; holdout: { fraction: number; seed: number } | null };
  /**
   * The ratings of the model's training matrix that its fit left out by a mask (1 byte per by-user
   * position, 1 = left out: `fitChecked`'s held-out slice when it fits over the data in place):
   * the artifact then names the training ratings without them, as it would had the fit run on a
   * copy without them (`fingerprintMatrix(train, exclude)`).
   */
  exclude?: Uint8Array;
}

/**
 * Writes a fitted model to `path` as a versioned artifact (see artifact.ts for the layout): what
 * prediction needs and the fingerprint of its training data, not the ratings themselves.
 */
export function saveModel(path: string, model: Predictor, options: SaveModelOptions = {}): void {
  const entry = kinds.get(model.kind);
  let content: ArtifactContent;
  if (entry?.toArtifact) content = entry.toArtifact(model);
  else if (hasToArtifact(model)) content = model.toArtifact();
  else throw new RangeError(`saveModel: models of kind "${model.kind}" cannot be saved (no artifact writer registered)`);
  if (options.neighbourIndex) {
    // The index is over the data's movies (the model's training ratings may lack a few).
    const data = options.source?.data;
    const movies = data === undefined ? content.fingerprint.movies : data instanceof RatingMatrix ? data.nMovies : data.movies;
    if (options.neighbourIndex.nMovies !== movies) {
      throw new RangeError(`saveModel: the neighbour index has ${options.neighbourIndex.nMovies} movies, the data ${movies}`);
    }
    content = { ...content, sections: { ...content.sections, [NEIGHBOUR_SECTION]: serializeNeighbourIndex(options.neighbourIndex) } };
  }
  if (options.exclude) {
    const train = (model as Predictor & { train?: RatingMatrix }).train;
    if (!(train instanceof RatingMatrix)) throw new RangeError(`saveModel: exclude needs the model's training matrix (${model.kind} has none)`);
    content = { ...content, fingerprint: fingerprintMatrix(train, options.exclude) };
  }
  if (options.source) {
    const data = options.source.data;
    const source: TrainingSource = { data: data instanceof RatingMatrix ? fingerprintMatrix(data) : data, holdout: options.source.holdout };
    content = { ...content, source };
  }
  writeModelArtifact(path, content);
}

/**
 * Reads a model artifact and rebuilds the fitted model through the registered kind, over `data`:
 * the data it was trained on (the artifact holds no ratings; see trainingMatrixFor).
 * @throws ArtifactError for an unusable file, a kind this build does not know, or other data.
 */
export async function loadModel(path: string, data: RatingMatrix): Promise<Predictor> {
  return (await loadModelArtifact(path, data)).model;
}

function kindOf(artifact: Pick<ModelArtifact, 'kind' | 'file'>): ModelKind {
  const entry = kinds.get(artifact.kind);
  if (!entry) throw new ArtifactError(artifact.file, `unknown model kind "${artifact.kind}" (this build knows: ${modelKinds().join(', ')})`);
  return entry;
}

/**
 * The fitted model of artifact content held in memory (e.g. sections a training worker posted
 * in shared memory), over `train`, the very matrix it was fitted on: no file is read, no section
 * copied and no fingerprint computed (the caller vouches for `train`; {@link loadModelArtifact}
 * is the checked way from a file).
 */
export async function restoreModel(content: ArtifactContent, train: RatingMatrix, file = '<memory>'): Promise<Predictor> {
  const artifact: ModelArtifact = {
    ...content,
    trainedAt: content.trainedAt ?? new Date().toISOString(),
    source: content.source ?? { data: content.fingerprint, holdout: null },
    version: ARTIFACT_VERSION,
    file,
  };
  return kindOf(artifact).fromArtifact(artifact, train);
}

/** A loaded model and the neighbour index saved with it (null when none was). */
export async function loadModelArtifact(
  path: string,
  data: RatingMatrix,
): Promise<{ model: Predictor; neighbourIndex: NeighbourIndex | null; artifact: ModelArtifact; train: RatingMatrix }> {
  const artifact = readModelArtifact(path);
  const entry = kindOf(artifact);
  const train = trainingMatrixFor(artifact, data);
  const model = await entry.fromArtifact(artifact, train);
  const bytes = artifact.sections[NEIGHBOUR_SECTION];
  let neighbourIndex: NeighbourIndex | null = null;
  if (bytes !== undefined) {
    if (!(bytes instanceof Uint8Array)) throw new ArtifactError(path, `section "${NEIGHBOUR_SECTION}" is not a byte array`);
    neighbourIndex = deserializeNeighbourIndex(bytes);
  }
  return { model, neighbourIndex, artifact, train };
}

/** The artifact of a model whose whole state is its training matrix (refitted on load): no sections. */
function ratingsOnlyArtifact(kind: string, train: RatingMatrix, meta: Record<string, unknown> = {}): ArtifactContent {
  return { kind, params: {}, history: [], fingerprint: fingerprintMatrix(train), scale: train.scale, meta, sections: {} };
}

// `mean`: its whole state is μ of the training matrix, so loading refits over the supplied data,
// which recomputes exactly μ.
registerModelKind('mean', {
  create: (params) => {
    rejectUnknown('mean', params, []);
    return new MeanModel();
  },
  toArtifact: (model) => ratingsOnlyArtifact('mean', (model as MeanModel).train, { globalMean: (model as MeanModel).train.globalMean() }),
  fromArtifact: (_artifact, train) => new MeanModel().fit(train),
});

// The latent models register here (not in their own modules) so that importing the registry
// alone knows every built-in kind, whatever else was imported.
registerModelKind('baseline', {
  create: (params) => new BaselineModel(params as Partial<BaselineParams>),
  fromArtifact: (artifact, train) => BaselineModel.fromArtifact(artifact, train),
});

registerModelKind('svd', {
  create: (params) => new SvdModel(params as Partial<SvdParams>),
  fromArtifact: (artifact, train) => SvdModel.fromArtifact(artifact, train),
});

registerModelKind('svdpp', {
  create: (params) => new SvdppModel(params as Partial<SvdppParams>),
  fromArtifact: (artifact, train) => SvdppModel.fromArtifact(artifact, train),
});

function rejectUnknown(kind: string, params: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(params).filter((p) => !known.includes(p));
  if (unknown.length > 0) throw new RangeError(`${kind}: unknown parameter(s) ${unknown.join(', ')} (known: ${known.join(', ') || 'none'})`);
}

// `jaccard-cf`: its whole state is the training matrix (similarities are computed on demand).
registerModelKind('jaccard-cf', {
  create: (params) => {
    rejectUnknown('jaccard-cf', params, []);
    return new JaccardCfModel();
  },
  toArtifact: (model) => ratingsOnlyArtifact('jaccard-cf', (model as JaccardCfModel).train),
  fromArtifact: (_artifact, train) => new JaccardCfModel().fit(train),
});

registerModelKind('knn-baseline', {
  create: (params) => {
    rejectUnknown('knn-baseline', params, Object.keys(KNN_BASELINE_DEFAULTS));
    return new KnnBaselineModel(params as Partial<KnnBaselineParams>);
  },
  toArtifact: (model) => (model as KnnBaselineModel).toArtifact(),
  fromArtifact: (artifact, train) => KnnBaselineModel.fromArtifact(artifact, train),
});

// `popular`: its whole state is the training matrix (rating counts and means); its artifact is its own toArtifact().
registerModelKind('popular', {
  create: (params) => {
    rejectUnknown('popular', params, []);
    return new MostPopularModel();
  },
  fromArtifact: (_artifact, train) => new MostPopularModel().fit(train),
});

registerModelKind('ease', {
  create: (params) => new EaseModel(params as Partial<EaseParams>),
  fromArtifact: (artifact, train) => EaseModel.fromArtifact(artifact, train),
});

// `ials`: implicit ALS (ranking); unknown and bad parameters are refused by its constructor.
registerModelKind('ials', {
  create: (params) => new IalsModel(params),
  fromArtifact: (artifact, train) => IalsModel.fromArtifact(artifact, train),
});

registerModelKind('bpr', {
  create: (params) => new BprModel(params as Partial<BprParams>),
  fromArtifact: (artifact, train) => BprModel.fromArtifact(artifact, train),
});

// `spark-als`: factors trained by Spark ML's ALS, imported (never fitted here; see SparkAlsModel).
registerModelKind('spark-als', {
  create: (params) => new SparkAlsModel(params, trainableModelKinds),
  fromArtifact: (artifact, train) => SparkAlsModel.fromArtifact(artifact, train, trainableModelKinds),
  importedBy: 'recsys import-model --format spark-als DIR (trained by Spark: tools/spark/train_als.py)',
});
