/**
 * Secrets never leak: a broad workload (admin calls, bad requests, checks against upstreams that
 * reject the credential, proxied requests that succeed and fail) with every response body and
 * header, every log line, every event and every error message captured and scanned for the
 * upstream api keys and the client keys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/http/auth.js';
import { routerInternals } from '../../src/internals.js';
import type { Logger } from '../../src/logger.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { ADMIN_KEY, CLIENT_KEY, NODE_KEY, SECRET, VIEWER_KEY, type LlmlbServer, startLlmlb } from '../helpers/llmlb-server.js';

const UPSTREAM_KEYS = ['sk-leak-canary-upstream-A-5c1e', 'sk-leak-canary-upstream-B-93d0', 'sk-leak-canary-rotated-C-77aa'];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('secrets', () => {
  it('never appear in responses, logs, events or error messages', async () => {
    const captured: string[] = [];
    const logger = capturingLogger(captured);

    const good: FakeUpstream = await startFakeUpstream({ name: 'good', apiKey: UPSTREAM_KEYS[0] });
    const picky: FakeUpstream = await startFakeUpstream({ name: 'picky', apiKey: 'something-else-entirely', models: ['other'] });
    cleanups.push(() => good.stop(), () => picky.stop());
    const s: LlmlbServer = await startLlmlb({ logger, checker: { timeoutMs: 1000 } });
    cleanups.push(() => s.close());
    for (const event of ['check', 'statusChange', 'synced', 'error'] as const) {
      s.router.checker.on(event, (payload: unknown) => captured.push(`event ${event} ${safeStringify(payload)}`));
    }
    s.router.on('request', (payload) => captured.push(`event request ${safeStringify(payload)}`));

    const record = async (res: Response) => {
      captured.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    };
    const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
      const res = await fetch(`${s.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      captured.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
      return text === '' ? null : JSON.parse(text);
    };

    const a = await call('POST', '/v0/endpoints', { name: 'good', base_url: good.url(), api_key: UPSTREAM_KEYS[0] });
    const b = await call('POST', '/v0/endpoints', { name: 'picky', base_url: picky.url(), api_key: UPSTREAM_KEYS[1] });
    await s.router.checker.idle();
    await call('POST', '/v0/endpoints', { name: 'dup', base_url: good.url(), api_key: UPSTREAM_KEYS[2] }); // 409
    await call('POST', '/v0/endpoints', { name: 'bad key', base_url: 'http://127.0.0.1:9', api_key: `${UPSTREAM_KEYS[2]} with spaces` }); // 400
    await call('PUT', `/v0/endpoints/${b.id}`, { api_key: UPSTREAM_KEYS[2] });
    await call('PUT', `/v0/endpoints/${b.id}`, { base_url: 'http://x', api_key: UPSTREAM_KEYS[2] }); // 400
    await call('POST', `/v0/endpoints/${a.id}/test`);
    await call('POST', `/v0/endpoints/${b.id}/test`); // 401 upstream → error status
    await call('POST', `/v0/endpoints/${b.id}/sync`); // 503
    await call('GET', '/v0/endpoints');
    await call('GET', `/v0/endpoints/${a.id}`);
    await call('GET', '/v0/endpoints', undefined, VIEWER_KEY);
    await call('POST', '/v0/endpoints', { name: 'x', base_url: 'http://127.0.0.1:9' }, VIEWER_KEY); // 403
    await call('GET', '/v0/endpoints', undefined, `${CLIENT_KEY}-wrong`); // 401
    await call('POST', '/v0/endpoints', '{"name": broken json', ADMIN_KEY); // 400
    for (const stream of [false, true]) {
      await record(await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', stream, messages: [] }));
    }
    await record(await s.infer('/v1/chat/completions', { model: 'other', messages: [] })); // 503 (picky is in error)
    good.inferenceStatus = 500;
    await record(await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', messages: [] }));
    await good.stop();
    await record(await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', messages: [] })); // 502
    await s.router.checker.idle();

    // The upstream did receive its key: the canary is real.
    expect(good.requestsTo('/v1/models')[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEYS[0]}`);
    expect(captured.length).toBeGreaterThan(30);
    const everything = captured.join('\n');
    for (const secret of [...UPSTREAM_KEYS, ADMIN_KEY, CLIENT_KEY, VIEWER_KEY, SECRET]) {
      expect(everything.includes(secret), secret).toBe(false);
    }
  });
});

describe('runtime key secrets', () => {
  it('appear only in the create answer: never in a later response, log line, event or error', async () => {
    const captured: string[] = [];
    const logger = capturingLogger(captured);
    const good = await startFakeUpstream({ name: 'good' });
    cleanups.push(() => good.stop());
    const s = await startLlmlb({ logger, checker: { timeoutMs: 1000 } });
    cleanups.push(() => s.close());
    s.router.on('request', (payload) => captured.push(`event request ${safeStringify(payload)}`));
    s.router.on('admin', (payload) => captured.push(`event admin ${safeStringify(payload)}`));
    const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
      const res = await fetch(`${s.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      captured.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    };
    /** Creates a key; the create answer alone is not scanned (it is where the secret is shown). */
    const create = async (body: unknown): Promise<{ id: string; secret: string }> => {
      const res = await fetch(`${s.url}/v0/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; secret: string };
    };

    await call('POST', '/v0/endpoints', { name: 'good', base_url: good.url() });
    await s.router.checker.idle();
    const client = await create({ name: 'team-a', role: 'client', limits: { requests_per_minute: 3, models: ['llama3.1:8b'] } });
    const admin = await create({ name: 'second admin', role: 'admin' });
    const token = await create({ name: 'rack', role: 'node', one_use: true });
    const chat = (key: string, body: Record<string, unknown>) => call('POST', '/v1/chat/completions', { messages: [], ...body }, key);
    await chat(client.secret, { model: 'llama3.1:8b' });
    await chat(client.secret, { model: 'llama3.1:8b', stream: true, stream_options: { include_usage: true } });
    await chat(client.secret, { model: 'other' }); // 404: not in the key's models
    await chat(client.secret, { model: 'llama3.1:8b' });
    await chat(client.secret, { model: 'llama3.1:8b' }); // 429
    await call('GET', '/v0/me', undefined, admin.secret);
    await call('GET', '/v0/keys', undefined, admin.secret);
    await call('GET', `/v0/keys/${client.id}`);
    await call('GET', `/v0/keys/${client.id}/usage`);
    await call('PUT', `/v0/keys/${client.id}`, { name: 'team-a renamed', limits: { requests_per_minute: null } });
    await call('PUT', `/v0/keys/${client.id}`, { secret: client.secret }); // 400: unknown field
    await call('GET', '/v0/me', undefined, token.secret); // 403: node keys may not
    await routerInternals(s.router).keys.consume(token.id);
    await call('GET', '/v0/me', undefined, token.secret); // 401: consumed
    await call('DELETE', `/v0/keys/${client.id}`);
    await chat(client.secret, { model: 'llama3.1:8b' }); // 401: revoked
    await call('GET', '/v0/keys', undefined, `${admin.secret}x`); // 401
    await s.close();
    cleanups.pop();

    expect(captured.some((line) => line.includes(client.id))).toBe(true);
    const everything = captured.join('\n');
    for (const secret of [client.secret, admin.secret, token.secret, ADMIN_KEY, CLIENT_KEY]) {
      expect(everything.includes(secret), 'a key secret leaked').toBe(false);
      // Nor its digest, nor a long stretch of it beyond the readable prefix.
      expect(everything.includes(hashKey(secret))).toBe(false);
      expect(everything.includes(secret.slice(10, 30))).toBe(false);
    }
  });
});

describe('node tokens', () => {
  it('appear only in the answers that deliver them: never in other responses, logs, events or errors', async () => {
    const captured: string[] = [];
    const logger = capturingLogger(captured);
    const u: FakeUpstream = await startFakeUpstream({ name: 'node' });
    cleanups.push(() => u.stop());
    const s: LlmlbServer = await startLlmlb({ logger, checker: { timeoutMs: 1000 } });
    cleanups.push(() => s.close());
    for (const event of ['check', 'statusChange', 'synced', 'error'] as const) {
      s.router.checker.on(event, (payload: unknown) => captured.push(`event ${event} ${safeStringify(payload)}`));
    }
    s.router.on('admin', (payload) => captured.push(`event admin ${safeStringify(payload)}`));
    /** Sends a request; its answer is captured unless it is one that delivers a token. */
    const call = async (method: string, path: string, body: unknown, headers: Record<string, string>, delivers = false) => {
      const res = await fetch(`${s.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (!delivers) captured.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
      return text === '' ? null : JSON.parse(text);
    };
    const asNode = { authorization: `Bearer ${NODE_KEY}` };
    const asAdmin = { authorization: `Bearer ${ADMIN_KEY}` };

    const first = await call('POST', '/v0/nodes', { name: 'n', base_url: u.url() }, asNode, true);
    const again = await call('POST', '/v0/nodes', { name: 'n', base_url: u.url() }, asNode, true);
    await call('POST', '/v0/nodes', { name: 'n', base_url: u.url(), gpus: 'x' }, asNode); // 400
    await call('POST', '/v0/nodes/heartbeat', {}, { 'x-node-token': first.node_token }); // 401: replaced
    await call('POST', '/v0/nodes/heartbeat', { active_requests: -1 }, { 'x-node-token': again.node_token }); // 400
    await call('POST', '/v0/nodes/heartbeat', {}, { 'x-node-token': again.node_token }); // pending
    await call('POST', `/v0/endpoints/${again.endpoint.id}/approve`, undefined, asAdmin);
    const rotated = await call('POST', '/v0/nodes/heartbeat', { active_requests: 1 }, { 'x-node-token': again.node_token }, true);
    await call('POST', '/v0/nodes/heartbeat', {}, { 'x-node-token': rotated.node_token });
    await call('POST', '/v0/nodes/heartbeat', {}, { 'x-node-token': again.node_token }); // 401: gone
    await call('GET', '/v0/nodes', undefined, asAdmin);
    await call('GET', `/v0/nodes/${again.endpoint.id}`, undefined, asAdmin);
    await call('GET', `/v0/endpoints/${again.endpoint.id}`, undefined, asAdmin);
    await s.router.checker.idle();

    const tokens = [first.node_token, again.node_token, rotated.node_token] as string[];
    expect(new Set(tokens).size).toBe(3);
    expect(captured.length).toBeGreaterThan(10);
    const everything = captured.join('\n');
    for (const secret of [...tokens, NODE_KEY, ADMIN_KEY]) expect(everything.includes(secret), secret).toBe(false);
    expect(everything).not.toMatch(/llmlb_node_[A-Za-z0-9_-]{20}/);
  });
});

/** A logger that adds each line, level first, to `captured`. */
function capturingLogger(captured: string[]): Logger {
  const capture = (level: string) => (obj: unknown, msg?: string) => {
    captured.push(`${level} ${safeStringify(obj)} ${msg ?? ''}`);
  };
  return { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') } as Logger;
}

/** JSON of a payload, errors included (message, code and cause chain). */
function safeStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code, cause: v.cause, stack: v.stack } : v,
  );
}
