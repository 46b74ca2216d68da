import { ContainerError, decodeContainer, encodeContainer } from './container';
import { wasmMemoryOf, matrixArraysInOneBuffer } from './wasm-memory';
import { MatrixArrays, matrixArraysFromSections, matrixArraysToSections, shareArray, shareMatrixArrays, unshareMatrixArrays } from './matrix-arrays';

// Users 10, 20; movies 5, 7, 9. User 10 rated 5 (4★) and 9 (2★), user 20 rated 7 (5★) and 9 (3★).
const arrays: MatrixArrays = {
  nUsers: 2,
  nMovies: 3,
  userPtr: Uint32Array.of(0, 2, 4),
  userMovies: Int32Array.of(0, 2, 1, 2),
  userRatings: Uint8Array.of(8, 4, 10, 6),
  moviePtr: Uint32Array.of(0, 1, 2, 4),
  movieUsers: Int32Array.of(0, 1, 0, 1),
  movieRatings: Uint8Array.of(8, 10, 4, 6),
  userIds: Int32Array.of(10, 20),
  movieIds: Int32Array.of(5, 7, 9),
  scale: { min: 1, max: 5, step: 1 },
};

const FIELDS = ['userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings', 'userIds', 'movieIds'] as const;

describe('shareArray / shareMatrixArrays', () => {
  it('copies each array into a SharedArrayBuffer of its size, keeping type and values', () => {
    const shared = shareMatrixArrays(arrays);
    expect([shared.nUsers, shared.nMovies, shared.scale]).toEqual([2, 3, arrays.scale]);
    for (const name of FIELDS) {
      const a = shared[name]!;
      expect([name, a.buffer instanceof SharedArrayBuffer, a.constructor]).toEqual([name, true, arrays[name]!.constructor]);
      expect(a.buffer.byteLength).toBe(arrays[name]!.byteLength);
      expect(Array.from(a)).toEqual(Array.from(arrays[name]!));
      expect(a).not.toBe(arrays[name]);
    }
  });

  it('keeps arrays that already span a whole SharedArrayBuffer, copies views over part of one', () => {
    const whole = shareArray(Int32Array.of(1, 2, 3));
    expect(shareArray(whole)).toBe(whole);
    const part = whole.subarray(1);
    const copy = shareArray(part);
    expect(copy).not.toBe(part);
    expect(Array.from(copy)).toEqual([2, 3]);
    const shared = shareMatrixArrays(arrays);
    const again = shareMatrixArrays(shared);
    for (const name of FIELDS) expect(again[name]).toBe(shared[name]);
  });

  it('keeps the implicit flag of an implicit-feedback scale, and adds none to a rating scale', () => {
    const implicit = { min: 0.5, max: 127.5, step: 0.5, implicit: true };
    expect(shareMatrixArrays({ ...arrays, scale: implicit }).scale).toEqual(implicit);
    expect(unshareMatrixArrays(shareMatrixArrays({ ...arrays, scale: implicit })).scale).toEqual(implicit);
    expect('implicit' in shareMatrixArrays(arrays).scale!).toBe(false);
  });

  it('leaves out the ids and scale when absent', () => {
    const { userIds: _u, movieIds: _m, scale: _s, ...bare } = arrays;
    const shared = shareMatrixArrays(bare);
    expect(Object.keys(shared).sort()).toEqual(['moviePtr', 'movieRatings', 'movieUsers', 'nMovies', 'nUsers', 'userMovies', 'userPtr', 'userRatings']);
  });

  it('unshareMatrixArrays copies back into ordinary ArrayBuffers', () => {
    const back = unshareMatrixArrays(shareMatrixArrays(arrays));
    for (const name of FIELDS) {
      expect(back[name]!.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(Array.from(back[name]!)).toEqual(Array.from(arrays[name]!));
    }
    // Already ordinary: kept.
    expect(unshareMatrixArrays(arrays).userMovies).toBe(arrays.userMovies);
  });

  it('shared arrays reach a worker thread without a copy', async () => {
    const { Worker } = await import('node:worker_threads');
    const shared = shareMatrixArrays(arrays);
    const worker = new Worker(
      "const { parentPort, workerData } = require('node:worker_threads'); workerData.userRatings[0] = 2; parentPort.postMessage('done');",
      { eval: true, workerData: shared },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(shared.userRatings[0]).toBe(2);
  });
});

describe('matrixArraysToSections / matrixArraysFromSections', () => {
  const fail = (reason: string) => new ContainerError('m.bin', reason);

  it('round-trip the arrays with a prefix through a container', () => {
    const sections = matrixArraysToSections(arrays, 'matrix.');
    expect(Object.keys(sections)).toEqual(FIELDS.map((n) => `matrix.${n}`).sort((a, b) => order(a) - order(b)));
    const decoded = decodeContainer({ magic: 'TESTMTRX', version: 1, name: 'test' }, encodeContainer({ magic: 'TESTMTRX', version: 1, name: 'test' }, { header: {}, sections }));
    const back = matrixArraysFromSections(decoded.sections, 'matrix.', fail);
    expect([back.nUsers, back.nMovies]).toEqual([2, 3]);
    for (const name of FIELDS) expect(Array.from(back[name]!)).toEqual(Array.from(arrays[name]!));
  });

  it('refuse arrays without ids, and sections that are missing or of the wrong type', () => {
    expect(() => matrixArraysToSections({ ...arrays, userIds: undefined })).toThrow('matrixArraysToSections: the arrays carry no user and movie ids');
    const sections = matrixArraysToSections(arrays);
    const { userRatings: _r, ...missing } = sections;
    expect(() => matrixArraysFromSections(missing, '', fail)).toThrow('m.bin: section "userRatings" is missing');
    expect(() => matrixArraysFromSections({ ...sections, userMovies: new Uint8Array(4) }, '', fail)).toThrow(
      'm.bin: section "userMovies" has type u8, expected Int32Array',
    );
  });
});

function order(name: string): number {
  return ['userIds', 'movieIds', 'userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings'].indexOf(name.slice('matrix.'.length));
}

describe('matrixArraysInOneBuffer', () => {
  it('copies plain arrays into one WebAssembly memory, same types and values, 8-byte aligned', () => {
    const one = matrixArraysInOneBuffer(arrays);
    const memory = wasmMemoryOf(one.userPtr.buffer);
    expect(memory).toBeDefined();
    for (const f of FIELDS) {
      const a = one[f]!;
      expect([f, wasmMemoryOf(a.buffer) === memory, a.constructor, a.byteOffset % 8]).toEqual([f, true, arrays[f]!.constructor, 0]);
      expect(Array.from(a)).toEqual(Array.from(arrays[f]!));
    }
    expect([one.nUsers, one.nMovies, one.scale]).toEqual([2, 3, arrays.scale]);
  });

  it('keeps arrays already in shared memory (only checks)', () => {
    const shared = shareMatrixArrays(arrays);
    expect(matrixArraysInOneBuffer(shared)).toBe(shared);
  });
});
