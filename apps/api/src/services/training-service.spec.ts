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
import { AlreadyTrainedError, INTERRUPTED, LOCK_FINISHING_WAIT_MS, TrainingService } from './training-service';

jest.setTimeout(60_000);

/**
 * Holds back the next `registry.store` (a finished run's manifest entry) until `letGo()`: the
 * window between a run's SUCCEEDED (its model serves) and its end, when it still holds the
 * training lock. `reached()` resolves once the store has been called (within 10 s).
 */
function holdNextStore(registry: ModelRegistry): { letGo: () => void; reached: () => Promise<void> } {
  let letGo: () => void = () => {};
  const held = new Promise<void>((resolve) => (letGo = resolve));
  const storeRecord = registry.store.bind(registry);
  const storing = jest.spyOn(registry, 'store').mockImplementationOnce(async (record) => {
    await held;
    await storeRecord(record);
  });
  const reached = async (): Promise<void> => {
    for (let i = 0; i < 500 && storing.mock.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  };
  return { letGo: () => letGo(), reached };
}

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

  it('a replica asked for a run while another stores the one it just finished waits for the lock instead of a CONFLICT', async () => {
    const a = await replica();
    const b = await replica();
    // A's run is SUCCEEDED (its model serves) but holds the lock until its manifest entry is stored, held back here.
    const { letGo, reached } = holdNextStore(a.registry);
    try {
      const first = await a.training.start('baseline', {}, 'API');
      await reached();
      expect(first.status).toBe('SUCCEEDED');
      let answered = false;
      const next = b.training.start('baseline', {}, 'API').finally(() => (answered = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      letGo();
      const second = await next;
      await b.training.waitFor(second);
      expect({ status: second.status, error: second.error }).toEqual({ status: 'SUCCEEDED', error: null });
      // B trained after A's run was stored: the manifest it re-read under the lock had A's model.
      expect(b.registry.record(first.modelId!)).toBeTruthy();
    } finally {
      letGo();
    }
  });

  it('a replica asked for a run while another runs one is refused at once, naming it', async () => {
    const a = await replica();
    const b = await replica();
    const long = await a.training.start('svdpp', { epochs: 1000, factors: 200 }, 'API');
    const started = Date.now();
    await expect(b.training.start('baseline', {}, 'API')).rejects.toMatchObject({ extensions: { code: 'CONFLICT', runningRunId: long.id } });
    expect(Date.now() - started).toBeLessThan(LOCK_FINISHING_WAIT_MS);
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

/**
 * One replica over a fresh folder (5,000 ratings, its own store and registry, a LocalCluster):
 * `body` gets the registry and a service opened over it by `open` (after any spies on the
 * registry are set); the service, store and folder are closed and removed afterwards.
 */
async function withOneReplica(logger: pino.Logger, body: (registry: ModelRegistry, open: () => Promise<TrainingService>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-training-one-'));
  const dataset = shareDataset(smallDataset(5_000));
  const fingerprint = fingerprintMatrix(dataset.matrix);
  const base = matrixArraysOf(dataset.matrix);
  const store = await openStore({ sqlitePath: join(dir, 'ratings.sqlite'), modelDir: dir, baseCrc32: fingerprint.crc32, logger });
  const opened: TrainingService[] = [];
  try {
    const registry = await ModelRegistry.open(dir, fingerprint, logger, (through, interactionsThrough) => trainingDataThrough(dataset.matrix, base, store, through, interactionsThrough), store.manifests);
    const open = async (): Promise<TrainingService> => {
      const training = await TrainingService.open({ registry, store, base, matrix: dataset.matrix, pubsub: createApiPubSub(), logger, cluster: new LocalCluster() });
      opened.push(training);
      return training;
    };
    await body(registry, open);
  } finally {
    for (const training of opened) await training.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('TrainingService: the next run asked for while the last one is still being stored', () => {
  it('waits for that run to be stored instead of refusing with a CONFLICT', async () => {
    await withOneReplica(createLogger('silent'), async (registry, open) => {
      // The first run's manifest entry is held back until the test lets it go: the window between
      // SUCCEEDED (model active) and the run's end, which a client polling the status sees.
      const { letGo, reached } = holdNextStore(registry);
      try {
        const training = await open();
        const first = await training.start('baseline', {}, 'API');
        await reached();
        expect(first.status).toBe('SUCCEEDED');
        expect(training.running).toBe(first);
        let answered = false;
        const next = training.start('baseline', {}, 'API').finally(() => (answered = true));
        // A second request in the same window waits too; once the first run is stored, one of them starts and the other is refused.
        const alsoAsked = training.start('baseline', {}, 'API').then(
          () => 'started',
          (error: { extensions?: { code?: string } }) => error.extensions?.code,
        );
        await new Promise((r) => setTimeout(r, 100));
        expect(answered).toBe(false);
        letGo();
        const second = await next;
        expect(await alsoAsked).toBe('CONFLICT');
        expect(second.id).not.toBe(first.id);
        // The first run was stored before the second began.
        expect(registry.recordedActiveId('rating')).toBe(first.modelId);
        await training.waitFor(second);
        expect({ status: second.status, error: second.error }).toEqual({ status: 'SUCCEEDED', error: null });
        // Without the wait the same call was refused: `training run … is succeeded; wait for it to finish`.
      } finally {
        // Before the service closes: closing waits for the held run.
        letGo();
      }
    });
  });
});

describe('TrainingService: a run the server stops on its way down', () => {
  it('is FAILED as interrupted and logged as a warning, not an error', async () => {
    const lines: Array<{ level: number; msg: string; error?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    await withOneReplica(pino({ level: 'info' }, sink), async (_registry, open) => {
      const training = await open();
      const run = await training.start('svdpp', { epochs: 1000, factors: 200 }, 'API');
      for (let i = 0; i < 500 && run.status !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(run.status).toBe('RUNNING');
      await training.close();
      expect(run).toMatchObject({ status: 'FAILED', error: INTERRUPTED });
      const about = lines.filter((l) => l.error === INTERRUPTED);
      expect(about.map((l) => l.level)).toEqual([40]);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });
});
