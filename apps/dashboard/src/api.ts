import { RecsysClient, RecsysClientError } from '@recsys/client';

// The key GraphiQL's token bar uses too (apps/api/src/http/graphiql.ts): one token per tab for both pages.
const TOKEN_KEY = 'recsys.apiToken';

/** The API token typed into the training form: kept in this tab's sessionStorage only (never localStorage or a cookie). */
export function savedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The typed client on this page's own server (the token when one is saved). */
export function client(): RecsysClient {
  const token = savedToken();
  return new RecsysClient(location.origin, token ? { token } : {});
}

/** What went wrong, for the page: the server's message with its code (BAD_USER_INPUT, UNAUTHENTICATED, …). */
export function errorText(error: unknown): string {
  if (error instanceof RecsysClientError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
