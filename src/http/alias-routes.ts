/**
 * The `/v0/aliases` admin routes: each translates one HTTP request into one call of
 * `router.aliases` and its result into a response, and logs the write.
 */
import { routerInternals } from '../internals.js';
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const name = (ctx: RouteContext) => ctx.params.name ?? '';
const body = (ctx: RouteContext) => readJsonBody(ctx.req, ctx.bodyLimit, ctx.preParsedBody);

/** One log line per alias write: what was done to which alias, by which key (its name, never the key). */
function logWrite(ctx: RouteContext, action: 'create' | 'update' | 'delete', alias: string): void {
  routerInternals(ctx.router).logger.info({ action, alias, key_name: ctx.principal?.name ?? null }, 'alias write');
}

/** Handlers of the `/v0/aliases` routes, by operation; the route table says who may call them. */
export const aliasHandlers = {
  list: async (ctx) => sendJson(ctx.res, 200, await ctx.router.aliases.list()),
  create: async (ctx) => {
    const created = await ctx.router.aliases.create((await body(ctx)) as never);
    logWrite(ctx, 'create', created.name);
    sendJson(ctx.res, 201, created);
  },
  get: async (ctx) => sendJson(ctx.res, 200, await ctx.router.aliases.get(name(ctx))),
  update: async (ctx) => {
    const input = await body(ctx);
    const updated = await ctx.router.aliases.update(name(ctx), input as never);
    logWrite(ctx, 'update', updated.name);
    sendJson(ctx.res, 200, updated);
  },
  delete: async (ctx) => {
    await ctx.router.aliases.delete(name(ctx));
    logWrite(ctx, 'delete', name(ctx));
    sendEmpty(ctx.res, 204);
  },
} satisfies Record<string, RouteHandler>;
