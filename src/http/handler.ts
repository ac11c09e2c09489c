/**
 * The framework-agnostic request handler on Node's `IncomingMessage`/`ServerResponse`: strips the
 * mount prefix, resolves the request in the route table, authenticates, authorises by the
 * route's roles, checks that the router is started, and turns every failure into the route's
 * error shape. Paths outside the table's roots (`/v0`, `/v1`, `/rerank`) are not ours: they go to `next`
 * (the host app) or get a 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { LlmlbError, toLlmlbError } from '../errors.js';
import { routerInternals } from '../internals.js';
import { parseOptions } from '../options.js';
import type { Router, RouterState } from '../router.js';
import type { Authenticator, KeySources } from './auth.js';
import { type ErrorStyle, INTERNAL_ERROR, sendError } from './respond.js';
import type { Resolution, RouteContext, RouteIndex } from './route.js';
import { type RouteSelection, routeIndexFor } from './routes.js';

/** Options of the HTTP handler (and of every adapter). */
export interface HandlerOptions {
  /** Path prefix the handler is mounted under, e.g. `/llm` (default: none). */
  prefix?: string;
  /** Largest admin-API request body in bytes (default 64 KiB). */
  adminBodyLimit?: number;
  /** Serve the `/v0` admin API and the `/v1` proxy (default true). */
  api?: boolean;
  /**
   * Serve `GET /healthz` and `GET /readyz` without a key (default false). With
   * `{ requireOnlineEndpoint: true }`, `/readyz` also needs one online, enabled endpoint.
   */
  health?: boolean | { requireOnlineEndpoint?: boolean };
  /**
   * Serve the Prometheus exposition of `router.metrics()` (default false): at `/metrics` for
   * admin and viewer keys, or at `path`, and without a key when `public` is true.
   */
  metrics?: boolean | { path?: string; public?: boolean };
  /** Serve the web dashboard under `/dashboard` (default false); its files need no key, its data does. */
  dashboard?: boolean;
}

/** Validates {@link HandlerOptions}. */
const handlerOptionsSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^(\/[^/?#]+)*\/?$/, 'must be a path such as "/llm"')
    .optional(),
  adminBodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
  api: z.boolean().optional(),
  health: z.union([z.boolean(), z.strictObject({ requireOnlineEndpoint: z.boolean().optional() })]).optional(),
  metrics: z
    .union([
      z.boolean(),
      z.strictObject({
        path: z
          .string()
          .regex(/^\/[\w.-]+(\/[\w.-]+)*$/, 'must be a path such as "/metrics"')
          .refine((p) => !/^\/(v0|v1|rerank|dashboard|healthz|readyz)(\/|$)/.test(p), 'must not be under another llmlb route')
          .optional(),
        public: z.boolean().optional(),
      }),
    ])
    .optional(),
  dashboard: z.boolean().optional(),
});

/** The routes a handler with these (parsed) options serves. */
function selectionOf(options: z.infer<typeof handlerOptionsSchema>): RouteSelection {
  const metrics = options.metrics === true ? {} : options.metrics || null;
  return {
    api: options.api ?? true,
    health: options.health !== undefined && options.health !== false,
    readyRequiresEndpoint: typeof options.health === 'object' && options.health.requireOnlineEndpoint === true,
    metricsPath: metrics === null ? null : (metrics.path ?? '/metrics'),
    metricsPublic: metrics?.public ?? false,
    dashboard: options.dashboard ?? false,
  };
}

/**
 * The route table a handler with `options` serves (the Fastify plugin mounts its roots).
 *
 * @example
 * handlerRouteIndex({ dashboard: true }).roots; // ['v0', 'v1', 'dashboard']
 */
export function handlerRouteIndex(options: HandlerOptions): RouteIndex {
  return routeIndexFor(selectionOf(parseOptions(handlerOptionsSchema, options, 'handler options')));
}

/**
 * A request handler. `next` is called for requests outside llmlb's paths; without it they get a
 * 404. `preParsedBody` is a body a host framework already parsed.
 */
export type LlmlbHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void, preParsedBody?: unknown) => void;

const DEFAULT_ADMIN_BODY_LIMIT = 64 * 1024;
const X_API_KEY: KeySources = Object.freeze({ xApiKey: true });
const MISSING_KEY = 'missing or unknown API key (Authorization: Bearer <key>)';
const MISSING_KEY_OR_X_API_KEY = 'missing or unknown API key (x-api-key: <key> or Authorization: Bearer <key>)';

const NOT_READY: Readonly<Record<Exclude<RouterState, 'started'>, string>> = {
  created: 'llmlb is not ready: the router has not been started',
  starting: 'llmlb is not ready: the router is starting',
  stopped: 'llmlb is not ready: the router is stopped',
};

/**
 * Serves one request that resolved in the route table: 401 unless authenticated, 403 unless the
 * caller's role is allowed, then 404 or 405 for a request that matches no route, 503 while the
 * router is not started, and the route's handler.
 */
async function serve(authenticate: Authenticator, target: Resolution, ctx: RouteContext, path: string): Promise<void> {
  // Public routes answer anyone, started or not (`/readyz` says itself whether it is ready);
  // a wrong method on a public path is a 405 for anyone too.
  const open = target.roles.has('public');
  if (target.handle && open) return target.handle(ctx);
  const method = ctx.req.method ?? 'GET';
  if (!open) {
    const principal = (ctx.principal = await authenticate(ctx.req, target.xApiKey === true ? X_API_KEY : undefined));
    if (!principal) throw new LlmlbError('unauthorized', target.xApiKey === true ? MISSING_KEY_OR_X_API_KEY : MISSING_KEY);
    if (!target.roles.has(principal.role)) throw new LlmlbError('forbidden', `the ${principal.role} role may not ${method} ${path}`);
  }
  if (!target.handle) {
    if (!target.allow) throw new LlmlbError('not_found', `no route for ${method} ${path}`);
    throw new LlmlbError('method_not_allowed', `${method} is not allowed on ${path}; use ${target.allow.join(', ')}`);
  }
  const state = ctx.router.state;
  if (state !== 'started') throw new LlmlbError('not_ready', NOT_READY[state]);
  await target.handle(ctx);
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
  const { authenticator: authenticate, logger } = routerInternals(router);
  if (!authenticate) {
    throw new LlmlbError(
      'invalid_request',
      'the router has no `auth` option: pass { keys: [...] }, a function, or false to serve HTTP without auth',
    );
  }
  const prefix = (parsed.prefix ?? '').replace(/\/$/, '');
  const bodyLimit = parsed.adminBodyLimit ?? DEFAULT_ADMIN_BODY_LIMIT;
  const selection = selectionOf(parsed);
  const routeIndex = routeIndexFor(selection);
  // Metrics count from the moment a handler serves them, not from the first scrape.
  if (selection.metricsPath !== null) routerInternals(router).observe.metrics();

  const fail = (res: ServerResponse, err: unknown, target: Resolution | undefined) => {
    const error = toLlmlbError(err);
    const style: ErrorStyle = target?.errors ?? 'admin';
    if (error.code === 'internal_error') {
      logger.error({ err: error.cause ?? error }, 'request failed');
      sendError(res, err instanceof LlmlbError ? error : INTERNAL_ERROR, style);
      return;
    }
    sendError(res, error, style, error.code === 'method_not_allowed' ? target?.allow : undefined);
  };

  return (req, res, next, preParsedBody) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const fullPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const inMount = prefix === '' || fullPath === prefix || fullPath.startsWith(`${prefix}/`);
    const path = fullPath.slice(prefix.length);
    const target = inMount ? routeIndex.resolve(req.method ?? 'GET', path) : undefined;
    if (!target) {
      if (next) return next();
      return fail(res, new LlmlbError('not_found', `no route for ${req.method} ${fullPath}`), undefined);
    }
    const ctx: RouteContext = {
      router,
      req,
      res,
      params: target.params,
      get query() {
        return new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
      },
      bodyLimit,
      preParsedBody,
      principal: null,
    };
    void serve(authenticate, target, ctx, path).catch((err: unknown) => fail(res, err, target));
  };
}
