// The behaviour every ApiStore back end must have (store.spec.ts runs it against SQLite and against
// PostgreSQL): the expected answers are built independently, by plain loops over what the test
// itself wrote, never read back from the store under test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RatingMatrix } from '@recsys/data';
import type { Logger } from '../logger';
import { ModelRecord, ModelRegistry } from './model-registry';
import type { ApiStore, Manifest, StoredInteraction, StoredRating } from './store';

/** How the contract reaches one back end. */
export interface StoreBackEnd {
  /** Opens the store of data set `baseCrc32` (default the suite's own): the same storage at every call. */
  open(baseCrc32?: string): Promise<ApiStore>;
}

/** The data set the suite's stores serve (another one is used to check they are kept apart). */
export const CONTRACT_CRC = 'c0ffee01';

/** A model record of the suite's data set, every field set (numbers that survive JSON as they are). */
export function contractRecord(id: string, overrides: Partial<ModelRecord> = {}): ModelRecord {
  return {
    id,
    kind: 'svd',
    role: 'rating',
    params: { factors: 8, epochs: 3, seed: 1 },
    trainedAt: '2026-01-02T03:04:05.678Z',
    metrics: { trainRmse: 0.81, trainMae: 0.64, ratings: 1234, users: 56, movies: 78, fitSeconds: 0.25, heldOutRmse: 0.9, heldOutMae: 0.7, heldOutRatings: 25, referenceKind: 'baseline', referenceRmse: 0.95 },
    fingerprint: { users: 56, movies: 78, ratings: 1234, crc32: 'abcdef01' },
    baseCrc32: CONTRACT_CRC,
    ratingsThroughId: 3,
    interactionsThroughId: 0,
    file: `${id}.rmodel`,
    history: [{ epoch: 1, epochs: 3, trainRmse: 1.1, validationRmse: null, seconds: 0.1 }],
    trainingRunId: `run-of-${id}`,
    ...overrides,
  } as ModelRecord;
}

/** What a JSON round trip makes of `value` (both back ends store JSON: NaN becomes null, undefined fields go). */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** `rows` grouped by user, each user's in the order given (a plain loop: the expected byUser). */
function byUserOf<R extends { userId: number }>(rows: readonly R[]): Map<number, R[]> {
  const map = new Map<number, R[]>();
  for (const r of rows) {
    let list = map.get(r.userId);
    if (!list) map.set(r.userId, (list = []));
    list.push(r);
  }
  return map;
}

/**
 * The contract, as jest tests inside the caller's describe block. `backEnd()` is called in the
 * tests (after the caller's beforeAll). Every test leaves its stores closed.
 */
export function storeContractTests(backEnd: () => StoreBackEnd): void {
  /** What the suite has added so far, in the order it added them (the independent record). */
  const givenRatings: Array<[number, number, number]> = [];
  const givenInteractions: Array<[number, number, number]> = [];

  it('add: resolves with the row (ids ascending in the order given, also within one group commit); list, byUser, users, lastId, size and hasUser follow', async () => {
    const store = await backEnd().open();
    try {
      expect(store.list()).toEqual([]);
      expect(store.lastId).toBe(0);
      expect(store.size).toBe(0);
      expect(store.hasUser(7)).toBe(false);
      // Five in one turn of the event loop (one group commit), then two more one by one.
      const batch: Array<[number, number, number]> = [
        [7, 3, 4],
        [8, 3, 2.5],
        [7, 5, 1],
        [9, 1, 5],
        [8, 2, 3],
      ];
      const rows = await Promise.all(batch.map(([u, m, r]) => store.add(u, m, r)));
      const later: Array<[number, number, number]> = [
        [7, 3, 2],
        [10, 4, 4.5],
      ];
      for (const [u, m, r] of later) rows.push(await store.add(u, m, r));
      givenRatings.push(...batch, ...later);
      expect(rows.map((r) => [r.userId, r.movieId, r.rating])).toEqual(givenRatings);
      for (let i = 1; i < rows.length; i++) expect(rows[i].id).toBeGreaterThan(rows[i - 1].id);
      for (const r of rows) expect(new Date(r.ratedAt).toISOString()).toBe(r.ratedAt);
      expect(store.list()).toEqual(rows);
      expect(store.lastId).toBe(rows[rows.length - 1].id);
      expect(store.size).toBe(7);
      const expected = byUserOf(rows);
      expect(new Set(store.users())).toEqual(new Set(expected.keys()));
      for (const [user, list] of expected) expect(store.byUser(user)).toEqual(list);
      expect(store.byUser(12345)).toEqual([]);
      // Latest wins is the caller's: both of user 7's ratings of movie 3 are kept, in order.
      expect(store.byUser(7).filter((r) => r.movieId === 3).map((r) => r.rating)).toEqual([4, 2]);
      expect(store.hasUser(10)).toBe(true);
      expect(store.hasUser(11)).toBe(false);
      // Nobody else writes this storage: nothing to pull.
      expect(await store.pull()).toEqual({ ratings: [], interactions: [] });
    } finally {
      await store.close();
    }
  });

  it('addInteraction: its own ids and lists, apart from the ratings; hasUser counts a user with interactions only', async () => {
    const store = await backEnd().open();
    try {
      const given: Array<[number, number, number]> = [
        [11, 2, 1],
        [7, 4, 0.5],
        [11, 2, 3],
      ];
      const rows = await Promise.all(given.map(([u, m, w]) => store.addInteraction(u, m, w)));
      givenInteractions.push(...given);
      expect(rows.map((r) => [r.userId, r.movieId, r.weight])).toEqual(givenInteractions);
      for (let i = 1; i < rows.length; i++) expect(rows[i].id).toBeGreaterThan(rows[i - 1].id);
      expect(store.interactions()).toEqual(rows);
      expect(store.lastInteractionId).toBe(rows[2].id);
      expect(store.interactionsOf(11)).toEqual([rows[0], rows[2]]);
      expect(new Set(store.interactingUsers())).toEqual(new Set([11, 7]));
      expect(store.hasUser(11)).toBe(true);
      // The ratings are untouched.
      expect(store.list().map((r) => [r.userId, r.movieId, r.rating])).toEqual(givenRatings);
    } finally {
      await store.close();
    }
  });

  it('settle: commits the adds still pending and names the last ids, every row through them in the mirror', async () => {
    const store = await backEnd().open();
    try {
      // Not awaited: the group commit is pending when settle() is called.
      const pending = [store.add(41, 1, 3), store.add(42, 2, 4), store.addInteraction(41, 2, 1.5)];
      const settled = await store.settle();
      const [first, second, interaction] = (await Promise.all(pending)) as [StoredRating, StoredRating, StoredInteraction];
      expect(settled).toEqual({ ratingsThroughId: second.id, interactionsThroughId: interaction.id });
      expect(store.list().filter((r) => r.id <= settled.ratingsThroughId).slice(-2)).toEqual([first, second]);
      expect(store.lastId).toBe(second.id);
      givenRatings.push([41, 1, 3], [42, 2, 4]);
      givenInteractions.push([41, 2, 1.5]);
    } finally {
      await store.close();
    }
  });

  it('runs and epochs: saveRun replaces a run\'s state (its place stays), epochs come back in order, run(id) answers one', async () => {
    const store = await backEnd().open();
    try {
      await store.saveRun('run-a', { id: 'run-a', status: 'QUEUED', kind: 'svd', params: { epochs: 2 }, guard: null, updatedAt: '2026-01-01T00:00:00.000Z' });
      await store.saveRun('run-b', { id: 'run-b', status: 'RUNNING', kind: 'baseline', nested: { list: [1, 2.5, 'x'], ok: true } });
      await store.saveEpoch('run-a', 2, { epoch: 2, epochs: 2, trainRmse: 0.8, validationRmse: null, seconds: 0.2 });
      await store.saveEpoch('run-a', 1, { epoch: 1, epochs: 2, trainRmse: 0.9, validationRmse: null, seconds: 0.1 });
      await store.saveRun('run-a', { id: 'run-a', status: 'SUCCEEDED', kind: 'svd', params: { epochs: 2 }, guard: { heldOutRmse: 0.91 }, updatedAt: '2026-01-01T00:01:00.000Z' });
      const runs = await store.runs();
      expect(runs).toEqual([
        {
          id: 'run-a',
          state: { id: 'run-a', status: 'SUCCEEDED', kind: 'svd', params: { epochs: 2 }, guard: { heldOutRmse: 0.91 }, updatedAt: '2026-01-01T00:01:00.000Z' },
          epochs: [
            { epoch: 1, epochs: 2, trainRmse: 0.9, validationRmse: null, seconds: 0.1 },
            { epoch: 2, epochs: 2, trainRmse: 0.8, validationRmse: null, seconds: 0.2 },
          ],
        },
        { id: 'run-b', state: { id: 'run-b', status: 'RUNNING', kind: 'baseline', nested: { list: [1, 2.5, 'x'], ok: true } }, epochs: [] },
      ]);
      expect(await store.run('run-a')).toEqual(runs[0]);
      expect(await store.run('run-b')).toEqual(runs[1]);
      expect(await store.run('no-such-run')).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('manifest: none at first; write then read gives it back (as JSON); a second write replaces it whole', async () => {
    const store = await backEnd().open();
    try {
      expect(await store.manifests.read()).toBeNull();
      const first: Manifest = {
        activeId: 'svd-1',
        activeRankingId: 'ials-1',
        models: [
          contractRecord('svd-1'),
          contractRecord('ials-1', { kind: 'ials', role: 'ranking', metrics: { trainRmse: NaN, trainMae: NaN, ratings: 1234, users: 56, movies: 78, fitSeconds: 1, heldOutRmse: null, heldOutRatings: 30, heldOutNdcg: 0.21, referenceNdcg: 0.1 }, interactionsThroughId: 2 }),
          // A record written before roles and interaction ids existed.
          contractRecord('baseline-0', { kind: 'baseline', role: undefined, interactionsThroughId: undefined, trainingRunId: null, history: [] }),
        ],
      };
      await store.manifests.write(first);
      expect(await store.manifests.read()).toEqual(viaJson(first));
      const second: Manifest = { activeId: 'svd-2', activeRankingId: null, models: [contractRecord('svd-2', { trainedAt: '2026-02-03T04:05:06.789Z' }), first.models[0]] };
      await store.manifests.write(second);
      expect(await store.manifests.read()).toEqual(viaJson(second));
    } finally {
      await store.close();
    }
  });

  it('ModelRegistry over the manifest store: reload() reads what another registry stored (no artifact loaded); entries with unsafe file names are refused', async () => {
    const warnings: Array<{ problem?: string }> = [];
    const logger = { warn: (fields: { problem?: string }) => warnings.push(fields), info: () => undefined, error: () => undefined } as unknown as Logger;
    const noData = (): RatingMatrix => {
      throw new Error('reload must not load an artifact');
    };
    const base = { users: 56, movies: 78, ratings: 1234, crc32: CONTRACT_CRC };
    const dir = mkdtempSync(join(tmpdir(), 'recsys-store-contract-registry-'));
    const [a, b] = [await backEnd().open(), await backEnd().open()];
    try {
      const ra = await ModelRegistry.open(dir, base, logger, noData, a.manifests);
      const rb = await ModelRegistry.open(dir, base, logger, noData, b.manifests);
      const before = rb.records().map((r) => r.id);
      await ra.store(contractRecord('svd-3', { trainedAt: '2026-03-01T00:00:00.000Z' }));
      expect(rb.record('svd-3')).toBeUndefined();
      await rb.reload();
      expect(rb.record('svd-3')).toEqual(contractRecord('svd-3', { trainedAt: '2026-03-01T00:00:00.000Z' }));
      expect(rb.records().map((r) => r.id)).toEqual(['svd-3', ...before]);
      // A manifest written by something else, with an entry naming a file outside the directory.
      const current = (await a.manifests.read())!;
      await a.manifests.write({ ...current, activeId: 'evil-1', models: [...current.models, contractRecord('evil-1', { file: '../../etc/passwd' })] });
      await rb.reload();
      expect(rb.record('evil-1')).toBeUndefined();
      expect(await rb.restoreActive('rating')).toBeNull();
      expect(warnings.some((w) => w.problem === 'holds a path separator')).toBe(true);
      // Put back as it was for the tests after this one.
      await a.manifests.write(current);
    } finally {
      await Promise.all([a.close(), b.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runInProgress answers the most recently created QUEUED or RUNNING run with its epochs, null when none is', async () => {
    // A data set of its own: the other tests leave runs in progress in the contract's.
    const store = await backEnd().open('a11ce0de');
    try {
      expect(await store.runInProgress()).toBeNull();
      // Ids that sort against the order of creation, so that neither id order nor the last write can pass for it.
      await store.saveRun('run-z', { id: 'run-z', status: 'RUNNING', kind: 'svd' });
      await store.saveRun('run-m', { id: 'run-m', status: 'QUEUED', kind: 'svd' });
      await store.saveRun('run-a', { id: 'run-a', status: 'SUCCEEDED', kind: 'svd' });
      // A status that only looks like one (another case, another field) does not count.
      await store.saveRun('run-0', { id: 'run-0', status: 'queued', kind: 'svd', note: 'RUNNING' });
      expect((await store.runInProgress())?.id).toBe('run-m');
      // The older run in progress written again (its place stays): run-m is still the newest.
      await store.saveRun('run-z', { id: 'run-z', status: 'RUNNING', kind: 'svd', epoch: 2 });
      await store.saveEpoch('run-m', 1, { epoch: 1, epochs: 3, trainRmse: 0.9 });
      await store.saveRun('run-m', { id: 'run-m', status: 'RUNNING', kind: 'svd' });
      expect(await store.runInProgress()).toEqual({ id: 'run-m', state: { id: 'run-m', status: 'RUNNING', kind: 'svd' }, epochs: [{ epoch: 1, epochs: 3, trainRmse: 0.9 }] });
      await store.saveRun('run-m', { id: 'run-m', status: 'FAILED', kind: 'svd' });
      expect(await store.runInProgress()).toEqual({ id: 'run-z', state: { id: 'run-z', status: 'RUNNING', kind: 'svd', epoch: 2 }, epochs: [] });
      await store.saveRun('run-z', { id: 'run-z', status: 'SUCCEEDED', kind: 'svd' });
      expect(await store.runInProgress()).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('reopen keeps everything: ratings, interactions, runs with epochs, the manifest', async () => {
    const store = await backEnd().open();
    let before: { ratings: readonly StoredRating[]; interactions: readonly StoredInteraction[]; runs: unknown; manifest: Manifest | null };
    try {
      before = { ratings: [...store.list()], interactions: [...store.interactions()], runs: await store.runs(), manifest: await store.manifests.read() };
    } finally {
      await store.close();
    }
    expect(before.ratings.map((r) => [r.userId, r.movieId, r.rating])).toEqual(givenRatings);
    expect(before.interactions.map((r) => [r.userId, r.movieId, r.weight])).toEqual(givenInteractions);
    const again = await backEnd().open();
    try {
      expect(again.list()).toEqual(before.ratings);
      expect(again.interactions()).toEqual(before.interactions);
      for (const [user, list] of byUserOf(before.ratings)) expect(again.byUser(user)).toEqual(list);
      expect(await again.runs()).toEqual(before.runs);
      expect(await again.manifests.read()).toEqual(before.manifest);
      // New rows continue the ids.
      const next = await again.add(12, 1, 3);
      givenRatings.push([12, 1, 3]);
      expect(next.id).toBeGreaterThan(before.ratings[before.ratings.length - 1].id);
    } finally {
      await again.close();
    }
  });
}
