import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Methods and request headers a cross-origin page may use (Apollo's CSRF check asks for one of the last two on GET). */
const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS = 'Content-Type, Authorization, Apollo-Require-Preflight, X-Apollo-Operation-Name';
/** Seconds a browser may cache a preflight answer. */
const MAX_AGE = '600';

/**
 * CORS by allowlist (`RECSYS_CORS_ORIGINS`, parsed by config.ts's corsOrigins; default none).
 *
 * - A request from an allowed origin gets `Access-Control-Allow-Origin: <that origin>` (never
 *   `*`, never credentials: the API authenticates by bearer token, not cookies), and its
 *   preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 with the methods
 *   and headers above.
 * - A preflight from any other origin is refused cleanly: 403 with a JSON error and no CORS
 *   header, so the browser never sends the request.
 * - Other requests pass unchanged (same-origin pages such as GraphiQL send an Origin too, and
 *   non-browser clients none); without the CORS header a foreign page cannot read the answer.
 */
export function corsAllowlist(origins: readonly string[]): RequestHandler {
  const headers = corsHeaders(origins);
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (headers(req, res)) {
      if (preflight) {
        res.set({ 'Access-Control-Allow-Methods': ALLOW_METHODS, 'Access-Control-Allow-Headers': ALLOW_HEADERS, 'Access-Control-Max-Age': MAX_AGE });
        res.status(204).end();
        return;
      }
    } else if (preflight) {
      res.status(403).json({
        errors: [{ message: `origin ${JSON.stringify(origin ?? null)} is not allowed to call this API (RECSYS_CORS_ORIGINS)`, extensions: { code: 'FORBIDDEN' } }],
      });
      return;
    }
    next();
  };
}

/**
 * The CORS headers of any answer (see {@link corsAllowlist}), on node's own response: `Vary:
 * Origin`, and `Access-Control-Allow-Origin: <origin>` when the request's origin is allowed
 * (returns whether it is).
 */
export function corsHeaders(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(origins);
  return (req, res) => {
    const vary = res.getHeader('vary');
    if (vary === undefined) res.setHeader('vary', 'Origin');
    else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(String(vary))) res.setHeader('vary', `${String(vary)}, Origin`);
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    return true;
  };
}
