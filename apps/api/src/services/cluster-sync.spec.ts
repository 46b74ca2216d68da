import { createLogger } from '../logger';
import type { Cluster, ClusterEvent, Release } from './cluster';
import { ClusterSync, ClusterSyncDeps, MAX_ADOPT_ATTEMPTS, Serial } from './cluster-sync';

describe('Serial (one pass at a time, calls meanwhile coalesced into one more)', () => {
  it('runs one pass per idle call; the calls during a pass share one pass after it', async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    let passes = 0;
    const serial = new Serial(
      async () => {
        const n = ++passes;
        log.push(`start ${n}`);
        if (n === 1) await new Promise<void>((r) => (release = r));
        log.push(`end ${n}`);
      },
      (error) => log.push(`failed ${String(error)}`),
    );
    const first = serial.run();
    await Promise.resolve();
    // Three calls while pass 1 runs: one pass after it, shared.
    const [x, y, z] = [serial.run(), serial.run(), serial.run()];
    expect(x).toBe(y);
    expect(y).toBe(z);
    release();
    await Promise.all([first, x]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    // Idle again: a call runs a pass of its own.
    await serial.run();
    expect(passes).toBe(3);
  });

  it('a failing pass is reported and the next call runs again', async () => {
    const failures: unknown[] = [];
    let n = 0;
    const serial = new Serial(
      async () => {
        if (++n === 1) throw new Error('boom');
      },
      (error) => failures.push(error),
    );
    await serial.run();
    await serial.run();
    expect(n).toBe(2);
    expect(failures.map(String)).toEqual(['Error: boom']);
  });
});


/** A shared cluster whose events the test hands to ClusterSync.on itself. */
class ManualCluster implements Cluster {
  readonly shared = true;
  async tryLockTraining(): Promise<Release | null> {
    return null;
  }
  async notify(): Promise<void> {}
  onEvent(_listener: (event: ClusterEvent) => void): () => void {
    return () => {};
  }
  async close(): Promise<void> {}
}

describe('ClusterSync with a store, registry and services that record what they are asked', () => {
  const build = () => {
    const calls: string[] = [];
    /** Ids whose artifact the fake registry cannot serve. */
    const refuse = new Set<string>();
    const state = { manifest: 'svd-1' as string | null, active: 'svd-1', running: false, pulled: [[{ userId: 7 }, { userId: 9 }, { userId: 7 }], [{ userId: 3 }]] };
    const deps = {
      cluster: new ManualCluster(),
      store: {
        pull: async () => {
          calls.push('pull');
          return { ratings: (state.pulled.shift() ?? []) as never[], interactions: [] };
        },
      },
      registry: {
        reload: async () => void calls.push('reload'),
        recordedActiveId: (role: string) => (role === 'rating' ? state.manifest : null),
        activeOf: (role: string) => (role === 'rating' ? { id: state.active } : null),
        adoptActive: async (role: string) => {
          calls.push(`adopt ${role}`);
          if (role !== 'rating' || state.manifest === null || refuse.has(state.manifest)) return null;
          state.active = state.manifest;
          return { id: state.active };
        },
      },
      predictions: { absorb: (users: Iterable<number>) => void calls.push(`absorb ${[...new Set(users)].join(',')}`) },
      training: {
        get running() {
          return state.running ? {} : null;
        },
        refresh: async (id: string) => void calls.push(`refresh ${id}`),
        refreshAll: async () => void calls.push('refreshAll'),
        get: () => undefined,
      },
      logger: createLogger('silent'),
      pollMs: 3_600_000,
    } as unknown as ClusterSyncDeps;
    const sync = new ClusterSync(deps);
    return { sync, calls, state, refuse };
  };

  it('a rating: the new rows are read and their users folded in, once each', async () => {
    const { sync, calls } = build();
    await sync.on({ type: 'rating', id: 12 });
    await sync.on({ type: 'interaction', id: 4 });
    expect(calls).toEqual(['pull', 'absorb 7,9', 'pull', 'absorb 3']);
    sync.close();
  });

  it('an activation: rows first, then the manifest; only a new active id is adopted; not while this process trains', async () => {
    const { sync, calls, state } = build();
    // The manifest still names the model this process started with: nothing to adopt.
    await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-1' });
    expect(calls).toEqual(['pull', 'absorb 7,9', 'reload']);
    calls.length = 0;
    state.manifest = 'svd-2';
    state.running = true;
    await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-2' });
    expect(calls).toEqual([]);
    state.running = false;
    await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-2' });
    expect(calls).toEqual(['pull', 'absorb 3', 'reload', 'adopt rating']);
    expect(state.active).toBe('svd-2');
    calls.length = 0;
    await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-2' });
    expect(calls).toEqual(['pull', 'reload']);
    sync.close();
  });

  it('a recorded model that cannot be served here is tried MAX_ADOPT_ATTEMPTS times, then not until the next activation', async () => {
    const { sync, calls, state, refuse } = build();
    refuse.add('svd-bad');
    state.manifest = 'svd-bad';
    for (let i = 0; i < MAX_ADOPT_ATTEMPTS + 2; i++) await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-bad' });
    expect(calls.filter((c) => c === 'adopt rating').length).toBe(MAX_ADOPT_ATTEMPTS);
    expect(state.active).toBe('svd-1');
    state.manifest = 'svd-3';
    await sync.on({ type: 'activated', role: 'rating', modelId: 'svd-3' });
    expect(state.active).toBe('svd-3');
    sync.close();
  });

  it('a run event reads that run; resync reads everything', async () => {
    const { sync, calls } = build();
    await sync.on({ type: 'run', runId: 'r1' });
    expect(calls).toEqual(['refresh r1']);
    calls.length = 0;
    await sync.on({ type: 'resync' });
    // The rows once for the resync and once more before the manifests are read (after their pass began).
    expect(calls.sort()).toEqual(['absorb 3', 'absorb 7,9', 'pull', 'pull', 'refreshAll', 'reload', 'reload']);
    sync.close();
  });
});
