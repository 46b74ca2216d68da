import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir } from '@recsys/testing';
import { RecsysClient, RecsysClientError } from './client';

const ROOT = resolve(__dirname, '../../..');

describe('generated client', () => {
  const tmp = tempDir('recsys-codegen-');

  it('is up to date with apps/api/schema.graphql and the operations (run `npm run codegen`)', () => {
    // The real codegen run (same config file), redirected into a temp file, then compared.
    const out = join(tmp, 'graphql.ts');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/@graphql-codegen/cli/cjs/bin.js'), '--config', 'libs/client/codegen.ts', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, RECSYS_CODEGEN_OUT: out },
      stdio: 'pipe',
    });
    const committed = readFileSync(join(ROOT, 'libs/client/src/generated/graphql.ts'), 'utf8');
    expect(readFileSync(out, 'utf8')).toBe(committed);
  }, 60_000);
});

describe('RecsysClient', () => {
  let server: Server;
  let url: string;
  let lastRequest: { headers: Record<string, unknown>; body: { query: string; variables: Record<string, unknown> } } | null = null;
  let reply: { status: number; body: string } = { status: 200, body: '{}' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        lastRequest = { headers: req.headers, body: JSON.parse(body) };
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts the operation with variables and the bearer token to /graphql, and returns data', async () => {
    reply = { status: 200, body: JSON.stringify({ data: { prediction: { userId: 1, movieId: 2, rating: 3.5 } } }) };
    const client = new RecsysClient(url, { token: 'secret' });
    expect(client.url).toBe(`${url}/graphql`);
    const p = await client.prediction(1, 2);
    expect(p).toEqual({ userId: 1, movieId: 2, rating: 3.5 });
    expect(lastRequest!.headers.authorization).toBe('Bearer secret');
    expect(lastRequest!.body.query).toContain('prediction(userId: $userId, movieId: $movieId, model: $model)');
    expect(lastRequest!.body.variables).toEqual({ userId: 1, movieId: 2 });
  });

  it('throws RecsysClientError with the first error’s extensions.code', async () => {
    reply = { status: 200, body: JSON.stringify({ data: null, errors: [{ message: 'movie 9 not found', extensions: { code: 'NOT_FOUND' } }] }) };
    const err = await new RecsysClient(url).similarMovies(9).catch((e) => e);
    expect(err).toBeInstanceOf(RecsysClientError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'movie 9 not found' });
  });

  it('reports a non-GraphQL answer with its HTTP status, and an unreachable server', async () => {
    reply = { status: 502, body: 'Bad Gateway' };
    await expect(new RecsysClient(url).activeModel()).rejects.toMatchObject({ code: 'HTTP_502' });
    await expect(new RecsysClient('http://127.0.0.1:1').activeModel()).rejects.toMatchObject({ code: 'NETWORK' });
  });
});
