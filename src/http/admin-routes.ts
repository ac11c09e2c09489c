/**
 * The `/v0/endpoints` admin API (SPEC §6): each route translates one HTTP request into one call
 * of `router.endpoints` and its result into a response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LlmlbError } from '../errors.js';
import type { Router } from '../router.js';
import type { ListEndpointsFilter } from '../schema.js';
import { readJsonBody } from './body.js';
import { sendEmpty, sendJson } from './respond.js';

/** Everything a route handler gets. */
export interface RouteContext {
  router: Router;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters (`id`). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Largest accepted JSON body. */
  bodyLimit: number;
  /** A body a host framework already parsed, if any. */
  preParsedBody: unknown;
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Promise<void>;

/** Routes by path pattern, then by method. */
export type RouteTable = ReadonlyArray<{ pattern: readonly string[]; methods: Readonly<Record<string, RouteHandler>> }>;

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

/** The admin routes. `:id` marks a path parameter. */
export const adminRoutes: RouteTable = [
  {
    pattern: ['v0', 'endpoints'],
    methods: {
      GET: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.list(listFilter(ctx.query))),
      POST: async (ctx) => sendJson(ctx.res, 201, await ctx.router.endpoints.create((await body(ctx)) as never)),
    },
  },
  {
    pattern: ['v0', 'endpoints', ':id'],
    methods: {
      GET: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.get(id(ctx))),
      PUT: async (ctx) => {
        const input = await body(ctx);
        sendJson(ctx.res, 200, await ctx.router.endpoints.update(id(ctx), input as never));
      },
      DELETE: async (ctx) => {
        await ctx.router.endpoints.delete(id(ctx));
        sendEmpty(ctx.res, 204);
      },
    },
  },
  {
    pattern: ['v0', 'endpoints', ':id', 'test'],
    methods: { POST: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.test(id(ctx))) },
  },
  {
    pattern: ['v0', 'endpoints', ':id', 'sync'],
    methods: { POST: async (ctx) => sendJson(ctx.res, 200, await ctx.router.endpoints.sync(id(ctx))) },
  },
];
