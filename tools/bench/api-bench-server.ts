// api-bench's server under test (started as a child process) and the GraphQL requests to it.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export function log(message: string): void {
  process.stderr.write(`[api-bench] ${message}\n`);
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

// ---- the server --------------------------------------------------------------------------------

/** The repository root: tools/dist/bench/api-bench.js is three levels below it. */
export const REPO_ROOT = resolve(__dirname, '../../..');

export interface ServerOptions {
  data?: string;
  format?: string;
  cpuProf?: string;
  /** A script to preload into the server (`node -r`). */
  preload?: string;
  env?: Record<string, string>;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  base: string;
  /** The bearer token of the mutations. */
  token: string;
  startupSeconds: number;
  stop(): Promise<void>;
}

/**
 * Starts `node apps/api/dist/main.js` on a free loopback port, learns the port from its
 * "listening" log line, and waits until /readyz answers 200 (at most `timeoutSeconds`).
 */
export async function startServer(args: ServerOptions, dir: string, timeoutSeconds = 120): Promise<ServerProcess> {
  const entry = join(REPO_ROOT, 'apps/api/dist/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the API first (npx tsc -b apps/api)`);
  const nodeArgs = [...(args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : []), ...(args.preload ? ['-r', args.preload] : [])];
  const token = randomBytes(18).toString('base64url');
  const cli = [...(args.data ? ['--data', args.data] : []), ...(args.format ? ['--format', args.format] : [])];
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry, ...cli], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      RECSYS_MODEL_DIR: join(dir, 'models'),
      RECSYS_DB: join(dir, 'ratings.sqlite'),
      RECSYS_API_TOKEN: token,
      RECSYS_LOG_LEVEL: 'info',
      ...args.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let found = false;
    lines.on('line', (line) => {
      let entry: { level?: number; msg?: string; port?: number } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        process.stderr.write(`[server] ${line}\n`);
        return;
      }
      // Warnings and worse go to stderr; info lines only until the port is known.
      if ((entry.level ?? 0) >= 40) process.stderr.write(`[server] ${line}\n`);
      if (!found && typeof entry.port === 'number' && entry.msg?.startsWith('listening')) {
        found = true;
        resolvePort(entry.port);
      }
    });
    void exited.then((code) => {
      if (!found) reject(new Error(`the API exited (code ${code}) before listening`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + timeoutSeconds * 1000;
  let ready: unknown = null;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited (code ${child.exitCode}) while loading`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) {
        ready = await res.json();
        break;
      }
    } catch {
      // Not accepting yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (ready === null) {
    child.kill('SIGTERM');
    throw new Error(`the API was not ready after ${timeoutSeconds} s`);
  }
  const startupSeconds = (performance.now() - started) / 1000;
  log(`server pid ${child.pid} ready at ${base} after ${startupSeconds.toFixed(1)} s: ${JSON.stringify(ready)}`);
  return {
    child,
    url: `${base}/graphql`,
    base,
    token,
    startupSeconds,
    stop: async () => {
      if (child.exitCode === null) {
        // SIGTERM: the server drains and exits, writing its CPU profile when --cpu-prof is on.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat; NaN where there is no /proc. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---- requests ----------------------------------------------------------------------------------

export async function gql<T>(url: string, query: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`${query.slice(0, 60)}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** The first `limit` ids of a Relay connection query (`users` or `movies`), page by page. */
export async function listIds(url: string, field: 'users' | 'movies', limit: number): Promise<number[]> {
  const ids: number[] = [];
  let after: string | null = null;
  while (ids.length < limit) {
    const cursor: string = after ? `, after: ${JSON.stringify(after)}` : '';
    const data: Record<string, { edges: Array<{ node: { id: number } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> = await gql(
      url,
      `{ ${field}(first: 100${cursor}) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
    );
    const page = data[field];
    for (const e of page.edges) ids.push(e.node.id);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return ids.slice(0, limit);
}

/** POST a GraphQL request (with the token); the body, whatever the status. */
export async function post<T>(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T; errors?: unknown[] }> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: unknown[] };
}
