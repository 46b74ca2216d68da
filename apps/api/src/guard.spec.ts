// One guard for every transport: the same limits refuse the same operations over HTTP and over
// graphql-ws, with the same codes; errors are masked alike; the WebSocket has its own limits
// (message size, Origin, operations per socket).
import { Writable } from 'node:stream';
import { getIntrospectionQuery, print } from 'graphql';
import { DashTrainingRunsDocument } from '@recsys/client';
import pino from 'pino';
import { corsOrigins, resolveConfig } from './config';
import { DEFAULT_GUARD_LIMITS, guardLimitsFromEnv } from './http/limits';
import { originAllowed } from './http/websocket';
import { startTestApi, TestApi, TEST_TOKEN } from './testing/harness';
import { openWsSession, WsSession } from './testing/ws-client';

jest.setTimeout(60_000);

type Errors = Array<{ message: string; extensions?: { code?: string; logId?: string } }>;
const codeOf = (errors: Errors | undefined) => errors?.[0]?.extensions?.code;

describe('one guard for HTTP and WebSocket', () => {
  let t: TestApi;
  let ws: WsSession;
  const logLines: string[] = [];
  let nextId = 0;

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
    t = await startTestApi({ config: { corsOrigins: ['https://app.example'] }, start: { logger } });
    ws = await openWsSession(t.api.url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  });
  afterAll(async () => {
    await ws?.close();
    await t?.close();
  });

  /** The same operation over both transports: the HTTP errors and the WebSocket errors (or data). */
  async function both(query: string, variables: Record<string, unknown> = {}): Promise<{ http: { status: number; errors: Errors | undefined; data: unknown }; ws: { errors: Errors | undefined; data: unknown } }> {
    const http = await t.gql(query, variables);
    const id = String(++nextId);
    ws.subscribe(id, { query, variables });
    const end = await ws.result(id);
    const next = ws.replies.find((r) => r.id === id && r.type === 'next')?.payload as { data?: unknown; errors?: Errors } | undefined;
    const errors = end.type === 'error' ? (end.payload as Errors) : next?.errors;
    return { http: { status: http.status, errors: http.errors as Errors | undefined, data: http.data }, ws: { errors, data: next?.data ?? null } };
  }

  it('refuses too many aliases on both transports', async () => {
    const query = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: ping`).join(' ')} }`;
    const r = await both(query);
    expect(r.http.status).toBe(400);
    for (const errors of [r.http.errors, r.ws.errors]) {
      expect(codeOf(errors)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(errors![0].message).toBe('31 aliases exceed the limit of 30');
    }
    // 30 are fine.
    const ok = await both(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: ping`).join(' ')} }`);
    expect(ok.http.errors).toBeUndefined();
    expect(ok.ws.errors).toBeUndefined();
  });

  it('counts introspection in the cost: GraphiQL\'s introspection query passes, ten __schema do not', async () => {
    const full = await both(getIntrospectionQuery());
    expect(full.http.errors).toBeUndefined();
    expect(full.ws.errors).toBeUndefined();
    const ten = await both(`{ ${Array.from({ length: 10 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`);
    for (const errors of [ten.http.errors, ten.ws.errors]) {
      expect(codeOf(errors)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(errors![0].message).toMatch(/complexity \d+ exceeds the limit of 20000/);
    }
  });

  it('costs WebSocket operations as HTTP ones, with their variables', async () => {
    const heavy = `{ ${Array.from({ length: 25 }, (_, i) => `r${i}: users(first: 8) { edges { node { recommendations(n: 100) { rank } } } }`).join(' ')} }`;
    const r = await both(heavy);
    for (const errors of [r.http.errors, r.ws.errors]) expect(errors![0].message).toMatch(/complexity \d+ exceeds the limit of 20000/);
    const q = 'query($n: Int!) { users(first: $n) { edges { node { recommendations(n: 100) { movie { similar(n: 100) { movieId } } } } } } }';
    expect(codeOf((await both(q, { n: 2 })).ws.errors)).toBe('GRAPHQL_VALIDATION_FAILED');
    const one = await both(q, { n: 1 });
    expect(one.ws.errors).toBeUndefined();
  });

  it('costs lists of epochs (TrainingRun.epochs, ModelInfo.history) by their size: 30 aliases of 100 runs with their epochs are refused, the dashboard\'s runs query passes', async () => {
    for (const list of ['trainingRuns(first: 100) { edges { node { epochs { epoch } } } }', 'models(first: 100) { edges { node { history { epoch } } } }']) {
      const r = await both(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: ${list}`).join(' ')} }`);
      for (const errors of [r.http.errors, r.ws.errors]) {
        expect(codeOf(errors)).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(errors![0].message).toMatch(/complexity \d+ exceeds the limit of 20000/);
      }
    }
    // What the dashboard's training view asks: its last 20 runs with every epoch.
    const dashboard = await both(print(DashTrainingRunsDocument), { first: 20 });
    expect(dashboard.http.errors).toBeUndefined();
    expect(dashboard.ws.errors).toBeUndefined();
  });

  it('refuses documents over the token limit and too deep ones on both transports', async () => {
    const long = await both(`{ ping ${'a '.repeat(15_000)} }`);
    expect(long.http.status).toBe(400);
    for (const errors of [long.http.errors, long.ws.errors]) {
      expect(codeOf(errors)).toBe('GRAPHQL_PARSE_FAILED');
      expect(errors![0].message).toMatch(/contains more th.. 15000 tokens/);
    }
    // A batch of 1,000 literal pairs (the most `predictions` takes) is within the limit.
    const pairs = Array.from({ length: 1000 }, (_, i) => `{ userId: ${t.dataset.matrix.users.ids[i % 50]}, movieId: ${t.dataset.matrix.movies.ids[i % 50]} }`).join(' ');
    const batch = await both(`{ predictions(pairs: [${pairs}]) { rating } }`);
    expect(batch.http.errors).toBeUndefined();
    expect(batch.ws.errors).toBeUndefined();
    let q = 'id';
    for (let i = 0; i < 7; i++) q = `similar(n: 1) { movie { ${q} } }`;
    const deep = await both(`{ movie(id: ${t.dataset.matrix.movies.ids[0]}) { ${q} } }`);
    for (const errors of [deep.http.errors, deep.ws.errors]) expect(errors![0].message).toMatch(/depth \d+ exceeds the limit of 12/);
  });

  it('masks internal errors alike: "internal error" with a log id, the detail in the log', async () => {
    const services = t.api.services()!;
    const original = services.catalog.similarMovies;
    services.catalog.similarMovies = async () => {
      throw new Error('secret detail at /srv/recsys/x.ts:12');
    };
    try {
      const r = await both(`{ similarMovies(movieId: ${t.dataset.matrix.movies.ids[0]}, n: 2) { movieId } }`);
      for (const errors of [r.http.errors, r.ws.errors]) {
        expect(errors![0].message).toBe('internal error');
        expect(errors![0].extensions!.code).toBe('INTERNAL_SERVER_ERROR');
        expect(errors![0].extensions!.logId).toMatch(/^[0-9a-f]{12}$/);
        expect(JSON.stringify(errors)).not.toMatch(/secret|\/srv/);
        expect(logLines.some((l) => l.includes(errors![0].extensions!.logId!) && l.includes('secret detail'))).toBe(true);
      }
      // Errors with a code keep their message.
      const nf = await both('{ movie(id: 2000000000) { id } }');
      for (const errors of [nf.http.errors, nf.ws.errors]) expect(errors![0]).toMatchObject({ message: 'movie 2000000000 not found', extensions: { code: 'NOT_FOUND' } });
    } finally {
      services.catalog.similarMovies = original;
    }
  });

  it('caps the operations at once on one socket', async () => {
    const s = await openWsSession(t.api.url);
    try {
      const limit = DEFAULT_GUARD_LIMITS.maxSubscriptionsPerSocket;
      for (let i = 0; i < limit + 5; i++) s.subscribe(`s${i}`, { query: 'subscription { trainingRunUpdated { id } }' });
      for (let i = limit; i < limit + 5; i++) {
        const end = await s.result(`s${i}`);
        expect(end.type).toBe('error');
        expect((end.payload as Errors)[0].extensions!.code).toBe('TOO_MANY_SUBSCRIPTIONS');
      }
      // The first ones are live (no reply yet), and the socket still answers queries once one is completed.
      expect(s.replies.filter((r) => r.id !== undefined && Number(r.id.slice(1)) < limit)).toEqual([]);
      s.socket.send(JSON.stringify({ id: 's0', type: 'complete' }));
      await new Promise((r) => setTimeout(r, 50));
      s.subscribe('q', { query: '{ ping }' });
      expect((await s.result('q')).type).toBe('complete');
      expect(s.replies.find((r) => r.id === 'q' && r.type === 'next')!.payload).toEqual({ data: { ping: 1 } });
    } finally {
      await s.close();
    }
  });

  it('closes a socket that floods past the operations limit (4429 after 100 refusals)', async () => {
    const s = await openWsSession(t.api.url);
    for (let i = 0; i < 2_000 && s.socket.readyState === s.socket.OPEN; i++) s.subscribe(`f${i}`, { query: 'subscription { trainingRunUpdated { id } }' });
    const { code, reason } = await s.closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/more than 100 operations refused/);
    expect((await t.gql('{ ping }')).data).toEqual({ ping: 1 });
  });

  it('closes a socket whose message is larger than the body limit (1009), and the server stays up', async () => {
    const s = await openWsSession(t.api.url);
    s.subscribe('big', { query: `{ ping } # ${'x'.repeat(110_000)}` });
    const { code } = await s.closed;
    expect(code).toBe(1009);
    expect((await t.gql('{ ping }')).data).toEqual({ ping: 1 });
  });

  it('checks the Origin of WebSocket upgrades: none, its own and listed ones pass, foreign ones get 403', async () => {
    const host = new URL(t.api.url).host;
    await expect(openWsSession(t.api.url, { origin: 'https://evil.example' })).rejects.toThrow(/HTTP 403/);
    for (const origin of [`http://${host}`, 'https://app.example']) {
      const s = await openWsSession(t.api.url, { origin });
      await s.close();
    }
  });
});

describe('guard configuration', () => {
  it('reads RECSYS_CORS_ORIGINS into origins and refuses anything else', () => {
    expect(corsOrigins({})).toEqual([]);
    expect(corsOrigins({ RECSYS_CORS_ORIGINS: ' https://a.example , http://localhost:5173/ ,' })).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(() => corsOrigins({ RECSYS_CORS_ORIGINS: 'https://a.example/path' })).toThrow(/RECSYS_CORS_ORIGINS/);
    expect(() => corsOrigins({ RECSYS_CORS_ORIGINS: '*' })).toThrow(/RECSYS_CORS_ORIGINS/);
    expect(resolveConfig([], { RECSYS_CORS_ORIGINS: 'https://a.example' }).corsOrigins).toEqual(['https://a.example']);
  });

  it('reads the limits from RECSYS_* variables, defaults otherwise', () => {
    expect(guardLimitsFromEnv({})).toEqual(DEFAULT_GUARD_LIMITS);
    expect(guardLimitsFromEnv({ RECSYS_MAX_ALIASES: '5', RECSYS_OPERATION_TIMEOUT_MS: '2500' })).toMatchObject({ maxAliases: 5, operationTimeoutMs: 2500 });
    expect(() => guardLimitsFromEnv({ RECSYS_MAX_SUBSCRIPTIONS: '0' })).toThrow(/RECSYS_MAX_SUBSCRIPTIONS must be an integer in 1\.\./);
    expect(resolveConfig([], { RECSYS_MAX_COMPLEXITY: '500' }).maxComplexity).toBe(500);
  });

  it('originAllowed: no Origin and same host pass; others only when listed', () => {
    expect(originAllowed(undefined, 'h:1', [])).toBe(true);
    expect(originAllowed('http://h:1', 'h:1', [])).toBe(true);
    expect(originAllowed('http://h:2', 'h:1', [])).toBe(false);
    expect(originAllowed('https://x.example', 'h:1', ['https://x.example'])).toBe(true);
    expect(originAllowed('null', 'h:1', [])).toBe(false);
  });
});
