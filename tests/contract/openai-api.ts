/**
 * The `/v1` OpenAI-compatible API contract (docs/proxy.md, docs/api.md): one suite of HTTP cases,
 * run unchanged against every adapter. Each test gets a fresh started router behind a real
 * server on 127.0.0.1, with one fake upstream on 127.0.0.1 registered (with an api key) and
 * checked. Every response goes through a gate: no secret, no stack trace, and errors in the
 * OpenAI shape `{"error":{"message","type","code"}}`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, CONFIGURED_SECRETS, type CallOptions, type Json, checkedClient, contractRouter, expectError } from './client.js';
import type { ContractServer, ServerFactory } from './servers.js';

const UPSTREAM_KEY = 'sk-upstream-V1-SECRET-4b7e1d9a';
/** Every response is checked: no secrets, no stack traces, errors in the OpenAI shape. */
const request = checkedClient('openai', [...CONFIGURED_SECRETS, UPSTREAM_KEY]);
const MODELS = ['llama3.1:8b', 'nomic-embed-text', 'Qwen/Qwen2.5-7B-Instruct'];
/** The proxy's body limit in this suite. */
const BODY_LIMIT = 64 * 1024;
const INFERENCE_PATHS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'];

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

/** Every `/v1` route, with a valid request for it. */
const V1_REQUESTS: ReadonlyArray<[string, string, unknown?]> = [
  ['POST', '/v1/chat/completions', chat('llama3.1:8b')],
  ['POST', '/v1/completions', { model: 'llama3.1:8b', prompt: 'hi' }],
  ['POST', '/v1/embeddings', { model: 'nomic-embed-text', input: 'hi' }],
  ['GET', '/v1/models'],
  ['GET', '/v1/models/Qwen/Qwen2.5-7B-Instruct'],
];

/** The data events of a server-sent event stream, up to `[DONE]`. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

/**
 * Registers the `/v1` contract for one adapter.
 *
 * @example
 * runOpenAiApiContract('node http', nodeServer);
 */
export function runOpenAiApiContract(name: string, makeServer: ServerFactory): void {
  describe(`/v1 OpenAI API contract — ${name}`, () => {
    let router: Router;
    let server: ContractServer;
    let upstream: FakeUpstream;
    let endpointId: string;

    beforeEach(async () => {
      upstream = await startFakeUpstream({ name: 'contract-upstream', apiKey: UPSTREAM_KEY, models: MODELS });
      router = contractRouter({ proxy: { bodyLimit: BODY_LIMIT } });
      await router.start();
      endpointId = (await router.endpoints.create({ name: 'upstream', base_url: upstream.url(), api_key: UPSTREAM_KEY })).id;
      await router.checker.idle();
      server = await makeServer(router);
    });

    afterEach(async () => {
      await server.close();
      await router.stop();
      await upstream.stop();
    });

    /** Calls as a client unless told otherwise; every response is checked. */
    const call = (method: string, path: string, options: CallOptions = {}) =>
      request(server.baseUrl, method, path, { as: 'client', ...options });

    const inferenceRequests = () => INFERENCE_PATHS.reduce((n, path) => n + upstream.requestsTo(path).length, 0);

    describe('inference', () => {
      it('POST /v1/chat/completions: the upstream’s answer, sent with the endpoint key, never the client key', async () => {
        const body = chat('llama3.1:8b');
        const res = await call('POST', '/v1/chat/completions', { json: body });
        expect(res.status, res.text).toBe(200);
        expect(res.headers.get('x-llmlb-endpoint')).toBe(endpointId);
        expect(res.body.choices[0].message).toEqual({ role: 'assistant', content: 'hello from contract-upstream' });
        const seen = upstream.requestsTo('/v1/chat/completions');
        expect(seen).toHaveLength(1);
        expect(JSON.parse(seen[0]!.body.toString('utf8'))).toEqual(body);
        expect(seen[0]!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
        expect(JSON.stringify(seen[0]!.headers)).not.toContain(CLIENT_KEY);
        expect((await call('POST', '/v1/chat/completions', { json: body, as: 'admin' })).status).toBe(200);
      });

      it('POST /v1/chat/completions with stream: server-sent events through to [DONE]', async () => {
        const res = await call('POST', '/v1/chat/completions', { json: chat('llama3.1:8b', true) });
        expect(res.status, res.text).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/event-stream');
        const events = sseData(res.text);
        expect(events.at(-1)).toBe('[DONE]');
        const content = events.slice(0, -1).map((e) => JSON.parse(e).choices[0].delta.content as string);
        expect(content.join('')).toBe('0 1 2 3 4 ');
      });

      it('POST /v1/embeddings and POST /v1/completions', async () => {
        const embeddings = await call('POST', '/v1/embeddings', { json: { model: 'nomic-embed-text', input: ['a', 'b'] } });
        expect(embeddings.status, embeddings.text).toBe(200);
        expect(embeddings.body.data.map((d: Json) => d.embedding)).toEqual([
          [0.1, 0.2, 0.3],
          [0.1, 0.2, 0.3],
        ]);
        const completions = await call('POST', '/v1/completions', { json: { model: 'llama3.1:8b', prompt: 'hi' } });
        expect(completions.status, completions.text).toBe(200);
        expect(completions.body.choices[0].text).toBe('hello from contract-upstream');
      });
    });

    describe('models', () => {
      it('GET /v1/models lists every model, available', async () => {
        const res = await call('GET', '/v1/models');
        expect(res.status).toBe(200);
        expect(res.body.object).toBe('list');
        expect(res.body.data.map((m: Json) => [m.id, m.object, m.available])).toEqual(
          [...MODELS].sort().map((id) => [id, 'model', true]),
        );
        const head = await fetch(`${server.baseUrl}/v1/models`, { method: 'HEAD', headers: { authorization: `Bearer ${CLIENT_KEY}` } });
        expect(head.status).toBe(200);
        expect(await head.text()).toBe('');
      });

      it('GET /v1/models/{id} takes ids with a slash; an unknown id is 404 model_not_found', async () => {
        const res = await call('GET', '/v1/models/Qwen/Qwen2.5-7B-Instruct');
        expect(res.status, res.text).toBe(200);
        expect(res.body).toMatchObject({ id: 'Qwen/Qwen2.5-7B-Instruct', object: 'model', owned_by: 'llmlb', endpoints: 1 });
        expect((await call('GET', '/v1/models/llama3.1:8b')).body.id).toBe('llama3.1:8b');
        const missing = expectError(await call('GET', '/v1/models/Qwen/nope'), 404, 'model_not_found');
        expect(missing.type).toBe('not_found_error');
      });
    });

    describe('errors, in the OpenAI shape', () => {
      it('401 without a known key, on every route, with WWW-Authenticate; nothing reaches the upstream', async () => {
        for (const as of [null, { key: 'not-a-configured-key-0123456789' }, { authorization: `Basic ${CLIENT_KEY}` }]) {
          for (const [method, path, json] of [...V1_REQUESTS, ['GET', '/v1/nowhere'] as const]) {
            const res = await call(method, path, { as, json });
            expect(expectError(res, 401, 'unauthorized').type).toBe('authentication_error');
            expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
          }
        }
        expect(inferenceRequests()).toBe(0);
      });

      it('403 for a viewer key, on every route', async () => {
        for (const [method, path, json] of [...V1_REQUESTS, ['GET', '/v1/nowhere'] as const, ['DELETE', '/v1/models'] as const]) {
          const res = await call(method, path, { as: 'viewer', json });
          expect(expectError(res, 403, 'forbidden').type).toBe('permission_error');
        }
        expect(inferenceRequests()).toBe(0);
      });

      it('404 model_not_found for a model no endpoint serves; 404 not_found for an unknown route', async () => {
        const unknownModel = { ...chat('gpt-99'), prompt: 'hi', input: 'hi' };
        for (const path of INFERENCE_PATHS) {
          expect(expectError(await call('POST', path, { json: unknownModel }), 404, 'model_not_found').type).toBe('not_found_error');
        }
        for (const path of ['/v1', '/v1/', '/v1/chat', '/v1/responses', '/v1/models-list']) {
          expect(expectError(await call('POST', path, { json: chat('llama3.1:8b') }), 404, 'not_found').type).toBe('not_found_error');
        }
        expect(inferenceRequests()).toBe(0);
      });

      it('400 invalid_request for a body without a usable model, or not a JSON object', async () => {
        const bodies: Array<[string, string]> = [
          ['no model', JSON.stringify({ messages: [] })],
          ['an empty model', JSON.stringify({ model: '' })],
          ['a numeric model', JSON.stringify({ model: 42 })],
          ['an array', '[]'],
          ['malformed JSON', '{"model":'],
          ['an empty body', ''],
        ];
        for (const path of INFERENCE_PATHS) {
          for (const [what, body] of bodies) {
            const res = await call('POST', path, { body, contentType: 'application/json' });
            expect(expectError(res, 400, 'invalid_request').type, `${path} with ${what}`).toBe('invalid_request_error');
          }
        }
        expect(inferenceRequests()).toBe(0);
      });

      it('413 for a body over the proxy limit; 415 for a body not declared as JSON', async () => {
        const big = { ...chat('llama3.1:8b'), padding: 'x'.repeat(BODY_LIMIT) };
        expectError(await call('POST', '/v1/chat/completions', { json: big }), 413, 'payload_too_large');
        // Far over the limit, and over common host body-parser limits (Express's 100 KiB).
        const huge = { ...big, padding: 'y'.repeat(4 * BODY_LIMIT) };
        expectError(await call('POST', '/v1/embeddings', { json: huge }), 413, 'payload_too_large');
        for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
          const res = await call('POST', '/v1/chat/completions', { body: JSON.stringify(chat('llama3.1:8b')), contentType });
          expectError(res, 415, 'unsupported_media_type');
        }
        expect(inferenceRequests()).toBe(0);
      });

      it('405 with Allow for a known path with another method', async () => {
        const cases: Array<[string, string, string[]]> = [
          ['GET', '/v1/chat/completions', ['POST']],
          ['PUT', '/v1/embeddings', ['POST']],
          ['POST', '/v1/models', ['GET', 'HEAD']],
          ['DELETE', '/v1/models/llama3.1:8b', ['GET', 'HEAD']],
        ];
        for (const [method, path, allow] of cases) {
          const res = await call(method, path);
          expectError(res, 405, 'method_not_allowed');
          expect((res.headers.get('allow') ?? '').split(',').map((m) => m.trim()).sort(), `${method} ${path}`).toEqual(allow);
        }
      });
    });
  });
}
