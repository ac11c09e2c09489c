/**
 * The `/v0/keys` admin API (docs/keys.md): each route translates one HTTP request into one call
 * of `router.keys` and its result into a response. Only the create answer carries a secret.
 */
import { queryObject } from './admin-routes.js';
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const id = (ctx: RouteContext) => ctx.params.id ?? '';
const body = (ctx: RouteContext) => readJsonBody(ctx.req, ctx.bodyLimit, ctx.preParsedBody);

/** Handlers of the `/v0/keys` routes, by operation; the route table says who may call them. */
export const keyHandlers = {
  list: async (ctx) => sendJson(ctx.res, 200, await ctx.router.keys.list()),
  create: async (ctx) => sendJson(ctx.res, 201, await ctx.router.keys.create((await body(ctx)) as never)),
  get: async (ctx) => sendJson(ctx.res, 200, await ctx.router.keys.get(id(ctx))),
  update: async (ctx) => sendJson(ctx.res, 200, await ctx.router.keys.update(id(ctx), (await body(ctx)) as never)),
  revoke: async (ctx) => {
    await ctx.router.keys.revoke(id(ctx));
    sendEmpty(ctx.res, 204);
  },
  usage: async (ctx) => sendJson(ctx.res, 200, await ctx.router.keys.usage(id(ctx), queryObject(ctx.query))),
} satisfies Record<string, RouteHandler>;
