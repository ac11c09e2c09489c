import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../src/router.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { NEW_ENDPOINT_DEFAULTS } from '../helpers/records.js';
import { LlmlbError } from '../../src/errors.js';
import { expectCode } from '../helpers/expect-code.js';

const SECRET = 'unit-test-secret-0123456789';
let router: Router | undefined;

async function started(options: Parameters<typeof createRouter>[0] = {}): Promise<Router> {
  router = createRouter({ secret: SECRET, ...options });
  await router.start();
  return router;
}

afterEach(async () => {
  await router?.stop();
  router = undefined;
});

describe('router.endpoints', () => {
  it('creates an endpoint in pending status with defaults and no credential exposed', async () => {
    const r = await started();
    const e = await r.endpoints.create({ name: 'gpu-1', base_url: 'http://127.0.0.1:11434/', api_key: 'sk-upstream' });
    expect(e).toMatchObject({
      ...NEW_ENDPOINT_DEFAULTS,
      name: 'gpu-1',
      base_url: 'http://127.0.0.1:11434',
      notes: null,
      has_api_key: true,
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(e.registered_at).toISOString()).toBe(e.registered_at);
    expect(JSON.stringify(e)).not.toContain('sk-upstream');
    expect(e).not.toHaveProperty('api_key_encrypted');
  });

  it('rejects duplicate names and base URLs with conflict and changes nothing', async () => {
    const r = await started();
    await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    await expectCode(r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:2' }), 'conflict');
    await expectCode(r.endpoints.create({ name: 'b', base_url: 'http://127.0.0.1:1/v1/' }), 'conflict');
    expect((await r.endpoints.list()).total).toBe(1);
  });

  it('lets exactly one of many racing creates with the same name win', async () => {
    const r = await started();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => r.endpoints.create({ name: 'same', base_url: `http://127.0.0.1:${2000 + i}` })),
    );
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    for (const x of results.filter((x) => x.status === 'rejected')) {
      expect((x as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
    }
    expect((await r.endpoints.list()).total).toBe(1);
  });

  it('validates input with field paths', async () => {
    const r = await started();
    const err = await expectCode(r.endpoints.create({ name: '', base_url: 'ftp://x' }), 'validation_error');
    expect(err.details?.map((d) => d.path).sort()).toEqual(['base_url', 'name']);
    expect((await r.endpoints.list()).total).toBe(0);
  });

  it('refuses an api_key when no secret is configured, and stores nothing', async () => {
    const r = await started({ secret: undefined });
    await expectCode(r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: 'sk-x' }), 'invalid_request');
    expect((await r.endpoints.list()).total).toBe(0);
    const e = await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    expect(e.has_api_key).toBe(false);
  });

  it('lists with model_count and filters by status', async () => {
    const r = await started();
    await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    await r.endpoints.create({ name: 'b', base_url: 'http://127.0.0.1:2' });
    const all = await r.endpoints.list();
    expect(all.total).toBe(2);
    expect(all.endpoints.map((e) => e.name)).toEqual(['a', 'b']);
    expect(all.endpoints.every((e) => e.model_count === 0)).toBe(true);
    expect((await r.endpoints.list({ status: 'pending' })).total).toBe(2);
    expect((await r.endpoints.list({ status: 'online' })).total).toBe(0);
    await expectCode(r.endpoints.list({ status: 'up' as never }), 'validation_error');
  });

  it('gets an endpoint with its models; unknown and non-UUID ids are not_found', async () => {
    const r = await started();
    const e = await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    expect(await r.endpoints.get(e.id)).toMatchObject({ id: e.id, models: [] });
    await expectCode(r.endpoints.get('3f0e4c1a-0000-4000-8000-000000000000'), 'not_found');
    await expectCode(r.endpoints.get('not-a-uuid'), 'not_found');
    await expectCode(r.endpoints.get("1' OR '1'='1"), 'not_found');
  });

  it('updates fields, removes the key with null, clears notes with null', async () => {
    const r = await started();
    const e = await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: 'sk-1', notes: 'n' });
    const u = await r.endpoints.update(e.id, { name: 'b', health_check_interval_secs: 60, inference_timeout_secs: 30 });
    expect(u).toMatchObject({ name: 'b', health_check_interval_secs: 60, inference_timeout_secs: 30, notes: 'n', has_api_key: true });
    expect((await r.endpoints.update(e.id, { api_key: null, notes: null }))).toMatchObject({ has_api_key: false, notes: null });
    expect((await r.endpoints.update(e.id, { api_key: 'sk-2' })).has_api_key).toBe(true);
    expect((await r.endpoints.get(e.id)).name).toBe('b');
  });

  it('refuses base_url changes and name conflicts on update, changing nothing', async () => {
    const r = await started();
    const a = await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    await r.endpoints.create({ name: 'b', base_url: 'http://127.0.0.1:2' });
    await expectCode(r.endpoints.update(a.id, { base_url: 'http://127.0.0.1:3' } as never), 'validation_error');
    await expectCode(r.endpoints.update(a.id, { name: 'b', notes: 'x' }), 'conflict');
    expect(await r.endpoints.get(a.id)).toMatchObject({ name: 'a', base_url: 'http://127.0.0.1:1', notes: null });
    await expectCode(r.endpoints.update('3f0e4c1a-0000-4000-8000-000000000000', { notes: 'x' }), 'not_found');
  });

  it('deletes an endpoint; a second delete is not_found', async () => {
    const r = await started();
    const e = await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
    await r.endpoints.delete(e.id);
    await expectCode(r.endpoints.get(e.id), 'not_found');
    await expectCode(r.endpoints.delete(e.id), 'not_found');
    // The name and URL are free again.
    await r.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
  });
});

describe('router lifecycle and options', () => {
  it('rejects bad options with invalid_request', () => {
    expect(() => createRouter({ secret: 'short' })).toThrow(LlmlbError);
    expect(() => createRouter({ storage: {} as StorageAdapter })).toThrow(/StorageAdapter/);
    expect(() => createRouter({ nope: 1 } as never)).toThrow(/unknown option "nope"/);
    // Precise: the path of the bad option and what it expects.
    expect(() => createRouter({ auth: { keys: [{ key: 'k'.repeat(20), role: 'boss' }] } } as never)).toThrow(
      /auth\.keys\.0\.role: must be one of admin, viewer, client, node/,
    );
    expect(() => createRouter({ checker: { timeoutMs: -1 } })).toThrow(/checker options: timeoutMs/);
  });

  it('refuses calls before start and after stop', async () => {
    const r = createRouter();
    await expectCode(r.endpoints.list(), 'not_ready');
    expect(() => r.models.list()).toThrow(expect.objectContaining({ code: 'not_ready', status: 503 }));
    expect(() => r.select('m')).toThrow(expect.objectContaining({ code: 'not_ready' }));
    await r.start();
    expect(r.state).toBe('started');
    await r.stop();
    await r.stop();
    expect(r.state).toBe('stopped');
    await expectCode(r.endpoints.list(), 'not_ready');
    expect(() => r.stats.list()).toThrow(expect.objectContaining({ code: 'not_ready' }));
    await expect(r.start()).rejects.toThrow(/cannot be started again/);
  });

  it('reloads endpoints from storage on start', async () => {
    const storage = memoryStorage();
    const first = createRouter({ storage, secret: SECRET });
    await first.start();
    const e = await first.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: 'sk-1' });
    // A second router on the same storage sees it.
    router = createRouter({ storage, secret: SECRET });
    await router.start();
    expect((await router.endpoints.get(e.id)).has_api_key).toBe(true);
  });

  it('fails start clearly when the secret does not match stored keys', async () => {
    const storage = memoryStorage();
    const first = createRouter({ storage, secret: SECRET });
    await first.start();
    await first.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: 'sk-1' });
    await expect(createRouter({ storage, secret: 'a-different-secret-value' }).start()).rejects.toThrow(/secret/);
    await expect(createRouter({ storage }).start()).rejects.toThrow(/no `secret` is configured/);
  });
});
