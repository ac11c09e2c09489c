/**
 * The /v1 proxy against real fake upstreams on 127.0.0.1: routing, failover, error mapping,
 * capabilities, streaming, aborts and events.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../src/proxy/options.js';
import type { Selector } from '../../src/select/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { CLIENT_KEY, VIEWER_KEY, until, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();

/** Picks the endpoint named `a` while it is a candidate, else the first candidate. */
const PREFER_A: Selector = (candidates) => candidates.find((c) => c.name === 'a') ?? candidates[0];

// Response bodies are asserted field by field.
const jsonOf = (res: Response): Promise<any> => res.json();
const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

describe('routing', () => {
  it('sends requests to the endpoint with the lowest latency', async () => {
    const slow = await upstream({ name: 'slow', modelsDelayMs: 150 });
    const fast = await upstream({ name: 'fast' });
    const s = await llmlb();
    await register(s, slow);
    const fastId = await register(s, fast);
    for (let i = 0; i < 5; i++) {
      const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmlb-endpoint')).toBe(fastId);
      expect((await jsonOf(res)).choices[0].message.content).toBe('hello from fast');
    }
    expect(slow.requestsTo('/v1/chat/completions')).toHaveLength(0);
    // The programmatic question gives the same answer, without a credential in sight.
    const chosen = s.router.select('llama3.1:8b');
    expect(chosen).toMatchObject({ id: fastId, name: 'fast', status: 'online' });
    expect(chosen).not.toHaveProperty('api_key_encrypted');
    expect(() => s.router.select('nope')).toThrow(expect.objectContaining({ code: 'model_not_found' }));
    expect(() => s.router.select('llama3.1:8b', 'embeddings')).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });

  it('breaks latency ties round-robin', async () => {
    // A clock whose monotonic time stands still makes every measured latency 0: a perfect tie.
    const clock = new FakeClock();
    clock.monotonic = () => 0;
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const s = await llmlb({ clock });
    await register(s, a);
    await register(s, b);
    const served: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
      served.push((await jsonOf(res)).choices[0].message.content);
    }
    expect(served.filter((x) => x === 'hello from a')).toHaveLength(3);
    expect(served.filter((x) => x === 'hello from b')).toHaveLength(3);
    expect(served[0]).not.toBe(served[1]);
  });

  it('forwards the original bytes with the endpoint key, never the client key or hop-by-hop headers', async () => {
    const u = await upstream({ apiKey: 'sk-upstream-secret' });
    const s = await llmlb();
    await register(s, u, { api_key: 'sk-upstream-secret' });
    const raw = '{"model":"llama3.1:8b",  "messages":[{"role":"user","content":"h\\u00e9"}],"extra":{"keep":[1,2]}}';
    // node:http, because fetch refuses to send hop-by-hop headers at all.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${s.url}/v1/chat/completions?api-version=1`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CLIENT_KEY}`,
          'content-type': 'application/json',
          'x-custom': 'yes',
          cookie: 'session=1',
          'keep-alive': 'timeout=5',
          connection: 'keep-alive, x-hop',
          'x-hop': 'drop me',
          'x-api-key': 'client-secret',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(raw);
    });
    expect(status).toBe(200);
    const seen = u.requestsTo('/v1/chat/completions')[0]!;
    expect(seen.body.toString('utf8')).toBe(raw);
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(JSON.stringify(seen.headers)).not.toContain(CLIENT_KEY);
    expect(seen.headers['x-custom']).toBe('yes');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['x-hop']).toBeUndefined();
  });

  it('serves clients that send Expect: 100-continue', async () => {
    const u = await upstream();
    const s = await llmlb();
    await register(s, u);
    const body = JSON.stringify(chat('llama3.1:8b'));
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', expect: '100-continue' },
      });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(200);
    expect(u.requestsTo('/v1/chat/completions')[0]?.headers.expect).toBeUndefined();
  });

  it('answers a throwing custom selector with an OpenAI-shaped 500 and still reports the request', async () => {
    const u = await upstream();
    const s = await llmlb({
      selector: () => {
        throw new Error('selector bug');
      },
    });
    await register(s, u);
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(500);
    expect(await jsonOf(res)).toEqual({ error: { message: 'internal error', type: 'server_error', code: 'internal_error' } });
    expect(events[0]).toMatchObject({ status: 500, error: 'internal_error' });
  });

  it('routes embeddings by capability and refuses a capability mismatch', async () => {
    const chatUp = await upstream({ name: 'chat', models: ['llama3.1:8b'] });
    const embedUp = await upstream({ name: 'embed', models: ['nomic-embed-text'] });
    const s = await llmlb();
    await register(s, chatUp);
    const embedId = await register(s, embedUp);
    const ok = await s.infer('/v1/embeddings', { model: 'nomic-embed-text', input: 'hi' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-llmlb-endpoint')).toBe(embedId);
    const wrong = await s.infer('/v1/embeddings', { model: 'llama3.1:8b', input: 'hi' });
    expect(wrong.status).toBe(400);
    expect(await jsonOf(wrong)).toEqual({
      error: { message: 'model "llama3.1:8b" does not support embeddings', type: 'invalid_request_error', code: 'invalid_request' },
    });
    expect((await s.infer('/v1/chat/completions', chat('nomic-embed-text'))).status).toBe(400);
  });

  it('serves completions too', async () => {
    const u = await upstream();
    const s = await llmlb();
    await register(s, u);
    const res = await s.infer('/v1/completions', { model: 'llama3.1:8b', prompt: 'hi' });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).choices[0].text).toBe('hello from upstream');
  });
});

describe('errors', () => {
  it('answers 404 model_not_found for an unknown model, and after its only endpoint is deleted', async () => {
    const u = await upstream();
    const s = await llmlb();
    const id = await register(s, u);
    const unknown = await s.infer('/v1/chat/completions', chat('gpt-99'));
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error).toMatchObject({ code: 'model_not_found', type: 'not_found_error' });
    expect((await s.infer('/v1/chat/completions', chat('llama3.1:8b'))).status).toBe(200);
    expect((await s.admin('DELETE', `/v0/endpoints/${id}`)).status).toBe(204);
    expect((await s.infer('/v1/chat/completions', chat('llama3.1:8b'))).status).toBe(404);
  });

  it('answers 503 when the model is known but no endpoint serving it is online', async () => {
    const u = await upstream();
    const clock = new FakeClock();
    const s = await llmlb({ clock });
    await register(s, u);
    await u.stop();
    for (let i = 0; i < 2; i++) {
      await clock.advance(30_000);
      await s.router.checker.idle();
    }
    expect((await s.router.endpoints.list({ status: 'offline' })).total).toBe(1);
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(503);
    expect((await jsonOf(res)).error.code).toBe('no_available_endpoint');
  });

  it('answers 502 when no endpoint can be reached', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const s = await llmlb();
    await register(s, a);
    await register(s, b);
    await a.stop();
    await b.stop();
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(502);
    expect((await jsonOf(res)).error).toMatchObject({ code: 'upstream_error', type: 'upstream_error' });
    expect(events[0]).toMatchObject({ attempts: 2, status: 502, error: 'upstream_error' });
  });

  it('relays the last endpoint\'s own 502/503 answer once no other candidate is left', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const s = await llmlb();
    await register(s, a);
    await register(s, b);
    a.inferenceStatus = 503;
    b.inferenceStatus = 503;
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(503);
    expect(await jsonOf(res)).toEqual({ error: { message: 'forced 503', type: 'server_error' } });
    expect(a.requestsTo('/v1/chat/completions').length + b.requestsTo('/v1/chat/completions').length).toBe(2);
  });

  it('passes other upstream errors through unchanged', async () => {
    const u = await upstream();
    const s = await llmlb();
    await register(s, u);
    u.inferenceStatus = 400;
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(400);
    expect(await jsonOf(res)).toEqual({ error: { message: 'forced 400', type: 'server_error' } });
  });

  it('answers 504 when the endpoint does not answer within its inference timeout', async () => {
    const u = await upstream();
    const s = await llmlb();
    await register(s, u, { inference_timeout_secs: 10 });
    u.inferenceDelayMs = 15_000;
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(504);
    expect((await jsonOf(res)).error.code).toBe('upstream_timeout');
  }, 20_000);

  it('rejects bad requests with OpenAI-shaped 4xx', async () => {
    const u = await upstream();
    const s = await llmlb();
    await register(s, u);
    const cases: Array<[unknown, number]> = [
      ['not json', 400],
      ['[]', 400],
      [{ messages: [] }, 400],
      [{ model: '' }, 400],
      [{ model: 42 }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await s.infer('/v1/chat/completions', body);
      expect(res.status).toBe(status);
      const json = await jsonOf(res);
      expect(json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
      expect(typeof json.error.message).toBe('string');
    }
    const text = await s.infer('/v1/chat/completions', '{}', { headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const noAuth = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(noAuth.status).toBe(401);
    expect((await jsonOf(noAuth)).error.type).toBe('authentication_error');
    const viewer = await s.infer('/v1/chat/completions', chat('llama3.1:8b'), { headers: { authorization: `Bearer ${VIEWER_KEY}` } });
    expect(viewer.status).toBe(403);
    expect(u.requestsTo('/v1/chat/completions')).toHaveLength(0);
  });
});

describe('failover', () => {
  it('fails over from a dead endpoint with no client-visible error, and stops sending it traffic', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    // `a` is the preferred endpoint; then it dies.
    const s = await llmlb({ clock: Object.assign(new FakeClock(), { monotonic: () => performance.now() }), selector: PREFER_A });
    await register(s, a);
    await register(s, b);
    await a.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
      statuses.push(res.status);
      expect((await jsonOf(res)).choices[0].message.content).toBe('hello from b');
    }
    expect(statuses.every((x) => x === 200)).toBe(true);
    // The first request struck `a`: every later one went straight to `b`.
    expect(b.requestsTo('/v1/chat/completions')).toHaveLength(10);
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(events[0]).toMatchObject({ attempts: 1, status: 200, endpoint_name: 'b' });
  });

  it('takes a dead endpoint offline within a recheck after a burst of failures, with one check per burst', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    // `a` is the preferred endpoint; then it dies.
    const s = await llmlb({ checker: { timeoutMs: 2000, strikeRecheckMs: 200 }, selector: PREFER_A });
    const aId = await register(s, a);
    await register(s, b);
    const checksOfA: boolean[] = [];
    s.router.checker.on('check', (e) => e.endpoint.id === aId && checksOfA.push(e.report.success));
    await a.stop();
    // Ten requests at once: every one that lands on `a` fails over; only one strike check runs.
    const results = await Promise.all(Array.from({ length: 10 }, () => s.infer('/v1/chat/completions', chat('llama3.1:8b'))));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    await until(async () => (await s.router.endpoints.get(aId)).status === 'offline');
    expect(checksOfA).toEqual([false, false]); // the strike, then the recheck: 2 failures → offline
  });

  it('brings back an endpoint that blinked, without taking it offline', async () => {
    const u = await upstream();
    const s = await llmlb({ checker: { timeoutMs: 2000, strikeRecheckMs: 200 } });
    const id = await register(s, u);
    const statuses: string[] = [];
    s.router.checker.on('statusChange', (e) => statuses.push(e.to));
    await u.stop();
    expect((await s.infer('/v1/chat/completions', chat('llama3.1:8b'))).status).toBe(502);
    await until(async () => (await s.router.endpoints.get(id)).error_count === 1);
    await u.start();
    await until(async () => (await s.router.endpoints.get(id)).error_count === 0);
    expect((await s.infer('/v1/chat/completions', chat('llama3.1:8b'))).status).toBe(200);
    expect(statuses).toEqual([]);
  });

  it('fails over on 503 from an endpoint and reports the attempts', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const s = await llmlb({ selector: PREFER_A });
    await register(s, a);
    await register(s, b);
    a.inferenceStatus = 503;
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ route: 'chat', model: 'llama3.1:8b', endpoint_name: 'b', attempts: 2, status: 200, error: null });
    expect(events[0]!.ttfb_ms).toBeGreaterThanOrEqual(0);
  });
});

describe('streaming', () => {
  async function readFirstChunk(res: Response): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    return { text: new TextDecoder().decode(value), reader };
  }

  it('relays SSE events as they arrive, not at the end', async () => {
    const u = await upstream();
    u.streamEvents = 5;
    u.streamGapMs = 100;
    const s = await llmlb();
    await register(s, u);
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b', true));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { text, reader } = await readFirstChunk(res);
    expect(text).toContain('"content":"0 "');
    // The upstream is still producing the rest of the stream.
    expect(u.inFlight).toBe(1);
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('cancels the upstream request when the client goes away', async () => {
    const u = await upstream();
    u.streamEvents = 50;
    u.streamGapMs = 50;
    const s = await llmlb();
    await register(s, u);
    const controller = new AbortController();
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b', true), { signal: controller.signal });
    await readFirstChunk(res);
    controller.abort();
    await until(() => u.abortedInference === 1);
    await until(() => events.length === 1);
    expect(events[0]!.status).toBe(0);
  });

  it('ends a stream whose upstream dies with an error event', async () => {
    const u = await upstream();
    u.streamEvents = 5;
    u.dieAfterEvents = 2;
    const s = await llmlb();
    await register(s, u);
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b', true));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"content":"1 "');
    expect(text).not.toContain('[DONE]');
    const last = text.trim().split('\n\n').pop()!;
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({ error: { code: 'upstream_error', type: 'upstream_error' } });
  });

  it('fails a non-stream response whose upstream dies mid-body instead of truncating it', async () => {
    const u = await upstream();
    u.routes.set('POST /v1/chat/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":"chatcmpl-1","choices":[');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const s = await llmlb();
    await register(s, u);
    const res = await s.infer('/v1/chat/completions', chat('llama3.1:8b'));
    await expect(res.text()).rejects.toThrow();
  });
});

describe('GET /v1/models', () => {
  it('lists every model once, marking models with no online endpoint unavailable', async () => {
    const a = await upstream({ name: 'a', models: ['llama3.1:8b', 'Qwen/Qwen2.5-7B-Instruct'] });
    const b = await upstream({ name: 'b', models: ['llama3.1:8b', 'nomic-embed-text'] });
    const clock = new FakeClock();
    const s = await llmlb({ clock });
    await register(s, a);
    await register(s, b);
    await b.stop();
    for (let i = 0; i < 2; i++) {
      await clock.advance(30_000);
      await s.router.checker.idle();
    }
    const res = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body.object).toBe('list');
    expect(body.data.map((m: { id: string; available: boolean }) => [m.id, m.available])).toEqual([
      ['Qwen/Qwen2.5-7B-Instruct', true],
      ['llama3.1:8b', true],
      ['nomic-embed-text', false],
    ]);
    expect(body.data[2]).toMatchObject({ object: 'model', owned_by: 'llmlb', capabilities: ['embeddings'], endpoints: 1 });

    const one = await fetch(`${s.url}/v1/models/Qwen/Qwen2.5-7B-Instruct`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(one.status).toBe(200);
    expect((await jsonOf(one)).id).toBe('Qwen/Qwen2.5-7B-Instruct');
    const missing = await fetch(`${s.url}/v1/models/nope`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(missing.status).toBe(404);
    expect((await jsonOf(missing)).error.code).toBe('model_not_found');
  });
});
