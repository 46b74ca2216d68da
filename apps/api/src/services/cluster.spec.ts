import { Client } from 'pg';
import { createTestDatabase, describeWithPostgres, TestDatabase } from '@recsys/testing';
import { createLogger } from '../logger';
import { clusterChannel, ClusterEvent, LocalCluster, parseEvent, PostgresCluster, TRAINING_LOCK_NAMESPACE, trainingLockKey } from './cluster';

jest.setTimeout(30_000);

const until = async (check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> => {
  for (const end = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
};

describe('cluster events: parseEvent', () => {
  it('reads the events the API sends, with the sender', () => {
    expect(parseEvent('{"from":"a","type":"rating","id":7}')).toEqual({ from: 'a', event: { type: 'rating', id: 7 } });
    expect(parseEvent('{"from":"a","type":"interaction","id":1}')).toEqual({ from: 'a', event: { type: 'interaction', id: 1 } });
    expect(parseEvent('{"from":"b","type":"run","runId":"r-1"}')).toEqual({ from: 'b', event: { type: 'run', runId: 'r-1' } });
    expect(parseEvent('{"from":"b","type":"activated","role":"ranking","modelId":"m"}')).toEqual({ from: 'b', event: { type: 'activated', role: 'ranking', modelId: 'm' } });
  });

  it('one channel per data set; refuses a scope that is not a CRC-32', () => {
    expect(clusterChannel('C0FFEE42')).toBe('recsys_events_c0ffee42');
    expect(() => clusterChannel('x; DROP TABLE ratings')).toThrow(RangeError);
  });

  it('refuses anything else, saying why', () => {
    expect(parseEvent('not json')).toEqual({ problem: 'not JSON' });
    expect(parseEvent('{"type":"rating","id":1}')).toEqual({ problem: 'no "from" string' });
    expect(parseEvent('{"from":"a","type":"rating","id":0}')).toEqual({ problem: '"id" must be a positive integer, got 0' });
    expect(parseEvent('{"from":"a","type":"rating","id":"7"}')).toEqual({ problem: '"id" must be a positive integer, got "7"' });
    expect(parseEvent('{"from":"a","type":"activated","role":"x","modelId":"m"}')).toEqual({ problem: '"role" must be rating or ranking, got "x"' });
    expect(parseEvent('{"from":"a","type":"run"}')).toEqual({ problem: '"runId" must be a non-empty string' });
    expect(parseEvent('{"from":"a","type":"resync"}')).toEqual({ problem: 'unknown "type" "resync"' });
  });
});

describe('LocalCluster', () => {
  it('one lock holder at a time in the process; released, it can be taken again', async () => {
    const c = new LocalCluster();
    const release = await c.tryLockTraining();
    expect(release).not.toBeNull();
    expect(await c.tryLockTraining()).toBeNull();
    await release!();
    await release!();
    const again = await c.tryLockTraining();
    expect(again).not.toBeNull();
    expect(await c.tryLockTraining()).toBeNull();
  });
});

describeWithPostgres('PostgresCluster (issue 13)', () => {
  let db: TestDatabase;
  const opened: PostgresCluster[] = [];
  const SCOPE = 'c0ffee42';
  const open = async (scope = SCOPE) => {
    const c = await PostgresCluster.open(db.url, scope, createLogger('silent'));
    opened.push(c);
    return c;
  };
  const admin = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };
  /** Terminates the sessions of `application_name` (as a crash or a network cut would). */
  const terminate = (application: string) =>
    admin((c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [application]));

  beforeAll(async () => {
    db = await createTestDatabase('cluster');
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await db?.drop();
  });

  it('the training lock: one holder across processes; released, or its session gone, another takes it', async () => {
    const [a, b] = [await open(), await open()];
    const releaseA = await a.tryLockTraining();
    expect(releaseA).not.toBeNull();
    expect(await b.tryLockTraining()).toBeNull();
    expect(await a.tryLockTraining()).toBeNull();
    // PostgreSQL itself sees the advisory lock held by one session.
    // PostgreSQL itself sees the advisory lock (two int4 keys: objsubid 2) held by one session.
    const held = await admin((c) =>
      c.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = $1 AND objid::bigint = ($2::bigint & 4294967295)", [
        TRAINING_LOCK_NAMESPACE,
        trainingLockKey(SCOPE),
      ]),
    );
    expect(held.rows[0].n).toBe(1);
    expect(trainingLockKey(SCOPE)).toBe(0xc0ffee42 | 0);
    // Another data set's processes in the same database have a lock of their own.
    const other = await open('0badcafe');
    const releaseOther = await other.tryLockTraining();
    expect(releaseOther).not.toBeNull();
    await releaseOther!();
    await releaseA!();
    const releaseB = await b.tryLockTraining();
    expect(releaseB).not.toBeNull();
    expect(await a.tryLockTraining()).toBeNull();
    // B's lock session dies (as when its process is killed with -9): the lock is free.
    await terminate('recsys-api-training-lock');
    let releaseA2 = null;
    for (const end = Date.now() + 5_000; !releaseA2 && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) releaseA2 = await a.tryLockTraining();
    expect(releaseA2).not.toBeNull();
    await releaseA2!();
    await releaseB!();
  });

  it('events reach the other processes, not the sender; a foreign payload is ignored', async () => {
    const [a, b, c] = [await open(), await open(), await open()];
    const seen: Record<string, ClusterEvent[]> = { a: [], b: [], c: [] };
    a.onEvent((e) => seen.a.push(e));
    b.onEvent((e) => seen.b.push(e));
    const off = c.onEvent((e) => seen.c.push(e));
    off();
    await a.notify({ type: 'rating', id: 41 });
    await a.notify({ type: 'activated', role: 'rating', modelId: 'svd-x' });
    await admin((x) => x.query('SELECT pg_notify($1, $2)', [clusterChannel(SCOPE), '{"hello":1}']));
    // Another data set's events stay on its channel.
    const other = await open('0badcafe');
    await other.notify({ type: 'rating', id: 99 });
    await b.notify({ type: 'run', runId: 'run-1' });
    await until(() => seen.b.length === 2 && seen.a.length === 1, 5_000, 'events');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.b).toEqual([
      { type: 'rating', id: 41 },
      { type: 'activated', role: 'rating', modelId: 'svd-x' },
    ]);
    expect(seen.a).toEqual([{ type: 'run', runId: 'run-1' }]);
    expect(seen.c).toEqual([]);
  });

  it('a lost event session reconnects and says resync; events flow again after it', async () => {
    const [a, b] = [await open(), await open()];
    const seen: ClusterEvent[] = [];
    b.onEvent((e) => seen.push(e));
    await terminate('recsys-api-events');
    // Every event session of this database was cut (a's and b's): both reconnect.
    await until(() => seen.some((e) => e.type === 'resync'), 10_000, 'resync');
    for (const end = Date.now() + 10_000; !seen.some((e) => e.type === 'interaction'); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > end) throw new Error(`no event after the reconnect: ${JSON.stringify(seen)}`);
      await a.notify({ type: 'interaction', id: 3 });
    }
    expect(seen.filter((e) => e.type === 'interaction')[0]).toEqual({ type: 'interaction', id: 3 });
  });
});
