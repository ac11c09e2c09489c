/**
 * Writing responses: JSON bodies with their length, and the error shapes — the admin API's
 * `{"error":{"code","message","details?"}}`, on `/v1` the OpenAI shape (`proxy/openai-error.ts`)
 * and on the Anthropic Messages routes Anthropic's (`proxy/anthropic-error.ts`). Internal errors
 * never expose their cause.
 */
import type { ServerResponse } from 'node:http';
import { type ErrorCode, LlmlbError } from '../errors.js';
import { sendJson } from '../proxy/json-response.js';
import { ERROR_WRITERS, type ProxyErrorStyle } from '../proxy/inference-routes.js';

/** Sends `body` as JSON with its length (the writer the proxy shares, in `proxy/json-response.ts`). */
export { sendJson };

/** Sends an empty response. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Which error shape a route speaks. */
export type ErrorStyle = 'admin' | ProxyErrorStyle;

/** The admin API's JSON body of an error. */
function adminErrorBody(error: LlmlbError): unknown {
  const body: { code: ErrorCode; message: string; details?: unknown } = { code: error.code, message: error.message };
  if (error.details) body.details = error.details;
  return { error: body };
}

/** Sends an error; 401s carry `WWW-Authenticate`, 405s the `Allow` list, errors that say when to retry `Retry-After`. */
export function sendError(res: ServerResponse, error: LlmlbError, style: ErrorStyle, allow?: readonly string[]): void {
  const headers: Record<string, string> = {};
  if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  if (error.retryAfterSecs !== undefined) headers['retry-after'] = String(error.retryAfterSecs);
  if (allow) headers.allow = allow.join(', ');
  if (style === 'admin') sendJson(res, error.status, adminErrorBody(error), headers);
  else ERROR_WRITERS[style].send(res, error, headers);
}

/** The error sent for anything that is not an {@link LlmlbError}: no detail leaves the process. */
export const INTERNAL_ERROR = new LlmlbError('internal_error', 'internal error');
