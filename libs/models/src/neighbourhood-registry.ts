import { fingerprintMatrix, matrixFromSections, matrixSections } from './artifact';
import { JaccardCfModel } from './jaccard-cf';
import { KnnBaselineModel, KnnBaselineParams, KNN_BASELINE_DEFAULTS } from './knn-baseline';
import { registerModelKind } from './model-registry';

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
