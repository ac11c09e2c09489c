/**
 * The `/v0/aliases` admin routes: each translates one HTTP request into one call of
 * `router.aliases` and its result into a response.
 */
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const name = (ctx: RouteContext) => ctx.params.name ?? '';
const body = (ctx: RouteContext) => readJsonBody(ctx.req, ctx.bodyLimit, ctx.preParsedBody);

/** Handlers of the `/v0/aliases` routes, by operation; the route table says who may call them. */
export const aliasHandlers = {
  list: async (ctx) => sendJson(ctx.res, 200, await ctx.router.aliases.list()),
  create: async (ctx) => sendJson(ctx.res, 201, await ctx.router.aliases.create((await body(ctx)) as never)),
  get: async (ctx) => sendJson(ctx.res, 200, await ctx.router.aliases.get(name(ctx))),
  update: async (ctx) => {
    const input = await body(ctx);
    sendJson(ctx.res, 200, await ctx.router.aliases.update(name(ctx), input as never));
  },
  delete: async (ctx) => {
    await ctx.router.aliases.delete(name(ctx));
    sendEmpty(ctx.res, 204);
  },
} satisfies Record<string, RouteHandler>;
