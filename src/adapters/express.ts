/** `llmlb/express`: middleware for Express 4 and 5. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HandlerOptions, createHandler } from '../http/handler.js';
import type { Router } from '../router.js';

export type { HandlerOptions } from '../http/handler.js';

/** The structural shape of an Express middleware (no Express types needed at runtime). */
export type ExpressMiddleware = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Express middleware serving llmlb's `/v0` and `/v1` routes; every other path goes to `next()`,
 * so llmlb shares the app with your own routes. Mount it with `app.use(llmlb(router))` or under
 * a path with `app.use('/llm', llmlb(router))`.
 *
 * Mount it before body parsers: the proxy forwards the original request bytes. If
 * `express.json()` already ran, the admin API uses the parsed `req.body`.
 *
 * @example
 * import express from 'express';
 * import { llmlb } from 'llmlb/express';
 * const app = express();
 * app.use(llmlb(router));
 * app.get('/health', (_req, res) => res.send('ok'));
 */
export function llmlb(router: Router, options: HandlerOptions = {}): ExpressMiddleware {
  const handle = createHandler(router, options);
  return (req, res, next) => {
    // A body parser that ran first has consumed the stream: use what it parsed.
    const consumed = req.readableEnded || (req as { _body?: boolean })._body === true;
    const parsed = consumed ? req.body : undefined;
    handle(req, res, () => next(), parsed);
  };
}
