/**
 * Each type of inference server, faked on 127.0.0.1 from its recorded responses: the router
 * detects its type, lists its models natively where it must, stores what it tells of each model
 * and reads its load — through the public API and the admin routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import { createRouter, type Router } from '../../src/router.js';
import { ENDPOINT_TYPES, type EndpointType } from '../../src/schema.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { type FakeBackend, startFakeBackend } from '../helpers/fake-backend.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(type: EndpointType, options?: { without?: string[] }): Promise<FakeBackend> {
  const b = await startFakeBackend(type, options);
  cleanups.push(() => b.stop());
  return b;
}

async function router() {
  const clock = new FakeClock();
  const r: Router = createRouter({ storage: memoryStorage(), clock, checker: { timeoutMs: 2000 } });
  await r.start();
  cleanups.push(() => r.stop());
  const tick = async () => {
    await clock.advance(30_000);
    await r.checker.idle();
  };
  return { r, tick, load: routerInternals(r).load };
}

describe('backends', () => {
  it('detects each type at the first check and stays online', async () => {
    const { r } = await router();
    const ids = new Map<EndpointType, string>();
    for (const type of ENDPOINT_TYPES) {
      const b = await backend(type);
      ids.set(type, (await r.endpoints.create({ name: type, base_url: b.url() })).id);
    }
    await r.checker.idle();
    for (const [type, id] of ids) {
      const endpoint = await r.endpoints.get(id);
      expect([endpoint.status, endpoint.type, endpoint.type_source], type).toEqual(['online', type, 'detected']);
    }
  });

  it('brings an Ollama that answers only its native API online, with its models and their metadata', async () => {
    const ollama = await backend('ollama', { without: ['/v1/models'] });
    const { r, tick, load } = await router();
    const { id } = await r.endpoints.create({ name: 'native', base_url: ollama.url() });
    await r.checker.idle();
    let endpoint = await r.endpoints.get(id);
    expect([endpoint.status, endpoint.type, endpoint.last_error]).toEqual(['online', 'ollama', null]);
    expect(endpoint.models).toHaveLength(7);
    expect(endpoint.models.find((m) => m.model_id === 'llama3.1:8b')).toMatchObject({
      capabilities: ['chat', 'tools'],
      capabilities_source: 'backend',
      context_length: 8192,
      loaded: true,
      size_bytes: 4920753328,
      quantization: 'Q4_K_M',
    });
    expect(load.get(id)?.loaded_models).toEqual(['llama3.1:8b']);
    // Known as an Ollama: the next checks list /api/tags directly, and ask /api/show only for what is not cached.
    const shows = ollama.upstream.requestsTo('/api/show').length;
    await tick();
    await tick();
    endpoint = await r.endpoints.get(id);
    expect(endpoint.models.find((m) => m.model_id === 'qwen2.5vl:7b')).toMatchObject({ capabilities: ['chat', 'vision'], capabilities_source: 'backend' });
    expect(ollama.upstream.requestsTo('/api/show').length - shows).toBe(7 - shows);
    expect(ollama.upstream.requestsTo('/v1/models')).toHaveLength(1);
    await tick();
    expect(ollama.upstream.requestsTo('/api/show')).toHaveLength(7);
    const listed = r.models.get('llama3.1:8b');
    expect(listed).toMatchObject({ context_length: 8192, loaded: true });
    expect(listed.endpoints[0]).toMatchObject({ type: 'ollama', loaded: true, context_length: 8192 });
  });

  it('reads the load each type publishes, at check time', async () => {
    const { r, tick, load } = await router();
    const vllm = await backend('vllm');
    const llama = await backend('llama.cpp');
    const sglang = await backend('sglang');
    const v = await r.endpoints.create({ name: 'vllm', base_url: vllm.url() });
    const l = await r.endpoints.create({ name: 'llama', base_url: llama.url() });
    const s = await r.endpoints.create({ name: 'sglang', base_url: sglang.url() });
    await r.checker.idle();
    expect(load.get(v.id)).toMatchObject({ source: 'check', running: 3, waiting: 5, kv_cache_usage: 0.4172 });
    expect(load.get(l.id)).toMatchObject({ slots_busy: 2, slots_total: 4 });
    expect(load.get(s.id)).toMatchObject({ running: 2, waiting: 7, kv_cache_usage: 0.28 });
    expect((await r.endpoints.get(v.id)).models.map((m) => m.context_length)).toEqual([32768, null]);
    vllm.serve('/metrics', 'vllm:num_requests_waiting{model_name="m"} 0.0\n');
    llama.remove('/slots');
    await tick();
    expect(load.get(v.id)).toMatchObject({ running: null, waiting: 0 });
    expect(load.get(l.id)).toMatchObject({ running: 2, waiting: 1, slots_busy: null, slots_total: 4 });
  });

  it('keeps an admin’s type and hands it back to detection on request', async () => {
    const vllm = await backend('vllm');
    const { r } = await router();
    const e = await r.endpoints.create({ name: 'pinned', base_url: vllm.url(), type: 'sglang' });
    expect(e).toMatchObject({ type: 'sglang', type_source: 'admin' });
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', type: 'sglang', type_source: 'admin' });
    expect(vllm.upstream.requestsTo('/version')).toHaveLength(0);
    await r.endpoints.update(e.id, { type: null });
    await r.checker.check(e.id);
    expect(await r.endpoints.get(e.id)).toMatchObject({ type: 'vllm', type_source: 'detected' });
    await expect(r.endpoints.update(e.id, { type: 'tgi' as never })).rejects.toMatchObject({ code: 'validation_error' });
  });

  it('detects again when an admin sets another type and hands it back before any check', async () => {
    const vllm = await backend('vllm');
    const { r } = await router();
    const e = await r.endpoints.create({ name: 'detected', base_url: vllm.url() });
    await r.checker.idle();
    expect(await r.endpoints.get(e.id)).toMatchObject({ status: 'online', type: 'vllm', type_source: 'detected' });
    await r.endpoints.update(e.id, { type: 'ollama' });
    // Handed back at once: the stored type is still the admin's, until a check detects again.
    expect(await r.endpoints.update(e.id, { type: null })).toMatchObject({ type: 'ollama', type_source: 'detected' });
    await r.checker.check(e.id);
    expect(await r.endpoints.get(e.id)).toMatchObject({ type: 'vllm', type_source: 'detected' });
  });
});
