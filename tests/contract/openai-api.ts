/**
 * The `/v1` OpenAI-compatible API contract (docs/proxy.md, docs/api.md): one suite of HTTP cases,
 * run unchanged against every adapter. Each test gets a fresh started router behind a real
 * server on 127.0.0.1, with one fake upstream on 127.0.0.1 registered (with an api key) and
 * checked, serving every forwarded route. Every response goes through a gate: no secret, no stack
 * trace, and errors in the OpenAI shape `{"error":{"message","type","code"}}` — Anthropic's on
 * `/v1/messages`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { SPEECH_BYTES, multipartBody, serveRoutes } from '../helpers/fake-routes.js';
import { CLIENT_KEY, CONFIGURED_SECRETS, type CallOptions, type Json, checkedClient, contractRouter, expectError } from './client.js';
import type { ContractServer, ServerFactory } from './servers.js';

const UPSTREAM_KEY = 'sk-upstream-V1-SECRET-4b7e1d9a';
/** Every response is checked: no secrets, no stack traces, errors in the OpenAI shape. */
const request = checkedClient('openai', [...CONFIGURED_SECRETS, UPSTREAM_KEY]);
const anthropicRequest = checkedClient('anthropic', [...CONFIGURED_SECRETS, UPSTREAM_KEY]);
/** An audio file to upload: every byte value. */
const AUDIO = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
const MODELS = ['llama3.1:8b', 'nomic-embed-text', 'Qwen/Qwen2.5-7B-Instruct', 'bge-reranker-v2-m3', 'dall-e-3', 'tts-1', 'whisper-1'];
/** The proxy's body limit in this suite. */
const BODY_LIMIT = 64 * 1024;
/** The forwarded routes whose bodies are JSON, in the OpenAI shape. */
const INFERENCE_PATHS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/rerank',
  '/v1/score',
  '/v1/audio/speech',
  '/v1/images/generations',
  '/rerank',
];
/** Every forwarded upstream path. */
const UPSTREAM_PATHS = [...INFERENCE_PATHS, '/v1/audio/transcriptions', '/v1/audio/translations', '/v1/messages', '/v1/messages/count_tokens'];

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

/** Every `/v1` route, with a valid request for it. */
const V1_REQUESTS: ReadonlyArray<[string, string, unknown?]> = [
  ['POST', '/v1/chat/completions', chat('llama3.1:8b')],
  ['POST', '/v1/completions', { model: 'llama3.1:8b', prompt: 'hi' }],
  ['POST', '/v1/embeddings', { model: 'nomic-embed-text', input: 'hi' }],
  ['GET', '/v1/models'],
  ['GET', '/v1/models/Qwen/Qwen2.5-7B-Instruct'],
  ['POST', '/v1/responses', { model: 'llama3.1:8b', input: 'hi' }],
  ['POST', '/v1/rerank', { model: 'bge-reranker-v2-m3', query: 'q', documents: ['a'] }],
  ['POST', '/rerank', { model: 'bge-reranker-v2-m3', query: 'q', documents: ['a'] }],
  ['POST', '/v1/score', { model: 'bge-reranker-v2-m3', text_1: 'a', text_2: 'b' }],
  ['POST', '/v1/audio/transcriptions', { model: 'whisper-1' }],
  ['POST', '/v1/audio/translations', { model: 'whisper-1' }],
  ['POST', '/v1/audio/speech', { model: 'tts-1', input: 'hi', voice: 'alloy' }],
  ['POST', '/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat' }],
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
      serveRoutes(upstream);
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
    /** The same, on an Anthropic route. */
    const anthropicCall = (method: string, path: string, options: CallOptions = {}) =>
      anthropicRequest(server.baseUrl, method, path, { as: 'client', ...options });

    const inferenceRequests = () => UPSTREAM_PATHS.reduce((n, path) => n + upstream.requestsTo(path).length, 0);

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

    describe('the other forwarded routes', () => {
      it('POST /v1/responses, plain and streamed; /v1/rerank, /rerank and /v1/score; speech and images', async () => {
        const responses = await call('POST', '/v1/responses', { json: { model: 'llama3.1:8b', input: 'hi' } });
        expect(responses.body.output[0].content[0].text).toBe('hello from contract-upstream');
        const streamed = await call('POST', '/v1/responses', { json: { model: 'llama3.1:8b', input: 'hi', stream: true } });
        expect(streamed.headers.get('content-type')).toBe('text/event-stream');
        expect(streamed.text.split('\n\n').filter((e) => e.startsWith('event: ')).map((e) => e.split('\n', 1)[0])).toEqual([
          'event: response.created', ...Array(5).fill('event: response.output_text.delta'), 'event: response.completed',
        ]);
        for (const path of ['/v1/rerank', '/rerank']) {
          const res = await call('POST', path, { json: { model: 'bge-reranker-v2-m3', query: 'q', documents: ['long one', 'a'], top_n: 1 } });
          expect(res.body.results, path).toEqual([{ index: 1, document: { text: 'a' }, relevance_score: 0.5 }]);
        }
        expect(upstream.requestsTo('/v1/rerank')).toHaveLength(2);
        expect((await call('POST', '/v1/score', { json: { model: 'bge-reranker-v2-m3', text_1: 'a', text_2: 'b' } })).body.data[0].score).toBe(0.5);
        const image = await call('POST', '/v1/images/generations', { json: { model: 'dall-e-3', prompt: 'a cat' } });
        expect(Buffer.from(image.body.data[0].b64_json, 'base64').toString()).toBe('image from contract-upstream');
        const speech = await fetch(`${server.baseUrl}/v1/audio/speech`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tts-1', input: 'hi', voice: 'alloy' }),
        });
        expect(speech.headers.get('content-type')).toBe('audio/mpeg');
        expect(Buffer.from(await speech.arrayBuffer()).equals(SPEECH_BYTES)).toBe(true);
      });

      it('POST /v1/audio/transcriptions and translations: the multipart upload reaches the upstream byte for byte', async () => {
        for (const [path, fileFirst] of [['/v1/audio/transcriptions', true], ['/v1/audio/translations', false]] as const) {
          const form = multipartBody({ model: 'whisper-1', language: 'en' }, { name: 'talk.wav', bytes: AUDIO }, fileFirst);
          const res = await call('POST', path, { bytes: form.body, contentType: form.contentType });
          expect(res.status, res.text).toBe(200);
          expect(res.body.text).toBe(`contract-upstream heard ${AUDIO.length} bytes of talk.wav for whisper-1`);
          const seen = upstream.requestsTo(path);
          expect(seen).toHaveLength(1);
          expect(seen[0]!.body.equals(form.body)).toBe(true);
          expect(seen[0]!.headers['content-type']).toBe(form.contentType);
          expect(seen[0]!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
        }
        const big = multipartBody({ model: 'whisper-1' }, { name: 'big.wav', bytes: Buffer.alloc(BODY_LIMIT + 1, 1) });
        expectError(await call('POST', '/v1/audio/transcriptions', { bytes: big.body, contentType: big.contentType }), 413, 'payload_too_large');
        const noModel = multipartBody({ language: 'en' }, { name: 'talk.wav', bytes: AUDIO });
        expectError(await call('POST', '/v1/audio/transcriptions', { bytes: noModel.body, contentType: noModel.contentType }), 400, 'invalid_request');
        expectError(await call('POST', '/v1/audio/transcriptions', { json: { model: 'whisper-1' } }), 415, 'unsupported_media_type');
        expect(upstream.requestsTo('/v1/audio/transcriptions')).toHaveLength(1);
      });

      it('POST /v1/messages (key in x-api-key), streamed too, and count_tokens; errors in Anthropic’s shape', async () => {
        const hello = (stream: boolean) => ({ model: 'llama3.1:8b', max_tokens: 8, stream, messages: [{ role: 'user', content: 'hi' }] });
        const as = { xApiKey: CLIENT_KEY };
        const message = await anthropicCall('POST', '/v1/messages', { as, json: hello(false) });
        expect(message.body.content).toEqual([{ type: 'text', text: 'hello from contract-upstream' }]);
        expect(upstream.requestsTo('/v1/messages')[0]!.headers['x-api-key']).toBeUndefined();
        const stream = await anthropicCall('POST', '/v1/messages', { as, json: hello(true) });
        expect(stream.headers.get('content-type')).toBe('text/event-stream');
        expect(stream.text.split('\n\n').filter((e) => e !== '').at(-1)).toBe('event: message_stop\ndata: {"type":"message_stop"}');
        expect((await anthropicCall('POST', '/v1/messages/count_tokens', { json: hello(false) })).body).toEqual({ input_tokens: 11 });
        const errors: Array<[CallOptions, number]> = [
          [{ as: null, json: hello(false) }, 401],
          [{ as: { xApiKey: 'not-a-configured-key-0123456789' }, json: hello(false) }, 401],
          [{ as: 'viewer', json: hello(false) }, 403],
          [{ as, json: { ...hello(false), model: 'gpt-99' } }, 404],
          [{ as, json: { ...hello(false), model: 'nomic-embed-text' } }, 400],
          [{ as, body: '{"model":', contentType: 'application/json' }, 400],
          [{ as, json: { ...hello(false), padding: 'x'.repeat(BODY_LIMIT) } }, 413],
          [{ as, body: 'hi', contentType: 'text/plain' }, 415],
        ];
        for (const [options, status] of errors) expect((await anthropicCall('POST', '/v1/messages', options)).status).toBe(status);
        expect((await anthropicCall('GET', '/v1/messages/count_tokens', { as })).status).toBe(405);
        expect(upstream.requestsTo('/v1/messages')).toHaveLength(2);
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
        for (const path of ['/v1', '/v1/', '/v1/chat', '/v1/audio', '/v1/messages/x', '/v1/models-list', '/rerank/x']) {
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
          ['GET', '/v1/responses', ['POST']],
          ['GET', '/v1/audio/transcriptions', ['POST']],
          ['GET', '/rerank', ['POST']],
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
