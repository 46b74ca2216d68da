import 'reflect-metadata';
import { join } from 'node:path';
import { LatentModel, loadModel } from '@recsys/models';
import { withTempDir } from '@recsys/testing';
import { gqlRequest, smallDataset, startTestApi, TestApi, TEST_TOKEN } from './testing/harness';
import { startApi } from './server';
import { testConfig } from './testing/harness';
import { createLogger } from './logger';
import { rmSync } from 'node:fs';

jest.setTimeout(30_000);

// Plain reference computations over the raw ratings (independent of the server's code paths).
interface Ratings {
  byMovie: Map<number, Map<number, number>>;
  byUser: Map<number, Map<number, number>>;
}

function ratingsOf(t: TestApi): Ratings {
  const list = t.dataset.matrix.toList();
  const byMovie = new Map<number, Map<number, number>>();
  const byUser = new Map<number, Map<number, number>>();
  for (let k = 0; k < list.length; k++) {
    const u = list.users[k];
    const m = list.movies[k];
    const r = list.ratings[k] / 2;
    if (!byMovie.has(m)) byMovie.set(m, new Map());
    if (!byUser.has(u)) byUser.set(u, new Map());
    byMovie.get(m)!.set(u, r);
    byUser.get(u)!.set(m, r);
  }
  return { byMovie, byUser };
}

function jaccard(a: Map<number, number>, b: Map<number, number>): { similarity: number; support: number } {
  let common = 0;
  for (const u of a.keys()) if (b.has(u)) common++;
  return { similarity: common === 0 ? 0 : common / (a.size + b.size - common), support: common };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is n×n row-major). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

async function activeModel(t: TestApi): Promise<{ model: LatentModel; id: string }> {
  const { data } = await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }');
  const id = data!.activeModel.id;
  const registry = t.api.services()!.registry;
  const record = registry.record(id)!;
  const model = await loadModel(join(t.dir, 'models', record.file), registry.trainingData(record.ratingsThroughId));
  if (!(model instanceof LatentModel)) throw new Error('expected a latent model');
  return { model, id };
}

const codeOf = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => r.errors?.[0]?.extensions?.code;

describe('GraphQL API over HTTP', () => {
  let t: TestApi;
  let ref: Ratings;
  let popular: number;
  let someUser: number;

  beforeAll(async () => {
    t = await startTestApi();
    ref = ratingsOf(t);
    popular = [...ref.byMovie.entries()].sort((a, b) => b[1].size - a[1].size || a[0] - b[0])[0][0];
    someUser = [...ref.byUser.entries()].find(([, m]) => m.size >= 30 && m.size <= 90)![0];
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('health', () => {
    it('/healthz answers and /readyz is 200 once ready', async () => {
      const base = t.api.url.replace('/graphql', '');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, data: { ratings: t.dataset.matrix.nRatings } });
    });

    it('ping: the constant 1 through the GraphQL stack, with no token needed', async () => {
      expect(await t.gql('{ ping }', {}, { token: null })).toEqual({ status: 200, data: { ping: 1 }, errors: undefined });
    });

    it('/readyz is 503 and /graphql refuses queries until data and model are loaded', () =>
      withTempDir(async (dir) => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        // 20k ratings: on fewer, svd does not beat baseline and the guard would serve baseline instead.
        const dataset = smallDataset();
        const api = await startApi(testConfig(dir), { loadData: async () => (await gate, dataset), logger: createLogger('silent') });
        try {
          const base = api.url.replace('/graphql', '');
          expect((await fetch(`${base}/healthz`)).status).toBe(200);
          expect((await fetch(`${base}/readyz`)).status).toBe(503);
          const early = await gqlRequest(api.url, '{ activeModel { id } }');
          expect(early.status).toBe(503);
          expect(codeOf(early)).toBe('SERVICE_UNAVAILABLE');
          release();
          await api.ready;
          expect((await fetch(`${base}/readyz`)).status).toBe(200);
          expect((await gqlRequest<{ activeModel: { kind: string } }>(api.url, '{ activeModel { kind } }')).data).toEqual({ activeModel: { kind: 'SVD' } });
        } finally {
          release();
          await api.close();
        }
      }, 'recsys-api-ready-'));
  });

  describe('movies', () => {
    it('movie: title, year, ratingCount and meanRating as counted from the raw ratings', async () => {
      const { data, errors } = await t.gql<{ movie: { id: number; title: string; year: number | null; ratingCount: number; meanRating: number } }>(
        'query($id: Int!) { movie(id: $id) { id title year genres ratingCount meanRating } }',
        { id: popular },
      );
      expect(errors).toBeUndefined();
      const ratings = [...ref.byMovie.get(popular)!.values()];
      const catalog = t.dataset.catalog.get(popular);
      expect(data!.movie).toMatchObject({ id: popular, title: catalog.title, year: catalog.year, ratingCount: ratings.length });
      expect(data!.movie.meanRating).toBeCloseTo(ratings.reduce((s, r) => s + r, 0) / ratings.length, 12);
    });

    it('movie: NOT_FOUND for an unknown id, BAD_USER_INPUT for a negative one', async () => {
      const missing = await t.gql('{ movie(id: 987654) { id } }');
      expect(codeOf(missing)).toBe('NOT_FOUND');
      expect(missing.errors![0].message).toBe('movie 987654 not found');
      expect(codeOf(await t.gql('{ movie(id: -3) { id } }'))).toBe('BAD_USER_INPUT');
    });

    it('movies: pages through every movie in id order; search filters titles case-insensitively', async () => {
      const seen: number[] = [];
      let after: string | null = null;
      for (;;) {
        const res: { data: { movies: { totalCount: number; edges: Array<{ node: { id: number } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } = await t.gql(
          'query($after: String) { movies(first: 100, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }',
          { after },
        );
        const page = res.data!.movies;
        seen.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const expected = [...new Set([...t.dataset.catalog.list().map((m) => m.id), ...ref.byMovie.keys()])].sort((a, b) => a - b);
      expect(seen).toEqual(expected);

      const word = t.dataset.catalog.get(popular).title.split(' ').slice(-1)[0];
      const { data } = await t.gql<{ movies: { totalCount: number; edges: Array<{ node: { title: string } }> } }>('query($s: String) { movies(search: $s, first: 100) { totalCount edges { node { title } } } }', {
        s: word.toUpperCase(),
      });
      const matching = expected.filter((id) => t.dataset.catalog.get(id).title.toLowerCase().includes(word.toLowerCase()));
      expect(data!.movies.totalCount).toBe(matching.length);
      expect(data!.movies.edges.map((e) => e.node.title)).toEqual(matching.slice(0, 100).map((id) => t.dataset.catalog.get(id).title));
    });

    it('movies: BAD_USER_INPUT for first outside 1..100 and for a foreign cursor', async () => {
      expect(codeOf(await t.gql('{ movies(first: 0) { totalCount } }'))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('{ movies(first: 101) { totalCount } }'))).toBe('BAD_USER_INPUT');
      const users = await t.gql<{ users: { pageInfo: { endCursor: string } } }>('{ users(first: 1) { pageInfo { endCursor } } }');
      const bad = await t.gql('query($a: String) { movies(after: $a) { totalCount } }', { a: users.data!.users.pageInfo.endCursor });
      expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    });

    it('Movie.ratings: the movie\'s raters in user order, paged', async () => {
      const { data } = await t.gql<{ movie: { ratings: { totalCount: number; edges: Array<{ node: { userId: number; rating: number; source: string; user: { id: number } } }> } } }>(
        'query($id: Int!) { movie(id: $id) { ratings(first: 5) { totalCount edges { node { userId rating source user { id } } } } } }',
        { id: popular },
      );
      const raters = [...ref.byMovie.get(popular)!.entries()].sort((a, b) => a[0] - b[0]);
      expect(data!.movie.ratings.totalCount).toBe(raters.length);
      expect(data!.movie.ratings.edges.map((e) => [e.node.userId, e.node.rating])).toEqual(raters.slice(0, 5));
      expect(data!.movie.ratings.edges.every((e) => e.node.source === 'DATA' && e.node.user.id === e.node.userId)).toBe(true);
    });
  });

  describe('similar movies', () => {
    it('similarMovies (jaccard): the same top 10 as a by-hand Jaccard over rater sets', async () => {
      const { data, errors } = await t.gql<{ similarMovies: Array<{ movieId: number; similarity: number; support: number; movie: { id: number; title: string } }> }>(
        'query($id: Int!) { similarMovies(movieId: $id, n: 10) { movieId similarity support movie { id title } } }',
        { id: popular },
      );
      expect(errors).toBeUndefined();
      const mine = ref.byMovie.get(popular)!;
      const all = [...ref.byMovie.entries()].filter(([id]) => id !== popular).map(([id, raters]) => ({ id, ...jaccard(mine, raters) }));
      all.sort((a, b) => b.similarity - a.similarity || b.id - a.id);
      const got = data!.similarMovies;
      expect(got).toHaveLength(10);
      got.forEach((s, i) => {
        expect(s.similarity).toBeCloseTo(all[i].similarity, 12);
        expect(s.movieId).toBe(all[i].id);
        expect(s.support).toBe(all[i].support);
        expect(s.movie).toEqual({ id: s.movieId, title: t.dataset.catalog.get(s.movieId).title });
      });
    });

    it('Movie.similar with minSupport and another metric: every listed movie has at least that many common raters', async () => {
      const { data } = await t.gql<{ movie: { similar: Array<{ movieId: number; support: number; similarity: number }> } }>(
        'query($id: Int!) { movie(id: $id) { similar(n: 5, metric: COSINE, minSupport: 20) { movieId support similarity } } }',
        { id: popular },
      );
      const sims = data!.movie.similar;
      expect(sims.length).toBeGreaterThan(0);
      for (const s of sims) expect(s.support).toBeGreaterThanOrEqual(20);
      for (let i = 1; i < sims.length; i++) expect(sims[i].similarity).toBeLessThanOrEqual(sims[i - 1].similarity);
    });

    it('resolves the listed movies through one DataLoader batch (no N+1)', async () => {
      const catalog = t.api.services()!.catalog;
      const spy = jest.spyOn(catalog, 'movies');
      try {
        await t.gql('query($id: Int!) { similarMovies(movieId: $id, n: 20) { movie { title } } }', { id: popular });
        expect(spy).toHaveBeenCalledTimes(1);
        expect(spy.mock.calls[0][0]).toHaveLength(20);
      } finally {
        spy.mockRestore();
      }
    });

    it('similarMovies: BAD_USER_INPUT for n outside 1..100 or a negative minSupport, NOT_FOUND for an unknown movie', async () => {
      for (const n of [0, 101, -1]) expect(codeOf(await t.gql(`{ similarMovies(movieId: ${popular}, n: ${n}) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`{ similarMovies(movieId: ${popular}, minSupport: -1) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('{ similarMovies(movieId: 123456) { movieId } }'))).toBe('NOT_FOUND');
    });
  });

  describe('users, predictions and recommendations', () => {
    it('user: counts and mean from the raw ratings; NOT_FOUND for an unknown user', async () => {
      const { data } = await t.gql<{ user: { id: number; ratingCount: number; meanRating: number; ratings: { totalCount: number; edges: Array<{ node: { movieId: number; rating: number } }> } } }>(
        'query($id: Int!) { user(id: $id) { id ratingCount meanRating ratings(first: 100) { totalCount edges { node { movieId rating } } } } }',
        { id: someUser },
      );
      const mine = [...ref.byUser.get(someUser)!.entries()].sort((a, b) => a[0] - b[0]);
      expect(data!.user.ratingCount).toBe(mine.length);
      expect(data!.user.meanRating).toBeCloseTo(mine.reduce((s, [, r]) => s + r, 0) / mine.length, 12);
      expect(data!.user.ratings.edges.map((e) => [e.node.movieId, e.node.rating])).toEqual(mine);
      expect(codeOf(await t.gql('{ user(id: 99999999) { id } }'))).toBe('NOT_FOUND');
    });

    it('users: pages through every user in id order', async () => {
      const seen: number[] = [];
      let after: string | null = null;
      for (;;) {
        const res: { data: { users: { edges: Array<{ node: { id: number } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } = await t.gql(
          'query($after: String) { users(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
          { after },
        );
        seen.push(...res.data!.users.edges.map((e) => e.node.id));
        if (!res.data!.users.pageInfo.hasNextPage) break;
        after = res.data!.users.pageInfo.endCursor;
      }
      expect(seen).toEqual([...ref.byUser.keys()].sort((a, b) => a - b));
    });

    it('prediction: the stored model\'s own prediction and μ + b_u + b_i as baseline', async () => {
      const { model, id } = await activeModel(t);
      const movie = [...ref.byMovie.keys()].find((m) => !ref.byUser.get(someUser)!.has(m))!;
      const { data } = await t.gql<{ prediction: { rating: number; unclipped: number; baseline: number; isFallback: boolean; fallbackReason: string | null; model: { id: string }; user: { id: number }; movie: { id: number } } }>(
        'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating unclipped baseline isFallback fallbackReason model { id } user { id } movie { id } } }',
        { u: someUser, m: movie },
      );
      const expected = model.predict(someUser, movie);
      const s = model.state();
      const u = model.train.users.indexOf(someUser);
      const m = model.train.movies.indexOf(movie);
      expect(data!.prediction).toMatchObject({ isFallback: false, fallbackReason: null, model: { id }, user: { id: someUser }, movie: { id: movie } });
      expect(data!.prediction.rating).toBeCloseTo(expected.rating, 12);
      expect(data!.prediction.unclipped).toBeCloseTo(expected.unclipped, 12);
      expect(data!.prediction.baseline).toBeCloseTo(s.globalMean + s.userBias[u] + s.movieBias[m], 12);
    });

    it('prediction: unknown user or movie gives a flagged fallback, not an error', async () => {
      const { model } = await activeModel(t);
      const s = model.state();
      const r = await t.gql<{ a: { isFallback: boolean; fallbackReason: string; rating: number; user: null }; b: { isFallback: boolean; fallbackReason: string; movie: null } }>(
        `{ a: prediction(userId: 99999999, movieId: ${popular}) { isFallback fallbackReason rating user { id } }
           b: prediction(userId: ${someUser}, movieId: 99999) { isFallback fallbackReason movie { id } explanation { movieId } } }`,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.a).toMatchObject({ isFallback: true, fallbackReason: 'UNKNOWN_USER', user: null });
      expect(r.data!.a.rating).toBeCloseTo(s.globalMean + s.movieBias[model.train.movies.indexOf(popular)], 12);
      expect(r.data!.b).toEqual({ isFallback: true, fallbackReason: 'UNKNOWN_MOVIE', movie: null, explanation: [] });
    });

    it('predictions: a batch gives the same as one by one; BAD_USER_INPUT for an empty batch or a bad id', async () => {
      const pairs = [...ref.byMovie.keys()].slice(0, 5).map((movieId) => ({ userId: someUser, movieId }));
      const batch = await t.gql<{ predictions: Array<{ userId: number; movieId: number; rating: number }> }>(
        'query($p: [PredictionPairInput!]!) { predictions(pairs: $p) { userId movieId rating } }',
        { p: pairs },
      );
      const { model } = await activeModel(t);
      expect(batch.data!.predictions.map((p) => [p.userId, p.movieId])).toEqual(pairs.map((p) => [p.userId, p.movieId]));
      batch.data!.predictions.forEach((p) => expect(p.rating).toBeCloseTo(model.predict(p.userId, p.movieId).rating, 12));
      expect(codeOf(await t.gql('{ predictions(pairs: []) { rating } }'))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('{ predictions(pairs: [{ userId: -1, movieId: 1 }]) { rating } }'))).toBe('BAD_USER_INPUT');
    });

    it('User.prediction and its explanation: contributions ordered by size, of movies the user rated', async () => {
      const movie = [...ref.byMovie.keys()].find((m) => !ref.byUser.get(someUser)!.has(m))!;
      const { data } = await t.gql<{ user: { prediction: { rating: number; explanation: Array<{ movieId: number; rating: number; contribution: number; factorSimilarity: number; movie: { id: number } }> } } }>(
        'query($u: Int!, $m: Int!) { user(id: $u) { prediction(movieId: $m) { rating explanation(n: 4) { movieId rating contribution factorSimilarity movie { id } } } } }',
        { u: someUser, m: movie },
      );
      const items = data!.user.prediction.explanation;
      expect(items).toHaveLength(4);
      for (const item of items) {
        expect(ref.byUser.get(someUser)!.get(item.movieId)).toBe(item.rating);
        expect(Math.abs(item.factorSimilarity)).toBeLessThanOrEqual(1 + 1e-9);
      }
      for (let i = 1; i < items.length; i++) expect(Math.abs(items[i].contribution)).toBeLessThanOrEqual(Math.abs(items[i - 1].contribution));
    });

    it('recommendations: the top n of a brute-force scoring of every unrated movie', async () => {
      const { model } = await activeModel(t);
      const s = model.state();
      const k = model.factorCount;
      const u = model.train.users.indexOf(someUser);
      const scored = [...model.train.movies.ids]
        .filter((id) => !ref.byUser.get(someUser)!.has(id))
        .map((id) => {
          const m = model.train.movies.indexOf(id);
          let dot = 0;
          for (let f = 0; f < k; f++) dot += s.userFactors[u * k + f] * s.movieFactors[m * k + f];
          return { id, score: s.globalMean + s.userBias[u] + s.movieBias[m] + dot };
        })
        .sort((a, b) => b.score - a.score);
      const { data } = await t.gql<{ recommendations: Array<{ rank: number; score: number; movie: { id: number } }>; user: { recommendations: Array<{ movieId: number }> } }>(
        'query($u: Int!) { recommendations(userId: $u, n: 5) { rank score movie { id } } user(id: $u) { recommendations(n: 5) { movieId } } }',
        { u: someUser },
      );
      expect(data!.recommendations.map((r) => r.movie.id)).toEqual(scored.slice(0, 5).map((x) => x.id));
      expect(data!.recommendations.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
      data!.recommendations.forEach((r, i) => expect(r.score).toBeCloseTo(Math.min(5, Math.max(1, scored[i].score)), 5));
      expect(data!.user.recommendations.map((r) => r.movieId)).toEqual(scored.slice(0, 5).map((x) => x.id));
      const withRated = await t.gql<{ recommendations: Array<{ movieId: number }> }>('query($u: Int!) { recommendations(userId: $u, n: 100, excludeRated: false) { movieId } }', { u: someUser });
      expect(withRated.data!.recommendations.some((r) => ref.byUser.get(someUser)!.has(r.movieId))).toBe(true);
    });

    it('recommendations: NOT_FOUND for an unknown user or model, BAD_USER_INPUT for n outside 1..100', async () => {
      expect(codeOf(await t.gql('{ recommendations(userId: 99999999) { movieId } }'))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, model: "svd-nope") { movieId } }`))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, n: 0) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, n: 101) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`{ prediction(userId: ${someUser}, movieId: ${popular}, model: "nope") { rating } }`))).toBe('NOT_FOUND');
    });
  });

  describe('rateMovie', () => {
    const newUser = 7_000_001;

    it('needs the token: UNAUTHENTICATED without it or with a wrong one', async () => {
      const q = `mutation { rateMovie(userId: ${newUser}, movieId: ${popular}, rating: 4) { rating } }`;
      expect(codeOf(await t.gql(q, {}, { token: null }))).toBe('UNAUTHENTICATED');
      expect(codeOf(await t.gql(q, {}, { token: 'wrong' }))).toBe('UNAUTHENTICATED');
      expect(codeOf(await t.gql(`{ user(id: ${newUser}) { id } }`))).toBe('NOT_FOUND');
    });

    it('BAD_USER_INPUT off the scale or a bad id, NOT_FOUND for an unknown movie', async () => {
      for (const rating of [0, 5.5, 2.5, -1]) {
        const r = await t.gql(`mutation { rateMovie(userId: ${newUser}, movieId: ${popular}, rating: ${rating}) { rating } }`);
        expect(codeOf(r)).toBe('BAD_USER_INPUT');
      }
      expect(codeOf(await t.gql(`mutation { rateMovie(userId: -5, movieId: ${popular}, rating: 3) { rating } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`mutation { rateMovie(userId: ${newUser}, movieId: 424242, rating: 3) { rating } }`))).toBe('NOT_FOUND');
    });

    it('a new user\'s ratings are folded in at once: the prediction is the ridge fold-in solved by hand', async () => {
      const rated = [...ref.byMovie.keys()].slice(0, 3);
      const stars = [5, 1, 4];
      for (let j = 0; j < 3; j++) {
        const r = await t.gql<{ rateMovie: { userId: number; movieId: number; rating: number; source: string; ratedAt: string } }>(
          'mutation($u: Int!, $m: Int!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { userId movieId rating source ratedAt } }',
          { u: newUser, m: rated[j], r: stars[j] },
        );
        expect(r.errors).toBeUndefined();
        expect(r.data!.rateMovie).toMatchObject({ userId: newUser, movieId: rated[j], rating: stars[j], source: 'API' });
        expect(Number.isNaN(Date.parse(r.data!.rateMovie.ratedAt))).toBe(false);
      }
      const target = popular;
      const { model } = await activeModel(t);
      const s = model.state();
      const k = model.factorCount;
      // svd (sgd solver) folds in with λ = 1 on p_u and b_u: minimise Σ (r − μ − b_j − b_u − p·q_j)² + λ(‖p‖² + b_u²).
      const X = rated.map((id) => {
        const m = model.train.movies.indexOf(id);
        return [...s.movieFactors.subarray(m * k, m * k + k), 1];
      });
      const y = rated.map((id, j) => stars[j] - s.globalMean - s.movieBias[model.train.movies.indexOf(id)]);
      const A = Array.from({ length: k + 1 }, (_, a) => Array.from({ length: k + 1 }, (_, b) => X.reduce((sum, x) => sum + x[a] * x[b], 0) + (a === b ? 1 : 0)));
      const rhs = Array.from({ length: k + 1 }, (_, a) => X.reduce((sum, x, j) => sum + x[a] * y[j], 0));
      const v = solve(A, rhs);
      const mt = model.train.movies.indexOf(target);
      let expected = s.globalMean + v[k] + s.movieBias[mt];
      for (let f = 0; f < k; f++) expected += v[f] * s.movieFactors[mt * k + f];

      const { data } = await t.gql<{ prediction: { unclipped: number; isFallback: boolean; foldedIn: boolean; explanation: Array<{ contribution: number }> }; user: { ratingCount: number; meanRating: number } }>(
        `{ prediction(userId: ${newUser}, movieId: ${target}) { unclipped isFallback foldedIn explanation(n: 100) { contribution } }
           user(id: ${newUser}) { ratingCount meanRating } }`,
      );
      expect(data!.prediction.isFallback).toBe(false);
      expect(data!.prediction.foldedIn).toBe(true);
      expect(data!.prediction.unclipped).toBeCloseTo(expected, 4);
      // The explanation splits b_u + p_u·q_i exactly over the three rated movies.
      const total = data!.prediction.explanation.reduce((sum, e) => sum + e.contribution, 0);
      expect(data!.prediction.explanation).toHaveLength(3);
      expect(total).toBeCloseTo(data!.prediction.unclipped - s.globalMean - s.movieBias[mt], 4);
      expect(data!.user).toEqual({ ratingCount: 3, meanRating: 10 / 3 });
    });

    it('a known user re-rating a movie changes that rating and the movie\'s count stays', async () => {
      const movie = [...ref.byUser.get(someUser)!.keys()][0];
      const before = await t.gql<{ movie: { ratingCount: number } }>(`{ movie(id: ${movie}) { ratingCount } }`);
      const old = ref.byUser.get(someUser)!.get(movie)!;
      const next = old === 5 ? 1 : 5;
      await t.gql(`mutation { rateMovie(userId: ${someUser}, movieId: ${movie}, rating: ${next}) { rating } }`);
      const after = await t.gql<{ movie: { ratingCount: number }; user: { ratingCount: number; ratings: { edges: Array<{ node: { movieId: number; rating: number; source: string } }> } } }>(
        `{ movie(id: ${movie}) { ratingCount } user(id: ${someUser}) { ratingCount ratings(first: 100) { edges { node { movieId rating source } } } } }`,
      );
      expect(after.data!.movie.ratingCount).toBe(before.data!.movie.ratingCount);
      expect(after.data!.user.ratingCount).toBe(ref.byUser.get(someUser)!.size);
      expect(after.data!.user.ratings.edges.find((e) => e.node.movieId === movie)!.node).toEqual({ movieId: movie, rating: next, source: 'API' });
    });
  });

  describe('retrain, training runs and models', () => {
    it('retrain needs the token', async () => {
      expect(codeOf(await t.gql('mutation { retrain { id } }', {}, { token: null }))).toBe('UNAUTHENTICATED');
    });

    it('retrain refuses unknown parameters and bad values with BAD_USER_INPUT', async () => {
      const unknown = await t.gql('mutation { retrain(input: { parameters: { colour: 3 } }) { id } }');
      expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
      expect(unknown.errors![0].message).toMatch(/colour/);
      expect(codeOf(await t.gql('mutation { retrain(input: { parameters: { factors: -2 } }) { id } }'))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('mutation { retrain(input: { kind: BASELINE, threads: 2 }) { id } }'))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('mutation { retrain(input: { threads: 0 }) { id } }'))).toBe('BAD_USER_INPUT');
    });

    it('runs in a worker, reports every epoch over the subscription, then swaps the active model; a second request meanwhile is a CONFLICT', async () => {
      const { createClient } = await import('graphql-ws');
      const WebSocket = (await import('ws')).default;
      const client = createClient({ url: t.api.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
      const before = await t.gql<{ activeModel: { id: string; dataFingerprint: { users: number; ratings: number } }; models: { totalCount: number } }>(
        '{ activeModel { id dataFingerprint { users ratings } } models { totalCount } }',
      );
      const events: Array<{ status: string; epoch: number; epochs: Array<{ epoch: number; trainRmse: number }>; modelId: string | null; id: string }> = [];
      const finished = new Promise<void>((resolve, reject) => {
        client.subscribe<{ trainingRunUpdated: (typeof events)[number] }>(
          { query: 'subscription { trainingRunUpdated { id status epoch modelId epochs { epoch trainRmse } } }' },
          {
            next: (msg) => {
              if (msg.errors) reject(new Error(JSON.stringify(msg.errors)));
              const e = msg.data!.trainingRunUpdated;
              events.push(e);
              if (e.status === 'SUCCEEDED' || e.status === 'FAILED') resolve();
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await new Promise((r) => setTimeout(r, 100));
      try {
        const started = await t.gql<{ retrain: { id: string; status: string; kind: string; totalEpochs: number; parameters: Record<string, unknown> } }>(
          'mutation { retrain(input: { parameters: { epochs: 12, factors: 8 } }) { id status kind totalEpochs parameters } }',
        );
        expect(started.errors).toBeUndefined();
        expect(started.data!.retrain).toMatchObject({ status: 'QUEUED', kind: 'SVD', totalEpochs: 12 });
        expect(started.data!.retrain.parameters).toMatchObject({ epochs: 12, factors: 8, lr: 0.01 });
        const second = await t.gql('mutation { retrain { id } }');
        expect(codeOf(second)).toBe('CONFLICT');
        await finished;
        const runId = started.data!.retrain.id;
        const last = events[events.length - 1];
        expect(last).toMatchObject({ id: runId, status: 'SUCCEEDED', epoch: 12 });
        expect(events.some((e) => e.status === 'RUNNING')).toBe(true);
        expect(last.epochs.map((e) => e.epoch)).toEqual([...Array(12).keys()].map((i) => i + 1));
        for (const e of last.epochs) expect(Number.isFinite(e.trainRmse)).toBe(true);
        const after = await t.gql<{
          activeModel: { id: string; parameters: { factors: number }; dataFingerprint: { users: number }; trainingRunId: string };
          models: { totalCount: number; edges: Array<{ node: { id: string; active: boolean } }> };
          trainingRun: { status: string; model: { id: string }; finishedAt: string };
          trainingRuns: { edges: Array<{ node: { id: string } }> };
        }>(
          `query($id: ID!) { activeModel { id parameters dataFingerprint { users } trainingRunId }
             models { totalCount edges { node { id active } } }
             trainingRun(id: $id) { status model { id } finishedAt }
             trainingRuns(first: 1) { edges { node { id } } } }`,
          { id: runId },
        );
        const a = after.data!;
        expect(a.activeModel.id).not.toBe(before.data!.activeModel.id);
        expect(a.activeModel.id).toBe(last.modelId);
        expect(a.activeModel.parameters.factors).toBe(8);
        expect(a.activeModel.trainingRunId).toBe(runId);
        // The API ratings of the new user are now training data (one more user).
        expect(a.activeModel.dataFingerprint.users).toBe(before.data!.activeModel.dataFingerprint.users + 1);
        expect(a.models.totalCount).toBe(before.data!.models.totalCount + 1);
        expect(a.models.edges[0].node).toEqual({ id: a.activeModel.id, active: true });
        expect(a.trainingRun.model.id).toBe(a.activeModel.id);
        expect(a.trainingRuns.edges[0].node.id).toBe(runId);
        // The older model still answers when named.
        const old = await t.gql<{ prediction: { modelId: string } }>(`{ prediction(userId: ${someUser}, movieId: ${popular}, model: "${before.data!.activeModel.id}") { modelId } }`);
        expect(old.data!.prediction.modelId).toBe(before.data!.activeModel.id);
        // The new user's ratings are in the new model: no fold-in needed any more.
        const p = await t.gql<{ prediction: { foldedIn: boolean; isFallback: boolean } }>(`{ prediction(userId: 7000001, movieId: ${popular}) { foldedIn isFallback } }`);
        expect(p.data!.prediction).toEqual({ foldedIn: false, isFallback: false });
      } finally {
        await client.dispose();
      }
    });

    it('a failed training keeps the old model serving and records the error', async () => {
      const { renameSync, writeFileSync } = await import('node:fs');
      const modelDir = join(t.dir, 'models');
      const before = await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }');
      // Make the artifact unwritable: the model folder becomes a plain file (fails even as root).
      renameSync(modelDir, `${modelDir}.away`);
      writeFileSync(modelDir, 'not a folder');
      try {
        const started = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE }) { id } }');
        expect(started.errors).toBeUndefined();
        const runId = started.data!.retrain.id;
        let run: { status: string; error: string | null; model: null } | undefined;
        for (let i = 0; i < 200; i++) {
          run = (await t.gql<{ trainingRun: { status: string; error: string | null; model: null } }>('query($id: ID!) { trainingRun(id: $id) { status error model { id } } }', { id: runId })).data!.trainingRun;
          if (run.status === 'FAILED' || run.status === 'SUCCEEDED') break;
          await new Promise((r) => setTimeout(r, 25));
        }
        expect(run!.status).toBe('FAILED');
        expect(run!.error).toMatch(/ENOTDIR|not a directory/i);
        expect(run!.model).toBeNull();
        const after = await t.gql<{ activeModel: { id: string }; prediction: { isFallback: boolean } }>(`{ activeModel { id } prediction(userId: ${someUser}, movieId: ${popular}) { isFallback } }`);
        expect(after.data!.activeModel.id).toBe(before.data!.activeModel.id);
        expect(after.data!.prediction.isFallback).toBe(false);
      } finally {
        rmSync(modelDir, { force: true });
        renameSync(`${modelDir}.away`, modelDir);
      }
    });

    it('trainingRun: NOT_FOUND for an unknown id; models: BAD_USER_INPUT for a stale cursor', async () => {
      expect(codeOf(await t.gql('{ trainingRun(id: "no-such-run") { id } }'))).toBe('NOT_FOUND');
      const stale = Buffer.from('model:gone').toString('base64url');
      expect(codeOf(await t.gql(`{ models(after: "${stale}") { totalCount } }`))).toBe('BAD_USER_INPUT');
    });
  });

  describe('limits', () => {
    it('refuses queries nested deeper than the limit', async () => {
      let q = 'id';
      for (let i = 0; i < 7; i++) q = `similar(n: 1) { movie { ${q} } }`;
      const r = await t.gql(`{ movie(id: ${popular}) { ${q} } }`);
      expect(r.status).toBe(400);
      expect(codeOf(r)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors![0].message).toMatch(/depth \d+ exceeds the limit of 12/);
    });

    it('refuses queries whose estimated complexity is over the limit', async () => {
      const r = await t.gql('{ users(first: 100) { edges { node { recommendations(n: 100) { movie { similar(n: 100) { movieId } } } } } } }');
      expect(r.status).toBe(400);
      expect(codeOf(r)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors![0].message).toMatch(/complexity \d+ exceeds the limit of 20000/);
    });

    it('judges every request: a refused text stays refused, and a query with variables is costed with each request\'s values', async () => {
      const heavy = '{ users(first: 100) { edges { node { recommendations(n: 100) { movie { similar(n: 100) { movieId } } } } } } }';
      for (let i = 0; i < 2; i++) expect(codeOf(await t.gql(heavy))).toBe('GRAPHQL_VALIDATION_FAILED');
      // users(first: $n) costs 1 + n·(edges 1 + node 1 + recommendations (10 + 100·(movie 1 + similar (20 + 100·1)))) = 1 + 12112·n: under 20000 for n = 1 only.
      const q = 'query($n: Int!) { users(first: $n) { edges { node { recommendations(n: 100) { movie { similar(n: 100) { movieId } } } } } } }';
      for (const [n, refused] of [[1, false], [2, true], [1, false], [2, true]] as const) {
        const r = await t.gql(q, { n });
        expect(codeOf(r)).toBe(refused ? 'GRAPHQL_VALIDATION_FAILED' : undefined);
        if (refused) expect(r.errors![0].message).toMatch(new RegExp(`complexity ${1 + 12112 * n} exceeds`));
      }
      // A directive's variable changes the cost too: 1 + 2·(2 + 10 + 100·rank 1) = 225 without the movie, 1 + 2·(2 + 10 + 100·(1 + 121)) = 24425 with it.
      const gated = 'query($b: Boolean!) { users(first: 2) { edges { node { recommendations(n: 100) { rank movie @include(if: $b) { similar(n: 100) { movieId } } } } } } }';
      for (const [b, refused] of [[false, false], [true, true], [false, false]] as const) {
        const r = await t.gql(gated, { b });
        expect(codeOf(r)).toBe(refused ? 'GRAPHQL_VALIDATION_FAILED' : undefined);
        if (refused) expect(r.errors![0].message).toMatch(/complexity 24425 exceeds/);
      }
    });

    it('argument validation failures say which argument and value, with code BAD_USER_INPUT', async () => {
      const r = await t.gql('{ movies(first: 101) { totalCount } }');
      expect(r.errors![0]).toMatchObject({ message: 'first must not be greater than 100, got 101', extensions: { code: 'BAD_USER_INPUT', argument: 'first' } });
      const list = await t.gql('{ predictions(pairs: [{ userId: 1, movieId: 1 }]) { explanation(n: 0) { movieId } } }');
      expect(list.errors![0]).toMatchObject({ message: 'n must not be less than 1, got 0', extensions: { code: 'BAD_USER_INPUT', argument: 'n' } });
    });

    it('refuses request bodies over 100 kB with 413', async () => {
      const res = await fetch(t.api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ activeModel { id } } # ${'x'.repeat(110_000)}` }) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('GET /graphql serves GraphiQL to browsers (bundles from node_modules), not Apollo\'s landing page', async () => {
      const res = await fetch(t.api.url, { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('/graphiql/graphiql/graphiql.min.js');
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      const base = t.api.url.replace('/graphql', '');
      for (const asset of ['/graphiql/react/react.production.min.js', '/graphiql/react-dom/react-dom.production.min.js', '/graphiql/graphiql/graphiql.min.js', '/graphiql/graphiql/graphiql.min.css']) {
        expect((await fetch(base + asset)).status).toBe(200);
      }
    });
  });

  it('the token is compared exactly (a prefix or a different scheme is refused)', async () => {
    const q = 'mutation { retrain(input: { parameters: { colour: 1 } }) { id } }';
    expect(codeOf(await t.gql(q, {}, { token: TEST_TOKEN.slice(0, -1) }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(q, {}, { token: `${TEST_TOKEN}x` }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(q))).toBe('BAD_USER_INPUT');
  });
});
