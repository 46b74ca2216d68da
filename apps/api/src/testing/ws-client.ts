// Test support: a raw graphql-transport-ws client (the `ws` package), to send what graphql-ws's
// own client would not (oversized messages, thousands of subscribes) and see every reply.
import WebSocket from 'ws';

export interface WsReply {
  id?: string;
  type: string;
  payload?: unknown;
}

export interface WsSession {
  socket: WebSocket;
  /** Every message received so far. */
  replies: WsReply[];
  /** Sends a subscribe message (the payload as given). */
  subscribe(id: string, payload: Record<string, unknown>): void;
  /** Resolves with the first reply of operation `id` that is `error` or `complete` (the `next`s before it in `replies`). */
  result(id: string, timeoutMs?: number): Promise<WsReply>;
  /** Resolves when the socket closed, with its code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a socket, sends connection_init and waits for the ack. */
export async function openWsSession(url: string, options: { headers?: Record<string, string>; origin?: string; token?: string } = {}): Promise<WsSession> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: options.headers, origin: options.origin });
  const replies: WsReply[] = [];
  const waiters: Array<() => void> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  socket.on('message', (data) => {
    replies.push(JSON.parse(String(data)) as WsReply);
    for (const w of waiters.splice(0)) w();
  });
  void closed.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: options.token ? { authorization: `Bearer ${options.token}` } : {} }));
  const waitFor = async (match: (r: WsReply) => boolean, timeoutMs: number): Promise<WsReply> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = replies.find(match);
      if (found) return found;
      if (socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting (${JSON.stringify(replies.slice(-3))})`);
      if (Date.now() > end) throw new Error('timed out waiting for a WebSocket reply');
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  await waitFor((r) => r.type === 'connection_ack', 5000);
  return {
    socket,
    replies,
    closed,
    subscribe: (id, payload) => socket.send(JSON.stringify({ id, type: 'subscribe', payload })),
    result: (id, timeoutMs = 10_000) => waitFor((r) => r.id === id && (r.type === 'error' || r.type === 'complete'), timeoutMs),
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };
}
