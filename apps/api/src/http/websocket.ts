import type { IncomingMessage, Server } from 'node:http';
import { DocumentNode, ExecutionArgs, getOperationAST, GraphQLError, GraphQLSchema, OperationTypeNode, parse, specifiedRules, validate } from 'graphql';
import { CloseCode, handleProtocols, makeServer, SubscribePayload } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import { maskError, newLogId } from '../errors';
import type { Logger } from '../logger';
import type { OperationGuard } from './limits';

/** What the GraphQL-over-WebSocket endpoint needs from the server. */
export interface GraphqlWsOptions {
  schema: GraphQLSchema;
  guard: OperationGuard;
  /** Largest message in bytes: the HTTP body limit (a larger one closes the socket with 1009). */
  maxPayload: number;
  /** Origins allowed besides the server's own (`RECSYS_CORS_ORIGINS`). */
  allowedOrigins: readonly string[];
  logger: Logger;
  /** Whether connections are accepted now (false while loading: the socket closes with 4403). */
  accepting(): boolean;
  /** The context of one operation, from the upgrade request's headers. */
  context(request: IncomingMessage, operation: OperationTypeNode): unknown;
  /** Keep-alive ping interval in ms (a socket that does not answer within it is dropped). Default 12 s. */
  keepAliveMs?: number;
}

export interface GraphqlWs {
  wss: WebSocketServer;
  /** Closes every socket (1001) and the server. */
  dispose(): Promise<void>;
}

/**
 * Whether a browser page at `origin` may open the WebSocket: no Origin (curl, the CLI, servers),
 * the server's own origin (its Host header), or one of `allowed`. Browsers always send Origin on a
 * WebSocket upgrade and do not apply CORS to it, so this is the only check a foreign page meets.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Operations refused on one socket for the operations limit before the socket is closed (4429). */
const REFUSALS_BEFORE_CLOSE = 100;

/** A request error with its code, as the HTTP side words them. */
function requestError(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on `path` of `server`, under the same guard as
 * HTTP: a message larger than `maxPayload` closes the socket (1009); a foreign Origin is refused
 * at the upgrade (403); each subscribe message is parsed with the token limit, validated with
 * graphql's rules plus the guard's (depth, aliases, directives) and costed with its variables,
 * and refused with the same codes and messages as over HTTP; at most
 * `maxSubscriptionsPerSocket` operations run at once on a socket (TOO_MANY_SUBSCRIPTIONS past
 * it, and the socket is closed with 4429 after 100 such refusals); errors in results are masked by {@link maskError} like Apollo's. A failure of the protocol
 * handling itself (which graphql-ws's own `useServer` prints with its stack and sends to the
 * client) is logged with a log id and closes the socket with 4500 "internal error (log id …)".
 */
export function serveGraphqlWs(server: Server, path: string, options: GraphqlWsOptions): GraphqlWs {
  const { schema, guard, logger } = options;
  const rules = [...specifiedRules, ...guard.validationRules];
  const maxOperations = guard.limits.maxSubscriptionsPerSocket;
  const mask = (errors: readonly GraphQLError[]) => errors.map((e) => maskError(e.toJSON(), e, logger));
  // Operations running on each socket (accepted by onSubscribe, not yet completed), and refusals.
  const operationCounts = new WeakMap<object, { running: number; refused: number }>();
  // One error for every refusal (a GraphQLError captures a stack: ~25 µs each, in a flood).
  const tooManyOperations = requestError(`at most ${maxOperations} operations at once on one WebSocket`, 'TOO_MANY_SUBSCRIPTIONS', { limit: maxOperations });

  const wss = new WebSocketServer({
    server,
    path,
    maxPayload: options.maxPayload,
    handleProtocols,
    verifyClient: ({ origin, req }, done) => {
      if (originAllowed(origin, req.headers.host, options.allowedOrigins)) return done(true);
      logger.warn({ origin }, 'WebSocket refused: Origin not allowed (RECSYS_CORS_ORIGINS)');
      done(false, 403, 'Origin not allowed');
    },
  });

  const graphqlWs = makeServer<Record<string, unknown> | undefined, { socket: WebSocket; request: IncomingMessage }>({
    schema,
    onConnect: () => options.accepting(),
    onSubscribe: (ctx, _id, payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] => {
      const count = operationCounts.get(ctx) ?? { running: 0, refused: 0 };
      operationCounts.set(ctx, count);
      if (count.running >= maxOperations) {
        // A client that keeps sending past the limit is flooding: stop reading it.
        if (++count.refused > REFUSALS_BEFORE_CLOSE) {
          const socket = ctx.extra.socket;
          if (socket.readyState === WebSocket.OPEN) {
            socket.close(CloseCode.TooManyInitialisationRequests, `more than ${REFUSALS_BEFORE_CLOSE} operations refused on this socket`);
            // Read no more of the flood; drop the connection if the client does not close it.
            socket.pause();
            setTimeout(() => socket.terminate(), 1000).unref();
          }
        }
        return [tooManyOperations];
      }
      if (typeof payload.query !== 'string') return [requestError('the subscribe message needs a query', 'BAD_REQUEST')];
      let document: DocumentNode;
      try {
        document = parse(payload.query, guard.parseOptions);
      } catch (error) {
        const message = error instanceof GraphQLError ? error.message : 'the query could not be parsed';
        return [requestError(message, 'GRAPHQL_PARSE_FAILED')];
      }
      const invalid = validate(schema, document, rules);
      if (invalid.length > 0) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: e.extensions.code ?? 'GRAPHQL_VALIDATION_FAILED' } }));
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) return [requestError('Unable to identify operation (name it with operationName)', 'BAD_USER_INPUT')];
      const variables = payload.variables ?? {};
      const tooCostly = guard.cost.check(document, payload.operationName, variables);
      if (tooCostly) return [tooCostly];
      count.running++;
      return {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: variables,
        contextValue: options.context(ctx.extra.request, operation.operation),
      };
    },
    // Called once for each operation onSubscribe accepted, when it ends or the client completes it.
    onComplete: (ctx) => {
      const count = operationCounts.get(ctx);
      if (count) count.running--;
    },
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: mask(result.errors) } : undefined),
    onError: (_ctx, _id, _payload, errors) => mask(errors),
  });

  const keepAliveMs = options.keepAliveMs ?? 12_000;
  wss.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));
  wss.on('connection', (socket, request) => {
    socket.on('error', (error) => {
      // e.g. a message over maxPayload (ws closes the socket with 1009 itself).
      logger.warn({ err: { message: error.message, code: (error as { code?: string }).code } }, 'WebSocket error');
    });
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, keepAliveMs);
    ping.unref();
    socket.on('pong', () => (alive = true));
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== WebSocket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => {
          socket.on('message', (data) => {
            // Frames that arrive after we closed the socket (a flood) are not handled.
            if (socket.readyState !== WebSocket.OPEN) return;
            handle(String(data)).catch((error: unknown) => {
              const logId = newLogId();
              logger.error({ err: error, logId }, 'WebSocket message handling failed');
              if (socket.readyState === WebSocket.OPEN) socket.close(CloseCode.InternalServerError, `internal error (log id ${logId})`);
            });
          });
        },
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(ping);
      void closed(code, String(reason)).catch((error: unknown) => logger.error({ err: error }, 'closing a WebSocket failed'));
    });
  });

  return {
    wss,
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
