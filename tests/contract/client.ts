/**
 * What the contract suites share: the configured keys, the router every case starts from, and a
 * small HTTP client that calls a mounted router as a given role with global `fetch`.
 */
import { expect } from 'vitest';
import { createRouter, type Router, type RouterOptions } from '../../src/router.js';
import { memoryStorage } from '../../src/storage/memory/index.js';

export const ADMIN_KEY = 'contract-admin-key-0123456789';
export const VIEWER_KEY = 'contract-viewer-key-0123456789';
export const CLIENT_KEY = 'contract-client-key-0123456789';
export const SECRET = 'contract-secret-0123456789abcdef';
/** The keys by role. */
export const KEYS = { admin: ADMIN_KEY, viewer: VIEWER_KEY, client: CLIENT_KEY } as const;
/** Every configured secret: the keys and the router's secret, none of which may ever be in a response. */
export const CONFIGURED_SECRETS: readonly string[] = [ADMIN_KEY, VIEWER_KEY, CLIENT_KEY, SECRET];
/** A line of a stack trace: never in a response. */
export const STACK_LINE = /^\s*at\s+\S/m;

/**
 * A router as every contract case uses it (memory storage, scheduled checks on, one key per
 * role), not started.
 */
export function contractRouter(options: RouterOptions = {}): Router {
  return createRouter({
    storage: memoryStorage(),
    secret: SECRET,
    checker: { timeoutMs: 2000 },
    auth: {
      keys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: VIEWER_KEY, role: 'viewer' },
        { key: CLIENT_KEY, role: 'client' },
      ],
    },
    ...options,
  });
}

/** JSON as the API returns it; tests assert its shape. */
export type Json = any;

/** A response, read in full. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  body: Json;
}

/** How to call. */
export interface CallOptions {
  /**
   * Who calls: a role, a raw key, a raw Authorization header, a key in `x-api-key` (as Anthropic
   * clients send it), or `null` for no key. Default admin.
   */
  as?: keyof typeof KEYS | { key: string } | { authorization: string } | { xApiKey: string } | null;
  /** A raw body, sent as bytes. */
  bytes?: Buffer;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** A raw body, sent as is. */
  body?: string | ReadableStream<Uint8Array>;
  contentType?: string;
}

/** Sends one request to `baseUrl + path` and reads the whole response. */
export async function send(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const as = options.as === undefined ? 'admin' : options.as;
  if (typeof as === 'string') headers.authorization = `Bearer ${KEYS[as]}`;
  else if (as !== null && 'key' in as) headers.authorization = `Bearer ${as.key}`;
  else if (as !== null && 'xApiKey' in as) headers['x-api-key'] = as.xApiKey;
  else if (as !== null) headers.authorization = as.authorization;
  let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined = options.bytes ?? options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (body !== undefined) init.body = body;
  if (body instanceof ReadableStream) init.duplex = 'half';
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let parsed: Json = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** Every code the admin API (`/v0`) answers with. */
const ADMIN_ERROR_CODES = [
  'invalid_request',
  'validation_error',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'endpoint_offline',
  'not_ready',
  'internal_error',
];
/** Every code `/v1` answers with itself (upstream errors are relayed as the upstream sent them). */
const OPENAI_ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'model_not_found',
  'method_not_allowed',
  'rate_limited',
  'payload_too_large',
  'unsupported_media_type',
  'not_ready',
  'internal_error',
  'upstream_error',
  'upstream_timeout',
  'no_available_endpoint',
];
const OPENAI_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'server_error',
  'upstream_error',
  'service_unavailable_error',
];

/** Asserts that no secret and no stack trace is in a response's headers or body. */
export function expectNoLeak(res: ApiResponse, secrets: readonly string[]): void {
  const everything = `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${res.text}`;
  for (const secret of secrets) expect(everything, 'a secret leaked into a response').not.toContain(secret);
  expect(res.text, 'a stack trace leaked into a response').not.toMatch(STACK_LINE);
}

/** Anthropic's error type for each status llmlb answers with (Anthropic's API documentation). */
export const ANTHROPIC_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  409: 'invalid_request_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

/** The error styles a route may speak. */
export type ErrorStyle = 'admin' | 'openai' | 'anthropic';

/**
 * Asserts the documented error shape of a JSON error response: the admin API's
 * `{"error":{"code","message","details?"}}`, OpenAI's `{"error":{"message","type","code"}}` or
 * Anthropic's `{"type":"error","error":{"type","message"}}` (with the type for the status).
 */
export function expectErrorShape(res: ApiResponse, style: ErrorStyle): void {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  if (style === 'anthropic') {
    expect(res.body, res.text).toEqual({ type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[res.status], message: expect.any(String) } });
    expect(res.body.error.message.length).toBeGreaterThan(0);
    return;
  }
  expect(Object.keys(res.body)).toEqual(['error']);
  const error = res.body.error;
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  if (style === 'openai') {
    expect(Object.keys(error).sort(), JSON.stringify(error)).toEqual(['code', 'message', 'type']);
    expect(OPENAI_ERROR_CODES).toContain(error.code);
    expect(OPENAI_ERROR_TYPES).toContain(error.type);
    return;
  }
  expect(Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k)), JSON.stringify(error)).toBe(true);
  expect(ADMIN_ERROR_CODES).toContain(error.code);
  if ('details' in error) {
    expect(Array.isArray(error.details)).toBe(true);
    for (const d of error.details) expect(Object.keys(d).sort()).toEqual(['message', 'path']);
  }
}

/** Asserts a response's status and error code; returns the error object. */
export function expectError(res: ApiResponse, status: number, code: string): Json {
  expect({ status: res.status, code: res.body?.error?.code }, res.text).toEqual({ status, code });
  return res.body.error;
}

/**
 * A client whose every response is checked: no secret, no stack trace, and errors in the
 * documented shape of `style`.
 */
export function checkedClient(style: ErrorStyle, secrets: readonly string[]) {
  return async (baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> => {
    const res = await send(baseUrl, method, path, options);
    expectNoLeak(res, secrets);
    if (res.status >= 400) expectErrorShape(res, style);
    return res;
  };
}
