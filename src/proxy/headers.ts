/** Header hygiene for proxying: hop-by-hop headers and client credentials never cross llmlb. */
import type { IncomingHttpHeaders } from 'node:http';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus ones llmlb sets itself. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // Node's server already answered `100 Continue`; undici refuses to send it again.
  'expect',
]);

/** Client headers that carry the caller's own credentials or cookies. */
const CLIENT_SECRETS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'x-api-key', 'api-key']);

/**
 * Headers to send upstream: the client's, minus hop-by-hop headers (including any named in its
 * `Connection` header) and its credentials, plus the endpoint's own credential.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  authorization: string | null,
  contentLength: number,
): Record<string, string | string[]> {
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const key in incoming) {
    if (HOP_BY_HOP.has(key) || CLIENT_SECRETS.has(key) || named?.has(key)) continue;
    const value = incoming[key];
    if (value !== undefined) out[key] = value;
  }
  if (authorization !== null) out.authorization = authorization;
  out['content-length'] = String(contentLength);
  return out;
}

/**
 * Headers to send back to the client: the upstream's, minus hop-by-hop headers, plus
 * `x-llmlb-endpoint` naming the endpoint that served the request, `x-llmlb-route` saying why it
 * was chosen, and `x-llmlb-queue-ms`, how long the request waited for a free slot.
 */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  endpointId: string,
  reason: string,
  queueMs: number,
): Record<string, string | string[]> {
  const named = connectionTokens(upstream.connection);
  const out: Record<string, string | string[]> = {};
  for (const key in upstream) {
    if ((HOP_BY_HOP.has(key) && key !== 'content-length') || named?.has(key)) continue;
    const value = upstream[key];
    if (value !== undefined) out[key] = value;
  }
  out['x-llmlb-endpoint'] = endpointId;
  out['x-llmlb-route'] = reason;
  out['x-llmlb-queue-ms'] = queueMs === 0 ? '0' : String(Math.round(queueMs));
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text === 'keep-alive' || text === 'close') return undefined;
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()));
}
