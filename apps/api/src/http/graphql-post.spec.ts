import type { IncomingMessage } from 'node:http';
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
