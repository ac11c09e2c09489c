/**
 * The `/v0` routes of self-registered nodes (docs/self-registration.md): registration with a
 * `node` key, the node list, heartbeats authenticated by `X-Node-Token`, and the admin's approval
 * or rejection of an endpoint pending approval. Each translates one request into one call of the
 * router's node service.
 */
import { routerInternals } from '../internals.js';
import type { NodeService } from '../nodes/service.js';
import { audit, body, id, queryObject, write } from './admin-routes.js';
import { sendEmpty, sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const nodes = (ctx: RouteContext): NodeService => routerInternals(ctx.router).nodes;

/**
 * Consumes a one-use registration token once a registration succeeded (a reusable `node` key and
 * a key from the `auth` option have nothing to consume). Of two registrations racing with one
 * token, the second is answered `401 unauthorized`.
 */
async function consumeRegistrationToken(ctx: RouteContext): Promise<void> {
  const keyId = ctx.principal?.keyId;
  if (keyId !== undefined) await routerInternals(ctx.router).keys.consume(keyId);
}

/** Handlers of the node routes; the route table says who may call them. */
export const nodeHandlers = {
  register: async (ctx) => {
    const registration = await nodes(ctx).register(await body(ctx));
    await consumeRegistrationToken(ctx);
    audit(ctx, 'register', registration.endpoint.id, registration.endpoint.name);
    sendJson(ctx.res, registration.created ? 201 : 200, registration);
  },
  list: async (ctx) => sendJson(ctx.res, 200, nodes(ctx).list(queryObject(ctx.query))),
  get: async (ctx) => sendJson(ctx.res, 200, nodes(ctx).get(id(ctx))),
  /** Public in the route table: the node token is the credential, checked by digest in memory. */
  heartbeat: async (ctx) => sendJson(ctx.res, 200, await nodes(ctx).heartbeat(ctx.req.headers['x-node-token'], () => body(ctx))),
  approve: write('approve', (ctx) => nodes(ctx).approve(id(ctx))),
  reject: async (ctx) => {
    const name = routerInternals(ctx.router).store.registry.getEndpoint(id(ctx))?.name;
    await nodes(ctx).reject(id(ctx));
    audit(ctx, 'reject', id(ctx), name);
    sendEmpty(ctx.res, 204);
  },
} satisfies Record<string, RouteHandler>;
