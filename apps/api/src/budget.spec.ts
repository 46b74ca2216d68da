// The event loop never waits long for one request: heavy resolver pieces are sliced over turns of
// the loop, and an operation past its time budget is cancelled with code TIMEOUT.
import { DEFAULT_GUARD_LIMITS } from './http/limits';
import { OperationBudget, Slicer } from './schema/budget';
import { startTestApi, TestApi } from './testing/harness';

jest.setTimeout(60_000);

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('Slicer', () => {
  it('runs pieces at once while the slice has time, then lets timers and I/O in between', async () => {
    // A clock that each piece moves by 3 ms.
    let clock = 0;
    const slicer = new Slicer(8, () => clock);
    const order: string[] = [];
    setTimeout(() => order.push('timer'), 0);
    const pieces = Array.from({ length: 12 }, (_, i) => slicer.run(() => ((clock += 3), order.push(`p${i}`))));
    // The first three ran synchronously, within the slice (0, 3, 6 < 8 ms); the others wait.
    expect(order).toEqual(['p0', 'p1', 'p2']);
    expect(slicer.waiting).toBe(9);
    await Promise.all(pieces);
    expect(order.filter((o) => o.startsWith('p'))).toEqual(Array.from({ length: 12 }, (_, i) => `p${i}`));
    const timer = order.indexOf('timer');
    expect(timer).toBeGreaterThan(0);
    expect(timer).toBeLessThan(order.length - 1);
  });

  it('a piece that throws lets the next ones run', async () => {
    const slicer = new Slicer(1);
    const results = await Promise.allSettled([slicer.run(() => busy(2)), slicer.run(() => {
      throw new Error('boom');
    }), slicer.run(() => 3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('OperationBudget', () => {
  it('refuses work once spent, and a wait past it fails with TIMEOUT', async () => {
    const budget = new OperationBudget(30);
    await expect(budget.run(() => 1)).resolves.toBe(1);
    await expect(budget.wait((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))).rejects.toMatchObject({ extensions: { code: 'TIMEOUT' } });
    await expect(budget.run(() => 1)).rejects.toMatchObject({ extensions: { code: 'TIMEOUT' } });
  });
});

describe('time budget through the API', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi({ config: { guard: { ...DEFAULT_GUARD_LIMITS, operationTimeoutMs: 200 } } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('cancels the rest of an operation past its budget with TIMEOUT, and the next operation runs', async () => {
    const predictions = t.api.services()!.predictions;
    const recommend = predictions.recommend.bind(predictions);
    predictions.recommend = (...args) => {
      busy(30);
      return recommend(...args);
    };
    try {
      const r = await t.gql('{ users(first: 20) { edges { node { recommendations(n: 2) { rank } } } } }');
      const codes = new Set(r.errors!.map((e) => e.extensions!.code));
      expect([...codes]).toEqual(['TIMEOUT']);
      expect(r.errors![0].message).toMatch(/time budget of 200 ms/);
      // 20 lists of 30 ms each do not fit in 200 ms: the first ones were answered, the rest cancelled.
      expect(r.errors!.length).toBeGreaterThan(0);
      expect(r.errors!.length).toBeLessThan(20);
    } finally {
      predictions.recommend = recommend;
    }
    const after = await t.gql('{ users(first: 20) { edges { node { recommendations(n: 2) { rank } } } } }');
    expect(after.errors).toBeUndefined();
  });

  it('Movie.ratingHistogram is counted within the budget too: past it, the rest is cancelled with TIMEOUT', async () => {
    const catalog = t.api.services()!.catalog;
    const histogram = catalog.movieRatingHistogram.bind(catalog);
    catalog.movieRatingHistogram = (movieId) => {
      busy(30);
      return histogram(movieId);
    };
    try {
      const r = await t.gql('{ movies(first: 20) { edges { node { id ratingHistogram { count } } } } }');
      expect([...new Set(r.errors!.map((e) => e.extensions!.code))]).toEqual(['TIMEOUT']);
      expect(r.errors!.length).toBeGreaterThan(0);
      expect(r.errors!.length).toBeLessThan(20);
    } finally {
      catalog.movieRatingHistogram = histogram;
    }
  });
});
