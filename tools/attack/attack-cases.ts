// The attacks themselves, in the order they run, and what they share.
import WebSocket from 'ws';
import { killHard, Server, startServer } from './attack-server';
import { args, log, REQUEST_TIMEOUT_MS } from './attack-env';
import { gql, judgeHttp, openWs, Outcome, wsOperation } from './attack-clients';
import { mark, retarget } from './attack-probe';

// ---- the attacks -------------------------------------------------------------------------------

export interface Context {
  server: Server;
  /** An ordinary user and movie of the data, and the active model, for before/after checks. */
  userId: number;
  movieId: number;
  acknowledged: number;
  lost: number;
  /** Stall and memory an attack measured in a part of its window it reset (kill -9: before the kill). */
  windowStallMs: number;
  windowRssMb: number;
}

export interface Attack {
  name: string;
  short?: boolean;
  run(ctx: Context): Promise<{ outcome: Outcome; detail: string }>;
}

/** `count` requests one after the other (the stall of one request, not of a crowd). */
export async function sequence<T>(count: number, request: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await request(i));
  return out;
}

export const aliases = (n: number, field: (i: number) => string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;
export const INTROSPECTION = '__schema { types { fields { args { type { name kind ofType { name kind } } } } } }';
/** n aliases of `__schema { types { name } }` in as few bytes as GraphQL allows (5,000: ~90 kB, under the 100 kB body limit as the issue's 99 kB request). */
export const schemaAliases = (n: number) => `{${Array.from({ length: n }, (_, i) => `s${i.toString(36)}:__schema{...T}`).join('')}}fragment T on __Schema{types{name}}`;

export async function healthy(ctx: Context): Promise<string | null> {
  const r = await gql(ctx.server.url, `{ ping prediction(userId: ${ctx.userId}, movieId: ${ctx.movieId}) { rating isFallback } activeModel { id } }`);
  const p = r.data?.prediction as { rating: number; isFallback: boolean } | undefined;
  if (r.errors || !p || !Number.isFinite(p.rating) || p.isFallback) return `predictions broken: ${JSON.stringify(r.errors ?? r.data).slice(0, 200)}`;
  return null;
}

export async function activeModelId(ctx: Context): Promise<string> {
  const r = await gql(ctx.server.url, '{ activeModel { id } }');
  return (r.data?.activeModel as { id: string }).id;
}

export function retrainAttack(name: string, parameters: string): Attack {
  return {
    name,
    async run(ctx) {
      const before = await activeModelId(ctx);
      const started = await gql(ctx.server.url, `mutation { retrain(input: { parameters: { ${parameters} } }) { id status } }`, {}, true);
      let outcome: Outcome;
      let detail: string;
      if (started.errors) {
        ({ outcome, detail } = judgeHttp([started]));
      } else {
        const id = (started.data!.retrain as { id: string }).id;
        let run: { status: string; error: string | null } = { status: 'QUEUED', error: null };
        const end = Date.now() + 60_000;
        while (Date.now() < end) {
          run = (await gql(ctx.server.url, 'query($id: ID!) { trainingRun(id: $id) { status error } }', { id })).data!.trainingRun as typeof run;
          if (run.status === 'FAILED' || run.status === 'SUCCEEDED') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const after = await activeModelId(ctx);
        if (run.status === 'FAILED' && after === before) {
          outcome = 'refused';
          detail = `run FAILED: ${run.error?.slice(0, 160)}`;
        } else if (run.status === 'SUCCEEDED' && after !== before) {
          outcome = 'harmful';
          detail = 'run SUCCEEDED and its model was activated';
        } else {
          outcome = after === before ? 'answered' : 'harmful';
          detail = `run ${run.status}; active model ${after === before ? 'unchanged' : 'changed'}`;
        }
      }
      const broken = await healthy(ctx);
      if (broken) return { outcome: 'harmful', detail: `${detail}; ${broken}` };
      return { outcome, detail };
    },
  };
}

export const ATTACKS: Attack[] = [
  {
    name: 'ws-introspection-299kB',
    short: true,
    async run(ctx) {
      // 15,000 aliases of a deep __schema selection in one subscribe message (~299 kB).
      const query = `{${Array.from({ length: 15_000 }, (_, i) => `s${i}:__schema{...S}`).join(' ')}} fragment S on __Schema{types{fields{args{type{name kind ofType{name}}}}}}`;
      const r = await wsOperation(ctx.server.url, query);
      return { outcome: r.refused ? 'refused' : 'answered', detail: `${(r.bytes / 1000).toFixed(0)} kB message: ${r.detail}` };
    },
  },
  {
    name: 'ws-introspection-under-100kB',
    async run(ctx) {
      // The same below the message limit: 4,500 aliases (~95 kB).
      const r = await wsOperation(ctx.server.url, `{${Array.from({ length: 4_500 }, (_, i) => `s${i}:__schema{...S}`).join(' ')}} fragment S on __Schema{types{fields{args{type{name kind ofType{name}}}}}}`);
      return { outcome: r.refused ? 'refused' : 'answered', detail: `${(r.bytes / 1000).toFixed(0)} kB message: ${r.detail}` };
    },
  },
  {
    name: 'http-5000-schema-aliases',
    short: true,
    async run(ctx) {
      return judgeHttp([await gql(ctx.server.url, schemaAliases(5_000))]);
    },
  },
  {
    name: 'http-5000-schema-aliases-twice-at-once',
    async run(ctx) {
      const q = schemaAliases(5_000);
      return judgeHttp(await Promise.all([gql(ctx.server.url, q), gql(ctx.server.url, q)]));
    },
  },
  {
    name: 'http-introspection-within-limits',
    async run(ctx) {
      // The most introspection the cost limit lets through in one request, ten times in a row.
      return judgeHttp(await sequence(10, () => gql(ctx.server.url, aliases(3, () => INTROSPECTION))));
    },
  },
  {
    name: 'ws-200-recommendations-n100',
    short: true,
    async run(ctx) {
      const r = await wsOperation(ctx.server.url, aliases(200, () => `recommendations(userId: ${ctx.userId}, n: 100) { movieId score }`));
      return { outcome: r.refused ? 'refused' : 'answered', detail: r.detail };
    },
  },
  {
    name: 'http-950-similarMovies-pearson',
    async run(ctx) {
      return judgeHttp([await gql(ctx.server.url, aliases(950, (i) => `similarMovies(movieId: ${ctx.movieId + (i % 50)}, n: 1, metric: PEARSON) { movieId }`))]);
    },
  },
  {
    name: 'http-similar-pearson-within-limits',
    async run(ctx) {
      // What the limits let through: 30 aliased PEARSON queries, and a page of 100 movies' similar movies, one after the other.
      const q1 = aliases(30, (i) => `similarMovies(movieId: ${ctx.movieId + i}, n: 1, metric: PEARSON) { movieId }`);
      const q2 = '{ movies(first: 100) { edges { node { similar(n: 1, metric: PEARSON) { movieId } } } } }';
      return judgeHttp(await sequence(6, (i) => gql(ctx.server.url, i % 2 === 0 ? q1 : q2)));
    },
  },
  {
    name: 'http-recommendations-within-limits',
    async run(ctx) {
      const q = '{ users(first: 100) { edges { node { recommendations(n: 20) { movieId } } } } }';
      return judgeHttp(await sequence(5, () => gql(ctx.server.url, q)));
    },
  },
  {
    name: 'ws-20000-subscriptions-one-socket',
    short: true,
    async run(ctx) {
      const count = args.short ? 2_000 : 20_000;
      const ws = await openWs(ctx.server.url);
      if ('refusedStatus' in ws) return { outcome: 'harmful', detail: `upgrade refused (${ws.refusedStatus})` };
      try {
        for (let i = 0; i < count && ws.socket.readyState === WebSocket.OPEN; i++) {
          ws.send({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { trainingRunUpdated { id status } }' } });
          if (i % 500 === 499) await new Promise((r) => setImmediate(r));
        }
        const last = `s${count - 1}`;
        const closed = await Promise.race([ws.closed, ws.waitFor((r) => r.id === last, 30_000).then(() => null)]);
        const refused = ws.replies.filter((r) => r.type === 'error' && (r.payload as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code === 'TOO_MANY_SUBSCRIPTIONS').length;
        const live = ws.socket.readyState === WebSocket.OPEN ? count - ws.replies.filter((r) => r.type === 'error' || r.type === 'complete').length : 0;
        const detail = `${refused} refused (TOO_MANY_SUBSCRIPTIONS)${closed ? `, then the socket was closed (${closed.code} ${closed.reason})` : ''}, ${live} live`;
        return { outcome: closed?.code === 4429 || refused >= count - 100 ? 'refused' : 'answered', detail };
      } finally {
        await ws.close();
      }
    },
  },
  {
    name: 'ws-foreign-origin',
    short: true,
    async run(ctx) {
      const ws = await openWs(ctx.server.url, 'https://evil.example');
      if ('refusedStatus' in ws) return { outcome: 'refused', detail: `upgrade refused with HTTP ${ws.refusedStatus}` };
      await ws.close();
      return { outcome: 'harmful', detail: 'a page on a foreign origin opened the WebSocket' };
    },
  },
  {
    name: 'cors-preflight-foreign-origin',
    short: true,
    async run(ctx) {
      const res = await fetch(ctx.server.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const allowed = res.headers.get('access-control-allow-origin');
      if (allowed === '*' || allowed === 'https://evil.example') return { outcome: 'harmful', detail: `preflight allowed (${res.status}, ${allowed})` };
      return { outcome: 'refused', detail: `HTTP ${res.status}, no Access-Control-Allow-Origin for it` };
    },
  },
  {
    name: 'bad-arguments',
    short: true,
    async run(ctx) {
      const u = ctx.userId;
      const m = ctx.movieId;
      const texts = [
        `{ prediction(userId: 99999999999, movieId: ${m}) { rating } }`,
        `{ prediction(userId: -1, movieId: ${m}) { rating } }`,
        `{ prediction(userId: ${u}, movieId: ${m}, userId: 2) { rating } }`,
        `{ prediction(userId: [${u}], movieId: ${m}) { rating } }`,
        `{ prediction(userId: { a: { b: [1, [2, [3]]] } }, movieId: ${m}) { rating } }`,
        `{ recommendations(userId: ${u}, n: 1000000000) { movieId } }`,
        `{ recommendations(userId: ${u}, n: -5) { movieId } }`,
        `{ recommendations(userId: ${u}, n: 0) { movieId } }`,
        `{ recommendations(userId: 2147483647, n: 10) { movieId } }`,
        `{ predictions(pairs: []) { rating } }`,
        `{ predictions(pairs: [${Array.from({ length: 1001 }, () => `{ userId: ${u}, movieId: ${m} }`).join(',')}]) { rating } }`,
        `{ predictions(pairs: [[{ userId: ${u}, movieId: ${m} }]]) { rating } }`,
        `{ user(id: ${u}) { recommendations(n: 101) { movieId } } }`,
        `{ similarMovies(movieId: ${m}, n: 5, minSupport: -1) { movieId } }`,
        `{ movies(first: -1) { totalCount } }`,
        `{ movies(first: 10, after: "${'A'.repeat(5000)}") { totalCount } }`,
      ];
      const withVariables: Array<[string, Record<string, unknown>]> = [
        ['query($u: Int!) { prediction(userId: $u, movieId: 1) { rating } }', { u: 'NaN' }],
        ['query($u: Int!) { prediction(userId: $u, movieId: 1) { rating } }', { u: 1e308 }],
        ['query($u: Int!) { prediction(userId: $u, movieId: 1) { rating } }', { u: { nested: [1, { deeper: [2] }] } }],
        ['query($n: Int!) { recommendations(userId: 1, n: $n) { movieId } }', { n: 1.5 }],
        ['mutation($r: Float!) { rateMovie(userId: 1, movieId: 1, rating: $r) { rating } }', { r: Number.NaN }],
        ['mutation($r: Float!) { rateMovie(userId: 1, movieId: 1, rating: $r) { rating } }', { r: 1e308 }],
        ['mutation($r: Float!) { rateMovie(userId: -7, movieId: 1, rating: $r) { rating } }', { r: 3 }],
      ];
      const requests: Array<[string, Record<string, unknown>]> = [...texts.map((q): [string, Record<string, unknown>] => [q, {}]), ...withVariables];
      const answers = await sequence(requests.length, (i) => gql(ctx.server.url, requests[i][0], requests[i][1], true));
      const verdict = judgeHttp(answers);
      const accepted = answers.map((a, i) => (a.errors ? null : i)).filter((i) => i !== null);
      if (verdict.outcome !== 'harmful' && accepted.length > 0) return { outcome: 'harmful', detail: `accepted: ${accepted.join(', ')}` };
      return { outcome: verdict.outcome, detail: `${answers.length} requests; ${verdict.detail}` };
    },
  },
  {
    name: 'kill-9-durability',
    short: true,
    async run(ctx) {
      // Clients rate movies concurrently; the server is killed (SIGKILL) while they do; every rating
      // it acknowledged must be there after a restart.
      const base = 900_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
      const acked: Array<{ userId: number; rating: number }> = [];
      let next = 0;
      let stop = false;
      const client = async () => {
        while (!stop) {
          const userId = base + next++;
          const rating = 1 + (userId % 5);
          try {
            const r = await gql(ctx.server.url, `mutation { rateMovie(userId: ${userId}, movieId: ${ctx.movieId}, rating: ${rating}) { rating } }`, {}, true);
            if (!r.errors && (r.data?.rateMovie as { rating: number } | undefined)?.rating === rating) acked.push({ userId, rating });
          } catch {
            // The server died under it: not acknowledged.
          }
        }
      };
      const clients = Array.from({ length: 8 }, () => client());
      await new Promise((r) => setTimeout(r, args.short ? 800 : 2_000));
      // The stall and memory while ratings are being acknowledged (the restart that follows is no stall).
      const beforeKill = await mark();
      ctx.windowStallMs = beforeKill.maxPingMs;
      ctx.windowRssMb = beforeKill.peakRssMb;
      await killHard(ctx.server.child);
      stop = true;
      await Promise.all(clients);
      log(`killed the server (SIGKILL) after ${acked.length} acknowledged ratings; restarting`);
      ctx.server = await startServer();
      await retarget(ctx.server);
      // The restart is no stall of the event loop: measure from here on.
      await mark();
      let lost = 0;
      for (let i = 0; i < acked.length; i += 25) {
        const chunk = acked.slice(i, i + 25);
        const r = await gql(ctx.server.url, `{ ${chunk.map((a, j) => `u${j}: user(id: ${a.userId}) { ratings { edges { node { movieId rating } } } }`).join(' ')} }`);
        chunk.forEach((a, j) => {
          const user = r.data?.[`u${j}`] as { ratings: { edges: Array<{ node: { movieId: number; rating: number } }> } } | null | undefined;
          if (!user?.ratings.edges.some((e) => e.node.movieId === ctx.movieId && e.node.rating === a.rating)) lost++;
        });
      }
      ctx.acknowledged += acked.length;
      ctx.lost += lost;
      const broken = await healthy(ctx);
      if (broken) return { outcome: 'harmful', detail: broken };
      return { outcome: lost === 0 && acked.length > 0 ? 'answered' : 'harmful', detail: `${acked.length} acknowledged before kill -9, ${lost} lost after the restart` };
    },
  },
  retrainAttack('retrain-threads-10000', 'threads: 10000, epochs: 2'),
  retrainAttack('retrain-lr-1e6', 'lr: 1e6, epochs: 2'),
  retrainAttack('retrain-initStd-1e308', 'initStd: 1e308, epochs: 2'),
  retrainAttack('retrain-reg-1e300', 'reg: 1e300, epochs: 2'),
  retrainAttack('retrain-factors-0-epochs-0', 'factors: 0, epochs: 0'),
];

