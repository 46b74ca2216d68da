import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { startTestApi, TestApi } from './testing/harness';

jest.setTimeout(180_000);

interface Factor {
  movieId: number;
  rating: number;
  contribution: number;
  factorSimilarity: number | null;
}

interface Rec {
  movieId: number;
  score: number;
  explanation: Factor[];
}

interface Param {
  name: string;
  type: string;
  default: string | null;
  min: number | null;
  max: number | null;
  minExclusive: boolean;
  maxExclusive: boolean;
  choices: string[] | null;
}

interface KindInfo {
  kind: string;
  role: string;
  description: string;
  parameters: Param[];
}

async function finished(t: TestApi, id: string): Promise<{ status: string; error: string | null; modelId: string | null; heldOutMae: number | null; heldOutRmse: number | null }> {
  for (let i = 0; i < 4000; i++) {
    const run = (await t.gql<{ trainingRun: { status: string; error: string | null; modelId: string | null; heldOutMae: number | null; heldOutRmse: number | null } }>(
      'query($id: ID!) { trainingRun(id: $id) { status error modelId heldOutMae heldOutRmse } }',
      { id },
    )).data!.trainingRun;
    if (run.status === 'SUCCEEDED' || run.status === 'FAILED') return run;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${id} did not finish`);
}

describe('the fields the dashboard reads (issue 12)', () => {
  let t: TestApi;
  const dir = mkdtempSync(join(tmpdir(), 'recsys-dashfields-'));

  beforeAll(async () => {
    t = await startTestApi({ dir });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dataSummary: counts, histogram, degrees and months equal a plain loop over the ratings', async () => {
    const list = t.dataset.matrix.toList();
    const byValue = new Map<number, number>();
    const perUser = new Map<number, number>();
    const perMovie = new Map<number, number>();
    const perMonth = new Map<string, number>();
    let sum = 0;
    for (let k = 0; k < list.length; k++) {
      const v = list.ratings[k] / 2;
      sum += v;
      byValue.set(v, (byValue.get(v) ?? 0) + 1);
      perUser.set(list.users[k], (perUser.get(list.users[k]) ?? 0) + 1);
      perMovie.set(list.movies[k], (perMovie.get(list.movies[k]) ?? 0) + 1);
      const month = new Date(list.days![k] * 86_400_000).toISOString().slice(0, 7);
      perMonth.set(month, (perMonth.get(month) ?? 0) + 1);
    }
    const degrees = (counts: Map<number, number>) => {
      const byK = new Map<number, number>();
      for (const c of counts.values()) byK.set(c, (byK.get(c) ?? 0) + 1);
      return [...byK.entries()].sort((a, b) => a[0] - b[0]).map(([ratings, count]) => ({ ratings, count }));
    };
    const r = await t.gql<{ dataSummary: Record<string, unknown> }>(
      '{ dataSummary { users movies ratings scaleMin scaleMax scaleStep implicit meanRating ratingHistogram { value count } ratingsPerUser { ratings count } ratingsPerMovie { ratings count } ratingsByMonth { month count } } }',
    );
    expect(r.errors).toBeUndefined();
    const s = r.data!.dataSummary;
    expect(s.users).toBe(perUser.size);
    expect(s.movies).toBe(perMovie.size);
    expect(s.ratings).toBe(list.length);
    expect([s.scaleMin, s.scaleMax, s.scaleStep, s.implicit]).toEqual([1, 5, 1, false]);
    expect(s.meanRating).toBeCloseTo(sum / list.length, 10);
    // Every value of the 1..5 scale, zeros included.
    expect(s.ratingHistogram).toEqual([1, 2, 3, 4, 5].map((value) => ({ value, count: byValue.get(value) ?? 0 })));
    expect(s.ratingsPerUser).toEqual(degrees(perUser));
    expect(s.ratingsPerMovie).toEqual(degrees(perMovie));
    expect(s.ratingsByMonth).toEqual([...perMonth.entries()].sort().map(([month, count]) => ({ month, count })));
    expect((s.ratingsByMonth as unknown[]).length).toBeGreaterThan(12);
  });

  it('Movie.ratingHistogram counts the movie\'s ratings per value of the scale', async () => {
    const list = t.dataset.matrix.toList();
    const movies = [list.movies[0], list.movies[list.length - 1], list.movies[Math.floor(list.length / 2)]];
    for (const id of movies) {
      const counts = [0, 0, 0, 0, 0];
      for (let k = 0; k < list.length; k++) if (list.movies[k] === id) counts[list.ratings[k] / 2 - 1]++;
      const r = await t.gql<{ movie: { ratingHistogram: Array<{ value: number; count: number }> } }>('query($id: Int!) { movie(id: $id) { ratingHistogram { value count } } }', { id });
      expect(r.errors).toBeUndefined();
      expect(r.data!.movie.ratingHistogram).toEqual(counts.map((count, i) => ({ value: i + 1, count })));
    }
  });

  it('heldOutMae: measured by the guard for a rating model (0 < MAE ≤ RMSE), the same on the run and the model, and kept across a restart', async () => {
    const q = '{ activeModel { id trainingRunId metrics { heldOutMae heldOutRmse } } }';
    const before = (await t.gql<{ activeModel: { id: string; trainingRunId: string; metrics: { heldOutMae: number; heldOutRmse: number } } }>(q)).data!.activeModel;
    const { heldOutMae, heldOutRmse } = before.metrics;
    expect(heldOutMae).toBeGreaterThan(0);
    expect(heldOutMae).toBeLessThanOrEqual(heldOutRmse);
    const run = await finished(t, before.trainingRunId);
    expect(run.heldOutMae).toBe(heldOutMae);
    expect(run.heldOutRmse).toBe(heldOutRmse);
    await t.close();
    t = await startTestApi({ dir });
    const after = (await t.gql<{ activeModel: { id: string; metrics: { heldOutMae: number } } }>(q)).data!.activeModel;
    expect(after.id).toBe(before.id);
    expect(after.metrics.heldOutMae).toBe(heldOutMae);
  });

  it('Recommendation.explanation: empty for popular; a rating model\'s is its prediction explanation; ease\'s contributions sum to the score', async () => {
    const list = t.dataset.matrix.toList();
    const counts = new Map<number, number>();
    for (let k = 0; k < list.length; k++) counts.set(list.users[k], (counts.get(list.users[k]) ?? 0) + 1);
    const user = [...counts.entries()].find(([, c]) => c >= 20 && c <= 60)![0];
    const recsQuery = 'query($u: Int!, $m: ID) { recommendations(userId: $u, n: 3, model: $m) { movieId score explanation(n: 100) { movieId rating contribution factorSimilarity } } }';

    // popular (the harness's ranking model): the score does not depend on the user.
    const pop = await t.gql<{ recommendations: Rec[] }>(recsQuery, { u: user });
    expect(pop.errors).toBeUndefined();
    expect(pop.data!.recommendations).toHaveLength(3);
    for (const rec of pop.data!.recommendations) expect(rec.explanation).toEqual([]);

    // A rating model named: its list's explanation is the prediction's explanation of that pair.
    const ratingId = (await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
    const byRating = await t.gql<{ recommendations: Rec[] }>(recsQuery, { u: user, m: ratingId });
    expect(byRating.errors).toBeUndefined();
    for (const rec of byRating.data!.recommendations) {
      const p = await t.gql<{ prediction: { explanation: Factor[] } }>('query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { explanation(n: 100) { movieId rating contribution factorSimilarity } } }', { u: user, m: rec.movieId });
      expect(rec.explanation.length).toBeGreaterThan(0);
      expect(rec.explanation).toEqual(p.data!.prediction.explanation);
    }

    // ease: c_j = x_uj·B_ji sum to the score exactly over the user's entries of weight ≥ minWeight.
    const started = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: EASE, parameters: { lambda: 50 } }) { id } }');
    expect(started.errors).toBeUndefined();
    const run = await finished(t, started.data!.retrain.id);
    expect(run.status).toBe('SUCCEEDED');
    const ease = await t.gql<{ recommendations: Rec[] }>(recsQuery, { u: user });
    expect(ease.errors).toBeUndefined();
    const rated = new Map<number, number>();
    for (let k = 0; k < list.length; k++) if (list.users[k] === user) rated.set(list.movies[k], list.ratings[k] / 2);
    for (const rec of ease.data!.recommendations) {
      expect(rec.explanation.length).toBeGreaterThan(0);
      const total = rec.explanation.reduce((s, f) => s + f.contribution, 0);
      expect(total).toBeCloseTo(rec.score, 4);
      for (const f of rec.explanation) {
        expect(rated.get(f.movieId)).toBe(f.rating);
        expect(f.rating).toBeGreaterThanOrEqual(3);
        expect(f.factorSimilarity).toBeNull();
      }
      const sizes = rec.explanation.map((f) => Math.abs(f.contribution));
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    }
    const bad = await t.gql('query($u: Int!) { recommendations(userId: $u, n: 1) { explanation(n: 101) { movieId } } }', { u: user });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('modelKinds lists every kind with parameters whose bounds retrain enforces: just outside is refused, at the bound passes validation', async () => {
    const r = await t.gql<{ modelKinds: KindInfo[] }>('{ modelKinds { kind role description parameters { name type default min max minExclusive maxExclusive choices } } }');
    expect(r.errors).toBeUndefined();
    const kinds = r.data!.modelKinds;
    expect(kinds.map((k) => k.kind).sort()).toEqual(['BASELINE', 'BPR', 'EASE', 'IALS', 'POPULAR', 'SVD', 'SVDPP']);
    expect(kinds.filter((k) => k.role === 'RANKING').map((k) => k.kind).sort()).toEqual(['BPR', 'EASE', 'IALS', 'POPULAR']);
    const svd = kinds.find((k) => k.kind === 'SVD')!;
    expect(svd.parameters.find((p) => p.name === 'solver')).toMatchObject({ type: 'string', default: '"sgd"', choices: ['sgd', 'als', 'lbfgs'] });
    expect(svd.parameters.find((p) => p.name === 'factors')).toMatchObject({ type: 'integer', default: '16', min: 0, max: 1000, minExclusive: false });
    expect(kinds.find((k) => k.kind === 'IALS')!.parameters.find((p) => p.name === 'threads')).toMatchObject({ default: null, max: availableParallelism() });
    expect(kinds.find((k) => k.kind === 'POPULAR')!.parameters).toEqual([]);

    // A long run (svdpp, 1000 factors, 1000 epochs: minutes here) holds the trainer: retrain validates the parameters before it refuses a second
    // run, so a value that passes validation answers CONFLICT and one that does not BAD_USER_INPUT.
    const long = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: SVDPP, parameters: { epochs: 1000, factors: 1000 } }) { id } }');
    expect(long.errors).toBeUndefined();
    const retrain = (kind: string, parameters: Record<string, unknown>) =>
      t.gql('mutation($k: ModelKind!, $p: JSONObject!) { retrain(input: { kind: $k, parameters: $p }) { id } }', { k: kind, p: parameters }).then((x) => x.errors?.[0].extensions?.code ?? 'ACCEPTED');
    let probes = 0;
    for (const kind of kinds) {
      const solvers = kind.parameters.find((p) => p.name === 'solver')?.choices ?? [undefined];
      // Accepted when some solver takes it (the bounds' notes say which solver needs what).
      const accepted = async (name: string, value: unknown) => {
        for (const solver of solvers) {
          const code = await retrain(kind.kind, solver === undefined ? { [name]: value } : { solver, [name]: value });
          probes++;
          if (code === 'CONFLICT') return true;
          expect(code).toBe('BAD_USER_INPUT');
        }
        return false;
      };
      for (const p of kind.parameters) {
        const what = `${kind.kind}.${p.name}`;
        if (p.type === 'string') {
          for (const choice of p.choices!) expect([what, choice, await accepted(p.name, choice)]).toEqual([what, choice, true]);
          expect([what, await retrain(kind.kind, { [p.name]: 'no-such-choice' })]).toEqual([what, 'BAD_USER_INPUT']);
          continue;
        }
        const min = p.min!;
        const max = p.max!;
        const eps = p.type === 'integer' ? 1 : Math.max(1e-9, Math.abs(max) * 1e-9);
        expect([what, 'max', await accepted(p.name, max)]).toEqual([what, 'max', true]);
        expect([what, 'max+', await retrain(kind.kind, { [p.name]: max + eps })]).toEqual([what, 'max+', 'BAD_USER_INPUT']);
        if (p.minExclusive) {
          expect([what, 'min', await retrain(kind.kind, { [p.name]: min })]).toEqual([what, 'min', 'BAD_USER_INPUT']);
          expect([what, 'min+', await accepted(p.name, min + (p.type === 'integer' ? 1 : Math.max(1e-9, Math.abs(min) * 1e-9)))]).toEqual([what, 'min+', true]);
        } else {
          expect([what, 'min', await accepted(p.name, min)]).toEqual([what, 'min', true]);
          expect([what, 'min-', await retrain(kind.kind, { [p.name]: min - eps })]).toEqual([what, 'min-', 'BAD_USER_INPUT']);
        }
        if (p.type === 'integer') expect([what, 'fraction', await retrain(kind.kind, { [p.name]: min + 0.5 })]).toEqual([what, 'fraction', 'BAD_USER_INPUT']);
      }
    }
    expect(probes).toBeGreaterThan(50);
    // The long run held the trainer throughout (otherwise CONFLICT would not have meant "valid").
    const still = (await t.gql<{ trainingRun: { status: string } }>('query($id: ID!) { trainingRun(id: $id) { status } }', { id: long.data!.retrain.id })).data!.trainingRun;
    expect(['QUEUED', 'RUNNING']).toContain(still.status);
  });
});
