/**
 * Health checker behaviour with msw-described upstreams and a fake clock: no real network, no
 * real waiting.
 */
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HealthChecker, type StatusChangeEvent } from '../../src/health/checker.js';
import { createRouter, type Router, type RouterOptions } from '../../src/router.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { FakeClock } from '../helpers/fake-clock.js';

const OLLAMA = 'http://127.0.0.1:11434';
const VLLM = 'http://127.0.0.2:8000';
const SECRET = 'unit-test-secret-0123456789';

/**
 * The described upstreams speak only the OpenAI API (or answer Ollama's list at /v1/models): the
 * cheap GETs of type detection and native discovery get what such a server answers, a 404.
 */
const NOT_NATIVE = ['/api/version', '/api/tags', '/api/ps', '/api/v0/models', '/props', '/slots', '/metrics', '/version', '/get_model_info'].map((path) => http.get(`*${path}`, () => new HttpResponse(null, { status: 404 })));

const server = setupServer(...NOT_NATIVE);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const ollamaTags = (...names: string[]) => HttpResponse.json({ models: names.map((name) => ({ name, model: name, size: 1 })) });
const openaiList = (...ids: string[]) => HttpResponse.json({ object: 'list', data: ids.map((id) => ({ id, object: 'model' })) });

let router: Router | undefined;
let storage: StorageAdapter;
let clock: FakeClock;

async function start(options: RouterOptions = {}): Promise<Router> {
  clock = new FakeClock();
  storage = memoryStorage();
  router = createRouter({ storage, clock, secret: SECRET, fetch: globalThis.fetch, ...options });
  await router.start();
  return router;
}

async function register(r: Router, base_url: string, extra: Record<string, unknown> = {}) {
  const endpoint = await r.endpoints.create({ name: base_url, base_url, ...extra });
  await r.checker.idle();
  return endpoint;
}

afterEach(async () => {
  await router?.stop();
  router = undefined;
});

describe('HealthChecker', () => {
  it('checks a new endpoint right away: online, latency and models from the Ollama list', async () => {
    server.use(http.get(`${OLLAMA}/v1/models`, () => ollamaTags('llama3.1:8b', 'nomic-embed-text:latest')));
    const r = await start();
    const e = await register(r, OLLAMA);
    const detail = await r.endpoints.get(e.id);
    expect(detail.status).toBe('online');
    expect(detail.error_count).toBe(0);
    expect(detail.latency_ms).toBeGreaterThanOrEqual(0);
    expect(detail.last_seen).toBe(new Date(clock.now()).toISOString());
    expect(detail.models.map((m) => [m.model_id, m.capabilities])).toEqual([
      ['llama3.1:8b', ['chat']],
      ['nomic-embed-text:latest', ['embeddings']],
    ]);
  });

  it('sends the decrypted api key as a Bearer token', async () => {
    let seen: string | null = null;
    server.use(
      http.get(`${VLLM}/v1/models`, ({ request }) => {
        seen = request.headers.get('authorization');
        return openaiList('m');
      }),
    );
    const r = await start();
    await register(r, VLLM, { api_key: 'sk-upstream-1' });
    expect(seen).toBe('Bearer sk-upstream-1');
  });

  it('puts an endpoint that answers 401 or 403 in error', async () => {
    for (const status of [401, 403]) {
      server.use(http.get(`${VLLM}/v1/models`, () => new HttpResponse(null, { status })));
      const r = await start();
      const e = await register(r, VLLM);
      expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'error', error_count: 1, last_error: expect.stringContaining(`${status}`) });
      await r.stop();
    }
  });

  it('takes a pending endpoint offline on the first failure, for every kind of failure', async () => {
    const answers = [
      () => new HttpResponse('oops', { status: 500 }),
      () => new HttpResponse('oops', { status: 503 }),
      () => HttpResponse.json({ hello: 'world' }),
      () => new HttpResponse('not json', { status: 200 }),
      () => HttpResponse.error(),
    ];
    for (const answer of answers) {
      server.use(http.get(`${VLLM}/v1/models`, answer));
      const r = await start();
      const e = await register(r, VLLM);
      const detail = await r.endpoints.get(e.id);
      expect(detail.status).toBe('offline');
      expect(detail.last_error).toBeTruthy();
      await r.stop();
    }
  });

  it('keeps an online endpoint online after one failure and takes it offline after two, then recovers', async () => {
    let up = true;
    server.use(http.get(`${VLLM}/v1/models`, () => (up ? openaiList('m') : new HttpResponse(null, { status: 502 }))));
    const r = await start();
    const changes: StatusChangeEvent[] = [];
    const offline: string[] = [];
    const online: string[] = [];
    r.checker.on('statusChange', (e) => changes.push(e));
    r.checker.on('offline', (e) => offline.push(e.to));
    r.checker.on('online', (e) => online.push(e.from));
    const e = await register(r, VLLM);
    up = false;
    await clock.advance(30_000);
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', error_count: 1 });
    await clock.advance(30_000);
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'offline', error_count: 2 });
    up = true;
    await clock.advance(30_000);
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', error_count: 0 });
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual(['pending>online', 'online>offline', 'offline>online']);
    expect(offline).toEqual(['offline']);
    expect(online).toEqual(['pending', 'offline']);

    const history = await storage.listHealthChecks(e.id);
    expect(history.map((h) => `${h.status_before}>${h.status_after}:${h.success}`).reverse()).toEqual([
      'pending>online:true',
      'online>online:false',
      'online>offline:false',
      'offline>online:true',
    ]);
    expect(history.every((h) => (h.success ? h.latency_ms !== null && h.error_message === null : h.latency_ms === null && h.error_message !== null))).toBe(true);
  });

  it('follows interval changes and stops checking deleted endpoints', async () => {
    let hits = 0;
    server.use(http.get(`${VLLM}/v1/models`, () => (hits++, openaiList('m'))));
    const r = await start();
    const e = await register(r, VLLM);
    expect(hits).toBe(1);
    await r.endpoints.update(e.id, { health_check_interval_secs: 60 });
    await clock.advance(30_000);
    await r.checker.idle();
    expect(hits).toBe(1);
    await clock.advance(30_000);
    await r.checker.idle();
    expect(hits).toBe(2);
    await r.endpoints.delete(e.id);
    expect(clock.pendingTimers).toBe(1); // only the history pruning timer is left
    await clock.advance(600_000);
    await r.checker.idle();
    expect(hits).toBe(2);
  });

  it('times the interval from the start of a check, so slow checks do not stretch it', async () => {
    let hits = 0;
    server.use(
      http.get(`${VLLM}/v1/models`, async () => {
        hits++;
        // This check takes 5 s of (fake) time, as a check that times out would.
        await clock.advance(5_000);
        return new HttpResponse(null, { status: 503 });
      }),
    );
    const r = await start();
    await register(r, VLLM);
    expect(hits).toBe(1);
    await clock.advance(24_999); // 30 s after the first check began, minus 1 ms
    await r.checker.idle();
    expect(hits).toBe(1);
    await clock.advance(1);
    await r.checker.idle();
    expect(hits).toBe(2);
  });

  it('joins a running check instead of starting a second one', async () => {
    let hits = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    server.use(http.get(`${VLLM}/v1/models`, async () => (hits++, await gate, openaiList('m'))));
    const r = await start({ checker: { schedule: false } });
    const e = await r.endpoints.create({ name: 'v', base_url: VLLM });
    const first = r.checker.check(e.id);
    const second = r.checker.check(e.id);
    expect(second).toBe(first);
    release();
    await first;
    expect(hits).toBe(1);
  });

  it('with checker: false, checks nothing on its own but connection tests and sync still work', async () => {
    let hits = 0;
    server.use(
      http.get(`${OLLAMA}/v1/models`, () => (hits++, ollamaTags('llama3'))),
      http.get(`${OLLAMA}/api/version`, () => HttpResponse.json({ version: '0.5.7' })),
    );
    const r = await start({ checker: false });
    const e = await r.endpoints.create({ name: 'o', base_url: OLLAMA });
    await clock.advance(3_600_000);
    await r.checker.idle();
    expect(hits).toBe(0);
    expect((await r.endpoints.get(e.id)).status).toBe('pending');
    const sync = await r.endpoints.sync(e.id);
    expect(sync).toEqual({ synced_models: [{ model_id: 'llama3', capabilities: ['chat'] }], added: 1, removed: 0, updated: 0 });
    expect((await r.endpoints.get(e.id)).status).toBe('pending');
    const test = await r.endpoints.test(e.id);
    expect(test).toMatchObject({ success: true, endpoint_info: { model_count: 1 } });
    expect((await r.endpoints.get(e.id)).status).toBe('online');
  });

  it('leaves stored models alone when syncOnCheck is off', async () => {
    let models = ['a'];
    server.use(http.get(`${VLLM}/v1/models`, () => openaiList(...models)));
    const r = await start({ checker: { syncOnCheck: false } });
    const e = await register(r, VLLM);
    expect((await r.endpoints.get(e.id)).models).toEqual([]);
    await r.endpoints.sync(e.id);
    models = ['b'];
    await clock.advance(30_000);
    await r.checker.idle();
    expect((await r.endpoints.get(e.id)).models.map((m) => m.model_id)).toEqual(['a']);
  });

  it('reports a timeout when the upstream does not answer in time', async () => {
    server.use(http.get(`${VLLM}/v1/models`, () => new Promise<never>(() => {})));
    const r = await start({ checker: { timeoutMs: 50, schedule: false } });
    const e = await r.endpoints.create({ name: 'v', base_url: VLLM });
    const result = await r.endpoints.test(e.id);
    expect(result).toEqual({ success: false, error: 'no answer within 50 ms', error_kind: 'timeout', latency_ms: null });
    expect((await r.endpoints.get(e.id)).status).toBe('offline');
  });

  it('syncs models on demand with a diff, and keeps them when the endpoint is down', async () => {
    let models = ['a', 'b'];
    let up = true;
    server.use(http.get(`${VLLM}/v1/models`, () => (up ? openaiList(...models) : HttpResponse.error())));
    const r = await start({ checker: { syncOnCheck: false, schedule: false } });
    const e = await r.endpoints.create({ name: 'v', base_url: VLLM });
    expect(await r.endpoints.sync(e.id)).toMatchObject({ added: 2, removed: 0, updated: 0 });
    models = ['b', 'text-embedding-3-small'];
    expect(await r.endpoints.sync(e.id)).toEqual({
      synced_models: [
        { model_id: 'b', capabilities: ['chat'] },
        { model_id: 'text-embedding-3-small', capabilities: ['embeddings'] },
      ],
      added: 1,
      removed: 1,
      updated: 1,
    });
    up = false;
    await expect(r.endpoints.sync(e.id)).rejects.toMatchObject({ code: 'endpoint_offline' });
    expect((await r.endpoints.get(e.id)).models.map((m) => m.model_id)).toEqual(['b', 'text-embedding-3-small']);
  });

  it('reports the Ollama version in a connection test, else the Server header', async () => {
    server.use(
      http.get(`${OLLAMA}/v1/models`, () => ollamaTags('llama3')),
      http.get(`${OLLAMA}/api/version`, () => HttpResponse.json({ version: '0.5.7' })),
      http.get(`${VLLM}/v1/models`, () => HttpResponse.json({ data: [{ id: 'x' }] }, { headers: { server: 'uvicorn' } })),
      http.get(`${VLLM}/api/version`, () => new HttpResponse(null, { status: 404 })),
    );
    const r = await start({ checker: { schedule: false } });
    const o = await r.endpoints.create({ name: 'o', base_url: OLLAMA });
    const v = await r.endpoints.create({ name: 'v', base_url: VLLM });
    expect(await r.endpoints.test(o.id)).toMatchObject({ success: true, endpoint_info: { version: '0.5.7', model_count: 1 } });
    expect(await r.endpoints.test(v.id)).toMatchObject({ success: true, endpoint_info: { version: 'uvicorn', model_count: 1 } });
  });

  it('prunes history older than the retention period', async () => {
    server.use(http.get(`${VLLM}/v1/models`, () => openaiList('m')));
    const r = await start({ checker: { retentionDays: 1, retentionIntervalMs: 3_600_000 } });
    const e = await register(r, VLLM, { health_check_interval_secs: 300 });
    // 24 hours of checks every 5 minutes, then one more day: the first day's rows are pruned.
    await clock.advance(86_400_000);
    await r.checker.idle();
    const dayOne = (await storage.listHealthChecks(e.id)).length;
    expect(dayOne).toBeGreaterThan(200);
    await clock.advance(86_400_000);
    await r.checker.idle();
    const rows = await storage.listHealthChecks(e.id);
    const cutoff = new Date(clock.now() - 86_400_000 - 3_600_000).toISOString();
    expect(rows.every((row) => row.checked_at >= cutoff)).toBe(true);
    expect(rows.length).toBeLessThan(dayOne + 20);
  });

  it('accepts a HealthChecker instance, so listeners can be attached before the router exists', async () => {
    server.use(http.get(`${VLLM}/v1/models`, () => openaiList('m')));
    const checker = new HealthChecker({ timeoutMs: 1000 });
    const seen: string[] = [];
    checker.on('check', ({ endpoint }) => seen.push(endpoint.name));
    const r = await start({ checker });
    expect(r.checker).toBe(checker);
    await register(r, VLLM);
    expect(seen).toEqual([VLLM]);
    expect(() => createRouter({ checker })).toThrow(/already belongs/);
  });

  it('rejects bad checker options', () => {
    expect(() => new HealthChecker({ timeoutMs: -1 })).toThrow(/invalid checker options/);
    expect(() => createRouter({ checker: { nope: true } as never })).toThrow();
  });
});
