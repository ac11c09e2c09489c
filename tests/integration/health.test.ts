/**
 * Health checking and model sync against real HTTP servers on 127.0.0.1: an Ollama-like and a
 * vLLM-like upstream, outages by stopping the server, recovery by restarting it on its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../src/router.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream.js';

const SECRET = 'integration-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(...args: Parameters<typeof startFakeUpstream>): Promise<FakeUpstream> {
  const u = await startFakeUpstream(...args);
  cleanups.push(() => u.stop());
  return u;
}

async function router(options: { timeoutMs?: number; concurrency?: number } = {}) {
  const clock = new FakeClock();
  const storage: StorageAdapter = memoryStorage();
  const r: Router = createRouter({ storage, clock, secret: SECRET, checker: { timeoutMs: options.timeoutMs ?? 2000, concurrency: options.concurrency } });
  await r.start();
  cleanups.push(() => r.stop());
  /** Runs the next scheduled round of checks and waits for it. */
  const tick = async (seconds = 30) => {
    await clock.advance(seconds * 1000);
    await r.checker.idle();
  };
  return { r, storage, clock, tick };
}

describe('health checking against real upstreams', () => {
  it('brings an Ollama-like and a vLLM-like endpoint online after one check, with models synced', async () => {
    const ollama = await upstream({ flavor: 'ollama', models: ['llama3.1:8b', 'nomic-embed-text:latest'] });
    const vllm = await upstream({ flavor: 'openai', models: ['Qwen/Qwen2.5-7B-Instruct', 'BAAI/bge-m3'], apiKey: 'sk-vllm' });
    const { r } = await router();
    const o = await r.endpoints.create({ name: 'ollama', base_url: ollama.url() });
    const v = await r.endpoints.create({ name: 'vllm', base_url: `${vllm.url()}/v1`, api_key: 'sk-vllm' });
    await r.checker.idle();
    const od = await r.endpoints.get(o.id);
    const vd = await r.endpoints.get(v.id);
    expect(od.status).toBe('online');
    expect(vd.status).toBe('online');
    expect(od.models.map((m) => `${m.model_id}=${m.capabilities.join()}`)).toEqual(['llama3.1:8b=chat', 'nomic-embed-text:latest=embeddings']);
    expect(vd.models.map((m) => `${m.model_id}=${m.capabilities.join()}`)).toEqual(['BAAI/bge-m3=embeddings', 'Qwen/Qwen2.5-7B-Instruct=chat']);
    expect(vllm.requestsTo('/v1/models')[0]?.headers.authorization).toBe('Bearer sk-vllm');
    expect((await r.endpoints.list()).endpoints.map((e) => e.model_count)).toEqual([2, 2]);
  });

  it('goes offline after 2 failed checks when the upstream dies, and back online when it returns', async () => {
    const u = await upstream();
    const { r, storage, tick } = await router();
    const e = await r.endpoints.create({ name: 'a', base_url: u.url() });
    await r.checker.idle();
    expect((await r.endpoints.get(e.id)).status).toBe('online');

    await u.stop();
    await tick();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', error_count: 1, last_error: 'connection refused' });
    await tick();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'offline', error_count: 2 });

    await u.start();
    await tick();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', error_count: 0 });

    const history = (await storage.listHealthChecks(e.id)).reverse();
    expect(history.map((h) => [h.status_before, h.status_after, h.success])).toEqual([
      ['pending', 'online', true],
      ['online', 'online', false],
      ['online', 'offline', false],
      ['offline', 'online', true],
    ]);
  });

  it('takes a pending endpoint offline after a single failure', async () => {
    const u = await upstream();
    await u.stop();
    const { r } = await router();
    const e = await r.endpoints.create({ name: 'a', base_url: u.url() });
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'offline', error_count: 1 });
  });

  it('puts an endpoint with a wrong api key in error, and a fixed key brings it online', async () => {
    const u = await upstream({ apiKey: 'sk-right' });
    const { r } = await router();
    const e = await r.endpoints.create({ name: 'a', base_url: u.url(), api_key: 'sk-wrong' });
    await r.checker.idle();
    const detail = await r.endpoints.get(e.id);
    expect(detail.status).toBe('error');
    expect(detail.last_error).toMatch(/401/);
    expect(JSON.stringify(detail)).not.toContain('sk-wrong');
    await r.endpoints.update(e.id, { api_key: 'sk-right' });
    expect(await r.endpoints.test(e.id)).toMatchObject({ success: true });
    expect((await r.endpoints.get(e.id)).status).toBe('online');
  });

  it('drops a model removed upstream on the next sync, and keeps models during an outage', async () => {
    const u = await upstream({ models: ['a', 'b'] });
    const { r } = await router();
    const e = await r.endpoints.create({ name: 'x', base_url: u.url() });
    await r.checker.idle();
    u.models = ['b'];
    expect(await r.endpoints.sync(e.id)).toMatchObject({ added: 0, removed: 1, updated: 1 });
    expect((await r.endpoints.get(e.id)).models.map((m) => m.model_id)).toEqual(['b']);
    await u.stop();
    await expect(r.endpoints.sync(e.id)).rejects.toMatchObject({ code: 'endpoint_offline' });
    expect((await r.endpoints.get(e.id)).models.map((m) => m.model_id)).toEqual(['b']);
  });

  it('reports specific reasons in connection tests', async () => {
    const u = await upstream({ flavor: 'ollama', version: '0.6.1' });
    const { r } = await router({ timeoutMs: 300 });
    const e = await r.endpoints.create({ name: 'x', base_url: u.url() });
    await r.checker.idle();
    expect(await r.endpoints.test(e.id)).toMatchObject({ success: true, endpoint_info: { version: '0.6.1', model_count: 1 } });

    u.forceStatus = 500;
    expect(await r.endpoints.test(e.id)).toEqual({ success: false, error: 'HTTP 500 from GET /v1/models', error_kind: 'http_status', latency_ms: null });
    u.forceStatus = undefined;
    u.rawModelsBody = '{"unexpected":true}';
    expect(await r.endpoints.test(e.id)).toMatchObject({ success: false, error_kind: 'not_a_model_list' });
    u.rawModelsBody = undefined;
    u.modelsDelayMs = 2000;
    expect(await r.endpoints.test(e.id)).toMatchObject({ success: false, error_kind: 'timeout', error: 'no answer within 300 ms' });
    u.modelsDelayMs = 0;
    await u.stop();
    expect(await r.endpoints.test(e.id)).toMatchObject({ success: false, error_kind: 'connection_refused' });
  });

  it('checks every endpoint in parallel at start-up', async () => {
    // One server poses as 50 endpoints (/e0 … /e49), each answering after 200 ms.
    let inFlight = 0;
    let maxInFlight = 0;
    const server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        json(res, 200, { data: [{ id: `model-${req.url?.split('/')[1]}` }] });
      }, 200);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const storage = memoryStorage();
    const setup = createRouter({ storage, checker: false });
    await setup.start();
    for (let i = 0; i < 50; i++) await setup.endpoints.create({ name: `e${i}`, base_url: `${base}/e${i}` });
    await setup.stop();

    const r = createRouter({ storage, clock: new FakeClock() });
    cleanups.push(() => r.stop());
    await r.start();
    await r.checker.idle();
    expect(maxInFlight).toBe(50);
    const list = await r.endpoints.list();
    expect(list.endpoints.every((e) => e.status === 'online' && e.model_count === 1)).toBe(true);
  });
});
