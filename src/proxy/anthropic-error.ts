/**
 * Anthropic-shaped errors, `{"type":"error","error":{"type","message"}}`: the one module that
 * writes them, on the Anthropic Messages routes (`/v1/messages`), as a JSON response and as the
 * final `event: error` of a stream that broke. Anthropic's error `type` follows the HTTP status.
 */
import type { ServerResponse } from 'node:http';
import type { LlmlbError } from '../errors.js';
import { sendJson } from './json-response.js';

/** Anthropic error `type` per HTTP status; other 4xx are `invalid_request_error`, other 5xx `api_error`. */
const ANTHROPIC_TYPE: Readonly<Record<number, string>> = {
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** The Anthropic shape of an error. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/**
 * The Anthropic-shaped body of `error`.
 *
 * @example
 * anthropicErrorBody(new LlmlbError('model_not_found', 'no such model'))
 * // { type: 'error', error: { type: 'not_found_error', message: 'no such model' } }
 */
export function anthropicErrorBody(error: LlmlbError): AnthropicErrorBody {
  const type = ANTHROPIC_TYPE[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message: error.message } };
}

/**
 * Answers with `error` as an Anthropic-shaped JSON response, with the error's HTTP status and any
 * extra `headers`.
 *
 * @example
 * sendAnthropicError(res, new LlmlbError('unauthorized', 'missing or unknown API key'));
 */
export function sendAnthropicError(res: ServerResponse, error: LlmlbError, headers?: Record<string, string>): void {
  sendJson(res, error.status, anthropicErrorBody(error), headers);
}

/**
 * The server-sent event that ends an Anthropic stream broken by `error`.
 *
 * @example
 * res.end(anthropicErrorEvent(new LlmlbError('upstream_error', 'endpoint gpu-1 failed mid-stream')));
 * // event: error\ndata: {"type":"error","error":{"type":"api_error","message":"…"}}\n\n
 */
export function anthropicErrorEvent(error: LlmlbError): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error))}\n\n`;
}
