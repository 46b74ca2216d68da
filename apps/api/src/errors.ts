import { randomBytes } from 'node:crypto';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger';

/** The `extensions.code` values this API sets itself (Apollo adds GRAPHQL_VALIDATION_FAILED etc.). */
export type ApiErrorCode = 'NOT_FOUND' | 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'CONFLICT' | 'SERVICE_UNAVAILABLE' | 'TIMEOUT' | 'TOO_MANY_SUBSCRIPTIONS';

/** A GraphQL error carrying `extensions.code` (and the offending argument, when there is one). */
export function apiError(code: ApiErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export function notFound(what: string, id: number | string): GraphQLError {
  return apiError('NOT_FOUND', `${what} ${id} not found`, { [`${what}Id`]: id });
}

/** BAD_USER_INPUT naming the argument and the value it got. */
export function badInput(argument: string, value: unknown, rule: string): GraphQLError {
  return apiError('BAD_USER_INPUT', `${argument} ${rule}, got ${cutText(JSON.stringify(value) ?? String(value), SHOWN_VALUE_CHARS)}`, { argument });
}

/** Characters of a refused value an error message repeats (a 90 kB string is not echoed back whole). */
export const SHOWN_VALUE_CHARS = 200;

/** `text` when at most `max` characters, else its first `max` and how long it was. */
export function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (cut: ${text.length.toLocaleString('en-US')} characters in all)`;
}

export function unauthenticated(): GraphQLError {
  return apiError('UNAUTHENTICATED', 'this operation needs the header "Authorization: Bearer <RECSYS_API_TOKEN>"');
}

/** A 32-bit non-negative integer id, as ids are stored in Int32Arrays. */
export function checkId(argument: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 2_147_483_647) throw badInput(argument, value, 'must be an integer id in 0..2147483647');
  return value;
}

/** n of top-n lists: an integer in 1..max. */
export function checkCount(argument: string, value: number, max = 100): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(argument, value, `must be an integer in 1..${max}`);
  return value;
}

/**
 * class-validator failures arrive as "Argument Validation Error" with the details in
 * extensions.validationErrors: say what was wrong instead, keeping code BAD_USER_INPUT.
 */
function describeArgumentErrors(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const details = formatted.extensions?.validationErrors as Array<{ property: string; value: unknown; constraints?: Record<string, string> }> | undefined;
  if (!Array.isArray(details)) return formatted;
  const message = details.map((d) => `${Object.values(d.constraints ?? {}).join('; ') || `${d.property} is invalid`}, got ${JSON.stringify(d.value)}`).join('; ');
  return {
    ...formatted,
    message,
    extensions: { code: 'BAD_USER_INPUT', argument: details.map((d) => d.property).join(','), validationErrors: details.map((d) => ({ property: d.property, value: d.value, constraints: d.constraints })) },
  };
}

/** The error a GraphQL error wraps (a resolver's throw), or the error itself. */
function originalOf(error: unknown): unknown {
  let e = error;
  while (e instanceof GraphQLError && e.originalError) e = e.originalError;
  return e;
}

/**
 * What a client sees of an error, the same over HTTP (Apollo's `formatError`) and WebSocket:
 * errors with a code the API or GraphQL set (BAD_USER_INPUT, NOT_FOUND, GRAPHQL_VALIDATION_FAILED,
 * TIMEOUT …) keep their message (argument validation worded by {@link describeArgumentErrors});
 * anything else (a thrown Error, INTERNAL_SERVER_ERROR) becomes "internal error" with a log id,
 * and the log gets the detail (message, stack, path) under that id.
 */
export function maskError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const described = describeArgumentErrors(formatted);
  const code = described.extensions?.code;
  const original = originalOf(error);
  const internal = code === 'INTERNAL_SERVER_ERROR' || (code === undefined && original !== error && !(original instanceof GraphQLError));
  if (!internal) {
    if (code !== undefined) return described;
    // A GraphQL error about the request itself (a variable's value, an unknown operation) without a code.
    return { ...described, extensions: { ...described.extensions, code: 'BAD_USER_INPUT' } };
  }
  const logId = newLogId();
  logger.error({ err: original instanceof Error ? original : error, logId, path: formatted.path, message: formatted.message }, 'internal error');
  return { message: 'internal error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR', logId } };
}

/** A fresh log id, for errors answered outside GraphQL (HTTP 500, a WebSocket closed on an internal error). */
export function newLogId(): string {
  return randomBytes(6).toString('hex');
}
