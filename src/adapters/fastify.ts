/** `llmlb/fastify`: a Fastify plugin. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { type HandlerOptions, createHandler, handlerRouteIndex } from '../http/handler.js';
import type { Router } from '../router.js';

/** Options of {@link llmlbPlugin}: the router, plus handler options (`prefix` is Fastify's own). */
export interface LlmlbPluginOptions extends Omit<HandlerOptions, 'prefix'> {
  router: Router;
  /** Fastify's register prefix, e.g. `/llm`. */
  prefix?: string;
}

/**
 * Fastify plugin serving llmlb's routes (`/v0`, `/v1`, `/rerank`, and the optional `/healthz`, `/readyz`, metrics and `/dashboard`) under the register prefix. Register it
 * as is (not wrapped in `fastify-plugin`): it installs a raw-body content-type parser that must
 * stay inside its own encapsulation context. Replies are written on the raw response after
 * `reply.hijack()`, so Fastify hooks that change replies do not apply to these routes.
 *
 * @example
 * import Fastify from 'fastify';
 * import { llmlbPlugin } from 'llmlb/fastify';
 * const app = Fastify();
 * await app.register(llmlbPlugin, { router, prefix: '/llm' });
 */
export const llmlbPlugin: FastifyPluginAsync<LlmlbPluginOptions> = async (app: FastifyInstance, options) => {
  const { router, prefix: _prefix, ...handlerOptions } = options;
  const handle = createHandler(router, { ...handlerOptions, prefix: app.prefix });
  // Leave request bodies unread: the handler streams them itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const route = (url: string) =>
    app.all(url, (request, reply) => {
      reply.hijack();
      handle(request.raw, reply.raw);
    });
  // Every root of the route table (`/v0`, `/v1`, and the optional ones), so that new routes need no change here.
  for (const root of handlerRouteIndex(handlerOptions).roots) {
    route(`/${root}`);
    route(`/${root}/*`);
  }
};
