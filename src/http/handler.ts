/**
 * The framework-agnostic request handler on Node's `IncomingMessage`/`ServerResponse`: strips the
 * mount prefix, authenticates, matches the route table, and turns every failure into the
 * documented error shape. Paths outside `/v0` and `/v1` are not ours: they go to `next` (the
 * host app) or get a 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { LlmlbError, toLlmlbError } from '../errors.js';
import { parseOptions } from '../options.js';
import type { Router } from '../router.js';
import { type RouteContext, type RouteHandler, type RouteTable, adminRoutes } from './admin-routes.js';
import { type Area, isAllowed } from './auth.js';
import { proxyRoutes } from './proxy-routes.js';
import { type ErrorStyle, INTERNAL_ERROR, sendError } from './respond.js';

/** Options of the HTTP handler (and of every adapter). */
export interface HandlerOptions {
  /** Path prefix the handler is mounted under, e.g. `/llm` (default: none). */
  prefix?: string;
  /** Largest admin-API request body in bytes (default 64 KiB). */
  adminBodyLimit?: number;
}

/** Validates {@link HandlerOptions}. */
const handlerOptionsSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^(\/[^/?#]+)*\/?$/, 'must be a path such as "/llm"')
    .optional(),
  adminBodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
});

/**
 * A request handler. `next` is called for requests outside llmlb's paths; without it they get a
 * 404. `preParsedBody` is a body a host framework already parsed.
 */
export type LlmlbHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void, preParsedBody?: unknown) => void;

const DEFAULT_ADMIN_BODY_LIMIT = 64 * 1024;

interface Match {
  handlers: Readonly<Record<string, RouteHandler>> | undefined;
  params: Record<string, string>;
}

/** Routes whose pattern has no parameter, by their path (e.g. `/v1/chat/completions`). */
const EXACT_ROUTES: ReadonlyMap<string, Readonly<Record<string, RouteHandler>>> = new Map(
  [...adminRoutes, ...proxyRoutes]
    .filter((route) => route.pattern.every((segment) => !segment.startsWith(':') && !segment.startsWith('*')))
    .map((route) => [`/${route.pattern.join('/')}`, route.methods]),
);

/** Finds the route for path segments; `handlers` is undefined when no pattern matches. */
function match(table: RouteTable, segments: readonly string[]): Match {
  outer: for (const route of table) {
    const wildcard = route.pattern[route.pattern.length - 1]?.startsWith('*') === true;
    if (wildcard ? segments.length < route.pattern.length : route.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    for (let i = 0; i < route.pattern.length; i++) {
      const expected = route.pattern[i]!;
      if (expected.startsWith('*')) {
        params[expected.slice(1)] = segments.slice(i).join('/');
        return { handlers: route.methods, params };
      }
      const actual = segments[i]!;
      if (expected.startsWith(':')) params[expected.slice(1)] = actual;
      else if (expected !== actual) continue outer;
    }
    return { handlers: route.methods, params };
  }
  return { handlers: undefined, params: {} };
}

/** Splits a path into decoded segments; null when it is not decodable. */
function segmentsOf(path: string): string[] | null {
  try {
    return path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return null;
  }
}

/**
 * Creates the handler for a router. Requires the router's `auth` option to be set (keys, a
 * function, or `false`), so an HTTP API is never exposed without a decision about auth.
 *
 * @example
 * http.createServer(createHandler(router)).listen(8080);
 */
export function createHandler(router: Router, options: HandlerOptions = {}): LlmlbHandler {
  const parsed = parseOptions(handlerOptionsSchema, options, 'handler options');
  const authenticate = router.authenticator;
  if (!authenticate) {
    throw new LlmlbError(
      'invalid_request',
      'the router has no `auth` option: pass { keys: [...] }, a function, or false to serve HTTP without auth',
    );
  }
  const prefix = (parsed.prefix ?? '').replace(/\/$/, '');
  const adminBodyLimit = parsed.adminBodyLimit ?? DEFAULT_ADMIN_BODY_LIMIT;
  const logger = router.logger;

  const fail = (res: ServerResponse, err: unknown, style: ErrorStyle, allow?: readonly string[]) => {
    const error = toLlmlbError(err);
    if (error.code === 'internal_error') {
      logger.error({ err: error.cause ?? error }, 'request failed');
      sendError(res, err instanceof LlmlbError ? error : INTERNAL_ERROR, style);
      return;
    }
    sendError(res, error, style, allow);
  };

  return (req, res, next, preParsedBody) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const fullPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const inMount = prefix === '' || fullPath === prefix || fullPath.startsWith(`${prefix}/`);
    const path = inMount ? fullPath.slice(prefix.length) : '';
    const area: Area | null =
      path === '/v0' || path.startsWith('/v0/') ? 'admin' : path === '/v1' || path.startsWith('/v1/') ? 'inference' : null;
    if (area === null) {
      if (next) return next();
      return fail(res, new LlmlbError('not_found', `no route for ${req.method} ${fullPath}`), 'admin');
    }
    const style: ErrorStyle = area === 'admin' ? 'admin' : 'openai';
    const method = req.method ?? 'GET';

    void (async () => {
      const principal = await authenticate(req);
      if (!principal) throw new LlmlbError('unauthorized', 'missing or unknown API key (Authorization: Bearer <key>)');
      if (!isAllowed(principal, area, method)) {
        throw new LlmlbError('forbidden', `the ${principal.role} role may not ${method} ${path}`);
      }
      // Routes without parameters are found by their path alone; the rest by segments.
      const exact = EXACT_ROUTES.get(path);
      const segments = exact ? null : segmentsOf(path);
      const table = area === 'admin' ? adminRoutes : proxyRoutes;
      const found: Match = exact ? { handlers: exact, params: {} } : segments ? match(table, segments) : { handlers: undefined, params: {} };
      if (!found.handlers) throw new LlmlbError('not_found', `no route for ${method} ${path}`);
      // HEAD is GET without a body (Node drops the body of HEAD responses).
      const handler = found.handlers[method] ?? (method === 'HEAD' ? found.handlers.GET : undefined);
      if (!handler) {
        const allow = Object.keys(found.handlers).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        return fail(res, new LlmlbError('method_not_allowed', `${method} is not allowed on ${path}; use ${allow.join(', ')}`), style, allow);
      }
      const ctx: RouteContext = {
        router,
        req,
        res,
        params: found.params,
        get query() {
          return new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
        },
        bodyLimit: adminBodyLimit,
        preParsedBody,
      };
      await handler(ctx);
    })().catch((err: unknown) => fail(res, err, style));
  };
}
