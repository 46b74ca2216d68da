import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { buildRatingMatrix, holdoutMask, holdoutSlice, holdoutSplit, RatingMatrix, SnapshotError, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { randomRatings, tempDir } from '@recsys/testing';
import {
  ARTIFACT_VERSION,
  ArtifactError,
  decodeModelArtifact,
  encodeModelArtifact,
  fingerprintMatrix,
  readModelArtifact,
  trainingMatrixFor,
  writeModelArtifact,
} from './artifact';
import { createModel, loadModel, loadModelArtifact, saveModel } from './model-kinds';
import type { Predictor } from './predictor';

function randomMatrix(seed: number, users: number, movies: number, density: number, withDays = false): RatingMatrix {
  // The days are drawn either way, so that the ratings are the same with and without them.
  const ratings = randomRatings({ seed, users, movies, density, userId: (u) => (u + 1) * 10, movieId: (m) => (m + 1) * 3, days: { first: 10000, span: 500 } });
  return buildRatingMatrix(withDays ? ratings : { ...ratings, days: null }, WHOLE_STARS_1_TO_5).matrix;
}

describe('model artifacts', () => {
  const m = randomMatrix(4, 25, 18, 0.4, true);
  const dir = tempDir('recsys-artifact-');

  const kinds: Array<[string, Record<string, unknown>]> = [
    ['mean', {}],
    ['baseline', {}],
    ['baseline', { solver: 'lbfgs' }],
    ['svd', { factors: 5, epochs: 4 }],
    ['svd', { solver: 'lbfgs', factors: 2, epochs: 20 }],
    ['svdpp', { factors: 4, epochs: 3 }],
  ];

  it.each(kinds)('%s %j: saved and loaded, it predicts and recommends the same by external id', async (kind, params) => {
    const model: Predictor = await createModel(kind, params).fit(m);
    const file = path.join(dir, `${kind}.model`);
    saveModel(file, model);
    const loaded = await loadModel(file, m);
    expect(loaded.kind).toBe(kind);
    expect(loaded.params).toEqual(model.params);
    const pairs = { length: 4, users: Int32Array.of(10, 250, 9999, 30), movies: Int32Array.of(3, 54, 3, 77777) };
    expect(Array.from(loaded.predictMany(pairs))).toEqual(Array.from(model.predictMany(pairs)));
    expect(loaded.predict(250, 54)).toEqual(model.predict(250, 54));
    expect(loaded.recommend(40, 5)).toEqual(model.recommend(40, 5));
  });

  it('keeps the header: kind, params, history, fingerprint, trainedAt', async () => {
    const before = Date.now();
    const model = await createModel('svd', { factors: 3, epochs: 3 }).fit(m);
    const file = path.join(dir, 'header.model');
    saveModel(file, model);
    const a = readModelArtifact(file);
    expect(a.version).toBe(ARTIFACT_VERSION);
    expect(a.kind).toBe('svd');
    expect(a.params).toMatchObject({ factors: 3, epochs: 3 });
    expect(a.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(a.fingerprint).toEqual(fingerprintMatrix(m));
    // Stamped between the start of the fit and now (however slow the machine).
    expect(new Date(a.trainedAt).getTime()).toBeGreaterThanOrEqual(before);
    expect(new Date(a.trainedAt).getTime()).toBeLessThanOrEqual(Date.now());
    expect(a.sections.userFactors).toBeInstanceOf(Float32Array);
    expect(a.sections.userFactors.length).toBe(m.nUsers * 3);
  });

  it('holds no ratings: only what prediction needs, about the size of the factors and biases', async () => {
    const model = await createModel('svd', { factors: 8, epochs: 2 }).fit(m);
    const file = path.join(dir, 'slim.model');
    saveModel(file, model);
    const a = readModelArtifact(file);
    expect(Object.keys(a.sections).sort()).toEqual(['movieBias', 'movieFactors', 'userBias', 'userFactors']);
    const payload = (m.nUsers + m.nMovies) * (8 * 4 + 8);
    expect(fs.statSync(file).size).toBeLessThan(payload + 4096);
    expect(a.source).toEqual({ data: fingerprintMatrix(m), holdout: null });
  });

  it('refers to its training data by fingerprint: other data is refused, naming both', async () => {
    const file = path.join(dir, 'other-data.model');
    saveModel(file, await createModel('baseline').fit(m));
    const other = randomMatrix(5, 25, 18, 0.4, true);
    await expect(loadModel(file, other)).rejects.toBeInstanceOf(ArtifactError);
    await expect(loadModel(file, other)).rejects.toThrow(/the model was trained on other data \(\d+ ratings, 25 users, \d+ movies, CRC-32 [0-9a-f]{8}\); the data given has/);
  });

  it('draws a held-out slice again from the data it names, with its seed', async () => {
    const split = holdoutSplit(m, { testFraction: 0.2, seed: 7 });
    const model = await createModel('svd', { factors: 3, epochs: 3 }).fit(split.train);
    const file = path.join(dir, 'holdout.model');
    saveModel(file, model, { source: { data: m, holdout: { fraction: 0.2, seed: 7 } } });
    const { model: loaded, train } = await loadModelArtifact(file, m);
    expect(fingerprintMatrix(train)).toEqual(fingerprintMatrix(split.train));
    expect(loaded.recommend(40, 5)).toEqual(model.recommend(40, 5));
    // The training ratings alone are not the data the artifact names.
    await expect(loadModel(file, split.train)).rejects.toThrow(/trained on other data/);
  });

  it('fingerprints a matrix with ratings left out by a mask as the matrix without them', () => {
    const slice = { testFraction: 0.2, seed: 7 };
    const mask = holdoutMask(m, slice);
    const { train } = holdoutSlice(m, { ...slice, days: false });
    const masked = fingerprintMatrix(m, mask);
    expect(masked).toEqual(fingerprintMatrix(train));
    expect(masked.ratings).toBe(m.nRatings - mask.reduce((a, b) => a + b, 0));
    // The plain fingerprint of the data is not replaced by (nor mistaken for) the masked one.
    expect(fingerprintMatrix(m)).not.toEqual(masked);
    expect(() => fingerprintMatrix(m, new Uint8Array(3))).toThrow(`fingerprintMatrix: exclude has 3 entries, expected one per rating (${m.nRatings})`);
  });

  it('saves a model fitted over the data with a mask as the same artifact as one fitted on the slice copy', async () => {
    const slice = { testFraction: 0.2, seed: 7 };
    const params = { factors: 3, epochs: 3 };
    const source = { data: m, holdout: { fraction: 0.2, seed: 7 } };
    const exclude = holdoutMask(m, slice);
    const overData = await createModel('svd', params).fit(m, { exclude });
    const onCopy = await createModel('svd', params).fit(holdoutSlice(m, { ...slice, days: false }).train);
    const a = path.join(dir, 'mask.model');
    const b = path.join(dir, 'copy.model');
    saveModel(a, overData, { source, exclude });
    saveModel(b, onCopy, { source });
    const [x, y] = [readModelArtifact(a), readModelArtifact(b)];
    expect(x.fingerprint).toEqual(y.fingerprint);
    expect(x.source).toEqual(y.source);
    for (const name of Object.keys(y.sections)) expect([name, Array.from(x.sections[name])]).toEqual([name, Array.from(y.sections[name])]);
    // It loads over the data it names, its training ratings drawn again.
    const { model: loaded } = await loadModelArtifact(a, m);
    expect(loaded.recommend(40, 5)).toEqual(onCopy.recommend(40, 5));
  });

  it('fingerprints differ when one rating differs', () => {
    const list = m.toList();
    const changed = { ...list, ratings: list.ratings.slice() };
    changed.ratings[5] = changed.ratings[5] === 2 ? 4 : 2;
    expect(fingerprintMatrix(buildRatingMatrix(changed, m.scale).matrix).crc32).not.toBe(fingerprintMatrix(m).crc32);
    expect(fingerprintMatrix(buildRatingMatrix(list, m.scale).matrix)).toEqual(fingerprintMatrix(m));
  });

  describe('refusals', () => {
    let good: Buffer;
    beforeAll(async () => {
      const file = path.join(dir, 'good.model');
      saveModel(file, await createModel('baseline').fit(m));
      good = fs.readFileSync(file);
    });
    const write = (name: string, bytes: Uint8Array) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      return file;
    };
    /** Rewrites the checksum so that only the intended defect remains. */
    const resum = (bytes: Buffer) => {
      bytes.writeUInt32LE(zlib.crc32(bytes.subarray(28), zlib.crc32(bytes.subarray(0, 24))), 24);
      return bytes;
    };

    it('wrong magic', async () => {
      const bad = Buffer.from(good);
      bad.write('RECSYSNP', 0, 'latin1');
      await expect(loadModel(write('magic.model', bad), m)).rejects.toThrow(/not a model artifact: the file starts with "RECSYSNP"/);
    });

    it('a newer format version', async () => {
      const bad = Buffer.from(good);
      bad.writeUInt32LE(ARTIFACT_VERSION + 1, 8);
      await expect(loadModel(write('version.model', resum(bad)), m)).rejects.toThrow(`format version ${ARTIFACT_VERSION + 1} is newer`);
    });

    it('truncation', async () => {
      await expect(loadModel(write('short.model', good.subarray(0, good.length - 9)), m)).rejects.toThrow(/truncated/);
      await expect(loadModel(write('tiny.model', good.subarray(0, 10)), m)).rejects.toThrow(/truncated/);
    });

    it('a checksum mismatch (one flipped byte)', async () => {
      const bad = Buffer.from(good);
      bad[bad.length - 20] ^= 0x40;
      const file = write('flipped.model', bad);
      await expect(loadModel(file, m)).rejects.toThrow(/checksum mismatch/);
      await expect(loadModel(file, m)).rejects.toBeInstanceOf(ArtifactError);
      await expect(loadModel(file, m)).rejects.toBeInstanceOf(SnapshotError);
    });

    it('an unknown kind', async () => {
      const file = path.join(dir, 'alien.model');
      writeModelArtifact(file, { kind: 'alien-model', params: {}, history: [], fingerprint: fingerprintMatrix(m), scale: m.scale, meta: {}, sections: {} });
      await expect(loadModel(file, m)).rejects.toThrow(/unknown model kind "alien-model"/);
    });

    it('a missing file, with its path', async () => {
      await expect(loadModel(path.join(dir, 'missing.model'), m)).rejects.toThrow(/missing\.model: cannot read the model file/);
    });

    it('an older format version (1 embedded the training ratings)', async () => {
      const bad = Buffer.from(good);
      bad.writeUInt32LE(1, 8);
      await expect(loadModel(write('v1.model', resum(bad)), m)).rejects.toThrow('format version 1 is older than this build reads (2: artifacts no longer embed the training ratings); train the model again');
    });

    it('training ratings drawn from the named data that do not match the header', () => {
      const bytes = encodeModelArtifact({
        kind: 'x', params: {}, history: [], fingerprint: fingerprintMatrix(randomMatrix(5, 25, 18, 0.4)),
        source: { data: fingerprintMatrix(m), holdout: { fraction: 0.2, seed: 7 } }, scale: m.scale, meta: {}, sections: {},
      });
      expect(() => trainingMatrixFor(decodeModelArtifact(bytes, 'f.model'), m)).toThrow(/do not match the header's fingerprint/);
    });
  });

  it('keeps the implicit flag of interaction data, and adds none to rating data', () => {
    const content = { kind: 'x', params: {}, history: [], fingerprint: fingerprintMatrix(randomMatrix(5, 25, 18, 0.4)), meta: {}, sections: {} };
    const implicit = decodeModelArtifact(encodeModelArtifact({ ...content, scale: { min: 0.5, max: 127.5, step: 0.5, implicit: true } }), 'i.model');
    expect(implicit.scale).toEqual({ min: 0.5, max: 127.5, step: 0.5, implicit: true });
    const ratings = decodeModelArtifact(encodeModelArtifact({ ...content, scale: WHOLE_STARS_1_TO_5 }), 'r.model');
    expect(ratings.scale).toEqual({ min: 1, max: 5, step: 1 });
  });
});
