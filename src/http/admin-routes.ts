/**
 * The `/v0` admin API (SPEC §6): each route translates one HTTP request into one call of
 * `router.endpoints`, `router.models` or `router.stats` and its result into a response.
 */
import { LlmlbError } from '../errors.js';
import { routerInternals } from '../internals.js';
import type { AdminAction } from '../observe/request-log.js';
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

/** The request's JSON body, within the admin API's limit. */
export const body = (ctx: RouteContext): Promise<unknown> => readJsonBody(ctx.req, ctx.bodyLimit, ctx.preParsedBody);
/** The `:id` of the path. */
export const id = (ctx: RouteContext): string => ctx.params.id ?? '';

/** Announces an admin write (the router's `admin` event, which the CLI logs). */
export function audit(ctx: RouteContext, action: AdminAction, endpointId: string, name?: string): void {
  const internals = routerInternals(ctx.router);
  const endpointName = name ?? internals.store.registry.getEndpoint(endpointId)?.name ?? null;
  internals.audit({ action, endpoint_id: endpointId, endpoint_name: endpointName, key_name: ctx.principal?.name ?? null });
}

/** Runs an admin write on the endpoint of the path, announces it, and answers with its result. */
export const write = (action: AdminAction, run: (ctx: RouteContext) => Promise<unknown>): RouteHandler => async (ctx) => {
  const result = await run(ctx);
  audit(ctx, action, id(ctx));
  sendJson(ctx.res, 200, result);
};

/**
 * Turns a query (`?status=online`) into an object for the programmatic API, which validates it;
 * a repeated parameter is a 400.
 */
export function queryObject(query: URLSearchParams): never {
  const filter = new Map<string, string>();
  for (const [key, value] of query) {
    if (filter.has(key)) {
      throw new LlmlbError('validation_error', `invalid filter: ${key} is given more than once`, {
        details: [{ path: key, message: 'given more than once' }],
      });
    }
    filter.set(key, value);
  }
  return Object.fromEntries(filter) as never;
}

/** Handlers of the `/v0/endpoints` routes, by operation; the route table says who may call them. */
export const endpointHandlers = {
  list: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.list(queryObject(ctx.query))),
  create: async (ctx) => {
    const created = await ctx.router.endpoints.create((await body(ctx)) as never);
    audit(ctx, 'create', created.id, created.name);
    sendJson(ctx.res, 201, created);
  },
  get: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.get(id(ctx))),
  update: write('update', async (ctx) => {
    const input = await body(ctx);
    return ctx.router.endpoints.update(id(ctx), input as never);
  }),
  delete: async (ctx) => {
    const name = routerInternals(ctx.router).store.registry.getEndpoint(id(ctx))?.name ?? null;
    await ctx.router.endpoints.delete(id(ctx));
    audit(ctx, 'delete', id(ctx), name ?? undefined);
    sendEmpty(ctx.res, 204);
  },
  test: write('test', (ctx) => ctx.router.endpoints.test(id(ctx))),
  sync: write('sync', (ctx) => ctx.router.endpoints.sync(id(ctx))),
  healthChecks: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.healthChecks(id(ctx), queryObject(ctx.query))),
  stats: async (ctx) => sendJson(ctx.res, 200, ctx.router.stats.get(id(ctx))),
} satisfies Record<string, RouteHandler>;

/** Handlers of `/v0/models` and `/v0/stats`: what the fleet serves and how it is doing. */
export const fleetHandlers = {
  models: async (ctx) => {
    const models = ctx.router.models.list();
    sendJson(ctx.res, 200, { models, total: models.length, aliases: ctx.router.models.aliases() });
  },
  model: async (ctx) => sendJson(ctx.res, 200, ctx.router.models.get(ctx.params.model ?? '')),
  stats: async (ctx) => sendJson(ctx.res, 200, { stats: ctx.router.stats.list() }),
  /** Who the caller is: the role and key name (the dashboard hides what the role may not do). */
  me: async (ctx) => sendJson(ctx.res, 200, { role: ctx.principal?.role, name: ctx.principal?.name ?? null, key_id: ctx.principal?.keyId ?? null }),
} satisfies Record<string, RouteHandler>;
