import {
  ArtifactContent,
  ArtifactError,
  fingerprintMatrix,
  matrixFromSections,
  matrixSections,
  ModelArtifact,
  readModelArtifact,
  writeModelArtifact,
} from './artifact';
import { BaselineModel, BaselineParams } from './latent/baseline-model';
import { JaccardCfModel } from './neighbourhood/jaccard-cf';
import { KnnBaselineModel, KnnBaselineParams, KNN_BASELINE_DEFAULTS } from './neighbourhood/knn-baseline';
import { MeanModel } from './neighbourhood/mean-model';
import { MostPopularModel } from './ranking/popular-model';
import type { Predictor } from './predictor';
import { deserializeNeighbourIndex, NeighbourIndex, serializeNeighbourIndex } from '@recsys/similarity';
import { SvdModel, SvdParams } from './latent/svd-model';
import { SvdppModel, SvdppParams } from './latent/svdpp-model';

/** How the registry builds, saves and loads models of one kind. */
export interface ModelKind {
  /** A new, unfitted model with `params` (missing ones take the kind's defaults). */
  create(params: Record<string, unknown>): Predictor;
  /** The fitted model stored in an artifact of this kind. */
  fromArtifact(artifact: ModelArtifact): Predictor | Promise<Predictor>;
  /** The artifact content of a fitted model; when absent the model's own `toArtifact()` is used. */
  toArtifact?(model: Predictor): ArtifactContent;
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

/**
 * Writes a fitted model to `path` as a versioned artifact (see artifact.ts for the layout). With
 * `neighbourIndex`, the movies' top-K neighbours are stored beside the model, so that whoever
 * loads it answers similar-movie queries in O(1) without recomputing them.
 */
export function saveModel(path: string, model: Predictor, options: { neighbourIndex?: NeighbourIndex } = {}): void {
  const entry = kinds.get(model.kind);
  let content: ArtifactContent;
  if (entry?.toArtifact) content = entry.toArtifact(model);
  else if (hasToArtifact(model)) content = model.toArtifact();
  else throw new RangeError(`saveModel: models of kind "${model.kind}" cannot be saved (no artifact writer registered)`);
  if (options.neighbourIndex) {
    if (options.neighbourIndex.nMovies !== content.fingerprint.movies) {
      throw new RangeError(`saveModel: the neighbour index has ${options.neighbourIndex.nMovies} movies, the model ${content.fingerprint.movies}`);
    }
    content = { ...content, sections: { ...content.sections, [NEIGHBOUR_SECTION]: serializeNeighbourIndex(options.neighbourIndex) } };
  }
  writeModelArtifact(path, content);
}

/**
 * Reads a model artifact and rebuilds the fitted model through the registered kind.
 * @throws ArtifactError for an unusable file or a kind this build does not know.
 */
export async function loadModel(path: string): Promise<Predictor> {
  return (await loadModelArtifact(path)).model;
}

/** A loaded model and the neighbour index saved with it (null when none was). */
export async function loadModelArtifact(path: string): Promise<{ model: Predictor; neighbourIndex: NeighbourIndex | null; artifact: ModelArtifact }> {
  const artifact = readModelArtifact(path);
  const entry = kinds.get(artifact.kind);
  if (!entry) {
    throw new ArtifactError(path, `unknown model kind "${artifact.kind}" (this build knows: ${modelKinds().join(', ')})`);
  }
  const model = await entry.fromArtifact(artifact);
  const bytes = artifact.sections[NEIGHBOUR_SECTION];
  let neighbourIndex: NeighbourIndex | null = null;
  if (bytes !== undefined) {
    if (!(bytes instanceof Uint8Array)) throw new ArtifactError(path, `section "${NEIGHBOUR_SECTION}" is not a byte array`);
    neighbourIndex = deserializeNeighbourIndex(bytes);
  }
  return { model, neighbourIndex, artifact };
}

// `mean`: its whole state is μ of the training matrix, so the artifact holds the matrix (id maps
// and ratings, for recommend's excludeRated) and loading refits, which recomputes exactly μ.
registerModelKind('mean', {
  create: (params) => {
    const unknown = Object.keys(params);
    if (unknown.length > 0) throw new RangeError(`mean: unknown parameter(s) ${unknown.join(', ')} (the mean model has none)`);
    return new MeanModel();
  },
  toArtifact: (model) => {
    const train = (model as MeanModel).train;
    return {
      kind: 'mean',
      params: {},
      history: [],
      fingerprint: fingerprintMatrix(train),
      scale: train.scale,
      meta: { globalMean: train.globalMean() },
      sections: matrixSections(train),
    };
  },
  fromArtifact: (artifact) => new MeanModel().fit(matrixFromSections(artifact)),
});

// The latent models register here (not in their own modules) so that importing the registry
// alone knows every built-in kind, whatever else was imported.
registerModelKind('baseline', {
  create: (params) => new BaselineModel(params as Partial<BaselineParams>),
  fromArtifact: (artifact) => BaselineModel.fromArtifact(artifact),
});

registerModelKind('svd', {
  create: (params) => new SvdModel(params as Partial<SvdParams>),
  fromArtifact: (artifact) => SvdModel.fromArtifact(artifact),
});

registerModelKind('svdpp', {
  create: (params) => new SvdppModel(params as Partial<SvdppParams>),
  fromArtifact: (artifact) => SvdppModel.fromArtifact(artifact),
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
  toArtifact: (model) => {
    const train = (model as JaccardCfModel).train;
    return { kind: 'jaccard-cf', params: {}, history: [], fingerprint: fingerprintMatrix(train), scale: train.scale, meta: {}, sections: matrixSections(train) };
  },
  fromArtifact: (artifact) => new JaccardCfModel().fit(matrixFromSections(artifact)),
});

registerModelKind('knn-baseline', {
  create: (params) => {
    rejectUnknown('knn-baseline', params, Object.keys(KNN_BASELINE_DEFAULTS));
    return new KnnBaselineModel(params as Partial<KnnBaselineParams>);
  },
  toArtifact: (model) => (model as KnnBaselineModel).toArtifact(),
  fromArtifact: (artifact) => KnnBaselineModel.fromArtifact(artifact),
});

// `popular`: its whole state is the training matrix, so the artifact holds the matrix and loading refits.
registerModelKind('popular', {
  create: (params) => {
    rejectUnknown('popular', params, []);
    return new MostPopularModel();
  },
  toArtifact: (model) => {
    const train = (model as MostPopularModel).train;
    return { kind: 'popular', params: {}, history: [], fingerprint: fingerprintMatrix(train), scale: train.scale, meta: {}, sections: matrixSections(train) };
  },
  fromArtifact: (artifact) => new MostPopularModel().fit(matrixFromSections(artifact)),
});
