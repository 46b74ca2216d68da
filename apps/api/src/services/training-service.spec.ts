import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { matrixArraysOf } from '@recsys/data';
import { fingerprintMatrix } from '@recsys/models';
import { createLogger } from '../logger';
import { smallDataset } from '../testing/harness';
import { Cluster, LocalCluster } from './cluster';
import { ModelRegistry } from './model-registry';
import { createApiPubSub } from './pubsub';
import { shareDataset } from './shared-data';
import { ApiStore, openStore } from './store';
import { trainingDataThrough } from './training-data';
import { AlreadyTrainedError, INTERRUPTED, TrainingService } from './training-service';

jest.setTimeout(60_000);

/**
 * Two replicas in one process: each its own store connection, registry and training service over
 * one model directory and manifest, sharing one training lock (a LocalCluster's, presented as a
 * shared cluster so that a run re-reads the manifest once it holds the lock, as over PostgreSQL).
 */
describe('TrainingService over replicas: unlessActive', () => {
  const logger = createLogger('silent');
  const dataset = shareDataset(smallDataset(5_000));
  const fingerprint = fingerprintMatrix(dataset.matrix);
  const base = matrixArraysOf(dataset.matrix);
  const lock = new LocalCluster();
  let dir: string;
  const stores: ApiStore[] = [];
  const services: TrainingService[] = [];

  const replica = async () => {
    const store = await openStore({ sqlitePath: join(dir, 'ratings.sqlite'), modelDir: dir, baseCrc32: fingerprint.crc32, logger });
    stores.push(store);
    const registry = await ModelRegistry.open(dir, fingerprint, logger, (through, interactionsThrough) => trainingDataThrough(dataset.matrix, base, store, through, interactionsThrough), store.manifests);
    const cluster: Cluster = { shared: true, listening: true, tryLockTraining: () => lock.tryLockTraining(), notify: async () => {}, onEvent: () => () => {}, close: async () => {} };
    const training = await TrainingService.open({ registry, store, base, matrix: dataset.matrix, pubsub: createApiPubSub(), logger, cluster });
    services.push(training);
    return { registry, training };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'recsys-training-service-'));
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a replica that looked before another activated its model does not train it again once it holds the lock', async () => {
    const a = await replica();
    const b = await replica();
    // Both looked at an empty manifest (as at startup over an empty store).
    expect(a.registry.recordedActiveId('rating')).toBeNull();
    expect(b.registry.recordedActiveId('rating')).toBeNull();
    const run = await a.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' });
    await a.training.waitFor(run);
    expect(run.status).toBe('SUCCEEDED');
    // B's registry has not read the manifest since: it still sees no active model.
    expect(b.registry.recordedActiveId('rating')).toBeNull();
    const refused = b.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' });
    await expect(refused).rejects.toBeInstanceOf(AlreadyTrainedError);
    await expect(refused).rejects.toMatchObject({ role: 'rating', modelId: run.modelId });
    // B serves A's model (adopted under the lock).
    expect(b.registry.activeOf('rating')?.id).toBe(run.modelId);
    // Nothing started on B, and the lock was given back: A (or B without the option) can train.
    expect((await stores[1].runs()).map((r) => r.id)).toEqual([run.id]);
    expect(b.training.running).toBeNull();
    const again = await b.training.start('baseline', {}, 'STARTUP');
    await b.training.waitFor(again);
    expect(again.status).toBe('SUCCEEDED');
  });

  it('a recorded active model this replica cannot load (its artifact is gone) does not stop the run that replaces it', async () => {
    const a = await replica();
    const b = await replica();
    const run = await a.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' });
    await a.training.waitFor(run);
    expect(run.status).toBe('SUCCEEDED');
    unlinkSync(a.registry.artifactPath(run.modelId!));
    const replacing = await b.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' });
    await b.training.waitFor(replacing);
    expect(replacing.status).toBe('SUCCEEDED');
    expect(replacing.modelId).not.toBe(run.modelId);
    expect(b.registry.activeOf('rating')?.id).toBe(replacing.modelId);
  });

  it('with no active model of that role recorded, it trains', async () => {
    const a = await replica();
    const run = await a.training.start('popular', {}, 'STARTUP', { unlessActive: 'ranking' });
    await a.training.waitFor(run);
    expect(run.status).toBe('SUCCEEDED');
    // The rating role's record does not count for the ranking role, nor the other way round.
    const rating = await a.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' });
    await a.training.waitFor(rating);
    expect(rating.status).toBe('SUCCEEDED');
    await expect(a.training.start('baseline', {}, 'STARTUP', { unlessActive: 'rating' })).rejects.toBeInstanceOf(AlreadyTrainedError);
  });
});

describe('TrainingService: a run the server stops on its way down', () => {
  it('is FAILED as interrupted and logged as a warning, not an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-training-stop-'));
    const lines: Array<{ level: number; msg: string; error?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const dataset = shareDataset(smallDataset(5_000));
    const fingerprint = fingerprintMatrix(dataset.matrix);
    const base = matrixArraysOf(dataset.matrix);
    const store = await openStore({ sqlitePath: join(dir, 'ratings.sqlite'), modelDir: dir, baseCrc32: fingerprint.crc32, logger });
    try {
      const registry = await ModelRegistry.open(dir, fingerprint, logger, (through, interactionsThrough) => trainingDataThrough(dataset.matrix, base, store, through, interactionsThrough), store.manifests);
      const training = await TrainingService.open({ registry, store, base, matrix: dataset.matrix, pubsub: createApiPubSub(), logger, cluster: new LocalCluster() });
      const run = await training.start('svdpp', { epochs: 1000, factors: 200 }, 'API');
      for (let i = 0; i < 500 && run.status !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(run.status).toBe('RUNNING');
      await training.close();
      expect(run).toMatchObject({ status: 'FAILED', error: INTERRUPTED });
      const about = lines.filter((l) => l.error === INTERRUPTED);
      expect(about.map((l) => l.level)).toEqual([40]);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
