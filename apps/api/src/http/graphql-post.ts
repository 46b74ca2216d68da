import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';

/** body-parser's middleware signature (express.json's), called on node's own request and response. */
export type BodyParser = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface GraphqlPostOptions<TContext extends object> {
  apollo: ApolloServer<TContext>;
  /** The same JSON body parser (and limit) as the Express chain of /graphql. */
  parseBody: BodyParser;
  /** Whether the services are up: before that, POST /graphql goes through Express (its 503). */
  ready: () => boolean;
  /** The CORS headers of a request that is not a preflight (see `corsHeaders`). */
  cors: (req: IncomingMessage, res: ServerResponse) => void;
  context: (req: IncomingMessage) => Promise<TContext>;
  /** Answers a failed body or request (413, 400 …) as the Express app's error handler does. */
  fail: (error: unknown, res: ServerResponse) => void;
}

/** A media type of `application/json` (parameters such as charset allowed), as body-parser's default type check accepts. */
const JSON_TYPE = /^\s*application\/json\s*(?:;|$)/i;

/**
 * Whether a request is a GraphQL POST this handler takes: POST to exactly `/graphql` (any query
 * string), with a body (Content-Length or Transfer-Encoding, as type-is's hasBody) of type
 * application/json. Anything else (GET, another content type, no body, `/graphql/`) goes through
 * Express unchanged, and nothing of its body has been read by then.
 */
export function isGraphqlJsonPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== '/graphql') return false;
  const { headers } = req;
  if (headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || Number.isNaN(Number(headers['content-length'])))) return false;
  return JSON_TYPE.test(headers['content-type'] ?? '');
}

/**
 * POST /graphql with a JSON body, from node's request listener straight to Apollo, without
 * Express: the same body parser and limit, CORS headers, `cache-control: no-store`, context and
 * error answers as the Express chain (which still serves every other request, GET /graphql and
 * POSTs this one does not take, see {@link isGraphqlJsonPost}), and Apollo's answer written as
 * the Express integration writes it (headers, status, one `end` with Content-Length).
 *
 * Why: a prediction cost the server ≈ 0.45 CPU-ms, mostly HTTP and GraphQL plumbing, and the
 * Express part (the app's router walking seven layers, a mounted app setting the request's
 * prototype twice, `res.send`) allocated about a third of the ~85 kB each query left to the
 * garbage collector; those objects live as long as the request, so under 8 connections they were
 * the ones the scavenges copied and promoted, and the pauses were the p99 (tools/bench/serving-bench.ts).
 *
 * Returns a request listener that answers what it takes and hands the rest to `fallback`.
 */
export function graphqlPostListener<TContext extends object>(options: GraphqlPostOptions<TContext>, fallback: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  const { apollo, parseBody, ready, cors, context, fail } = options;
  const execute = async (req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: q < 0 ? '' : url.slice(q), body: req.body },
      context: () => context(req),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const body = response.body.string;
      if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
  return (req, res) => {
    if (!ready() || !isGraphqlJsonPost(req)) {
      fallback(req, res);
      return;
    }
    cors(req, res);
    parseBody(req, res, (error) => {
      if (error) {
        fail(error, res);
        return;
      }
      res.setHeader('cache-control', 'no-store');
      execute(req, res).catch((e: unknown) => fail(e, res));
    });
  };
}
