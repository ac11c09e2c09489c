/** `llmlb/node`: the handler for `http.createServer` (or any Node-style server). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HandlerOptions, createHandler } from '../http/handler.js';
import type { Router } from '../router.js';

export type { HandlerOptions } from '../http/handler.js';

/**
 * A `(req, res)` listener serving llmlb's `/v0` admin API and `/v1` proxy (and `/rerank`). Requests outside
 * them get a JSON 404.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { toNodeHandler } from 'llmlb/node';
 * createServer(toNodeHandler(router)).listen(8080);
 */
export function toNodeHandler(router: Router, options: HandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = createHandler(router, options);
  return (req, res) => handle(req, res);
}
