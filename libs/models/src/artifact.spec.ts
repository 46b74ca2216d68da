import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, SnapshotError, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import {
  ARTIFACT_VERSION,
  ArtifactError,
  decodeModelArtifact,
  encodeModelArtifact,
  fingerprintMatrix,
  matrixFromSections,
  matrixSections,
  readModelArtifact,
  writeModelArtifact,
} from './artifact';
import { createModel, loadModel, saveModel } from './model-registry';
import type { Predictor } from './predictor';

function randomMatrix(seed: number, users: number, movies: number, density: number, withDays = false): RatingMatrix {
  const random = new Random(seed);
  const b = new RatingListBuilder(64, withDays);
  for (let u = 1; u <= users; u++) for (let m = 1; m <= movies; m++) if (random.next() < density) b.push(u * 10, m * 3, 2 * (1 + random.int(5)), 10000 + random.int(500));
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

describe('model artifacts', () => {
  const m = randomMatrix(4, 25, 18, 0.4, true);
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-artifact-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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
    const loaded = await loadModel(file);
    expect(loaded.kind).toBe(kind);
    expect(loaded.params).toEqual(model.params);
    const pairs = { length: 4, users: Int32Array.of(10, 250, 9999, 30), movies: Int32Array.of(3, 54, 3, 77777) };
    expect(Array.from(loaded.predictMany(pairs))).toEqual(Array.from(model.predictMany(pairs)));
    expect(loaded.predict(250, 54)).toEqual(model.predict(250, 54));
    expect(loaded.recommend(40, 5)).toEqual(model.recommend(40, 5));
  });

  it('keeps the header: kind, params, history, fingerprint, trainedAt', async () => {
    const model = await createModel('svd', { factors: 3, epochs: 3 }).fit(m);
    const file = path.join(dir, 'header.model');
    saveModel(file, model);
    const a = readModelArtifact(file);
    expect(a.version).toBe(ARTIFACT_VERSION);
    expect(a.kind).toBe('svd');
    expect(a.params).toMatchObject({ factors: 3, epochs: 3 });
    expect(a.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(a.fingerprint).toEqual(fingerprintMatrix(m));
    expect(new Date(a.trainedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(a.sections.userFactors).toBeInstanceOf(Float32Array);
    expect(a.sections.userFactors.length).toBe(m.nUsers * 3);
  });

  it('matrixSections / matrixFromSections round-trip a matrix (days included)', () => {
    const bytes = encodeModelArtifact({ kind: 'x', params: {}, history: [], fingerprint: fingerprintMatrix(m), scale: m.scale, meta: {}, sections: matrixSections(m) });
    const back = matrixFromSections(decodeModelArtifact(bytes));
    expect(Array.from(back.users.ids)).toEqual(Array.from(m.users.ids));
    expect(Array.from(back.userRatings)).toEqual(Array.from(m.userRatings));
    expect(Array.from(back.userDays!)).toEqual(Array.from(m.userDays!));
    expect(Array.from(back.movieUsers)).toEqual(Array.from(m.movieUsers));
    expect(back.rating(3, back.userMovies[back.userPtr[3]])).toBe(m.rating(3, m.userMovies[m.userPtr[3]]));
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
      await expect(loadModel(write('magic.model', bad))).rejects.toThrow(/not a model artifact: the file starts with "RECSYSNP"/);
    });

    it('a newer format version', async () => {
      const bad = Buffer.from(good);
      bad.writeUInt32LE(ARTIFACT_VERSION + 1, 8);
      await expect(loadModel(write('version.model', resum(bad)))).rejects.toThrow(`format version ${ARTIFACT_VERSION + 1} is newer`);
    });

    it('truncation', async () => {
      await expect(loadModel(write('short.model', good.subarray(0, good.length - 9)))).rejects.toThrow(/truncated/);
      await expect(loadModel(write('tiny.model', good.subarray(0, 10)))).rejects.toThrow(/truncated/);
    });

    it('a checksum mismatch (one flipped byte)', async () => {
      const bad = Buffer.from(good);
      bad[bad.length - 20] ^= 0x40;
      const file = write('flipped.model', bad);
      await expect(loadModel(file)).rejects.toThrow(/checksum mismatch/);
      await expect(loadModel(file)).rejects.toBeInstanceOf(ArtifactError);
      await expect(loadModel(file)).rejects.toBeInstanceOf(SnapshotError);
    });

    it('an unknown kind', async () => {
      const file = path.join(dir, 'alien.model');
      writeModelArtifact(file, { kind: 'alien-model', params: {}, history: [], fingerprint: fingerprintMatrix(m), scale: m.scale, meta: {}, sections: {} });
      await expect(loadModel(file)).rejects.toThrow(/unknown model kind "alien-model"/);
    });

    it('a missing file, with its path', async () => {
      await expect(loadModel(path.join(dir, 'missing.model'))).rejects.toThrow(/missing\.model: cannot read the model file/);
    });

    it('a matrix that does not match the fingerprint', () => {
      const sections = matrixSections(m);
      const other = randomMatrix(5, 25, 18, 0.4);
      const bytes = encodeModelArtifact({ kind: 'x', params: {}, history: [], fingerprint: fingerprintMatrix(other), scale: m.scale, meta: {}, sections });
      expect(() => matrixFromSections(decodeModelArtifact(bytes, 'f.model'))).toThrow(/does not match the data fingerprint/);
    });
  });
});
