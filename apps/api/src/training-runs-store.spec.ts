import 'reflect-metadata';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from './logger';
import { openStore } from './services/store';
import { INTERRUPTED } from './services/training-service';
import { GqlResult, startTestApi, TestApi } from './testing/harness';

jest.setTimeout(120_000);

/** The SQLite store `file` (its manifest in `<dir>/models`). */
const open = (dir: string, file: string) => openStore({ sqlitePath: file, modelDir: join(dir, 'models'), baseCrc32: '00000000', logger: createLogger('silent') });

interface Epoch {
  epoch: number;
  epochs: number;
  trainRmse: number | null;
  validationRmse: number | null;
  seconds: number;
}
interface Run {
  id: string;
  status: string;
  kind: string;
  trigger: string;
  error: string | null;
  epoch: number;
  totalEpochs: number | null;
  epochs: Epoch[];
  heldOutRmse: number | null;
  heldOutMae: number | null;
  modelId: string | null;
  parameters: Record<string, unknown>;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
const RUN = 'id status kind trigger error epoch totalEpochs epochs { epoch epochs trainRmse validationRmse seconds } heldOutRmse heldOutMae modelId parameters queuedAt startedAt finishedAt';

async function runOf(t: TestApi, id: string): Promise<Run> {
  const r = await t.gql<{ trainingRun: Run }>(`query($id: ID!) { trainingRun(id: $id) { ${RUN} } }`, { id });
  expect(r.errors).toBeUndefined();
  return r.data!.trainingRun;
}

async function until(t: TestApi, id: string, done: (run: Run) => boolean): Promise<Run> {
  for (let i = 0; i < 4000; i++) {
    const run = await runOf(t, id);
    if (done(run)) return run;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`run ${id}: condition not reached`);
}

/** Every run, newest first, page by page (a page of runs with their epochs is costed at 100 epochs a run: 20 a page fit the cost limit). */
async function allRuns(t: TestApi): Promise<Run[]> {
  const runs: Run[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { trainingRuns: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: Run }> } };
    const r: GqlResult<Page> = await t.gql<Page>(`query($after: String) { trainingRuns(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${RUN} } } } }`, { after });
    expect(r.errors).toBeUndefined();
    const page = r.data!.trainingRuns;
    runs.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) {
      expect(page.totalCount).toBe(runs.length);
      return runs;
    }
    after = page.pageInfo.endCursor;
  }
}

describe('training runs in the store (issue 12)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-runs-'));
  let t: TestApi | null = null;
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finished and interrupted runs, with every epoch, answer the same after a restart; the interrupted one FAILED', async () => {
    t = await startTestApi({ dir });
    const done = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: SVD, parameters: { epochs: 10, seed: 3 } }) { id } }');
    expect(done.errors).toBeUndefined();
    const finished = await until(t, done.data!.retrain.id, (r) => r.status === 'SUCCEEDED' || r.status === 'FAILED');
    expect(finished.status).toBe('SUCCEEDED');
    expect(finished.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const long = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: SVDPP, parameters: { epochs: 1000, factors: 1000 } }) { id } }');
    expect(long.errors).toBeUndefined();
    await until(t, long.data!.retrain.id, (r) => r.epochs.length >= 3);
    const before = await allRuns(t);
    // The startup runs (baseline, configured svd and popular's…) come first in time: the list is newest first.
    expect(before[0].id).toBe(long.data!.retrain.id);
    expect(before[1].id).toBe(finished.id);
    expect(before.length).toBeGreaterThanOrEqual(3);
    await t.close();
    t = null;

    const stored = await open(dir, join(dir, readdirSync(dir).find((f) => f.startsWith('ratings-') && f.endsWith('.sqlite'))!));
    const row = (await stored.run(long.data!.retrain.id))!;
    expect((await stored.runs()).find((r) => r.id === long.data!.retrain.id)).toEqual(row);
    await stored.close();
    // Every epoch the run reported before the server stopped is in the store.
    expect(row.epochs.length).toBeGreaterThanOrEqual(before[0].epochs.length);

    t = await startTestApi({ dir });
    const after = await allRuns(t);
    // The restarted server trains nothing (its models are stored): the same runs, in the same order.
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(after[1]).toEqual(finished);
    const interrupted = after[0];
    expect(interrupted.status).toBe('FAILED');
    expect(interrupted.error).toBe(INTERRUPTED);
    expect(interrupted.error).toBe('the server stopped during the run');
    expect(interrupted.finishedAt).not.toBeNull();
    expect(interrupted.epochs.length).toBe(row.epochs.length);
    expect(interrupted.epochs.slice(0, before[0].epochs.length)).toEqual(before[0].epochs);
    expect(interrupted.epoch).toBe(interrupted.epochs.length);
    expect(await runOf(t, finished.id)).toEqual(finished);
    // The model of the finished run is still the active one, linked to its run.
    const active = await t.gql<{ activeModel: { id: string; trainingRunId: string } }>('{ activeModel { id trainingRunId } }');
    expect(active.data!.activeModel).toEqual({ id: finished.modelId, trainingRunId: finished.id });
  });

  it('a run stored as RUNNING (the process died mid-run) comes back FAILED; a new run is listed first', async () => {
    await t?.close();
    t = null;
    const file = join(dir, readdirSync(dir).find((f) => f.startsWith('ratings-') && f.endsWith('.sqlite'))!);
    const store = await open(dir, file);
    const queuedAt = '2026-01-02T03:04:05.000Z';
    await store.saveRun('crashed-run', { id: 'crashed-run', status: 'RUNNING', trigger: 'API', kind: 'svd', role: 'rating', params: { epochs: 9 }, totalEpochs: 9, apiRatings: 0, ratingsThroughId: 0, apiInteractions: 0, interactionsThroughId: 0, error: null, guard: null, modelId: null, queuedAt, startedAt: queuedAt, finishedAt: null, updatedAt: '2026-01-02T03:05:00.000Z' });
    await store.saveEpoch('crashed-run', 1, { epoch: 1, epochs: 9, trainRmse: 0.9, validationRmse: 0.95, seconds: 0.5 });
    await store.close();
    t = await startTestApi({ dir });
    const run = await runOf(t, 'crashed-run');
    expect(run).toMatchObject({ status: 'FAILED', error: 'the server stopped during the run', epoch: 1, totalEpochs: 9, queuedAt, finishedAt: '2026-01-02T03:05:00.000Z' });
    expect(run.epochs).toEqual([{ epoch: 1, epochs: 9, trainRmse: 0.9, validationRmse: 0.95, seconds: 0.5 }]);
    const next = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE }) { id } }');
    expect(next.errors).toBeUndefined();
    await until(t, next.data!.retrain.id, (r) => r.status === 'SUCCEEDED');
    expect((await allRuns(t))[0].id).toBe(next.data!.retrain.id);
  });

  it('a run the store cannot write is not started (SERVICE_UNAVAILABLE, nothing lost); once it can, runs start again', async () => {
    t ??= await startTestApi({ dir });
    const before = await allRuns(t);
    const file = t.api.services()!.predictions.store.location;
    // Another connection makes every write of a run fail, as a full disk would.
    const other = new Database(file);
    other.exec("CREATE TRIGGER refuse_runs BEFORE INSERT ON training_runs BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END");
    try {
      const refused = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE }) { id } }');
      expect(refused.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(refused.errors?.[0].message).toMatch(/could not be stored.*nothing was started/);
      expect(t.api.services()!.training.running).toBeNull();
      // Nothing stored before is lost, and the API's ratings still work.
      expect(await allRuns(t)).toEqual(before);
      const rated = await t.gql<{ rateMovie: { rating: number } }>('mutation { rateMovie(userId: 777001, movieId: ' + t.dataset.matrix.movies.ids[0] + ', rating: 4) { rating } }');
      expect(rated.errors).toBeUndefined();
    } finally {
      other.exec('DROP TRIGGER refuse_runs');
      other.close();
    }
    // The reason is the store's, with what was being written.
    const store = await open(dir, join(dir, 'refusing.sqlite'));
    const direct = new Database(store.location);
    direct.exec("CREATE TRIGGER refuse_runs BEFORE INSERT ON training_runs BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END");
    direct.close();
    await expect(store.saveRun('r1', { status: 'QUEUED' })).rejects.toThrow(/could not store training run r1 in .*refusing\.sqlite: simulated: database or disk is full/);
    await store.close();
    const next = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE }) { id } }');
    expect(next.errors).toBeUndefined();
    expect((await until(t, next.data!.retrain.id, (r) => r.status !== 'QUEUED' && r.status !== 'RUNNING')).status).toBe('SUCCEEDED');
  });
});
