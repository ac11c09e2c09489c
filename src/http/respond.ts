/**
 * Writing responses: JSON bodies with their length, and the two error shapes — the admin API's
 * `{"error":{"code","message","details?"}}` and the OpenAI shape `{"error":{"message","type","code"}}`
 * used on `/v1`. Internal errors never expose their cause.
 */
import type { ServerResponse } from 'node:http';
import { type ErrorCode, LlmlbError } from '../errors.js';

/** Sends `body` as JSON with `status`. */
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

/** Sends an empty response. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Which error shape a route speaks. */
export type ErrorStyle = 'admin' | 'openai';

const OPENAI_TYPE: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  model_not_found: 'not_found_error',
  internal_error: 'server_error',
  upstream_error: 'upstream_error',
  upstream_timeout: 'upstream_error',
  no_available_endpoint: 'service_unavailable_error',
  endpoint_offline: 'service_unavailable_error',
};

/** The JSON body of an error in the given style. */
function errorBody(error: LlmlbError, style: ErrorStyle): unknown {
  if (style === 'openai') {
    return { error: { message: error.message, type: OPENAI_TYPE[error.code] ?? 'invalid_request_error', code: error.code } };
  }
  const body: { code: ErrorCode; message: string; details?: unknown } = { code: error.code, message: error.message };
  if (error.details) body.details = error.details;
  return { error: body };
}

/** Sends an error; 401s carry `WWW-Authenticate`, 405s the `Allow` list. */
export function sendError(res: ServerResponse, error: LlmlbError, style: ErrorStyle, allow?: readonly string[]): void {
  const headers: Record<string, string> = {};
  if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  if (allow) headers.allow = allow.join(', ');
  sendJson(res, error.status, errorBody(error, style), headers);
}

/** The error sent for anything that is not an {@link LlmlbError}: no detail leaves the process. */
export const INTERNAL_ERROR = new LlmlbError('internal_error', 'internal error');
