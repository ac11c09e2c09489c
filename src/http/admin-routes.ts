/**
 * The `/v0/endpoints` admin API (SPEC §6): each route translates one HTTP request into one call
 * of `router.endpoints` and its result into a response.
 */
import { LlmlbError } from '../errors.js';
import type { ListEndpointsFilter } from '../schema.js';
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const body = (ctx: RouteContext) => readJsonBody(ctx.req, ctx.bodyLimit, ctx.preParsedBody);
const id = (ctx: RouteContext) => ctx.params.id ?? '';

/** Turns `?status=online` into a list filter; unknown or repeated parameters are a 400. */
function listFilter(query: URLSearchParams): ListEndpointsFilter {
  const filter = new Map<string, string>();
  for (const [key, value] of query) {
    if (filter.has(key)) {
      throw new LlmlbError('validation_error', `invalid filter: ${key} is given more than once`, {
        details: [{ path: key, message: 'given more than once' }],
      });
    }
    filter.set(key, value);
  }
  return Object.fromEntries(filter) as ListEndpointsFilter;
}

/** Handlers of the `/v0/endpoints` routes, by operation; the route table says who may call them. */
export const endpointHandlers = {
  list: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.list(listFilter(ctx.query))),
  create: async (ctx) => sendJson(ctx.res, 201, await ctx.router.endpoints.create((await body(ctx)) as never)),
  get: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.get(id(ctx))),
  update: async (ctx) => {
    const input = await body(ctx);
    sendJson(ctx.res, 200, await ctx.router.endpoints.update(id(ctx), input as never));
  },
  delete: async (ctx) => {
    await ctx.router.endpoints.delete(id(ctx));
    sendEmpty(ctx.res, 204);
  },
  test: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.test(id(ctx))),
  sync: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.sync(id(ctx))),
} satisfies Record<string, RouteHandler>;
