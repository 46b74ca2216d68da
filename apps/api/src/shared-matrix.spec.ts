import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { MatrixArrays } from '@recsys/core';
import { matrixArraysOf } from '@recsys/data';
import { SimilarityPool } from '@recsys/similarity';
import { startTestApi, TestApi } from './testing/harness';

jest.setTimeout(60_000);

const ARRAYS = ['userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings'] as const;

/** The buffers of a matrix's six arrays. */
const buffersOf = (m: MatrixArrays) => ARRAYS.map((name) => m[name].buffer);

/**
 * The served matrix is held once, in shared memory, and every model trained without API ratings
 * (the startup baseline, the configured model, a retrain) serves over that very matrix: its
 * similarity pool is handed the same SharedArrayBuffers, never a rebuilt matrix or a copy.
 */
describe('one matrix in shared memory for the data set, its models and their similarity pools', () => {
  let t: TestApi;
  const lines: Array<Record<string, unknown>> = [];
  const poolStart = jest.spyOn(SimilarityPool, 'start');

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await startTestApi({ start: { logger: pino({ level: 'info' }, sink) }, config: { trainingNice: 10 } });
  });
  afterAll(async () => {
    await t?.close();
    poolStart.mockRestore();
  });

  it('keeps the data set in SharedArrayBuffers and serves the configured model over it', () => {
    const services = t.api.services()!;
    const data = services.catalog.dataset.matrix;
    for (const buffer of buffersOf(matrixArraysOf(data))) expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(buffersOf(matrixArraysOf(services.registry.requireActive().train))).toEqual(buffersOf(matrixArraysOf(data)));
    // The harness hands in plain arrays: they were moved once into shared memory, not kept beside it.
    expect(buffersOf(matrixArraysOf(t.dataset.matrix)).some((b) => b instanceof SharedArrayBuffer)).toBe(false);
  });

  it('hands a retrained model and its similarity pool the very buffers of the data set', async () => {
    const services = t.api.services()!;
    const data = buffersOf(matrixArraysOf(services.catalog.dataset.matrix));
    const before = services.registry.requireActive();
    const startsBefore = poolStart.mock.calls.length;
    const started = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: SVD, parameters: { factors: 4, epochs: 10 } }) { id } }');
    expect(started.errors).toBeUndefined();
    const run = services.training.get(started.data!.retrain.id)!;
    // Meanwhile the training thread runs below the event loop (Linux: a nice value per thread, in /proc/self/task/<tid>/stat).
    const nice = new Set<number>();
    const finished = services.training.waitFor(run).then(() => true);
    while (!(await Promise.race([finished, new Promise<false>((r) => setTimeout(() => r(false), 5))]))) {
      for (const tid of readdirSync('/proc/self/task')) {
        try {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          nice.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
        } catch {
          // the thread exited meanwhile
        }
      }
    }
    if (process.platform === 'linux') expect([...nice]).toContain(10);
    expect(run.status).toBe('SUCCEEDED');
    const after = services.registry.requireActive();
    expect(after.id).not.toBe(before.id);
    expect(buffersOf(matrixArraysOf(after.train))).toEqual(data);
    // The new model's pool starts over the served matrix itself.
    await services.catalog.similarMovies(services.catalog.dataset.matrix.movies.ids[0], 5, 'jaccard', 0);
    const handed = poolStart.mock.calls.slice(startsBefore).map(([matrix]) => buffersOf(matrix));
    expect(handed.length).toBeGreaterThanOrEqual(1);
    for (const buffers of handed) expect(buffers).toEqual(data);
  });

  it('collects the previous model once its similarity pool has closed, and says so', async () => {
    const active = t.api.services()!.registry.requireActive().id;
    for (let i = 0; i < 100 && !lines.some((l) => l.msg === 'previous model released' && l.model === active); i++) await new Promise((r) => setTimeout(r, 50));
    const released = lines.find((l) => l.msg === 'previous model released' && l.model === active);
    expect(released).toBeDefined();
    expect(typeof released!.ms).toBe('number');
    expect(released!.rssAfter).toBeGreaterThan(0);
  });
});
