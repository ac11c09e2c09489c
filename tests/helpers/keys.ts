/** Helpers for tests of runtime API keys: create one over HTTP, call `/v1` with a given key. */
import { expect } from 'vitest';
import type { LlmlbServer } from './llmlb-server.js';

/** A key as the create answer returns it. */
export interface CreatedKey {
  id: string;
  secret: string;
  prefix: string;
  [field: string]: unknown;
}

/** Creates a key through `POST /v0/keys` (as admin) and returns the answer. */
export async function createKey(s: LlmlbServer, body: Record<string, unknown>): Promise<CreatedKey> {
  const res = await s.admin('POST', '/v0/keys', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as CreatedKey;
}

/** Sends a request with `key` as the Bearer token. */
export function callWith(s: LlmlbServer, key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A chat request for `model` with `key`; `stream` asks for an event stream with usage. */
export function chatWith(s: LlmlbServer, key: string, model: string, stream = false): Promise<Response> {
  const body = stream ? { model, stream, stream_options: { include_usage: true }, messages: [] } : { model, messages: [] };
  return callWith(s, key, 'POST', '/v1/chat/completions', body);
}

/** A response's JSON body, for assertions on its shape. */
export async function bodyOf(res: Response): Promise<any> {
  return res.json();
}
