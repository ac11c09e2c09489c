/** `llmlb/express`: middleware for Express 4 and 5. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LlmlbError } from '../errors.js';
import { RejectedBody } from '../http/body.js';
import { type HandlerOptions, createHandler } from '../http/handler.js';
import type { Router } from '../router.js';

export type { HandlerOptions } from '../http/handler.js';

/** The structural shape of an Express request (no Express types needed at runtime). */
export type ExpressRequest = IncomingMessage & { body?: unknown };
/** The structural shape of an Express middleware. */
export type ExpressMiddleware = (req: ExpressRequest, res: ServerResponse, next: (err?: unknown) => void) => void;
/** The structural shape of an Express error-handling middleware (four parameters). */
export type ExpressErrorMiddleware = (err: unknown, req: ExpressRequest, res: ServerResponse, next: (err?: unknown) => void) => void;
/**
 * What {@link llmlb} returns: the request middleware and an error middleware that answers, in
 * llmlb's error shape, for bodies a host body parser rejected on llmlb's paths. `app.use` and
 * `router.use` take the pair as is.
 */
export type LlmlbExpressMiddleware = [ExpressMiddleware, ExpressErrorMiddleware];

/**
 * Express middleware serving llmlb's `/v0`, `/v1` and `/rerank` routes; every other path goes to `next()`,
 * so llmlb shares the app with your own routes. Mount it with `app.use(llmlb(router))` or under
 * a path with `app.use('/llm', llmlb(router))`.
 *
 * Mount it before body parsers: the proxy forwards the original request bytes. If a body parser
 * (`express.json()`, `express.text()`, `express.raw()`, …) already ran, the admin API uses what it
 * produced, under the same rules (JSON only, 64 KiB, not empty), and answers the parser's
 * rejections (malformed JSON, body too large, unsupported encoding) in llmlb's error shape after
 * its own authentication — which is why `llmlb()` returns a request middleware and an error
 * middleware.
 *
 * @example
 * import express from 'express';
 * import { llmlb } from 'llmlb/express';
 * const app = express();
 * app.use(llmlb(router));
 * app.get('/health', (_req, res) => res.send('ok'));
 */
export function llmlb(router: Router, options: HandlerOptions = {}): LlmlbExpressMiddleware {
  const handle = createHandler(router, options);
  const middleware: ExpressMiddleware = (req, res, next) => {
    // A body parser that ran first has consumed the stream: use what it produced.
    const consumed = req.readableEnded || (req as { _body?: boolean })._body === true;
    const parsed = consumed ? req.body : undefined;
    handle(req, res, () => next(), parsed);
  };
  const errorMiddleware: ExpressErrorMiddleware = (err, req, res, next) => {
    const body = fromBodyParserError(err);
    if (body === undefined) return next(err);
    // Requests outside llmlb's paths keep the host's error handling.
    handle(req, res, () => next(err), body);
  };
  return [middleware, errorMiddleware];
}

/**
 * Turns a rejection by Express's body parsers into what llmlb's body reader understands: the raw
 * body text for a parse failure (body-parser's strict mode also rejects valid JSON that is not an
 * object or array, which llmlb validates itself), or a {@link RejectedBody} carrying the error to
 * answer with. The parser's own message is never used: it may quote the body. `undefined` for
 * errors that are not a body parser's.
 */
function fromBodyParserError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status, body } = err as { type?: unknown; status?: unknown; body?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (type) {
    case 'entity.parse.failed':
      // The raw text, which llmlb parses (and rejects) itself, exactly as if it had read it.
      return typeof body === 'string' ? body : new RejectedBody(new LlmlbError('invalid_request', 'the request body is not valid JSON'));
    case 'entity.too.large':
      return new RejectedBody(new LlmlbError('payload_too_large', 'request body is too large'));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new RejectedBody(new LlmlbError('unsupported_media_type', 'the request body must be JSON in UTF-8 without content encoding'));
    case 'request.size.invalid':
      return new RejectedBody(new LlmlbError('invalid_request', 'the request body length does not match Content-Length'));
    default:
      return undefined;
  }
}
