import 'reflect-metadata';
import { withTempDir } from '@recsys/testing';
import { gqlRequest, smallDataset, TestApi } from './testing/harness';
import { startApi } from './server';
import { testConfig } from './testing/harness';
import { createLogger } from './logger';
import { activeModel, codeOf, jaccard, Ratings, startApiFixture } from './testing/api-fixtures';

jest.setTimeout(30_000);

describe('GraphQL API over HTTP', () => {
  let t: TestApi;
  let ref: Ratings;
  let popular: number;
  let someUser: number;

  beforeAll(async () => {
    ({ t, ref, popular, someUser } = await startApiFixture());
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
      // One process over SQLite: no other replicas, so no events to listen to.
      expect(await ready.json()).toMatchObject({ ready: true, data: { ratings: t.dataset.matrix.nRatings }, store: { location: expect.stringMatching(/\.sqlite$/), shared: false, events: null } });
    });

    it('ping: the constant 1 through the GraphQL stack, with no token needed', async () => {
      expect(await t.gql('{ ping }', {}, { token: null })).toEqual({ status: 200, data: { ping: 1 }, errors: undefined });
    });

    it('POST answers carry no ETag (a POST is never revalidated) and GET answers keep theirs, as before; neither says X-Powered-By; both no-store', async () => {
      const body = JSON.stringify({ query: '{ ping }' });
      const post = await fetch(t.api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(await post.text()).toBe('{"data":{"ping":1}}\n');
      const get = await fetch(`${t.api.url}?query=${encodeURIComponent('{ ping }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': '1' } });
      expect(await get.text()).toBe('{"data":{"ping":1}}\n');
      expect([post.status, post.headers.get('etag'), post.headers.get('x-powered-by'), post.headers.get('cache-control'), post.headers.get('content-length')]).toEqual([200, null, null, 'no-store', '20']);
      expect([get.status, get.headers.get('etag'), get.headers.get('x-powered-by'), get.headers.get('cache-control')]).toEqual([200, expect.stringMatching(/^W\/"14-/), null, 'no-store']);
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
          // Ready with the startup baseline; the configured svd replaces it once trained.
          await api.configuredModel;
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

    it('recommendations of the rating model named: the top n of a brute-force scoring of every unrated movie', async () => {
      const { model, id } = await activeModel(t);
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
        'query($u: Int!, $m: ID) { recommendations(userId: $u, n: 5, model: $m) { rank score movie { id } } user(id: $u) { recommendations(n: 5, model: $m) { movieId } } }',
        { u: someUser, m: id },
      );
      expect(data!.recommendations.map((r) => r.movie.id)).toEqual(scored.slice(0, 5).map((x) => x.id));
      expect(data!.recommendations.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
      data!.recommendations.forEach((r, i) => expect(r.score).toBeCloseTo(Math.min(5, Math.max(1, scored[i].score)), 5));
      expect(data!.user.recommendations.map((r) => r.movieId)).toEqual(scored.slice(0, 5).map((x) => x.id));
      const withRated = await t.gql<{ recommendations: Array<{ movieId: number }> }>('query($u: Int!, $m: ID) { recommendations(userId: $u, n: 100, excludeRated: false, model: $m) { movieId } }', { u: someUser, m: id });
      expect(withRated.data!.recommendations.some((r) => ref.byUser.get(someUser)!.has(r.movieId))).toBe(true);
    });

    it('recommendations by default: the active ranking model (popular): the most-rated movies the user has not rated, score = rating count', async () => {
      const counts = [...ref.byMovie.entries()].filter(([id]) => !ref.byUser.get(someUser)!.has(id)).map(([id, raters]) => ({ id, count: raters.size }));
      counts.sort((a, b) => b.count - a.count || a.id - b.id);
      const { data, errors } = await t.gql<{ recommendations: Array<{ movieId: number; score: number }>; activeModels: { ranking: { kind: string; role: string } } }>(
        'query($u: Int!) { recommendations(userId: $u, n: 5) { movieId score } activeModels { ranking { kind role } } }',
        { u: someUser },
      );
      expect(errors).toBeUndefined();
      expect(data!.activeModels.ranking).toEqual({ kind: 'POPULAR', role: 'RANKING' });
      expect(data!.recommendations).toEqual(counts.slice(0, 5).map((c) => ({ movieId: c.id, score: c.count })));
    });

    it('recommendations: NOT_FOUND for an unknown user or model, BAD_USER_INPUT for n outside 1..100', async () => {
      expect(codeOf(await t.gql('{ recommendations(userId: 99999999) { movieId } }'))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, model: "svd-nope") { movieId } }`))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, n: 0) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`{ recommendations(userId: ${someUser}, n: 101) { movieId } }`))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(`{ prediction(userId: ${someUser}, movieId: ${popular}, model: "nope") { rating } }`))).toBe('NOT_FOUND');
    });
  });
});
