import { GraphQLError } from 'graphql';

/** The `extensions.code` values this API sets itself (Apollo adds GRAPHQL_VALIDATION_FAILED etc.). */
export type ApiErrorCode = 'NOT_FOUND' | 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'CONFLICT' | 'SERVICE_UNAVAILABLE';

/** A GraphQL error carrying `extensions.code` (and the offending argument, when there is one). */
export function apiError(code: ApiErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export function notFound(what: string, id: number | string): GraphQLError {
  return apiError('NOT_FOUND', `${what} ${id} not found`, { [`${what}Id`]: id });
}

/** BAD_USER_INPUT naming the argument and the value it got. */
export function badInput(argument: string, value: unknown, rule: string): GraphQLError {
  return apiError('BAD_USER_INPUT', `${argument} ${rule}, got ${JSON.stringify(value)}`, { argument });
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
