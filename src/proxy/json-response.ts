/**
 * Writing a JSON response with its length. The proxy writes its errors with it, and the HTTP layer
 * every other JSON body, so the one writer sits here, below both.
 */
import type { ServerResponse } from 'node:http';

/**
 * Sends `body` as JSON with `status`, uncached. A response whose headers are already out cannot
 * change its status any more: it is cut instead, so the client sees a failure.
 *
 * @example
 * sendJson(res, 200, { object: 'list', data: [] });
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
