import 'reflect-metadata';
import { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSnapshot } from '@recsys/data';
import { ConfigError, corsOrigins, resolveConfig } from './config';
import { smallDataset, startTestApi, TestApi } from './testing/harness';
import { MAIN, Spawned, spawnServer } from './testing/server-process';

jest.setTimeout(90_000);

// ---- the configuration ---------------------------------------------------------------------------

describe('configuration (issue 9)', () => {
  it('listens on loopback unless HOST or --host says otherwise', () => {
    expect(resolveConfig([], {}).host).toBe('127.0.0.1');
    expect(resolveConfig([], { HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(resolveConfig(['--host', '::1'], { HOST: '0.0.0.0' }).host).toBe('::1');
  });

  it('refuses unknown flags, stray arguments and bad values with a ConfigError', () => {
    expect(() => resolveConfig(['--dta', '/x'], {})).toThrow(ConfigError);
    expect(() => resolveConfig(['--dta', '/x'], {})).toThrow(/Unknown option '--dta'.*\(see --help\)/);
    expect(() => resolveConfig(['data.csv'], {})).toThrow(ConfigError);
    expect(() => resolveConfig(['--port', '70000'], {})).toThrow('PORT must be an integer in 0..65535, got "70000"');
    expect(() => resolveConfig(['--port', '-1'], {})).toThrow(ConfigError);
    expect(resolveConfig(['--port=0', '--data', 'x.csv', '--skip-invalid'], {})).toMatchObject({ port: 0, dataPath: 'x.csv', skipInvalid: true });
  });

  it('corsOrigins: a comma-separated allowlist of origins, none by default; anything that is not an origin is refused', () => {
    expect(corsOrigins({})).toEqual([]);
    expect(corsOrigins({ RECSYS_CORS_ORIGINS: '' })).toEqual([]);
    expect(corsOrigins({ RECSYS_CORS_ORIGINS: ' https://App.Example.com , http://localhost:5173,https://app.example.com/,http://a.test:80' })).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
      'http://a.test',
    ]);
    for (const bad of ['*', 'app.example.com', 'https://a.com/path', 'ftp://a.com', 'https://a.com?x=1', 'null']) {
      expect(() => corsOrigins({ RECSYS_CORS_ORIGINS: bad })).toThrow(ConfigError);
    }
    expect(resolveConfig([], { RECSYS_CORS_ORIGINS: 'https://a.com' }).corsOrigins).toEqual(['https://a.com']);
  });
});

// ---- CORS and the GraphiQL page's headers, in-process ------------------------------------------------

describe('CORS allowlist and GraphiQL headers over HTTP (issue 9)', () => {
  let t: TestApi;
  const allowed = 'https://app.example.com';
  beforeAll(async () => {
    t = await startTestApi({ config: { corsOrigins: [allowed] } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const preflight = (origin: string) =>
    fetch(t.api.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });

  it('answers the preflight of an allowed origin, and its requests carry Access-Control-Allow-Origin', async () => {
    const res = await preflight(allowed);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const post = await fetch(t.api.url, { method: 'POST', headers: { origin: allowed, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ping }' }) });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(post.headers.get('vary')).toMatch(/Origin/);
  });

  it('refuses the preflight of any other origin cleanly (403, JSON, no CORS header); their answers carry none', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
      const res = await preflight(origin);
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const post = await fetch(t.api.url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ping }' }) });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  /**
   * The same requests to `/graphql` (node's listener straight to Apollo) and to `/graphql/` (which
   * takes the Express chain, as every POST did before): the answers must match, status, body and
   * the headers a client reads.
   */
  describe('POST /graphql without Express (http/graphql-post.ts) answers as the Express chain does', () => {
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

  it('serves GraphiQL with a CSP (scripts from this server only, frame-ancestors \'none\'), no inline script, and every script same-origin', async () => {
    const res = await fetch(t.api.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    const host = new URL(t.api.url).host;
    expect(directives['connect-src']).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attrs, body]) => ({ attrs, body }));
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    for (const s of scripts) {
      if (/type="application\/json"/.test(s.attrs)) continue; // data, never executed
      expect(s.body.trim()).toBe('');
      const src = /src="([^"]+)"/.exec(s.attrs)![1];
      expect(src).toMatch(/^\/graphiql\//);
      const asset = await fetch(new URL(src, t.api.url));
      expect({ src, status: asset.status }).toEqual({ src, status: 200 });
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    // A hostile Host header does not get into the policy.
    const spoofed = await new Promise<string>((done, fail) => {
      const req = request(t.api.url, { headers: { accept: 'text/html', host: "evil.example; script-src 'unsafe-inline'" } }, (r) => {
        r.resume();
        done(String(r.headers['content-security-policy']));
      });
      req.on('error', fail);
      req.end();
    });
    expect(spoofed).not.toContain('evil.example');
    expect(spoofed).toContain("script-src 'self';");
  });
});

// ---- the process: spawned as `node apps/api/dist/main.js` and as `npm start` ------------------------

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

(existsSync(MAIN) ? describe : describe.skip)('the server process (issue 9)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-process-'));
  const data = join(dir, 'small.rsnap');
  const cache = join(dir, 'cache');
  const started: ChildProcess[] = [];
  const start = (args: string[], env: Record<string, string> = {}, command = process.execPath): Spawned => {
    const s = spawnServer(command, command === process.execPath ? [MAIN, ...args] : args, { RECSYS_CACHE_DIR: cache, PORT: '0', ...env });
    started.push(s.child);
    return s;
  };

  beforeAll(() => {
    writeSnapshot(data, smallDataset());
  });
  afterAll(() => {
    // Only the processes this suite started, by their own pid.
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help prints the options and exits 0; an unknown flag is one line on stderr and exit 2', async () => {
    const help = start(['--help']);
    let out = '';
    help.child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    expect(await help.exited).toBe(0);
    for (const option of ['--port', '--host', '--data', '--format', '--skip-invalid', '--help', 'RECSYS_CORS_ORIGINS', 'RECSYS_API_TOKEN', 'HOST=0.0.0.0']) expect(out).toContain(option);
    const unknown = start(['--dta', '/x']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/^recsys-api: Unknown option '--dta'.*\(see --help\)\n$/);
    expect(unknown.lines).toEqual([]);
    for (const [name, value] of [['RECSYS_TRAINING_NICE', 'abc'], ['RECSYS_TRAINING_NICE', '20'], ['RECSYS_MAX_DEPTH', '-1'], ['RECSYS_MAX_ALIASES', '1e400']]) {
      const bad = start(['--data', data], { [name]: value });
      expect(await bad.exited).toBe(2);
      expect(bad.stderr()).toMatch(new RegExp(`^recsys-api: ${name} must be an integer in \\d+\\.\\.\\d+, got "${value}"\n$`));
    }
  });

  it('listens on loopback by default, writes a generated token to a 0600 file whose path (never the token) is logged; a busy port is one line and exit 2', async () => {
    const server = start(['--data', data]);
    const listening = await server.line('listening; loading data and model');
    expect(listening.host).toBe('127.0.0.1');
    const port = listening.port as number;
    await server.line('ready');
    const tokenLine = server.lines.find((l) => typeof l.tokenFile === 'string')!;
    expect(tokenLine.tokenFile).toBe(join(cache, 'api-token'));
    expect(statSync(join(cache, 'api-token')).mode & 0o777).toBe(0o600);
    const token = readFileSync(join(cache, 'api-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify(server.lines)).not.toContain(token);
    const mutation = JSON.stringify({ query: 'mutation { retrain(input: { parameters: { colour: 1 } }) { id } }' });
    const ask = async (auth?: string) =>
      ((await (await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: mutation })).json()) as {
        errors: Array<{ extensions: { code: string } }>;
      }).errors[0].extensions.code;
    expect(await ask()).toBe('UNAUTHENTICATED');
    expect(await ask(`Bearer ${token}`)).toBe('BAD_USER_INPUT');
    // Not reachable on another interface of this machine, when it has one.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) await expect(fetch(`http://${external.address}:${port}/healthz`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();

    const busy = start(['--data', data], { PORT: String(port) });
    expect(await busy.exited).toBe(2);
    expect(busy.stderr()).toBe(`recsys-api: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE); set PORT / --port or HOST / --host\n`);
    expect(busy.lines).toEqual([]);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('SIGTERM drains an in-flight request, closes the rating store and exits 0', async () => {
    const server = start(['--data', data], { RECSYS_API_TOKEN: 'process-spec-token' });
    const port = (await server.line('listening; loading data and model')).port as number;
    await server.line('ready');
    const db = readdirSync(cache).find((f) => f.endsWith('.sqlite'))!;
    expect(existsSync(join(cache, `${db}-wal`))).toBe(true);
    // A request whose body is still arriving when the signal comes.
    const body = JSON.stringify({ query: '{ ping activeModel { id } }' });
    const answer = new Promise<{ status: number; text: string }>((done, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => done({ status: res.statusCode!, text }));
      });
      req.on('error', fail);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 1000);
      }, 200);
    });
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text).data.ping).toBe(1);
    expect(await server.exited).toBe(0);
    expect(server.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: draining in-flight requests, then closing the rating store', 'stopped']));
    // SQLite removes the write-ahead log when the last connection closes cleanly.
    expect(existsSync(join(cache, `${db}-wal`))).toBe(false);
  });

  it('SIGTERM sent to `npm start` reaches the server, which stops cleanly (no orphan)', async () => {
    // --ignore-scripts skips prestart's build (the tests run after one); start itself still runs.
    const npm = start(['start', '--ignore-scripts', '--', '--data', data], { RECSYS_API_TOKEN: 'process-spec-token' }, 'npm');
    const ready = await npm.line('ready');
    const serverPid = ready.pid as number;
    expect(serverPid).not.toBe(npm.child.pid);
    expect(gone(serverPid)).toBe(false);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    for (let i = 0; i < 100 && !gone(serverPid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gone(serverPid)).toBe(true);
    expect(npm.lines.some((l) => l.msg === 'stopped' && l.pid === serverPid)).toBe(true);
  });
});
