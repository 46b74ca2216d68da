// The attack suite's clients (GraphQL over HTTP and WebSocket) and the outcomes of an attack.
import WebSocket from 'ws';
import { REQUEST_TIMEOUT_MS, token } from './attack-env';

// ---- clients -----------------------------------------------------------------------------------

export interface GqlAnswer {
  status: number;
  data: Record<string, unknown> | null;
  errors: Array<{ message: string; extensions?: { code?: string } }> | undefined;
  bytes: number;
}

export async function gql(url: string, query: string, variables: Record<string, unknown> = {}, auth = false): Promise<GqlAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let body: { data?: Record<string, unknown> | null; errors?: GqlAnswer['errors'] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, data: body.data ?? null, errors: body.errors, bytes: text.length };
}

export interface WsReply {
  id?: string;
  type: string;
  payload?: unknown;
}

export interface WsSession {
  socket: WebSocket;
  replies: WsReply[];
  /** Replies counted by id and type, for the floods (replies are not kept past `keep`). */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  waitFor(match: (r: WsReply) => boolean, timeoutMs?: number): Promise<WsReply | null>;
  close(): Promise<void>;
}

/** A raw graphql-transport-ws session (connection_init acknowledged), or the HTTP status of a refused upgrade. */
export async function openWs(url: string, origin?: string): Promise<WsSession | { refusedStatus: number }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { origin, headers: { authorization: `Bearer ${token}` } });
  const replies: WsReply[] = [];
  const closed = new Promise<{ code: number; reason: string }>((done) => socket.once('close', (code, reason) => done({ code, reason: String(reason) })));
  socket.on('message', (data) => {
    try {
      replies.push(JSON.parse(String(data)) as WsReply);
    } catch {
      replies.push({ type: 'unparsable' });
    }
  });
  const opened = await new Promise<true | number>((done, reject) => {
    socket.once('open', () => done(true));
    socket.once('unexpected-response', (_req, res) => {
      done(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  }).catch(() => 0);
  if (opened !== true) return { refusedStatus: opened };
  const waitFor = async (match: (r: WsReply) => boolean, timeoutMs = REQUEST_TIMEOUT_MS): Promise<WsReply | null> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = replies.find(match);
      if (found) return found;
      if (socket.readyState === WebSocket.CLOSED || Date.now() > end) return null;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  if (!(await waitFor((r) => r.type === 'connection_ack', 10_000))) throw new Error('no connection_ack');
  return {
    socket,
    replies,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor,
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      socket.terminate();
    },
  };
}

/** The outcome of one subscribe message over WebSocket: its errors, or its data, or the socket's close. */
export async function wsOperation(url: string, query: string, variables: Record<string, unknown> = {}): Promise<{ refused: boolean; code?: string | number; detail: string; bytes: number }> {
  const ws = await openWs(url);
  if ('refusedStatus' in ws) return { refused: true, code: ws.refusedStatus, detail: `upgrade refused (${ws.refusedStatus})`, bytes: 0 };
  try {
    const message = JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } });
    ws.send(message);
    const end = await Promise.race([ws.waitFor((r) => r.id === '1' && (r.type === 'error' || r.type === 'complete')), ws.closed.then((c) => ({ closed: c }))]);
    if (end && 'closed' in end) return { refused: end.closed.code !== 4500, code: end.closed.code, detail: `socket closed ${end.closed.code} ${end.closed.reason}`, bytes: message.length };
    if (!end) return { refused: false, detail: 'no answer', bytes: message.length };
    if (end.type === 'error') {
      const errors = end.payload as Array<{ message: string; extensions?: { code?: string } }>;
      const code = errors[0]?.extensions?.code;
      return { refused: code !== undefined && code !== 'INTERNAL_SERVER_ERROR', code, detail: `${code}: ${errors[0]?.message.slice(0, 120)}`, bytes: message.length };
    }
    const next = ws.replies.find((r) => r.id === '1' && r.type === 'next')?.payload as { errors?: Array<{ message: string; extensions?: { code?: string } }> } | undefined;
    const code = next?.errors?.[0]?.extensions?.code;
    return { refused: false, code, detail: code ? `answered with ${code}` : 'answered', bytes: message.length };
  } finally {
    await ws.close();
  }
}

// ---- outcomes ----------------------------------------------------------------------------------

export type Outcome = 'refused' | 'answered' | 'harmful' | 'skipped';

export interface AttackResult {
  name: string;
  outcome: Outcome;
  detail: string;
  maxStallMs: number;
  peakRssMb: number;
  seconds: number;
}

/** refused when every answer carries a non-internal error code or a 4xx; harmful on internal errors. */
export function judgeHttp(answers: GqlAnswer[]): { outcome: Outcome; detail: string } {
  const internal = answers.find((a) => a.status >= 500 || a.errors?.some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR'));
  if (internal) return { outcome: 'harmful', detail: `internal error: HTTP ${internal.status} ${JSON.stringify(internal.errors?.[0]).slice(0, 200)}` };
  const refused = answers.every((a) => (a.status >= 400 && a.status < 500) || (a.errors !== undefined && a.errors.length > 0));
  const codes = [...new Set(answers.map((a) => a.errors?.[0]?.extensions?.code ?? `HTTP ${a.status}`))].join(', ');
  return { outcome: refused ? 'refused' : 'answered', detail: `${codes}; ${answers.map((a) => a.bytes).reduce((s, b) => s + b, 0)} response bytes` };
}
