import 'reflect-metadata';
import { join } from 'node:path';
import { TestApi, TEST_TOKEN } from './testing/harness';
import { rmSync } from 'node:fs';
import { activeModel, codeOf, Ratings, solve, startApiFixture } from './testing/api-fixtures';

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

    it('retrain refuses a huge or deeply nested parameter without echoing it back whole, and stores no run', async () => {
      const runsBefore = (await t.gql<{ trainingRuns: { totalCount: number } }>('{ trainingRuns(first: 1) { totalCount } }')).data!.trainingRuns.totalCount;
      let deep: unknown = 1;
      for (let i = 0; i < 2000; i++) deep = { a: deep };
      const huge = 'x'.repeat(90_000);
      for (const parameters of [{ solver: huge }, { [huge]: 1 }, { epochs: deep }]) {
        const r = await t.gql('mutation($p: JSONObject) { retrain(input: { kind: BASELINE, parameters: $p }) { id } }', { p: parameters });
        expect(codeOf(r)).toBe('BAD_USER_INPUT');
        const message = r.errors![0].message;
        expect(message.startsWith('input.parameters: baseline: ')).toBe(true);
        // 400 characters of the models' message, then how long it was.
        expect(message).toMatch(/… \(cut: [\d,]+ characters in all\)$/);
        expect(message.length).toBeLessThan(500);
      }
      // A bad value of an argument checked by the API itself is cut the same way.
      const cursor = await t.gql('query($after: String) { trainingRuns(first: 1, after: $after) { totalCount } }', { after: 'y'.repeat(50_000) });
      expect(codeOf(cursor)).toBe('BAD_USER_INPUT');
      expect(cursor.errors![0].message.length).toBeLessThan(500);
      expect((await t.gql<{ trainingRuns: { totalCount: number } }>('{ trainingRuns(first: 1) { totalCount } }')).data!.trainingRuns.totalCount).toBe(runsBefore);
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
