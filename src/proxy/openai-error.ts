/**
 * OpenAI-shaped errors, `{"error":{"message","type","code"}}`: the one module that writes them,
 * as a JSON response (every error on `/v1`) and as the final SSE event of a stream that broke.
 * It owns the table from llmlb error codes to OpenAI error types.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode, LlmlbError } from '../errors.js';
import { sendJson } from './json-response.js';

/** OpenAI error `type` per llmlb code; codes not listed are `invalid_request_error`. */
const OPENAI_TYPE: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  model_not_found: 'not_found_error',
  internal_error: 'server_error',
  upstream_error: 'upstream_error',
  upstream_timeout: 'upstream_error',
  no_available_endpoint: 'service_unavailable_error',
  not_ready: 'service_unavailable_error',
  queue_full: 'rate_limit_error',
  rate_limited: 'rate_limit_error',
  queue_timeout: 'service_unavailable_error',
  endpoint_offline: 'service_unavailable_error',
};

/** The OpenAI shape of an error. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: ErrorCode };
}

/**
 * The OpenAI-shaped body of `error`.
 *
 * @example
 * openAiErrorBody(new LlmlbError('model_not_found', 'no such model'))
 * // { error: { message: 'no such model', type: 'not_found_error', code: 'model_not_found' } }
 */
export function openAiErrorBody(error: LlmlbError): OpenAiErrorBody {
  return { error: { message: error.message, type: OPENAI_TYPE[error.code] ?? 'invalid_request_error', code: error.code } };
}

/**
 * Answers with `error` as an OpenAI-shaped JSON response, with the error's HTTP status and any
 * extra `headers` (such as `WWW-Authenticate`).
 *
 * @example
 * sendOpenAiError(res, new LlmlbError('no_available_endpoint', 'nothing online'));
 */
export function sendOpenAiError(res: ServerResponse, error: LlmlbError, headers?: Record<string, string>): void {
  sendJson(res, error.status, openAiErrorBody(error), headers);
}

/**
 * The server-sent event that ends a stream broken by `error`: `data: {"error":…}` and a blank line.
 *
 * @example
 * res.end(openAiErrorEvent(new LlmlbError('upstream_error', 'endpoint gpu-1 failed mid-stream')));
 */
export function openAiErrorEvent(error: LlmlbError): string {
  return `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`;
}
