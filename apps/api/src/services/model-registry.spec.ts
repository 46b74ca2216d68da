import { SvdModel } from '@recsys/models';
import { smallDataset } from '../testing/harness';
import { ModelRecord, ServingModel } from './model-registry';

function recordOf(model: SvdModel): ModelRecord {
  const t = model.train;
  return {
    id: 'svd-test',
    kind: model.kind,
    params: { ...model.params },
    trainedAt: new Date(0).toISOString(),
    metrics: { trainRmse: NaN, trainMae: NaN, ratings: t.nRatings, users: t.nUsers, movies: t.nMovies, fitSeconds: 0 },
    fingerprint: { users: t.nUsers, movies: t.nMovies, ratings: t.nRatings, crc32: '00000000' },
    baseCrc32: '00000000',
    ratingsThroughId: 0,
    file: 'svd-test.rmodel',
    history: [],
    trainingRunId: null,
  };
}

describe('ServingModel', () => {
  let model: SvdModel;
  beforeAll(async () => {
    model = await new SvdModel({ factors: 64, epochs: 1 }).fit(smallDataset().matrix);
  });

  it('holds no second copy of the model\'s factors: the served arrays are the model\'s own', () => {
    const serving = new ServingModel(recordOf(model), model);
    expect(serving.model).toBe(model);
    const fitted = serving.model.fitted;
    // The arrays the artifact writes are the stored ones; the served model reads the same objects.
    const sections = model.toArtifact().sections;
    expect(fitted.movieFactors).toBe(sections.movieFactors);
    expect(fitted.userFactors).toBe(sections.userFactors);
    expect(fitted.movieBias).toBe(sections.movieBias);
    expect(fitted.userBias).toBe(sections.userBias);
    // Nothing typed-array-sized is kept beside the model.
    for (const value of Object.values(serving)) expect(ArrayBuffer.isView(value)).toBe(false);
  });

  it('costs no factor memory: array-buffer bytes grow by less than a tenth of the factors (a state() copy grows by all of them)', () => {
    const t = model.train;
    const factorBytes = (t.nUsers + t.nMovies) * model.factorCount * 4;
    const before = process.memoryUsage().arrayBuffers;
    const serving = new ServingModel(recordOf(model), model);
    const served = process.memoryUsage().arrayBuffers - before;
    expect(served).toBeLessThan(factorBytes / 10);
    // The measurement sees a copy: what the constructor cost while it copied the state.
    const beforeCopy = process.memoryUsage().arrayBuffers;
    const copy = model.state();
    const copied = process.memoryUsage().arrayBuffers - beforeCopy;
    expect(copied).toBeGreaterThanOrEqual(0.9 * factorBytes);
    console.log(`ServingModel: +${served} array-buffer bytes for ${factorBytes} bytes of factors (state() copy: +${copied})`);
    expect(serving.id).toBe('svd-test');
    expect(copy.movieFactors.length).toBe(t.nMovies * model.factorCount);
  });
});
