/**
 * The forwarded routes beyond chat, completions and embeddings, against fake upstreams on
 * 127.0.0.1: the Responses API (streamed too), rerank and score, the audio routes (multipart
 * uploads forwarded byte for byte), image generation, and Anthropic's Messages API (its key
 * header, its error shape, its event streams, failover from a backend that does not speak it).
 */
import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../src/proxy/options.js';
import { SPEECH_BYTES, multipartBody, parseUpload, serveRoutes } from '../helpers/fake-routes.js';
import { CLIENT_KEY, VIEWER_KEY, type LlmlbServer, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();

// Response bodies are asserted field by field.
const jsonOf = (res: Response): Promise<any> => res.json();
const AUDIO = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256));

/** A router with one fake upstream serving every route, registered and checked. */
async function oneUpstream(models: string[], options: Parameters<typeof serveRoutes>[1] = {}, proxy = {}) {
  const u = await upstream({ name: 'u', models });
  serveRoutes(u, options);
  const s = await llmlb({ proxy });
  const id = await register(s, u);
  const events: RequestEvent[] = [];
  s.router.on('request', (e) => events.push(e));
  return { u, s, id, events };
}

/** The data of each server-sent event of a stream, with its `event:` name. */
function events(text: string): Array<{ event: string | undefined; data: any }> {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes('data: '))
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      return { event, data: JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) };
    });
}

/** Posts a multipart body as the client. */
function upload(s: LlmlbServer, path: string, form: { body: Buffer; contentType: string }, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': form.contentType, ...headers },
    body: form.body,
  });
}

/** Calls an Anthropic route the way Anthropic clients do: `x-api-key` and `anthropic-version`. */
function anthropic(s: LlmlbServer, path: string, body: unknown, key: string | null = CLIENT_KEY) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  if (key !== null) headers['x-api-key'] = key;
  return fetch(`${s.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('POST /v1/responses', () => {
  it('forwards the original bytes to a chat model and answers the response object', async () => {
    const { u, s, id, events: seen } = await oneUpstream(['llama3.1:8b']);
    const raw = '{"model":"llama3.1:8b",  "input":"hi","store":false}';
    const res = await s.infer('/v1/responses', raw);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmlb-endpoint')).toBe(id);
    expect((await jsonOf(res)).output[0].content[0].text).toBe('hello from u');
    expect(u.requestsTo('/v1/responses')[0]!.body.toString('utf8')).toBe(raw);
    expect(seen.map((e) => [e.route, e.status, e.usage?.total_tokens])).toEqual([['responses', 200, 8]]);
  });

  it('relays the event stream as it comes, `event:` lines included', async () => {
    const { s } = await oneUpstream(['llama3.1:8b']);
    const res = await s.infer('/v1/responses', { model: 'llama3.1:8b', input: 'hi', stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = events(await res.text());
    expect(stream.map((e) => e.event)).toEqual(['response.created', ...Array(5).fill('response.output_text.delta'), 'response.completed']);
    expect(stream.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('0 1 2 3 4 ');
  });

  it('refuses an embedding model (it lacks chat) and an unknown model, in the OpenAI shape', async () => {
    const { u, s } = await oneUpstream(['nomic-embed-text']);
    const res = await s.infer('/v1/responses', { model: 'nomic-embed-text', input: 'hi' });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
    expect((await s.infer('/v1/responses', { model: 'gpt-99', input: 'hi' })).status).toBe(404);
    expect(u.requestsTo('/v1/responses')).toHaveLength(0);
  });
});

describe('rerank and score', () => {
  it('POST /v1/rerank and POST /rerank go to the reranker’s /v1/rerank; /v1/score to its /v1/score', async () => {
    const chat = await upstream({ name: 'chat', models: ['llama3.1:8b'] });
    serveRoutes(chat);
    const { u, s, id, events: seen } = await oneUpstream(['BAAI/bge-reranker-v2-m3']);
    await register(s, chat);
    const request = { model: 'BAAI/bge-reranker-v2-m3', query: 'q', documents: ['a longer one', 'short'], top_n: 1 };
    for (const path of ['/v1/rerank', '/rerank']) {
      const res = await s.infer(path, request);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-llmlb-endpoint')).toBe(id);
      expect((await jsonOf(res)).results).toEqual([{ index: 1, document: { text: 'short' }, relevance_score: 1 / 6 }]);
    }
    const scored = await s.infer('/v1/score', { model: 'BAAI/bge-reranker-v2-m3', text_1: 'a', text_2: 'b' });
    expect((await jsonOf(scored)).data[0].score).toBe(0.5);
    expect(u.requestsTo('/v1/rerank').map((r) => JSON.parse(r.body.toString('utf8')))).toEqual([request, request]);
    expect(u.requestsTo('/v1/score')).toHaveLength(1);
    expect(seen.map((e) => e.route)).toEqual(['rerank', 'rerank', 'score']);
    // A chat model cannot rerank.
    const res = await s.infer('/v1/rerank', { ...request, model: 'llama3.1:8b' });
    expect(res.status).toBe(400);
    expect(chat.requestsTo('/v1/rerank')).toHaveLength(0);
  });
});

describe('audio uploads', () => {
  it('forwards a transcription upload byte for byte, with its boundary, to the endpoint of the `model` field', async () => {
    const chat = await upstream({ name: 'chat', models: ['llama3.1:8b'] });
    const { u, s, id, events: seen } = await oneUpstream(['whisper-large-v3']);
    await register(s, chat);
    // The file before the model field, as the openai SDK sends it: the parser reads past the file.
    for (const [path, fileFirst] of [['/v1/audio/transcriptions', true], ['/v1/audio/translations', false]] as const) {
      const form = multipartBody({ model: 'whisper-large-v3', response_format: 'json' }, { name: 'talk.wav', bytes: AUDIO }, fileFirst);
      const res = await upload(s, path, form);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-llmlb-endpoint')).toBe(id);
      expect((await jsonOf(res)).text).toBe('u heard 50000 bytes of talk.wav for whisper-large-v3');
      const seenUpstream = u.requestsTo(path)[0]!;
      expect(seenUpstream.body.equals(form.body)).toBe(true);
      expect(seenUpstream.headers['content-type']).toBe(form.contentType);
      expect((await parseUpload(seenUpstream.headers, seenUpstream.body)).files[0]!.bytes.equals(AUDIO)).toBe(true);
    }
    expect(seen.map((e) => [e.route, e.model])).toEqual([['transcriptions', 'whisper-large-v3'], ['translations', 'whisper-large-v3']]);
    expect(chat.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('reads an upload that arrives in many chunks', async () => {
    const { u, s } = await oneUpstream(['whisper-1']);
    const form = multipartBody({ model: 'whisper-1' }, { name: 'a.wav', bytes: AUDIO });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < form.body.length; at += 997) controller.enqueue(form.body.subarray(at, at + 997));
        controller.close();
      },
    });
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': form.contentType },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(u.requestsTo('/v1/audio/transcriptions')[0]!.body.equals(form.body)).toBe(true);
  });

  it('answers 413 past the body limit, 400 without a model field or for a malformed form, 415 for JSON; nothing is forwarded', async () => {
    const { u, s } = await oneUpstream(['whisper-1'], {}, { bodyLimit: 16 * 1024 });
    const cases: Array<[RequestInit & { headers: Record<string, string> }, number, string]> = [];
    const big = multipartBody({ model: 'whisper-1' }, { name: 'a.wav', bytes: AUDIO });
    cases.push([{ body: big.body, headers: { 'content-type': big.contentType } }, 413, 'payload_too_large']);
    // Over the limit without a declared length (a chunked upload): cut off while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(big.body);
        controller.close();
      },
    });
    cases.push([{ body: chunked, headers: { 'content-type': big.contentType }, duplex: 'half' } as RequestInit & { headers: Record<string, string> }, 413, 'payload_too_large']);
    const noModel = multipartBody({ language: 'en' }, { name: 'a.wav', bytes: Buffer.from('RIFF') });
    cases.push([{ body: noModel.body, headers: { 'content-type': noModel.contentType } }, 400, 'invalid_request']);
    const emptyModel = multipartBody({ model: '' }, { name: 'a.wav', bytes: Buffer.from('RIFF') });
    cases.push([{ body: emptyModel.body, headers: { 'content-type': emptyModel.contentType } }, 400, 'invalid_request']);
    cases.push([{ body: 'not a form', headers: { 'content-type': 'multipart/form-data' } }, 400, 'invalid_request']);
    cases.push([{ body: 'not a form', headers: { 'content-type': 'multipart/form-data; boundary=xyz' } }, 400, 'invalid_request']);
    cases.push([{ body: JSON.stringify({ model: 'whisper-1' }), headers: { 'content-type': 'application/json' } }, 415, 'unsupported_media_type']);
    for (const [init, status, code] of cases) {
      const res = await fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', ...init, headers: { authorization: `Bearer ${CLIENT_KEY}`, ...init.headers } });
      const body = await jsonOf(res);
      expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'type']);
    }
    expect(u.requestsTo('/v1/audio/transcriptions')).toHaveLength(0);
  });

  it('POST /v1/audio/speech passes the audio bytes through; /v1/images/generations goes to an image model', async () => {
    const { u, s, events: seen } = await oneUpstream(['tts-1', 'dall-e-3']);
    const speech = await s.infer('/v1/audio/speech', { model: 'tts-1', input: 'hello', voice: 'alloy' });
    expect(speech.status).toBe(200);
    expect(speech.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await speech.arrayBuffer()).equals(SPEECH_BYTES)).toBe(true);
    const image = await s.infer('/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat' });
    expect(Buffer.from((await jsonOf(image)).data[0].b64_json, 'base64').toString()).toBe('image from u');
    expect(u.requestsTo('/v1/images/generations')).toHaveLength(1);
    expect(seen.map((e) => [e.route, e.status, e.usage])).toEqual([['speech', 200, null], ['images', 200, null]]);
    // A speech model cannot draw.
    expect((await s.infer('/v1/images/generations', { model: 'tts-1', prompt: 'a cat' })).status).toBe(400);
  });
});

describe('the Anthropic Messages API', () => {
  const hello = (stream = false) => ({ model: 'llama3.1:8b', max_tokens: 64, stream, messages: [{ role: 'user', content: 'hi' }] });

  it('takes the key from x-api-key or Authorization, forwards anthropic-version, never the client key', async () => {
    const { u, s, events: seen } = await oneUpstream(['llama3.1:8b']);
    const res = await anthropic(s, '/v1/messages', hello());
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).content).toEqual([{ type: 'text', text: 'hello from u' }]);
    const bearer = await s.infer('/v1/messages', hello());
    expect(bearer.status).toBe(200);
    // A client that sends a placeholder bearer token (ANTHROPIC_AUTH_TOKEN=ollama) and the key in x-api-key.
    const both = await fetch(`${s.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer ollama', 'x-api-key': CLIENT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(hello()),
    });
    expect(both.status).toBe(200);
    const sent = u.requestsTo('/v1/messages')[0]!;
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain(CLIENT_KEY);
    const counted = await anthropic(s, '/v1/messages/count_tokens', { model: 'llama3.1:8b', messages: [] });
    expect(await jsonOf(counted)).toEqual({ input_tokens: 11 });
    expect(seen.map((e) => [e.route, e.usage?.total_tokens ?? null])).toEqual([['messages', 8], ['messages', 8], ['messages', 8], ['count_tokens', null]]);
  });

  it('relays the Anthropic event stream', async () => {
    const { s } = await oneUpstream(['llama3.1:8b']);
    const res = await anthropic(s, '/v1/messages', hello(true));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = events(await res.text());
    expect(stream.map((e) => e.event)).toEqual([
      'message_start', 'content_block_start', 'ping', ...Array(5).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    expect(stream.every((e) => e.data.type === e.event)).toBe(true);
  });

  it('answers errors in Anthropic’s shape, with the type for the status', async () => {
    const { u, s } = await oneUpstream(['llama3.1:8b', 'nomic-embed-text'], {}, { bodyLimit: 16 * 1024 });
    const cases: Array<[Promise<Response>, number, string]> = [
      [anthropic(s, '/v1/messages', hello(), null), 401, 'authentication_error'],
      [anthropic(s, '/v1/messages', hello(), 'not-a-configured-key-0123456789'), 401, 'authentication_error'],
      [anthropic(s, '/v1/messages', hello(), VIEWER_KEY), 403, 'permission_error'],
      [anthropic(s, '/v1/messages', { ...hello(), model: 'claude-nope' }), 404, 'not_found_error'],
      [anthropic(s, '/v1/messages', { ...hello(), model: 'nomic-embed-text' }), 400, 'invalid_request_error'],
      [anthropic(s, '/v1/messages', { messages: [] }), 400, 'invalid_request_error'],
      [anthropic(s, '/v1/messages/count_tokens', { ...hello(), padding: 'x'.repeat(20_000) }), 413, 'request_too_large'],
      [fetch(`${s.url}/v1/messages`, { headers: { 'x-api-key': CLIENT_KEY } }), 405, 'invalid_request_error'],
    ];
    for (const [pending, status, type] of cases) {
      const res = await pending;
      const body = await jsonOf(res);
      expect({ status: res.status, body }).toEqual({ status, body: { type: 'error', error: { type, message: expect.any(String) } } });
    }
    // x-api-key is no key on the OpenAI routes.
    const openai = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-api-key': CLIENT_KEY, 'content-type': 'application/json' }, body: JSON.stringify(hello()) });
    expect(openai.status).toBe(401);
    expect((await jsonOf(openai)).error.type).toBe('authentication_error');
    expect(u.requestsTo('/v1/messages')).toHaveLength(0);
  }, 15_000);

  it('says overloaded when no endpoint can take the request', async () => {
    const { u, s, id } = await oneUpstream(['llama3.1:8b']);
    expect((await s.admin('PUT', `/v0/endpoints/${id}`, { admin_state: 'disabled' })).status).toBe(200);
    const res = await anthropic(s, '/v1/messages', hello());
    expect(res.status).toBe(503);
    expect((await jsonOf(res)).error.type).toBe('overloaded_error');
    expect(u.requestsTo('/v1/messages')).toHaveLength(0);
  });

  it('fails over from a backend that does not speak Messages (404) without counting it as a failure', async () => {
    const mute = await upstream({ name: 'mute', models: ['llama3.1:8b'] });
    serveRoutes(mute, { messages: false });
    const { u, s, events: seen } = await oneUpstream(['llama3.1:8b']);
    const muteId = await register(s, mute);
    // Both are tried first in turn: whichever is first, every request ends on the speaker.
    for (let i = 0; i < 4; i++) {
      const res = await anthropic(s, '/v1/messages', hello(i % 2 === 1));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmlb-endpoint')).not.toBe(muteId);
      await res.text();
    }
    expect(u.requestsTo('/v1/messages')).toHaveLength(4);
    expect(mute.requestsTo('/v1/messages').length).toBeGreaterThan(0);
    expect(s.router.stats.get(muteId)).toMatchObject({ recent_failures: 0, suspended_until: null });
    expect(seen.filter((e) => e.attempts === 2).every((e) => e.route_reason === 'failover')).toBe(true);
    // With no other candidate left, the backend's own 404 is the answer.
    const alone = await upstream({ name: 'alone', models: ['qwen2.5:7b'] });
    serveRoutes(alone, { messages: false });
    await register(s, alone);
    expect((await anthropic(s, '/v1/messages', { ...hello(), model: 'qwen2.5:7b' })).status).toBe(404);
  });

  it('ends a stream that breaks with an Anthropic error event', async () => {
    const { s } = await oneUpstream(['llama3.1:8b'], { dieAfterDeltas: 2 });
    const res = await anthropic(s, '/v1/messages', hello(true));
    const stream = events(await res.text());
    expect(stream.slice(0, 2).map((e) => e.event)).toEqual(['message_start', 'content_block_start']);
    expect(stream.at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { type: 'api_error', message: expect.stringContaining('failed mid-stream') } } });
  });
});

describe('a plain OpenAI route relays an upstream 404 as before (no failover)', () => {
  it('does not try another endpoint for a 404 on /v1/responses', async () => {
    const a = await upstream({ name: 'a', models: ['llama3.1:8b'] });
    const b = await upstream({ name: 'b', models: ['llama3.1:8b'] });
    const s = await llmlb();
    await register(s, a);
    await register(s, b);
    const res = await s.infer('/v1/responses', { model: 'llama3.1:8b', input: 'hi' });
    expect(res.status).toBe(404);
    expect(a.requestsTo('/v1/responses').length + b.requestsTo('/v1/responses').length).toBe(1);
  });
});
