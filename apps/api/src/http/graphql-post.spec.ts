import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { startTestApi, TestApi } from '../testing/harness';
import { isGraphqlJsonPost } from './graphql-post';

function request(method: string, url: string, headers: Record<string, string>): IncomingMessage {
  return { method, url, headers } as unknown as IncomingMessage;
}

describe('isGraphqlJsonPost: which requests skip Express', () => {
  const json = { 'content-type': 'application/json', 'content-length': '20' };
  it.each([
    ['POST /graphql, application/json with a length', 'POST', '/graphql', json, true],
    ['a query string', 'POST', '/graphql?op=x', json, true],
    ['a charset and upper case', 'POST', '/graphql', { 'content-type': 'Application/JSON; charset=utf-8', 'content-length': '3' }, true],
    ['chunked (no length)', 'POST', '/graphql', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, true],
    ['GET', 'GET', '/graphql', json, false],
    ['a trailing slash', 'POST', '/graphql/', json, false],
    ['another path', 'POST', '/graphqlx', json, false],
    ['text/plain', 'POST', '/graphql', { 'content-type': 'text/plain', 'content-length': '20' }, false],
    ['application/jsonx', 'POST', '/graphql', { 'content-type': 'application/jsonx', 'content-length': '20' }, false],
    ['application/graphql+json', 'POST', '/graphql', { 'content-type': 'application/graphql+json', 'content-length': '20' }, false],
    ['no content type', 'POST', '/graphql', { 'content-length': '20' }, false],
    ['no body (neither length nor transfer-encoding)', 'POST', '/graphql', { 'content-type': 'application/json' }, false],
    ['a length that is not a number', 'POST', '/graphql', { 'content-type': 'application/json', 'content-length': 'x' }, false],
  ])('%s', (_name, method, url, headers, expected) => {
    expect(isGraphqlJsonPost(request(method, url, headers))).toBe(expected);
  });
});

/**
 * The same requests to `/graphql` (node's listener straight to Apollo) and to `/graphql/` (which
 * takes the Express chain, as every POST did before): the answers must match, status, body and
 * the headers a client reads.
 */
describe('POST /graphql without Express answers as the Express chain does', () => {
  let t: TestApi;
  const allowed = 'https://app.example.com';
  beforeAll(async () => {
    t = await startTestApi({ config: { corsOrigins: [allowed] } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function both(init: { body: string; headers: Record<string, string> }) {
    const answer = async (url: string) => {
      const res = await fetch(url, { method: 'POST', ...init });
      const h = (name: string) => res.headers.get(name);
      return { status: res.status, body: await res.text(), type: h('content-type'), cache: h('cache-control'), vary: h('vary'), origin: h('access-control-allow-origin'), poweredBy: h('x-powered-by'), etag: h('etag') };
    };
    const fast = await answer(t.api.url);
    // No ETag on POST answers (only GET and HEAD are revalidated); Express's error handler adds one.
    expect(fast.etag).toBeNull();
    const express = await answer(`${t.api.url}/`);
    return { fast: { ...fast, etag: undefined }, express: { ...express, etag: undefined } };
  }
  const json = (body: unknown, headers: Record<string, string> = {}) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  it('a query, with and without an allowed origin, and from another origin', async () => {
    for (const origin of [undefined, allowed, 'https://evil.example']) {
      const { fast, express } = await both(json({ query: '{ ping }' }, origin ? { origin } : {}));
      expect(fast).toEqual(express);
      expect(fast).toMatchObject({ status: 200, body: '{"data":{"ping":1}}\n', cache: 'no-store', vary: 'Origin', origin: origin === allowed ? allowed : null, poweredBy: null });
    }
  });

  it('a prediction with variables, an unknown user (NOT_FOUND in the body) and a validation error (400)', async () => {
    const m = t.dataset.matrix;
    const user = m.users.ids[0];
    const movie = m.movies.ids[0];
    const query = 'query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating modelId } }';
    for (const body of [{ query, variables: { u: user, m: movie } }, { query, variables: { u: 987_654_321, m: movie } }, { query: '{ nope }' }, { query: '{ ping }', variables: [] }]) {
      const { fast, express } = await both(json(body));
      expect(fast).toEqual(express);
    }
    const ok = await both(json({ query, variables: { u: user, m: movie } }));
    expect(JSON.parse(ok.fast.body).data.prediction.rating).toEqual(expect.any(Number));
    expect((await both(json({ query: '{ nope }' }))).fast.status).toBe(400);
  });

  it('bodies that are not JSON, too large, empty or of another type', async () => {
    const cases = [
      { body: '{"query":', headers: { 'content-type': 'application/json' } },
      { body: '"just a string"', headers: { 'content-type': 'application/json' } },
      { body: JSON.stringify({ query: `{ ping } # ${'x'.repeat(110_000)}` }), headers: { 'content-type': 'application/json' } },
      { body: '', headers: { 'content-type': 'application/json' } },
      { body: JSON.stringify({ query: '{ ping }' }), headers: { 'content-type': 'application/json; charset=latin1' } },
      { body: JSON.stringify({ query: '{ ping }' }), headers: { 'content-type': 'text/plain' } },
    ];
    const statuses: number[] = [];
    for (const c of cases) {
      const { fast, express } = await both(c);
      expect(fast).toEqual(express);
      statuses.push(fast.status);
    }
    expect(statuses.slice(0, 3)).toEqual([400, 400, 413]);
    expect(statuses[4]).toBe(415);
  });
});
